//! The query cycle: two pumps, one per direction, sharing only the denial
//! queue and the session context.
//!
//! Client → server: every frame is cut out and the ones that carry SQL
//! (Query, Parse, Bind, FunctionCall) go through the statement hook before
//! they are forwarded. Everything else is forwarded unchanged, batched per
//! read. Server → client: frames are forwarded unchanged, except that
//! ReadyForQuery updates the transaction status and a substitute's error is
//! replaced by Vigil's denial. The directions run independently so a
//! client that pipelines while the server streams cannot deadlock them.

use crate::denials::Denials;
use crate::error::SessionError;
use crate::hook::{
    BindRequest, Denial, HookVerdict, Protocol, SessionContext, StatementHook, StatementRequest,
};
use bytes::{Bytes, BytesMut};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::Notify;
use vigil_pgwire::frame::frame_len;
use vigil_pgwire::frontend::{self as fe, Bind, Parse, Query, Target};
use vigil_pgwire::{backend, decode_frame, CodecError, Frame};

/// How a relay ended without an error.
#[derive(Debug, PartialEq, Eq)]
pub enum RelayEnd {
    /// The client sent Terminate.
    Terminated,
    /// The client closed its socket without Terminate (maybe mid-query).
    Closed,
}

/// Client → server.
pub struct ClientPump<'a> {
    pub ctx: &'a SessionContext,
    pub hook: &'a dyn StatementHook,
    pub denials: &'a Denials,
    pub cancelled: &'a Notify,
    pub max_message: usize,
    /// Syncs and Queries forwarded: the ReadyForQuery count they will produce.
    syncs: u64,
    /// Prepared statement name → text, for Bind hooks.
    prepared: HashMap<Vec<u8>, Arc<str>>,
    out: BytesMut,
}

impl<'a> ClientPump<'a> {
    pub fn new(
        ctx: &'a SessionContext,
        hook: &'a dyn StatementHook,
        denials: &'a Denials,
        cancelled: &'a Notify,
        max_message: usize,
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
        }
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

    async fn flush(&mut self, server: &mut (impl AsyncWrite + Unpin)) -> Result<(), SessionError> {
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
        let verdict = match frame.tag() {
            fe::QUERY => {
                let q = Query::parse(frame.body())?;
                self.ctx.count_statement();
                match self.ctx.decode(q.sql) {
                    Ok(sql) => self.hook.on_statement(
                        self.ctx,
                        &StatementRequest {
                            sql: &sql,
                            protocol: Protocol::Simple,
                            param_types: &[],
                        },
                    ),
                    Err(e) => undecodable(e),
                }
            }
            fe::PARSE => {
                let p = Parse::parse(frame.body())?;
                self.ctx.count_statement();
                match self.ctx.decode(p.sql) {
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
                }
            }
            fe::BIND => self.bind_verdict(&frame)?,
            fe::FUNCTION_CALL => HookVerdict::Deny(
                Denial::new(
                    "the FunctionCall protocol message is refused: Vigil cannot see what it runs",
                )
                .with_hint("Call the function with a SELECT statement instead."),
            ),
            _ => HookVerdict::Allow,
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
            _ => {
                self.remember(&frame, parsed);
                self.out.extend_from_slice(frame.raw());
            }
        }
        if matches!(frame.tag(), fe::QUERY | fe::SYNC | fe::FUNCTION_CALL) {
            self.syncs += 1;
        }
        Ok(())
    }

    fn bind_verdict(&self, frame: &Frame) -> Result<HookVerdict, SessionError> {
        let b = Bind::parse(frame.body())?;
        let Some(sql) = self.prepared.get(b.statement) else {
            // Unknown to Vigil means unknown to the server too: it will fail.
            return Ok(HookVerdict::Allow);
        };
        let req = BindRequest {
            sql,
            statement: &String::from_utf8_lossy(b.statement),
            portal: &String::from_utf8_lossy(b.portal),
            params: &b.params,
            param_formats: &b.param_formats,
        };
        Ok(self.hook.on_bind(self.ctx, &req))
    }

