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
    services: Option<Arc<crate::app::Services>>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl BackgroundProxy {
    /// Binds (so `addr` is final) and starts serving on a new thread.
    pub fn start(cfg: Config, hook: Arc<dyn StatementHook>) -> Result<Self, ServerError> {
        let rt = runtime()?;
        let proxy = rt.block_on(build_proxy(&cfg, hook))?;
        Self::run(rt, proxy, None)
    }

    /// Everything the config asks for: store, audit trail, the policy hook
    /// on them, and the listener.
    pub fn start_configured(
        cfg: Config,
        config_path: Option<&std::path::Path>,
    ) -> Result<Self, ServerError> {
        let rt = runtime()?;
        let (proxy, services) = rt.block_on(crate::app::build(&cfg, config_path))?;
        Self::run(rt, proxy, Some(Arc::new(services)))
    }

    /// Where the API and web UI listen, for a configured proxy.
    pub fn http_addr(&self) -> Option<SocketAddr> {
        self.services.as_ref().and_then(|s| s.http)
    }

    /// The approvals service, for a configured proxy.
    pub fn approvals(&self) -> Option<&vigil_approvals::ApprovalService> {
        self.services.as_ref().and_then(|s| s.approvals.as_ref())
    }

    /// The audit writer, when the config enabled it.
    pub fn audit(&self) -> Option<&vigil_store::audit::AuditLog> {
        self.services.as_ref().and_then(|s| s.audit.as_ref())
    }

    fn run(
        rt: tokio::runtime::Runtime,
        proxy: vigil_proxy::Proxy,
        services: Option<Arc<crate::app::Services>>,
    ) -> Result<Self, ServerError> {
        let addr = proxy
            .local_addr()
            .map_err(|e| ServerError::Runtime(e.to_string()))?;
        let (stop, stopped) = oneshot::channel::<()>();
        let closing = services.clone();
        let thread = std::thread::Builder::new()
            .name("vigil-proxy".into())
            .spawn(move || {
                rt.block_on(async {
                    proxy
                        .run(async {
                            let _ = stopped.await;
                        })
                        .await;
                    if let Some(s) = closing {
                        s.close().await;
                    }
                });
                rt.shutdown_timeout(std::time::Duration::from_secs(2));
            })
            .map_err(|e| ServerError::Runtime(e.to_string()))?;
        Ok(BackgroundProxy {
            addr,
            services,
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

fn runtime() -> Result<tokio::runtime::Runtime, ServerError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| ServerError::Runtime(e.to_string()))
}
