//! The response hook: the one place where every server message that can
//! carry data is seen, per statement, before it reaches the client.
//!
//! ```text
//! server message ─► frame ─► place (which request? which tag? which row layout?)
//!      ─► ResponseHook phase ─► Unchanged: forward the original bytes
//!                            ├─ Replaced: forward these bytes instead
//!                            └─ Failure: fail the result closed (58000)
//! request answered ─► on_complete (command tag or SQLSTATE, rows, duration)
//! ```
//!
//! A [`ResponseHookFactory`] makes one [`ResponseHook`] per session, so a
//! hook may keep per-session state behind `&mut self`. Phases run on the
//! session's server pump, in protocol order, one message at a time: keep
//! them fast, they run for every row.
//!
//! # Failing closed
//! When [`on_data_row`](ResponseHook::on_data_row),
//! [`on_copy_out_response`](ResponseHook::on_copy_out_response),
//! [`on_copy_data`](ResponseHook::on_copy_data) or
//! [`on_copy_done`](ResponseHook::on_copy_done) returns a [`Failure`]:
//! - that message and the rest of the result's DataRow/CopyData/CopyDone
//!   are not sent;
//! - the result's CommandComplete (or PortalSuspended, or the server's own
//!   error) is replaced by an ErrorResponse: the failure's SQLSTATE
//!   (default 58000), message `vigil: masking failed: <reason>`;
//! - the client now believes the statement failed, as if the server had
//!   raised the error. So the responses it no longer expects are swallowed:
//!   in a simple Query the rest of that Query's responses up to its
//!   ReadyForQuery; in the extended protocol every response up to the
//!   ReadyForQuery of the next Sync;
//! - that ReadyForQuery is forwarded, with status `T` rewritten to `E`.
//!
//! The trade-off: the server did not fail. Statements after the failed one
//! in the same Query string or pipeline still ran (their results are
//! withheld, and still reported to [`on_complete`](ResponseHook::on_complete)
//! with `withheld`); an implicit transaction committed; an open block is
//! still usable on the server although the client is told it is aborted
//! (its ROLLBACK then works as expected; a COMMIT would commit). Sending
//! data that failed masking would be worse.
//!
//! When masking an ErrorResponse or NoticeResponse itself fails, the
//! message is replaced by a generic `vigil: masking failed` message of the
//! same severity. A NotificationResponse or ParameterStatus whose masking
//! fails is withheld and a WARNING notice says so.

use crate::hook::{SessionContext, StatementTag};
use crate::layout::RowLayout;
use bytes::Bytes;
use std::time::Duration;

/// What a phase did with one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rewrite {
    /// Forward the original bytes (zero-copy).
    Unchanged,
    /// Forward these complete frames instead (possibly none).
    Replaced(Bytes),
}

/// A phase could not make the message safe to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Sent to the client; 58000 unless set.
    pub sqlstate: String,
    /// Appended to `vigil: masking failed: `.
    pub reason: String,
}

impl Failure {
    pub fn new(reason: impl Into<String>) -> Self {
        Failure {
            sqlstate: "58000".to_owned(),
            reason: reason.into(),
        }
    }

    pub fn with_code(mut self, sqlstate: &str) -> Self {
        self.sqlstate = sqlstate.to_owned();
        self
    }

    /// The primary message the client sees.
    pub fn message(&self) -> String {
        format!("vigil: masking failed: {}", self.reason)
    }
}

/// The client request a response answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answering {
    Query,
    Parse,
    Bind,
    Describe,
    Execute,
    Close,
    Sync,
}