    /// Tracks prepared statements so Bind hooks see their text.
    fn remember(&mut self, frame: &Frame, parsed: Option<(Vec<u8>, Arc<str>)>) {
        if let Some((name, sql)) = parsed {
            self.prepared.insert(name, sql);
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
        loop {
            tokio::select! {
                v = &mut fut => match v {
                    HookVerdict::Hold(next) => fut = next,
                    v => return Ok(v),
                },
                _ = self.cancelled.notified() => {
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
        let sub = match frame.tag() {
            fe::PARSE => {
                let p = Parse::parse(frame.body())?;
                fe::encode_parse(p.statement, &marker)?
            }
            fe::BIND => {
                let b = Bind::parse(frame.body())?;
                fe::encode_bind(b.portal, &marker)?
            }
            _ => fe::encode_query(&marker)?,
        };
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

/// Server → client.
pub struct ServerPump<'a> {
    pub ctx: &'a SessionContext,
    pub denials: &'a Denials,
    pub max_message: usize,
    rfq_seen: u64,
    /// Whether the last frame relayed was an ErrorResponse (a FATAL before
    /// the server closed needs no second error from Vigil).
    pub last_was_error: bool,
}

impl<'a> ServerPump<'a> {
    pub fn new(ctx: &'a SessionContext, denials: &'a Denials, max_message: usize) -> Self {
        ServerPump {
            ctx,
            denials,
            max_message,
            rfq_seen: 0,
            last_was_error: false,
        }
    }

    /// Relays until the server closes.
    pub async fn run(
        &mut self,
        server: &mut (impl AsyncRead + Unpin),
        client: &mut (impl AsyncWrite + Unpin),
        mut buf: BytesMut,
    ) -> Result<(), SessionError> {
        loop {
            let ready = self
                .process(&mut buf)
                .map_err(|e| SessionError::UpstreamProtocol(e.to_string()))?;
            if !ready.is_empty() {
                client
                    .write_all(&ready)
                    .await
                    .map_err(SessionError::from_client_io)?;
            }
            match server.read_buf(&mut buf).await {
                Ok(0) | Err(_) => return Err(SessionError::UpstreamGone),
                Ok(_) => {}
            }
        }
    }

    /// Takes every complete frame off `buf` and returns the bytes to send.
    /// Unchanged frames are passed as one slice; only a substitute's error
    /// forces a copy.
    fn process(&mut self, buf: &mut BytesMut) -> Result<Bytes, CodecError> {
        let mut at = 0;
        let mut rewritten: Option<BytesMut> = None;
        while let Some(rest) = buf.get(at..) {
            let Some(len) = frame_len(rest, self.max_message)? else {
                break;
            };
            let tag = rest.first().copied().unwrap_or_default();
            let body = rest.get(5..len).unwrap_or_default();
            self.last_was_error = tag == backend::ERROR_RESPONSE;
            if tag == backend::PARAMETER_STATUS {
                if let Ok(("client_encoding", v)) = backend::parse_parameter_status(body) {
                    self.ctx.set_client_encoding(v);
                }
            }
            if tag == backend::READY_FOR_QUERY {
                self.ctx.set_tx_status(backend::parse_ready_status(body)?);
                self.denials.end_cycle(self.rfq_seen);
                self.rfq_seen += 1;
            }
            let replacement = if tag == backend::ERROR_RESPONSE && self.denials.any_pending() {
                self.denials.replacement(body)
            } else {
                None
            };
            match (replacement, &mut rewritten) {
                (Some(rep), r) => {
                    let out =
                        r.get_or_insert_with(|| BytesMut::from(buf.get(..at).unwrap_or_default()));
                    out.extend_from_slice(&rep);
                }
                (None, Some(out)) => out.extend_from_slice(rest.get(..len).unwrap_or_default()),
                (None, None) => {}
            }
            at += len;
        }
        let consumed = buf.split_to(at).freeze();
        Ok(match rewritten {
            Some(out) => out.freeze(),
            None => consumed,
        })
    }
}
