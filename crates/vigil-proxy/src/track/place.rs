//! [`Tracker::place`]: one server message against the head request.

use super::{Current, Phase, Placement, Request, RequestKind, TrackError, Tracker};
use crate::respond::Answering;
use vigil_pgwire::backend::{COPY_IN_RESPONSE, COPY_OUT_RESPONSE, ERROR_RESPONSE, READY_FOR_QUERY};

/// Server message types the tracker reads (the protocol's names).
pub mod msg {
    pub const PARSE_COMPLETE: u8 = b'1';
    pub const BIND_COMPLETE: u8 = b'2';
    pub const CLOSE_COMPLETE: u8 = b'3';
    pub const PARAMETER_DESCRIPTION: u8 = b't';
    pub const ROW_DESCRIPTION: u8 = b'T';
    pub const NO_DATA: u8 = b'n';
    pub const DATA_ROW: u8 = b'D';
    pub const COMMAND_COMPLETE: u8 = b'C';
    pub const EMPTY_QUERY: u8 = b'I';
    pub const PORTAL_SUSPENDED: u8 = b's';
    pub const COPY_DATA: u8 = b'd';
    pub const COPY_DONE: u8 = b'c';
}

use msg::*;

impl Tracker {
    /// Places one server message (`tag`, `body`). Updates statements,
    /// portals and layouts as the server's answers confirm them.
    #[inline]
    pub fn place(&mut self, tag: u8, body: &[u8]) -> Result<Placement, TrackError> {
        // The hot path: the next row of a result already under way.
        if tag == DATA_ROW && self.phase == Phase::Rows && self.started {
            return Ok(Placement::DataRow);
        }
        self.place_message(tag, body)
    }

    fn place_message(&mut self, tag: u8, body: &[u8]) -> Result<Placement, TrackError> {
        if super::is_async(tag) {
            return Ok(Placement::Async);
        }
        self.skip_to_sync();
        if self.queue.is_empty() {
            // A FATAL (shutdown, timeouts) can come with nothing pending.
            return match tag {
                ERROR_RESPONSE => Ok(Placement::Async),
                _ => Err(unexpected(tag, "nothing")),
            };
        }
        if !self.started {
            self.start_head();
        }
        let placed = match self.current.answering {
            Answering::Query => self.query(tag, body)?,
            Answering::Execute => self.execute(tag)?,
            Answering::Parse => self.parse(tag)?,
            Answering::Bind => self.bind(tag)?,
            Answering::Describe => self.describe(tag, body)?,
            Answering::Close => self.close(tag)?,
            Answering::Sync => self.sync(tag)?,
        };
        if let Placement::Ready { .. } = placed {
            if body.first() == Some(&b'I') && !self.portals.is_empty() {
                // Every portal ends with its transaction.
                self.portals.clear();
            }
        }
        Ok(match placed {
            Placement::Error => Placement::Error,
            _ if self.current.internal => Placement::Internal,
            p => p,
        })
    }

    /// Makes the head request current: moves its tag out (a Bind without
    /// its own inherits the statement's; Describe and Execute use their
    /// statement's or portal's).
    fn start_head(&mut self) {
        let Some(head) = self.queue.front_mut() else {
            return;
        };
        let own = head.tag.take();
        let (tag, layout) = match &head.kind {
            RequestKind::Query => {
                // A Query destroys the unnamed statement and portal
                // (simple-query sessions have none: skip the hashing).
                if !self.statements.is_empty() {
                    self.statements.remove(&b""[..]);
                }
                if !self.portals.is_empty() {
                    self.portals.remove(&b""[..]);
                }
                (own, None)
            }
            RequestKind::Bind { statement, .. } => {
                let inherited = || self.statements.get(statement)?.tag.clone();
                (own.or_else(inherited), None)
            }
            RequestKind::Describe { kind: b'S', name } => {
                (self.statements.get(name).and_then(|s| s.tag.clone()), None)
            }
            RequestKind::Describe { name, .. } | RequestKind::Execute { portal: name } => {
                let p = self.portals.get(name);
                (
                    p.and_then(|p| p.tag.clone()),
                    p.and_then(|p| p.layout.clone()),
                )
            }
            _ => (own, None),
        };
        self.current = Current {
            answering: head.answering(),
            tag,
            sent: head.sent,
            internal: head.internal,
            layout,
        };
        self.phase = Phase::Start;
        self.started = true;
    }

    fn pop(&mut self) -> Option<Request> {
        self.started = false;
        self.queue.pop_front()
    }

    /// After an extended-protocol error the server ignores every message
    /// until Sync (a Query too).
    fn skip_to_sync(&mut self) {
        while self.skipping {
            match self.queue.front() {
                None => break,
                Some(r) if r.kind == RequestKind::Sync => self.skipping = false,
                Some(_) => {
                    if let Some(r) = self.pop().filter(|r| !r.internal) {
                        self.skipped.push(r);
                    }
                }
            }
        }
    }

    fn query(&mut self, tag: u8, body: &[u8]) -> Result<Placement, TrackError> {
        Ok(match (tag, self.phase) {
            (ROW_DESCRIPTION, Phase::Start) => {
                self.current.layout = self.new_layout(body)?;
                self.phase = Phase::Rows;
                Placement::RowDescription
            }
            (DATA_ROW, Phase::Rows) => Placement::DataRow,
            (COMMAND_COMPLETE, _) | (EMPTY_QUERY, Phase::Start) => {
                self.phase = Phase::Start;
                Placement::Complete
            }
            (ERROR_RESPONSE, _) => {
                // The rest of the Query string is not run.
                self.phase = Phase::Start;
                Placement::Error
            }
            (READY_FOR_QUERY, Phase::Start) => {
                self.pop();
                Placement::Ready { query: true }
            }
            _ => return self.copy(tag, "Query"),
        })
    }

