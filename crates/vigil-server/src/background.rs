//! A proxy running on its own runtime thread, stopped on drop. Tests use it
//! to put Vigil between real clients and a real server; the demo uses it
//! so the foreground can wait for Ctrl-C.

use crate::{build_proxy, ServerError};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::oneshot;
use vigil_config::Config;
use vigil_proxy::StatementHook;

/// A running proxy. Dropping it stops the listener and ends its sessions.
pub struct BackgroundProxy {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl BackgroundProxy {
    /// Binds (so `addr` is final) and starts serving on a new thread.
    pub fn start(cfg: Config, hook: Arc<dyn StatementHook>) -> Result<Self, ServerError> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| ServerError::Runtime(e.to_string()))?;
        let proxy = rt.block_on(build_proxy(&cfg, hook))?;
        let addr = proxy
            .local_addr()
            .map_err(|e| ServerError::Runtime(e.to_string()))?;
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("vigil-proxy".into())
            .spawn(move || {
                rt.block_on(proxy.run(async {
                    let _ = stopped.await;
                }));
                rt.shutdown_timeout(std::time::Duration::from_secs(2));
            })
            .map_err(|e| ServerError::Runtime(e.to_string()))?;
        Ok(BackgroundProxy {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for BackgroundProxy {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
