//! Client → server: the statement hook, denials by substitution, holds,
//! and the record of what each forwarded request will be answered with.

use super::record::{request_kind, Described};
use super::RelayEnd;
use crate::cancel::CancelSignal;
use crate::denials::Denials;
use crate::error::SessionError;
use crate::hook::{
    BindRequest, Denial, HookVerdict, Protocol, SessionContext, StatementHook, StatementRequest,
    StatementTag,
};
use crate::track::{Request, RequestKind, Requests, MAX_IN_FLIGHT};
use bytes::BytesMut;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use vigil_pgwire::frontend::{self as fe, Bind, Parse, Query, Target};
use vigil_pgwire::{decode_frame, Frame};

/// Client → server.
pub struct ClientPump<'a> {
    pub ctx: &'a SessionContext,
    pub hook: &'a dyn StatementHook,
    pub denials: &'a Denials,
    pub cancelled: &'a CancelSignal,
    pub max_message: usize,
    /// Syncs and Queries forwarded: the ReadyForQuery count they will produce.
    syncs: u64,
    /// Prepared statement name → text and the Parse's tag, for Bind hooks.
    prepared: HashMap<Vec<u8>, (Arc<str>, Option<StatementTag>)>,
    out: BytesMut,
    requests: &'a Requests,
    /// Requests in `out`, recorded when it is written.
    batch: Vec<Request>,
    /// Stamp requests with the time they leave (a response hook listens).
    timed: bool,
    /// What the client described, when rows need layouts.
    described: Option<Described>,
}

impl<'a> ClientPump<'a> {
    pub fn new(
        ctx: &'a SessionContext,
        hook: &'a dyn StatementHook,
        denials: &'a Denials,
        cancelled: &'a CancelSignal,
        max_message: usize,
        requests: &'a Requests,
    ) -> Self {
        ClientPump {
            ctx,
            hook,
            denials,
            cancelled,
            max_message,
            syncs: 0,
            prepared: HashMap::new(),
            out: BytesMut::with_capacity(8 * 1024),
            requests,
            batch: Vec::new(),
            timed: false,
            described: None,
        }
    }

    /// `timed`: stamp requests with when they are forwarded. `layouts`:
    /// describe every portal before its first Execute unless the client
    /// described it (or its statement) itself.
    pub fn tracking(mut self, timed: bool, layouts: bool) -> Self {
        self.timed = timed;
        self.described = layouts.then(Described::default);
        self
    }

    pub async fn run(
        mut self,
        client: &mut (impl AsyncRead + Unpin),
        server: &mut (impl AsyncWrite + Unpin),
        mut buf: BytesMut,
    ) -> Result<RelayEnd, SessionError> {
        loop {
            while let Some(frame) = decode_frame(&mut buf, self.max_message)? {
                if frame.tag() == fe::TERMINATE {
                    self.out.extend_from_slice(frame.raw());
                    self.flush(server).await?;
                    return Ok(RelayEnd::Terminated);
                }
                self.on_frame(frame, client, server, &mut buf).await?;
            }
            self.flush(server).await?;
            match client.read_buf(&mut buf).await {
                Ok(0) | Err(_) => return Ok(RelayEnd::Closed),
                Ok(_) => {}
            }
        }
    }

    /// Records the batch's requests, then writes it: the server pump must
    /// know a request before its answer can arrive.
    async fn flush(&mut self, server: &mut (impl AsyncWrite + Unpin)) -> Result<(), SessionError> {
        if self.timed && !self.batch.is_empty() {
            let now = Instant::now();
            self.batch.iter_mut().for_each(|r| r.sent = Some(now));
        }
        if self.requests.push_all(&mut self.batch) > MAX_IN_FLIGHT {
            return Err(SessionError::ClientViolation(
                "too many requests in flight without reading the answers",
            ));
        }
        if !self.out.is_empty() {
            server
                .write_all(&self.out)
                .await
                .map_err(|_| SessionError::UpstreamGone)?;
            self.out.clear();
        }
        Ok(())
    }

