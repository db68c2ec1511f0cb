//! Vigil's PostgreSQL listener: where the data path runs.
//!
//! ```text
//! accept ─► handshake/TLS ─► token → Principal ─► pick target ─► connect upstream
//! client message ─► frame ─► statement hook ─► allow: forward
//!                                         ├─► deny: substitute, then Vigil's error
//!                                         └─► hold: wait, then allow or deny
//! server message ─► frame ─► client
//! ```
//!
//! - [`session`]: one connection's state machine, start to end.
//! - [`handshake`]: TLS negotiation, startup parameters, the token exchange.
//! - [`upstream`]: connecting and logging in to the backend.
//! - [`relay`]: the two pumps of the query cycle.
//! - [`denials`]: how a denied statement fails in protocol order.
//! - [`hook`]: the statement hook trait every decision plugs into.
//! - [`cancel`]: per-client cancel keys.
//! - [`error`]: session errors and their SQLSTATEs.

pub mod auth;
pub mod cancel;
pub mod denials;
pub mod error;
pub mod handshake;
pub mod hook;
pub mod relay;
pub mod session;
pub mod stream;
pub mod tls;
pub mod upstream;

pub use auth::{AuthFailure, TokenVerifier};
pub use error::SessionError;
pub use hook::{
    AllowAll, BindRequest, Denial, HookVerdict, Protocol, SessionContext, StatementHook,
    StatementRequest,
};
pub use upstream::{Target, UpstreamTls};

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use vigil_core::SessionId;

/// Listener settings.
#[derive(Clone)]
pub struct ProxySettings {
    pub listen: SocketAddr,
    pub tls: Option<Arc<rustls::ServerConfig>>,
    pub require_tls: bool,
    pub max_message: usize,
    pub handshake_timeout: Duration,
    pub connect_timeout: Duration,
}

impl Default for ProxySettings {
    fn default() -> Self {
        ProxySettings {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            tls: None,
            require_tls: false,
            max_message: vigil_pgwire::DEFAULT_MAX_MESSAGE,
            handshake_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
        }
    }
}

/// What every session shares.
pub struct ProxyInner {
    pub settings: ProxySettings,
    pub targets: HashMap<String, Arc<Target>>,
    pub verifier: Arc<dyn TokenVerifier>,
    pub hook: Arc<dyn StatementHook>,
    pub cancels: cancel::CancelRegistry,
    pub shutdown: watch::Receiver<bool>,
    next_session: AtomicU64,
}

/// A bound listener, ready to run.
pub struct Proxy {
    inner: Arc<ProxyInner>,
    listener: TcpListener,
    stop: watch::Sender<bool>,
}

impl Proxy {
    /// Binds the listener. Sessions start when [`Proxy::run`] is awaited.
    pub async fn bind(
        settings: ProxySettings,
        targets: Vec<Target>,
        verifier: Arc<dyn TokenVerifier>,
        hook: Arc<dyn StatementHook>,
    ) -> std::io::Result<Proxy> {
        let listener = TcpListener::bind(settings.listen).await?;
        let (stop, shutdown) = watch::channel(false);
        let targets = targets
            .into_iter()
            .map(|t| (t.info.name.clone(), Arc::new(t)))
            .collect();
        Ok(Proxy {
            inner: Arc::new(ProxyInner {
                settings,
                targets,
                verifier,
                hook,
                cancels: cancel::CancelRegistry::default(),
                shutdown,
                next_session: AtomicU64::new(1),
            }),
            listener,
            stop,
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Accepts connections until `shutdown` resolves, then tells every
    /// session to end (FATAL 57P01) and returns.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = &mut shutdown => break,
                accepted = self.listener.accept() => match accepted {
                    Ok((tcp, peer)) => {
                        let id = SessionId(self.inner.next_session.fetch_add(1, Ordering::Relaxed));
                        tokio::spawn(session::handle(tcp, peer, self.inner.clone(), id));
                    }
                    Err(e) => {
                        // Out of file descriptors and the like: back off, keep serving.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                },
            }
        }
        let _ = self.stop.send(true);
    }
}
