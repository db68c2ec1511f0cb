//! The statement hook: the one place where every statement can be
//! inspected and decided before it reaches the database.
//!
//! The session calls [`StatementHook::on_statement`] for every Simple Query
//! message and every Parse, and [`StatementHook::on_bind`] for every Bind
//! (when parameter values are known). Nothing is forwarded until the hook
//! has answered; a held statement keeps the rest of the session's client
//! traffic queued behind it, in order.
//!
//! An allowed statement may carry a [`StatementTag`]
//! ([`HookVerdict::AllowWith`]): it comes back with every server response
//! to that statement in the [`ResponseHook`](crate::respond::ResponseHook)
//! (masking rules, the audit record's id, …). A Parse's tag applies to the
//! statement's later Binds unless a Bind gets its own; a Bind's tag applies
//! to the portal's Executes.
//!
//! A hook (or a held statement's `'static` future) can talk to the client
//! while it decides: [`SessionContext::notices`] queues NoticeResponses that
//! the session writes at the next frame boundary.

use crate::notice::{NoticeReceiver, NoticeSender};
use std::any::Any;
use std::borrow::Cow;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use vigil_core::{ConnectionInfo, Principal, SessionId};
use vigil_pgwire::text::{ClientEncoding, TextError};

/// Per-statement context a [`StatementHook`] attaches to an allowed
/// statement; the [`ResponseHook`](crate::respond::ResponseHook) gets it back
/// with that statement's responses (downcast it to your own type).
pub type StatementTag = Arc<dyn Any + Send + Sync>;

/// What the hook knows about the session. Shared by all hook calls.
#[derive(Debug)]
pub struct SessionContext {
    pub session_id: SessionId,
    pub principal: Principal,
    pub connection: ConnectionInfo,
    pub application_name: Option<String>,
    pub client_addr: SocketAddr,
    pub tls: bool,
    tx_status: AtomicU8,
    statements: AtomicU64,
    /// The client_encoding the server last announced, with its name.
    encoding: Mutex<(ClientEncoding, String)>,
    notices: NoticeSender,
    /// Taken once by the server pump, which writes what hooks queue.
    notice_rx: Mutex<Option<NoticeReceiver>>,
    /// Vigil's own session options from the startup packet.
    options: Vec<(String, String)>,
}

impl SessionContext {
    pub fn new(
        session_id: SessionId,
        principal: Principal,
        connection: ConnectionInfo,
        application_name: Option<String>,
        client_addr: SocketAddr,
        tls: bool,
    ) -> Self {
        let (notices, rx) = crate::notice::channel();
        SessionContext {
            notices,
            notice_rx: Mutex::new(Some(rx)),
            session_id,
            principal,
            connection,
            application_name,
            client_addr,
            tls,
            tx_status: AtomicU8::new(b'I'),
            statements: AtomicU64::new(0),
            encoding: Mutex::new((ClientEncoding::Utf8, "UTF8".to_owned())),
            options: Vec::new(),
        }
    }

    /// With the client's Vigil options (`vigil.NAME` startup parameters).
    pub fn with_options(mut self, options: Vec<(String, String)>) -> Self {
        self.options = options;
        self
    }

    /// A Vigil option the client set at startup (`approval` for
    /// `vigil.approval`), if any.
    pub fn option(&self, name: &str) -> Option<&str> {
        self.options
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Decodes client text (SQL) as the server will read it.
    pub fn decode<'b>(&self, bytes: &'b [u8]) -> Result<Cow<'b, str>, (TextError, String)> {
        let enc = self
            .encoding
            .lock()
            .map(|g| g.0)
            .unwrap_or(ClientEncoding::Unsupported);
        enc.decode(bytes)
            .map_err(|e| (e, self.client_encoding_name()))
    }

    /// The client_encoding as the server named it.
    pub fn client_encoding_name(&self) -> String {
        self.encoding
            .lock()
            .map(|g| g.1.clone())
            .unwrap_or_default()
    }

    /// Called when the server announces a new client_encoding.
    pub(crate) fn set_client_encoding(&self, name: &str) {
        if let Ok(mut g) = self.encoding.lock() {
            *g = (ClientEncoding::from_pg_name(name), name.to_owned());
        }
    }

    /// A sender of NoticeResponses to this session's client. Clone it into
    /// a held statement's future to tell the client why it waits; notices
    /// are written between server messages, never inside one.
    pub fn notices(&self) -> NoticeSender {
        self.notices.clone()
    }

    /// The receiving end of [`SessionContext::notices`]; `None` after the
    /// first call.
    pub(crate) fn take_notices(&self) -> Option<NoticeReceiver> {
        self.notice_rx.lock().ok().and_then(|mut g| g.take())
    }

    /// True inside a transaction block (the last ReadyForQuery said `T` or `E`).
    pub fn in_transaction(&self) -> bool {
        self.tx_status.load(Ordering::Relaxed) != b'I'
    }

    /// Statements (Query and Parse messages) seen so far.
    pub fn statements_so_far(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    pub(crate) fn set_tx_status(&self, s: u8) {
        self.tx_status.store(s, Ordering::Relaxed);
    }

    pub(crate) fn count_statement(&self) {
        self.statements.fetch_add(1, Ordering::Relaxed);
    }
}

