//! Response tracking (sans-I/O): which client request every server message
//! answers, with that request's tag and, for rows, their layout.
//!
//! The client pump records each request it forwards, in protocol order and
//! before the bytes leave ([`Requests`]); the server pump hands every
//! server message to [`Tracker::place`]. PostgreSQL answers strictly in
//! order, so the head of the queue is the request being answered:
//!
//! | request | answered by |
//! |---|---|
//! | Query | (RowDescription DataRow* CommandComplete \| EmptyQueryResponse \| CopyIn… \| CopyOut… \| ErrorResponse)* ReadyForQuery |
//! | Parse / Bind / Close | ParseComplete / BindComplete / CloseComplete |
//! | Describe S / P | ParameterDescription (S only), then RowDescription \| NoData |
//! | Execute | DataRow* then CommandComplete \| EmptyQueryResponse \| PortalSuspended, or a COPY sub-protocol |
//! | Sync | ReadyForQuery |
//! | Flush, CopyData/CopyDone/CopyFail | nothing |
//!
//! An ErrorResponse to an extended-protocol request makes the server skip
//! everything up to the next Sync; within a Query it ends that Query at
//! its ReadyForQuery. ParameterStatus, NoticeResponse,
//! NotificationResponse and BackendKeyData may arrive at any time; so may
//! an ErrorResponse when nothing is pending (a FATAL). Anything else that
//! does not fit is a [`TrackError`]: the session ends rather than guess
//! whose data it is.

use crate::hook::StatementTag;
use crate::layout::RowLayout;
use crate::respond::Answering;
use bytes::Bytes;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use thiserror::Error;
use vigil_pgwire::backend;

/// What a forwarded request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestKind {
    Query,
    Parse {
        statement: Vec<u8>,
    },
    Bind {
        portal: Vec<u8>,
        statement: Vec<u8>,
        result_formats: Vec<i16>,
    },
    /// `kind` is `b'S'` (statement) or `b'P'` (portal).
    Describe {
        kind: u8,
        name: Vec<u8>,
    },
    Execute {
        portal: Vec<u8>,
    },
    Close {
        kind: u8,
        name: Vec<u8>,
    },
    Sync,
}

/// One forwarded request.
#[derive(Clone)]
pub struct Request {
    pub kind: RequestKind,
    pub tag: Option<StatementTag>,
    /// When it was forwarded (only taken when a response hook listens).
    pub sent: Option<Instant>,
    /// Injected by Vigil: its answer never reaches the client.
    pub internal: bool,
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("kind", &self.kind)
            .field("tagged", &self.tag.is_some())
            .field("internal", &self.internal)
            .finish()
    }
}

impl Request {
    pub fn new(kind: RequestKind) -> Self {
        Request {
            kind,
            tag: None,
            sent: None,
            internal: false,
        }
    }

    pub fn answering(&self) -> Answering {
        match self.kind {
            RequestKind::Query => Answering::Query,
            RequestKind::Parse { .. } => Answering::Parse,
            RequestKind::Bind { .. } => Answering::Bind,
            RequestKind::Describe { .. } => Answering::Describe,
            RequestKind::Execute { .. } => Answering::Execute,
            RequestKind::Close { .. } => Answering::Close,
            RequestKind::Sync => Answering::Sync,
        }
    }
}

/// Requests a session may have in flight. The server stops reading when
/// its answers are not read, so only a client that floods tiny messages
/// (a Sync is 5 bytes, its record ~100) can get near this; it is ended.
pub const MAX_IN_FLIGHT: usize = 1_000_000;

/// The queue between the pumps: the client pump appends before it writes,
/// the server pump drains once per read.
#[derive(Debug, Default)]
pub struct Requests {
    queue: Mutex<VecDeque<Request>>,
}

impl Requests {
    /// Appends `batch` (emptied) in order; returns how many requests
    /// now wait for the server pump.
    pub fn push_all(&self, batch: &mut Vec<Request>) -> usize {
        if batch.is_empty() {
            return 0;
        }
        match self.queue.lock() {
            Ok(mut q) => {
                q.extend(batch.drain(..));
                q.len()
            }
            Err(_) => 0,
        }
    }

    /// Moves every queued request to the end of `into`.
    pub fn drain_into(&self, into: &mut VecDeque<Request>) {
        if let Ok(mut q) = self.queue.lock() {
            if into.is_empty() {
                std::mem::swap(into, &mut q);
            } else {
                into.extend(q.drain(..));
            }
        }
    }
}

/// A server message that does not fit what was asked.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum TrackError {
    #[error("unexpected {message} while answering {answering}")]
    Unexpected {
        message: char,
        answering: &'static str,
    },
    #[error("malformed RowDescription: {0}")]
    Description(vigil_pgwire::CodecError),
}

