//! Server → client: place, inspect and forward every server message, and
//! write the notices hooks queue between them.

use crate::denials::Denials;
use crate::error::SessionError;
use crate::filter::{Action, ResponseFilter};
use crate::hook::SessionContext;
use crate::notice::NoticeReceiver;
use crate::track::Requests;
use bytes::{Bytes, BytesMut};
use std::time::Instant;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use vigil_pgwire::backend;
use vigil_pgwire::frame::frame_len;

/// Server frames processed (masked) per write to the client: bounds how
/// long the first rows of a large read wait for the rest.
const WRITE_SLICE: usize = 32 * 1024;
/// The read buffer while the server streams (one read, up to four slices).
const STREAM_BUF: usize = 128 * 1024;
/// The read buffer of a session that is not streaming.
const IDLE_BUF: usize = 8 * 1024;

/// Server → client.
pub struct ServerPump<'a> {
    pub ctx: &'a SessionContext,
    pub denials: &'a Denials,
    pub max_message: usize,
    rfq_seen: u64,
    /// Whether the last frame relayed was an ErrorResponse (a FATAL before
    /// the server closed needs no second error from Vigil).
    pub last_was_error: bool,
    requests: &'a Requests,
    filter: ResponseFilter,
}

impl<'a> ServerPump<'a> {
    pub fn new(
        ctx: &'a SessionContext,
        denials: &'a Denials,
        requests: &'a Requests,
        filter: ResponseFilter,
        max_message: usize,
    ) -> Self {
        ServerPump {
            ctx,
            denials,
            max_message,
            rfq_seen: 0,
            last_was_error: false,
            requests,
            filter,
        }
    }

    /// Relays until the server closes. Notices from `notices` are written
    /// between server messages, ahead of anything read after them.
    ///
    /// A read is processed and written in slices of `WRITE_SLICE` bytes of
    /// server frames, so the first rows of a large read leave before the
    /// rest is masked. While the server streams (a read filled the buffer),
    /// the buffer grows to `STREAM_BUF` so each read and write moves more;
    /// an idle session keeps its small one.
    pub async fn run(
        &mut self,
        server: &mut (impl AsyncRead + Unpin),
        client: &mut (impl AsyncWrite + Unpin),
        mut buf: BytesMut,
        mut notices: Option<NoticeReceiver>,
    ) -> Result<(), SessionError> {
        let mut streaming = false;
        loop {
            loop {
                let (ready, more) = self.process_upto(&mut buf, WRITE_SLICE)?;
                if !ready.is_empty() {
                    client
                        .write_all(&ready)
                        .await
                        .map_err(SessionError::from_client_io)?;
                }
                if !more {
                    break;
                }
            }
            // The written slices are dropped: the buffer is ours again and
            // reserving reuses it.
            if streaming && buf.capacity() - buf.len() < STREAM_BUF / 4 {
                buf.reserve(STREAM_BUF);
            } else if !streaming && buf.is_empty() && buf.capacity() >= STREAM_BUF {
                // The stream is over: an idle session gives the big buffer back.
                buf = BytesMut::with_capacity(IDLE_BUF);
            }
            let spare = buf.capacity() - buf.len();
            tokio::select! {
                biased;
                notice = next_notice(&mut notices) => match notice {
                    Some(n) => client.write_all(&n).await.map_err(SessionError::from_client_io)?,
                    None => notices = None,
                },
                read = server.read_buf(&mut buf) => match read {
                    Ok(0) | Err(_) => return Err(SessionError::UpstreamGone),
                    Ok(n) => streaming = n >= spare,
                },
            }
        }
    }

    /// Takes every complete frame off `buf` and returns the bytes to send.
    /// Unchanged frames are passed as one slice; a frame that is dropped or
    /// replaced forces a copy of the batch.
    pub fn process(&mut self, buf: &mut BytesMut) -> Result<Bytes, SessionError> {
        self.process_upto(buf, usize::MAX).map(|(out, _)| out)
    }

    /// Like [`Self::process`], but stops after the frame that reaches
    /// `budget` bytes; `true` when it stopped there (more may be ready).
    pub fn process_upto(
        &mut self,
        buf: &mut BytesMut,
        budget: usize,
    ) -> Result<(Bytes, bool), SessionError> {
        let now = self.filter.has_hook().then(Instant::now);
        self.filter.refill(self.requests);
        let mut at = 0;
        let mut more = false;
        let mut rewritten: Option<BytesMut> = None;
        while let Some(rest) = buf.get(at..) {
            if at >= budget {
                more = true;
                break;
            }
            let Some(len) = frame_len(rest, self.max_message).map_err(upstream)? else {
                break;
            };
            let tag = rest.first().copied().unwrap_or_default();
            let body = rest.get(5..len).unwrap_or_default();
            self.last_was_error = tag == backend::ERROR_RESPONSE;
            self.observe(tag, body)?;
            let denial = if tag == backend::ERROR_RESPONSE && self.denials.any_pending() {
                self.denials.replacement(body)
            } else {
                None
            };
            let action = self
                .filter
                .on_message(tag, body, now, denial)
                .map_err(upstream)?;
            match (action, &mut rewritten) {
                (Action::Forward, None) => {}
                (Action::Forward, Some(out)) => {
                    out.extend_from_slice(rest.get(..len).unwrap_or_default())
                }
                (action, r) => {
                    let out =
                        r.get_or_insert_with(|| BytesMut::from(buf.get(..at).unwrap_or_default()));
                    if let Action::Replace(b) = action {
                        out.extend_from_slice(&b);
                    }
                }
            }
            at += len;
        }
        let consumed = buf.split_to(at).freeze();
        let out = match rewritten {
            Some(out) => out.freeze(),
            None => consumed,
        };
        Ok((out, more))
    }

    /// What the session itself follows: the client encoding (to decode
    /// later statements) and the transaction status, as the server says.
    fn observe(&mut self, tag: u8, body: &[u8]) -> Result<(), SessionError> {
        if tag == backend::PARAMETER_STATUS {
            if let Ok(("client_encoding", v)) = backend::parse_parameter_status(body) {
                self.ctx.set_client_encoding(v);
            }
        }
        if tag == backend::READY_FOR_QUERY {
            self.ctx
                .set_tx_status(backend::parse_ready_status(body).map_err(upstream)?);
            self.denials.end_cycle(self.rfq_seen);
            self.rfq_seen += 1;
        }
        Ok(())
    }
}

fn upstream(e: impl std::fmt::Display) -> SessionError {
    SessionError::UpstreamProtocol(e.to_string())
}

/// The next queued notice; never resolves when there is no channel.
async fn next_notice(rx: &mut Option<NoticeReceiver>) -> Option<Bytes> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}