/// How a request (or one statement of a multi-statement Query) ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completion<'a> {
    /// CommandComplete, with its tag (`SELECT 3`, `INSERT 0 1`, `COPY 5`).
    Command(&'a str),
    /// EmptyQueryResponse: the statement text was empty.
    EmptyQuery,
    /// PortalSuspended: Execute's row limit was reached.
    Suspended,
    /// An ErrorResponse, with its SQLSTATE (a denial's, for denied ones).
    Error { sqlstate: &'a str },
    /// A phase returned a [`Failure`]: the client got this SQLSTATE.
    Failed { sqlstate: &'a str },
    /// Never ran: the server skipped it after an earlier error in the
    /// same extended-protocol batch.
    Skipped,
}

/// What [`ResponseHook::on_complete`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome<'a> {
    pub answering: Answering,
    pub completion: Completion<'a>,
    /// DataRows sent to the client for this result (COPY counts are in the
    /// command tag).
    pub rows: u64,
    /// From when the request was forwarded to the server until this
    /// response (for every statement of a Query: since the Query).
    pub elapsed: Duration,
    /// The server answered but the client was not shown it, because an
    /// earlier result of the same Query or batch failed closed.
    pub withheld: bool,
}

/// Per-session response phases. Each default forwards unchanged, so a hook
/// implements only what it needs. `tag` is what the statement hook attached
/// to the request the message answers ([`HookVerdict::AllowWith`]).
///
/// [`HookVerdict::AllowWith`]: crate::hook::HookVerdict::AllowWith
pub trait ResponseHook: Send {
    /// Asked once at session start. `true` (the default): every DataRow
    /// comes with its real [`RowLayout`]; the session injects a `Describe`
    /// (its answer never reaches the client) for an Execute whose portal
    /// the client never described, and fails a result closed if a row's
    /// layout is still unknown. `false`: phases get [`RowLayout::unknown`].
    fn wants_layouts(&self) -> bool {
        true
    }

    /// Runs for every RowDescription forwarded to the client (a Query's
    /// result starting, or the answer to a client's Describe), with the
    /// layout it defines. The message itself is forwarded unchanged.
    fn on_row_description(&mut self, _tag: Option<&StatementTag>, _layout: &RowLayout) {}

    /// Runs for every DataRow, before it is sent. `layout.id()` stays the
    /// same for all rows of a result (and all Executes of a portal).
    fn on_data_row(
        &mut self,
        _tag: Option<&StatementTag>,
        _layout: &RowLayout,
        _body: &[u8],
    ) -> Result<Rewrite, Failure> {
        Ok(Rewrite::Unchanged)
    }

    /// Runs when COPY … TO STDOUT starts, with the CopyOutResponse body.
    /// A failure fails the COPY before any data is sent.
    fn on_copy_out_response(
        &mut self,
        _tag: Option<&StatementTag>,
        _body: &[u8],
    ) -> Result<(), Failure> {
        Ok(())
    }

    /// Runs for every CopyData of a COPY OUT.
    fn on_copy_data(
        &mut self,
        _tag: Option<&StatementTag>,
        _body: &[u8],
    ) -> Result<Rewrite, Failure> {
        Ok(Rewrite::Unchanged)
    }

    /// Runs at CopyDone, before it is sent (a partial row left over is a
    /// failure).
    fn on_copy_done(&mut self, _tag: Option<&StatementTag>) -> Result<(), Failure> {
        Ok(())
    }

    /// Runs for every ErrorResponse (`msg` = `b'E'`) and NoticeResponse
    /// (`b'N'`) from the server; `tag` is `None` for one that answers no
    /// request (a FATAL at shutdown, an asynchronous notice).
    fn on_error_or_notice(
        &mut self,
        _tag: Option<&StatementTag>,
        _msg: u8,
        _body: &[u8],
    ) -> Result<Rewrite, Failure> {
        Ok(Rewrite::Unchanged)
    }

    /// Runs for every NotificationResponse (LISTEN/NOTIFY).
    fn on_notification(&mut self, _body: &[u8]) -> Result<Rewrite, Failure> {
        Ok(Rewrite::Unchanged)
    }

    /// Runs for every ParameterStatus after login.
    fn on_parameter_status(&mut self, _body: &[u8]) -> Result<Rewrite, Failure> {
        Ok(Rewrite::Unchanged)
    }

    /// Runs when a request's result ends: for each statement of a Query
    /// (CommandComplete, EmptyQueryResponse or ErrorResponse), for each
    /// Execute (also when suspended or skipped), and for an ErrorResponse
    /// answering any other request. Runs after the message's own phase.
    fn on_complete(&mut self, _tag: Option<&StatementTag>, _outcome: &Outcome<'_>) {}
}

/// Makes the response hook of each session.
pub trait ResponseHookFactory: Send + Sync + 'static {
    /// Runs once per session, after login, before the first query. `None`:
    /// this session needs no response hook (nothing is inspected).
    fn session(&self, ctx: &SessionContext) -> Option<Box<dyn ResponseHook>>;
}