/// Where a server message belongs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// ParameterStatus, NoticeResponse, NotificationResponse,
    /// BackendKeyData, or an ErrorResponse with nothing pending.
    Async,
    /// Answers a request Vigil injected: never forwarded.
    Internal,
    /// ParseComplete, BindComplete, CloseComplete, ParameterDescription,
    /// NoData, CopyInResponse.
    Ack,
    /// A RowDescription the client asked for ([`Tracker::layout`] holds it).
    RowDescription,
    DataRow,
    CopyOut,
    CopyData,
    CopyDone,
    /// CommandComplete, EmptyQueryResponse or PortalSuspended.
    Complete,
    /// An ErrorResponse answering [`Tracker::answering`].
    Error,
    /// ReadyForQuery answering a Query or a Sync.
    Ready {
        query: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Start,
    /// Rows of a Query result or an Execute are under way.
    Rows,
    CopyOut,
    CopyIn,
    /// A statement Describe's ParameterDescription has arrived.
    Described,
}

/// A statement or portal as the server has it.
#[derive(Debug, Clone, Default)]
struct Known {
    tag: Option<StatementTag>,
    /// `None`: not described (or NoData).
    layout: Option<Arc<RowLayout>>,
}

/// The request being answered now (kept after it is popped, so the message
/// that completed it can still be attributed).
#[derive(Debug, Clone)]
struct Current {
    answering: Answering,
    tag: Option<StatementTag>,
    sent: Option<Instant>,
    internal: bool,
    layout: Option<Arc<RowLayout>>,
}

/// The server side of the session as the protocol defines it.
#[derive(Debug)]
pub struct Tracker {
    queue: VecDeque<Request>,
    /// Whether the head request's first answer has been seen.
    started: bool,
    phase: Phase,
    current: Current,
    /// After an extended-protocol error: requests before the next Sync
    /// are skipped by the server.
    skipping: bool,
    skipped: Vec<Request>,
    layouts: bool,
    next_layout: u64,
    statements: HashMap<Vec<u8>, Known>,
    portals: HashMap<Vec<u8>, Known>,
}

mod place;
pub use place::msg;
#[cfg(test)]
mod tests;

impl Tracker {
    /// `layouts`: parse RowDescriptions and follow statement and portal
    /// layouts (only a response hook that wants them pays for it).
    pub fn new(layouts: bool) -> Self {
        Tracker {
            queue: VecDeque::new(),
            started: false,
            phase: Phase::Start,
            current: Current {
                answering: Answering::Sync,
                tag: None,
                sent: None,
                internal: false,
                layout: None,
            },
            skipping: false,
            skipped: Vec::new(),
            layouts,
            next_layout: 1,
            statements: HashMap::new(),
            portals: HashMap::new(),
        }
    }

    /// Takes newly forwarded requests.
    pub fn refill(&mut self, from: &Requests) {
        from.drain_into(&mut self.queue);
    }

    /// Appends one request (tests and callers without a shared queue).
    pub fn push(&mut self, r: Request) {
        self.queue.push_back(r);
    }

    /// The tag of the request the last placed message answers.
    pub fn tag(&self) -> Option<&StatementTag> {
        self.current.tag.as_ref()
    }

    /// The layout of the rows being placed (or of the RowDescription just
    /// placed), when known.
    pub fn layout(&self) -> Option<&RowLayout> {
        self.current.layout.as_deref()
    }

    pub fn answering(&self) -> Answering {
        self.current.answering
    }

    pub fn sent(&self) -> Option<Instant> {
        self.current.sent
    }

    /// Requests the server skipped since the last call (after an error).
    pub fn take_skipped(&mut self) -> impl Iterator<Item = Request> + '_ {
        self.skipped.drain(..)
    }

    pub fn has_skipped(&self) -> bool {
        !self.skipped.is_empty()
    }

    /// Requests still waiting for (the rest of) their answer.
    pub fn pending(&self) -> usize {
        self.queue.len()
    }

    fn new_layout(&mut self, body: &[u8]) -> Result<Option<Arc<RowLayout>>, TrackError> {
        if !self.layouts {
            return Ok(None);
        }
        let id = self.take_id();
        RowLayout::parse(id, Bytes::copy_from_slice(body))
            .map(|l| Some(Arc::new(l)))
            .map_err(TrackError::Description)
    }

    fn take_id(&mut self) -> u64 {
        let id = self.next_layout;
        self.next_layout += 1;
        id
    }
}

/// Messages that may arrive whatever is pending.
fn is_async(tag: u8) -> bool {
    matches!(
        tag,
        backend::PARAMETER_STATUS
            | backend::NOTICE_RESPONSE
            | backend::NOTIFICATION_RESPONSE
            | backend::BACKEND_KEY_DATA
    )
}