    async fn on_frame(
        &mut self,
        frame: Frame,
        client: &mut (impl AsyncRead + Unpin),
        server: &mut (impl AsyncWrite + Unpin),
        buf: &mut BytesMut,
    ) -> Result<(), SessionError> {
        let mut parsed: Option<(Vec<u8>, Arc<str>)> = None;
        let (verdict, kind) = match frame.tag() {
            fe::QUERY => (self.query_verdict(&frame)?, Some(RequestKind::Query)),
            fe::PARSE => {
                let p = Parse::parse(frame.body())?;
                self.ctx.count_statement();
                let kind = RequestKind::Parse {
                    statement: p.statement.to_vec(),
                };
                let v = match self.ctx.decode(p.sql) {
                    Ok(sql) => {
                        let name = String::from_utf8_lossy(p.statement);
                        let req = StatementRequest {
                            sql: &sql,
                            protocol: Protocol::Extended { statement: &name },
                            param_types: &p.param_types,
                        };
                        let v = self.hook.on_statement(self.ctx, &req);
                        parsed = Some((p.statement.to_vec(), Arc::from(sql.as_ref())));
                        v
                    }
                    Err(e) => undecodable(e),
                };
                (v, Some(kind))
            }
            fe::BIND => self.bind_verdict(&frame)?,
            fe::FUNCTION_CALL => (
                HookVerdict::Deny(
                    Denial::new(
                        "the FunctionCall protocol message is refused: Vigil cannot see what it runs",
                    )
                    .with_hint("Call the function with a SELECT statement instead."),
                ),
                None,
            ),
            _ => (HookVerdict::Allow, request_kind(&frame)?),
        };
        let verdict = match verdict {
            HookVerdict::Hold(fut) => {
                self.flush(server).await?;
                self.wait(fut, client, buf).await?
            }
            v => v,
        };
        match verdict {
            HookVerdict::Deny(d) => self.substitute(&frame, &d)?,
            v => {
                let tag = match v {
                    HookVerdict::AllowWith(t) => Some(t),
                    _ => None,
                };
                self.remember(&frame, parsed, tag.as_ref());
                if let Some(kind) = kind {
                    self.record(kind, tag)?;
                }
                self.out.extend_from_slice(frame.raw());
            }
        }
        if matches!(frame.tag(), fe::QUERY | fe::SYNC | fe::FUNCTION_CALL) {
            self.syncs += 1;
        }
        Ok(())
    }

    fn query_verdict(&self, frame: &Frame) -> Result<HookVerdict, SessionError> {
        let q = Query::parse(frame.body())?;
        self.ctx.count_statement();
        Ok(match self.ctx.decode(q.sql) {
            Ok(sql) => self.hook.on_statement(
                self.ctx,
                &StatementRequest {
                    sql: &sql,
                    protocol: Protocol::Simple,
                    param_types: &[],
                },
            ),
            Err(e) => undecodable(e),
        })
    }

    fn bind_verdict(
        &self,
        frame: &Frame,
    ) -> Result<(HookVerdict, Option<RequestKind>), SessionError> {
        let b = Bind::parse(frame.body())?;
        let kind = Some(RequestKind::Bind {
            portal: b.portal.to_vec(),
            statement: b.statement.to_vec(),
            result_formats: b.result_formats.clone(),
        });
        let Some((sql, statement_tag)) = self.prepared.get(b.statement) else {
            // Unknown to Vigil means unknown to the server too: it will fail.
            return Ok((HookVerdict::Allow, kind));
        };
        let req = BindRequest {
            sql,
            statement: &String::from_utf8_lossy(b.statement),
            portal: &String::from_utf8_lossy(b.portal),
            params: &b.params,
            param_formats: &b.param_formats,
            statement_tag: statement_tag.as_ref(),
        };
        Ok((self.hook.on_bind(self.ctx, &req), kind))
    }

