//! Session observers: who connected, for how long, what they sent, and who
//! was refused at the door. The audit trail's `session.start`,
//! `session.end` and `auth.failure` come from here.
//!
//! ```text
//! accept ─► handshake ─► token → Principal ─► connect upstream ─► on_session_start
//!                 │                                  └─ unreachable or refused ─► on_session_start + on_session_end (the reason)
//!                 └─ refused (bad token, wrong user, unknown connection, TLS) ─► on_auth_failure
//! relay … ─► session over (Terminate, disconnect, error, shutdown) ─► on_session_end
//! ```
//!
//! Calls are synchronous and run on the session's task: an observer must
//! not block (queue the work, as the audit trail does). A session that
//! never got past the handshake (no startup packet, or a client that closed
//! before sending a token) reports nothing.
//!
//! Bytes are counted by [`Counted`] around the client's two stream halves
//! during the query cycle: one add per read or write, never per message.

use crate::hook::SessionContext;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Told when sessions start and end and when a login is refused.
pub trait SessionObserver: Send + Sync + 'static {
    /// Runs once the client is authenticated and connected upstream, right
    /// after it was sent ReadyForQuery and before its first statement; or,
    /// when the backend cannot be reached (or refuses Vigil), right before
    /// [`Self::on_session_end`] with the reason.
    fn on_session_start(&self, _ctx: &SessionContext) {}

    /// Runs once when a started session is over, however it ended.
    fn on_session_end(&self, _ctx: &SessionContext, _summary: &SessionSummary) {}

    /// Runs when a login is refused before a session began.
    fn on_auth_failure(&self, _info: &AuthFailureInfo<'_>) {}
}

/// A session's totals, for [`SessionObserver::on_session_end`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionSummary {
    /// From authentication to the end.
    pub duration: Duration,
    /// Query and Parse messages the client sent (allowed, held, denied).
    pub statements: u64,
    /// Bytes received from the client after login (the startup packet and
    /// the token are not counted).
    pub bytes_in: u64,
    /// Bytes sent to the client from the login's AuthenticationOk on.
    pub bytes_out: u64,
    /// Why it ended: `client terminated`, `client closed`, or the error.
    pub reason: String,
}

/// A refused login, for [`SessionObserver::on_auth_failure`]. Never holds
/// the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthFailureInfo<'a> {
    /// What the client was told (e.g. `authentication failed: token expired`).
    pub reason: &'a str,
    /// The SQLSTATE the client got.
    pub sqlstate: &'a str,
    pub client_addr: SocketAddr,
    /// The startup `user`: what the client claimed, not an identity.
    pub claimed_user: Option<&'a str>,
    /// The connection (startup `database`) it asked for.
    pub connection: Option<&'a str>,
    pub application_name: Option<&'a str>,
    pub tls: bool,
}

/// A stream half that counts the bytes through it.
#[derive(Debug)]
pub struct Counted<S> {
    inner: S,
    bytes: u64,
}

impl<S> Counted<S> {
    pub fn new(inner: S) -> Self {
        Counted { inner, bytes: 0 }
    }

    /// Bytes read or written so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Counted<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = polled {
            this.bytes += buf.filled().len().saturating_sub(before) as u64;
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Counted<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = polled {
            this.bytes += n as u64;
        }
        polled
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(n)) = polled {
            this.bytes += n as u64;
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn counts_every_byte_both_ways() {
        let (a, b) = tokio::io::duplex(64);
        let (mut a, mut b) = (Counted::new(a), Counted::new(b));
        a.write_all(b"hello").await.unwrap();
        a.write_all(b", world").await.unwrap();
        let mut got = vec![0u8; 12];
        b.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"hello, world");
        assert_eq!((a.bytes(), b.bytes()), (12, 12));
        drop(a);
        let mut rest = Vec::new();
        b.read_to_end(&mut rest).await.unwrap();
        assert_eq!(b.bytes(), 12, "EOF adds nothing");
    }
}
