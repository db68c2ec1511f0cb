//! Vigil's PostgreSQL listener: where the data path runs.
//!
//! ```text
//! accept ─► handshake/TLS ─► token → Principal ─► pick target ─► connect upstream
//! client message ─► frame ─► statement hook ─► allow: record the request, forward
//!                                         ├─► deny: substitute, then Vigil's error
//!                                         └─► hold: wait (notices to the client), then allow or deny
//! server message ─► frame ─► place (which request, tag, row layout) ─► response hook ─► client
//! request answered ─► on_complete (command tag or SQLSTATE, rows, duration)
//! ```
//!
//! - [`session`]: one connection's state machine, start to end.
//! - [`handshake`]: TLS negotiation, startup parameters, the token exchange.
//! - [`upstream`]: connecting and logging in to the backend.
//! - [`relay`]: the two pumps of the query cycle.
//! - [`hook`]: the statement hook trait every decision plugs into, and
//!   statement tags.
//! - [`denials`]: how a denied statement fails in protocol order.
//! - [`notice`]: NoticeResponses from hooks to the client.
//! - [`track`]: which request each server message answers (sans-I/O).
//! - [`layout`]: the row layouts DataRows are read with.
//! - [`respond`]: the response hook trait (masking, audit outcomes) and
//!   its fail-closed rules.
//! - [`filter`]: tracking + response hook + fail-closed, per message.
//! - [`cancel`]: per-client cancel keys.
//! - [`observe`]: session observers (start, end with totals, refused
//!   logins) for the audit trail.
//! - [`error`]: session errors and their SQLSTATEs.

pub mod auth;
pub mod cancel;
pub mod denials;
pub mod error;
pub mod filter;
pub mod handshake;
pub mod hook;
pub mod layout;
pub mod notice;
pub mod observe;
pub mod relay;
pub mod respond;
pub mod session;
pub mod stream;
pub mod tls;
pub mod track;
pub mod upstream;

pub use auth::{AuthFailure, TokenVerifier};
pub use error::SessionError;
pub use hook::{
    AllowAll, BindRequest, Denial, HookVerdict, Protocol, SessionContext, StatementHook,
    StatementRequest, StatementTag,
};
pub use layout::{Column, RowLayout};
pub use notice::NoticeSender;
pub use observe::{AuthFailureInfo, SessionObserver, SessionSummary};
pub use respond::{
    Answering, Completion, Failure, Outcome, ResponseHook, ResponseHookFactory, Rewrite,
};
pub use upstream::{Target, UpstreamTls};

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use vigil_core::SessionId;

/// How long [`Proxy::run`] waits for sessions to end after shutdown.
pub const SHUTDOWN_DRAIN: Duration = Duration::from_secs(5);

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
    /// Makes each session's response hook; `None`: responses pass untouched.
    pub responses: Option<Arc<dyn ResponseHookFactory>>,
    /// Told about session starts, ends and refused logins (audit trail).
    pub observer: OnceLock<Arc<dyn SessionObserver>>,
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
        Proxy::bind_with_responses(settings, targets, verifier, hook, None).await
    }

    /// [`Proxy::bind`] with a factory of per-session response hooks
    /// (masking, outcomes for the audit trail).
    pub async fn bind_with_responses(
        settings: ProxySettings,
        targets: Vec<Target>,
        verifier: Arc<dyn TokenVerifier>,
        hook: Arc<dyn StatementHook>,
        responses: Option<Arc<dyn ResponseHookFactory>>,
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
                responses,
                observer: OnceLock::new(),
                cancels: cancel::CancelRegistry::default(),
                shutdown,
                next_session: AtomicU64::new(1),
            }),
            listener,
            stop,
        })
    }

    /// Reports every session's start and end, and every refused login,
    /// to `observer` (one per proxy; a second one is ignored with a warning).
    pub fn with_observer(self, observer: Arc<dyn SessionObserver>) -> Proxy {
        if self.inner.observer.set(observer).is_err() {
            tracing::warn!("a session observer is already set; the new one is ignored");
        }
        self
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Accepts connections until `shutdown` resolves, then tells every
    /// session to end (FATAL 57P01) and waits up to [`SHUTDOWN_DRAIN`] for
    /// them to finish, so their ends are observed before this returns.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut sessions = JoinSet::new();
        loop {
            tokio::select! {
                _ = &mut shutdown => break,
                // Reap finished sessions so the set stays small.
                Some(_) = sessions.join_next(), if !sessions.is_empty() => {}
                accepted = self.listener.accept() => match accepted {
                    Ok((tcp, peer)) => {
                        let id = SessionId(self.inner.next_session.fetch_add(1, Ordering::Relaxed));
                        sessions.spawn(session::handle(tcp, peer, self.inner.clone(), id));
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
        let drained = tokio::time::timeout(SHUTDOWN_DRAIN, async {
            while sessions.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            tracing::warn!(
                left = sessions.len(),
                "sessions still ending at shutdown were aborted"
            );
        }
    }
}