    fn execute(&mut self, tag: u8) -> Result<Placement, TrackError> {
        Ok(match (tag, self.phase) {
            (DATA_ROW, Phase::Start | Phase::Rows) => {
                self.phase = Phase::Rows;
                Placement::DataRow
            }
            (COMMAND_COMPLETE, _)
            | (EMPTY_QUERY, Phase::Start)
            | (PORTAL_SUSPENDED, Phase::Start | Phase::Rows) => {
                self.pop();
                Placement::Complete
            }
            (ERROR_RESPONSE, _) => self.failed(),
            _ => return self.copy(tag, "Execute"),
        })
    }

    /// The COPY sub-protocols, inside a Query or an Execute.
    fn copy(&mut self, tag: u8, what: &'static str) -> Result<Placement, TrackError> {
        Ok(match (tag, self.phase) {
            (COPY_IN_RESPONSE, Phase::Start) => {
                self.phase = Phase::CopyIn;
                Placement::Ack
            }
            (COPY_OUT_RESPONSE, Phase::Start) => {
                self.phase = Phase::CopyOut;
                Placement::CopyOut
            }
            (COPY_DATA, Phase::CopyOut) => Placement::CopyData,
            (COPY_DONE, Phase::CopyOut) => {
                self.phase = Phase::Start;
                Placement::CopyDone
            }
            _ => return Err(unexpected(tag, what)),
        })
    }

    /// An ErrorResponse ends an extended-protocol request and starts the
    /// server's skip to Sync.
    fn failed(&mut self) -> Placement {
        self.pop();
        self.skipping = true;
        Placement::Error
    }

    fn parse(&mut self, tag: u8) -> Result<Placement, TrackError> {
        match tag {
            PARSE_COMPLETE => {
                if let Some(RequestKind::Parse { statement }) = self.pop().map(|r| r.kind) {
                    let known = super::Known {
                        tag: self.current.tag.clone(),
                        layout: None,
                    };
                    self.statements.insert(statement, known);
                }
                Ok(Placement::Ack)
            }
            ERROR_RESPONSE => Ok(self.failed()),
            _ => Err(unexpected(tag, "Parse")),
        }
    }

    fn bind(&mut self, tag: u8) -> Result<Placement, TrackError> {
        match tag {
            BIND_COMPLETE => {
                if let Some(RequestKind::Bind {
                    portal,
                    statement,
                    result_formats,
                }) = self.pop().map(|r| r.kind)
                {
                    let described = self
                        .statements
                        .get(&statement)
                        .and_then(|s| s.layout.clone());
                    let layout = match described {
                        Some(l) => {
                            let id = self.take_id();
                            l.with_formats(id, &result_formats).map(std::sync::Arc::new)
                        }
                        None => None,
                    };
                    let tag = self.current.tag.clone();
                    self.portals.insert(portal, super::Known { tag, layout });
                }
                Ok(Placement::Ack)
            }
            ERROR_RESPONSE => Ok(self.failed()),
            _ => Err(unexpected(tag, "Bind")),
        }
    }

    fn describe(&mut self, tag: u8, body: &[u8]) -> Result<Placement, TrackError> {
        match (tag, self.phase) {
            (PARAMETER_DESCRIPTION, Phase::Start) => {
                self.phase = Phase::Described;
                Ok(Placement::Ack)
            }
            (ROW_DESCRIPTION | NO_DATA, _) => {
                let layout = match tag {
                    ROW_DESCRIPTION => self.new_layout(body)?,
                    _ => None,
                };
                self.current.layout = layout.clone();
                if let Some(RequestKind::Describe { kind, name }) = self.pop().map(|r| r.kind) {
                    let map = match kind {
                        b'S' => &mut self.statements,
                        _ => &mut self.portals,
                    };
                    map.entry(name).or_default().layout = layout;
                }
                Ok(match tag {
                    ROW_DESCRIPTION => Placement::RowDescription,
                    _ => Placement::Ack,
                })
            }
            (ERROR_RESPONSE, _) => Ok(self.failed()),
            _ => Err(unexpected(tag, "Describe")),
        }
    }

    fn close(&mut self, tag: u8) -> Result<Placement, TrackError> {
        match tag {
            CLOSE_COMPLETE => {
                if let Some(RequestKind::Close { kind, name }) = self.pop().map(|r| r.kind) {
                    match kind {
                        b'S' => self.statements.remove(&name),
                        _ => self.portals.remove(&name),
                    };
                }
                Ok(Placement::Ack)
            }
            ERROR_RESPONSE => Ok(self.failed()),
            _ => Err(unexpected(tag, "Close")),
        }
    }

    fn sync(&mut self, tag: u8) -> Result<Placement, TrackError> {
        match tag {
            READY_FOR_QUERY => {
                self.pop();
                Ok(Placement::Ready { query: false })
            }
            // A failed commit of the implicit transaction: its
            // ReadyForQuery still follows.
            ERROR_RESPONSE => Ok(Placement::Error),
            _ => Err(unexpected(tag, "Sync")),
        }
    }
}

fn unexpected(tag: u8, answering: &'static str) -> TrackError {
    TrackError::Unexpected {
        message: char::from(tag),
        answering,
    }
}