/// Which protocol carried the statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol<'a> {
    /// A Query message; `sql` may hold several statements.
    Simple,
    /// A Parse message creating the named prepared statement (`""` = unnamed;
    /// a name that is not valid in the client encoding is shown lossily).
    Extended { statement: &'a str },
}

/// A statement's text as it arrived.
#[derive(Debug, Clone, Copy)]
pub struct StatementRequest<'a> {
    pub sql: &'a str,
    pub protocol: Protocol<'a>,
    /// Parameter type OIDs declared in Parse (often empty).
    pub param_types: &'a [u32],
}

/// A Bind: the prepared statement's text with its parameter values.
#[derive(Debug, Clone, Copy)]
pub struct BindRequest<'a> {
    pub sql: &'a str,
    pub statement: &'a str,
    pub portal: &'a str,
    /// Values as sent (text or binary per `param_format`); `None` is NULL.
    pub params: &'a [Option<&'a [u8]>],
    pub param_formats: &'a [i16],
    /// What the hook tagged the statement's Parse with, if anything.
    pub statement_tag: Option<&'a StatementTag>,
}

/// The error a denied statement produces. The session stays usable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    pub sqlstate: String,
    /// Sent as the primary message; starts with `vigil: `.
    pub message: String,
    pub detail: Option<String>,
    pub hint: Option<String>,
}

impl Denial {
    /// A 42501 denial with message `vigil: <reason>`.
    pub fn new(reason: impl AsRef<str>) -> Self {
        Denial {
            sqlstate: "42501".to_owned(),
            message: format!("vigil: {}", reason.as_ref()),
            detail: None,
            hint: None,
        }
    }

    pub fn with_code(mut self, sqlstate: &str) -> Self {
        self.sqlstate = sqlstate.to_owned();
        self
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
}

/// A future a held statement waits on.
pub type HoldFuture = Pin<Box<dyn Future<Output = HookVerdict> + Send + 'static>>;

/// The hook's answer.
pub enum HookVerdict {
    /// Forward the message unchanged.
    Allow,
    /// Forward the message unchanged; its responses carry this tag.
    AllowWith(StatementTag),
    /// Do not forward; the client gets an ErrorResponse.
    Deny(Denial),
    /// Wait for the future, then apply its verdict. Holding twice is allowed.
    Hold(HoldFuture),
}

impl std::fmt::Debug for HookVerdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HookVerdict::Allow => f.write_str("Allow"),
            HookVerdict::AllowWith(_) => f.write_str("AllowWith(..)"),
            HookVerdict::Deny(d) => f.debug_tuple("Deny").field(d).finish(),
            HookVerdict::Hold(_) => f.write_str("Hold(..)"),
        }
    }
}

/// Decides statements. Implementations must be fast on the common path:
/// the hook runs on every statement.
pub trait StatementHook: Send + Sync + 'static {
    /// Runs for every Query and Parse, before it is forwarded.
    /// [`HookVerdict::AllowWith`] tags the statement's responses (for a
    /// Parse: every Bind of it that is not tagged itself).
    fn on_statement(&self, ctx: &SessionContext, req: &StatementRequest<'_>) -> HookVerdict;

    /// Runs for every Bind, before it is forwarded. Default: allow (the
    /// portal keeps its statement's tag). A tag given here applies to the
    /// portal's Executes.
    fn on_bind(&self, _ctx: &SessionContext, _req: &BindRequest<'_>) -> HookVerdict {
        HookVerdict::Allow
    }
}

/// Forwards everything: the pass-through configuration.
#[derive(Debug, Default, Clone, Copy)]
pub struct AllowAll;

impl StatementHook for AllowAll {
    fn on_statement(&self, _: &SessionContext, _: &StatementRequest<'_>) -> HookVerdict {
        HookVerdict::Allow
    }
}
