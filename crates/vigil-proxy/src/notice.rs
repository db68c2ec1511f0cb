//! Notices from Vigil to the client, queued by hooks and written by the
//! server pump between server messages.
//!
//! A held statement waits inside the client pump, but the client reads
//! what the server pump writes; so the message travels through a channel
//! the server pump watches next to its socket. A frame-sized message is
//! encoded on the sender's side so the hot loop only copies bytes.

use bytes::{Bytes, BytesMut};
use tokio::sync::mpsc;
use vigil_pgwire::backend::Notice;

/// The receiving end, owned by the server pump.
pub type NoticeReceiver = mpsc::UnboundedReceiver<Bytes>;

/// Queues NoticeResponses for one session's client. Cheap to clone; safe to
/// keep in a `'static` future. Sending after the session ended is a no-op
/// that returns `false`.
#[derive(Debug, Clone)]
pub struct NoticeSender {
    tx: mpsc::UnboundedSender<Bytes>,
}

/// A sender and the receiver its notices arrive on.
pub(crate) fn channel() -> (NoticeSender, NoticeReceiver) {
    let (tx, rx) = mpsc::unbounded_channel();
    (NoticeSender { tx }, rx)
}

impl NoticeSender {
    /// Queues a NoticeResponse with severity `NOTICE`, SQLSTATE `00000`.
    pub fn notice(&self, message: &str) -> bool {
        self.send(&Notice {
            severity: "NOTICE",
            code: "00000",
            message,
            detail: None,
            hint: None,
        })
    }

    /// Queues any NoticeResponse (`NOTICE`, `WARNING`, `INFO`, …). Returns
    /// `false` when the session has ended or the message cannot be encoded.
    pub fn send(&self, notice: &Notice<'_>) -> bool {
        let mut out = BytesMut::new();
        if notice.encode_notice(&mut out).is_err() {
            return false;
        }
        self.tx.send(out.freeze()).is_ok()
    }

    /// True once the session's server pump has gone.
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_pgwire::backend::ErrorFields;

    #[test]
    fn notices_arrive_encoded_in_order() {
        let (tx, mut rx) = channel();
        assert!(tx.notice("waiting for approval"));
        assert!(tx.clone().notice("still waiting"));
        for want in ["waiting for approval", "still waiting"] {
            let mut b = BytesMut::from(&rx.try_recv().unwrap()[..]);
            let f = vigil_pgwire::decode_frame(&mut b, 1 << 20)
                .unwrap()
                .unwrap();
            assert_eq!(f.tag(), b'N');
            let e = ErrorFields::parse(f.body()).unwrap();
            assert_eq!(e.message(), Some(want));
            assert_eq!(e.get(b'S'), Some("NOTICE"));
        }
    }

    #[test]
    fn sending_after_the_session_ended_reports_it() {
        let (tx, rx) = channel();
        drop(rx);
        assert!(tx.is_closed());
        assert!(!tx.notice("nobody listens"));
    }
}