    /// Notes what a forwarded request will be answered with. An Execute of
    /// a portal whose layout nobody asked for is preceded by Vigil's own
    /// Describe (its answer is swallowed on the way back).
    fn record(&mut self, kind: RequestKind, tag: Option<StatementTag>) -> Result<(), SessionError> {
        if let Some(d) = self.described.as_mut() {
            if let Some(portal) = d.note(&kind) {
                let mut body = Vec::with_capacity(portal.len() + 2);
                body.push(b'P');
                body.extend_from_slice(&portal);
                body.push(0);
                self.out
                    .extend_from_slice(Frame::new(fe::DESCRIBE, &body)?.raw());
                let mut describe = Request::new(RequestKind::Describe {
                    kind: b'P',
                    name: portal,
                });
                describe.internal = true;
                self.batch.push(describe);
            }
        }
        let mut r = Request::new(kind);
        r.tag = tag;
        self.batch.push(r);
        Ok(())
    }

    /// Tracks prepared statements so Bind hooks see their text.
    fn remember(
        &mut self,
        frame: &Frame,
        parsed: Option<(Vec<u8>, Arc<str>)>,
        tag: Option<&StatementTag>,
    ) {
        if let Some((name, sql)) = parsed {
            self.prepared.insert(name, (sql, tag.cloned()));
        } else if frame.tag() == fe::CLOSE {
            if let Ok(t) = Target::parse(frame.body()) {
                if t.kind == b'S' {
                    self.prepared.remove(t.name);
                }
            }
        }
    }

    /// Waits for a held statement while watching the client: a disconnect
    /// ends the session, a cancel withdraws the statement.
    async fn wait(
        &mut self,
        mut fut: crate::hook::HoldFuture,
        client: &mut (impl AsyncRead + Unpin),
        buf: &mut BytesMut,
    ) -> Result<HookVerdict, SessionError> {
        let mut open = true;
        // Enabled before the flag is raised, so no cancel slips between.
        let cancel = self.cancelled.waiter();
        tokio::pin!(cancel);
        cancel.as_mut().enable();
        let _holding = self.cancelled.holding();
        loop {
            tokio::select! {
                v = &mut fut => match v {
                    HookVerdict::Hold(next) => fut = next,
                    v => return Ok(v),
                },
                _ = &mut cancel => {
                    return Ok(HookVerdict::Deny(
                        Denial::new("canceling statement due to user request while it was held")
                            .with_code("57014"),
                    ));
                }
                r = client.read_buf(buf), if open && buf.len() < self.max_message => {
                    match r {
                        Ok(0) | Err(_) => return Err(SessionError::ClientGone),
                        Ok(_) => open = buf.len() < self.max_message,
                    }
                }
            }
        }
    }

    /// Replaces a denied message with one the server rejects in its place.
    fn substitute(&mut self, frame: &Frame, denial: &Denial) -> Result<(), SessionError> {
        let marker = self.denials.register(denial, self.syncs);
        let (sub, kind) = match frame.tag() {
            fe::PARSE => {
                let p = Parse::parse(frame.body())?;
                let kind = RequestKind::Parse {
                    statement: p.statement.to_vec(),
                };
                (fe::encode_parse(p.statement, &marker)?, kind)
            }
            fe::BIND => {
                let b = Bind::parse(frame.body())?;
                let kind = RequestKind::Bind {
                    portal: b.portal.to_vec(),
                    statement: marker.as_bytes().to_vec(),
                    result_formats: Vec::new(),
                };
                (fe::encode_bind(b.portal, &marker)?, kind)
            }
            _ => (fe::encode_query(&marker)?, RequestKind::Query),
        };
        self.record(kind, None)?;
        self.out.extend_from_slice(sub.raw());
        Ok(())
    }
}

/// A statement whose bytes are not valid in the session's client encoding
/// cannot be classified: refuse it (the server would reject it too).
fn undecodable((err, encoding): (vigil_pgwire::text::TextError, String)) -> HookVerdict {
    HookVerdict::Deny(
        Denial::new(format!(
            "cannot read the statement in client encoding {encoding}: {err}"
        ))
        .with_code("22021")
        .with_hint("Send text in the session's client_encoding; UTF8 is always supported."),
    )
}
