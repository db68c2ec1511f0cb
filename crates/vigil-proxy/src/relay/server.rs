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
/// The first slice of each response: its first rows leave after a few
/// kilobytes are processed, whatever the read held.
const FIRST_SLICE: usize = 2 * 1024;
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
    /// A read is processed and written in slices of server frames, so the
    /// first rows of a large read leave before the rest is masked: each
    /// response's first slice is `FIRST_SLICE` bytes, later ones
    /// `WRITE_SLICE`. After a large response's first slice the thread yields
    /// once to the OS, so the client woken by those rows is not left waiting
    /// for a core while the rest is masked (on a busy machine that wait,
    /// not the masking, set the first row's latency). While the server streams (a read filled the buffer),
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
        // Bytes of the current response written so far (0: its first slice
        // is still to come).
        let mut response_out = 0usize;
        loop {
            loop {
                let responses = self.rfq_seen;
                let slice = if response_out == 0 {
                    FIRST_SLICE
                } else {
                    WRITE_SLICE
                };
                let (ready, more) = self.process_upto(&mut buf, slice)?;
                if !ready.is_empty() {
                    client
                        .write_all(&ready)
                        .await
                        .map_err(SessionError::from_client_io)?;
                }
                let first = response_out == 0 && !ready.is_empty();
                response_out = if self.rfq_seen == responses {
                    response_out + ready.len()
                } else {
                    0
                };
                if first && more && response_out > 0 {
                    // A large response's first rows are out and the rest
                    // will keep this thread busy (masking): let the client,
                    // just woken by them, have the core first.
                    std::thread::yield_now();
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::pin::Pin;
    use std::task::{Context, Poll};
    use vigil_core::{ConnectionInfo, Principal, PrincipalKind, SessionId};

    /// Records the size of every write (each `write_all` is one write:
    /// it accepts everything at once).
    #[derive(Default)]
    struct Writes(Vec<usize>);

    impl AsyncWrite for Writes {
        fn poll_write(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<std::io::Result<usize>> {
            self.0.push(buf.len());
            Poll::Ready(Ok(buf.len()))
        }
        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
            Poll::Ready(Ok(()))
        }
        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    fn frame(out: &mut Vec<u8>, tag: u8, body: &[u8]) {
        out.push(tag);
        out.extend_from_slice(&(body.len() as i32 + 4).to_be_bytes());
        out.extend_from_slice(body);
    }

    /// A result of `rows` rows of about 200 bytes, then ReadyForQuery.
    fn response(out: &mut Vec<u8>, rows: usize) {
        let mut t = 1i16.to_be_bytes().to_vec();
        t.extend_from_slice(b"v\0");
        t.extend_from_slice(&[0; 6]);
        t.extend_from_slice(&25u32.to_be_bytes());
        t.extend_from_slice(&(-1i16).to_be_bytes());
        t.extend_from_slice(&(-1i32).to_be_bytes());
        t.extend_from_slice(&0i16.to_be_bytes());
        frame(out, b'T', &t);
        let mut d = 1i16.to_be_bytes().to_vec();
        d.extend_from_slice(&200i32.to_be_bytes());
        d.extend_from_slice(&[b'x'; 200]);
        for _ in 0..rows {
            frame(out, b'D', &d);
        }
        frame(out, b'C', b"SELECT\0");
        frame(out, b'Z', b"I");
    }

    /// Each response's first rows leave in a small first write, whatever
    /// the read held; the rest goes in `WRITE_SLICE` writes; and every
    /// byte arrives once, in order.
    #[tokio::test]
    async fn each_response_starts_with_a_small_write() {
        let mut input = Vec::new();
        response(&mut input, 1000);
        let first_len = input.len();
        response(&mut input, 1000);
        let ctx = SessionContext::new(
            SessionId(1),
            Principal {
                subject: "t".into(),
                email: None,
                groups: vec![],
                issuer: "t".into(),
                token_id: None,
                expires_at: 0,
                kind: PrincipalKind::Human,
            },
            ConnectionInfo::default(),
            None,
            "127.0.0.1:1".parse().unwrap(),
            false,
        );
        let (denials, requests) = (Denials::new(0), Requests::default());
        // Two simple Queries in flight, one per response.
        let mut sent = vec![
            crate::track::Request::new(crate::track::RequestKind::Query),
            crate::track::Request::new(crate::track::RequestKind::Query),
        ];
        requests.push_all(&mut sent);
        let mut pump = ServerPump::new(
            &ctx,
            &denials,
            &requests,
            ResponseFilter::new(None),
            1 << 20,
        );
        let mut writes = Writes::default();
        // The whole input in one read, as from a server that ran ahead.
        let buf = BytesMut::with_capacity(input.len() + 1);
        let end = pump
            .run(&mut input.as_slice(), &mut writes, buf, None)
            .await;
        assert!(matches!(end, Err(SessionError::UpstreamGone)), "{end:?}");
        let w = &writes.0;
        assert_eq!(w.iter().sum::<usize>(), input.len());
        let frame_max = 5 + 2 + 4 + 200;
        // A few rows, not a slice's worth (a literal: the test must not
        // follow the constant it checks).
        let small = 4096;
        assert!(w[0] <= small, "{w:?}");
        assert!(w.iter().all(|&n| n <= WRITE_SLICE + frame_max), "{w:?}");
        // After the write that ends the first response, slices start small
        // again.
        let mut at = 0;
        let ends_first = w
            .iter()
            .position(|&n| {
                at += n;
                at >= first_len
            })
            .unwrap();
        assert!(w[ends_first + 1] <= small, "{w:?}");
        assert!(w.len() >= 2 * (1 + first_len / WRITE_SLICE), "{w:?}");
    }
}
