//! Denials, kept in protocol order.
//!
//! A denied message is not dropped: it is replaced by a substitute that the
//! server rejects at once (a syntax error naming a per-session marker).
//! PostgreSQL then does exactly what it does for any failed statement:
//! skips the rest of an extended-protocol batch until Sync, aborts an open
//! transaction block, rolls back an implicit one, and answers in order.
//! On the way back the server's error is recognised by its marker and
//! replaced by Vigil's own ErrorResponse. The denied text never reaches
//! the server.

use bytes::{Bytes, BytesMut};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use vigil_pgwire::backend::{ErrorFields, Notice};

use crate::hook::Denial;

const MARKER_PREFIX: &str = "vigil_denied_";

#[derive(Debug)]
struct Pending {
    marker: String,
    /// The ReadyForQuery (0-based, counted after login) that ends the
    /// batch the substitute was sent in.
    cycle: u64,
    error: Bytes,
}

/// Denials waiting for their substitute's error to come back.
#[derive(Debug)]
pub struct Denials {
    nonce: u64,
    next: AtomicUsize,
    pending: Mutex<Vec<Pending>>,
    count: AtomicUsize,
}

impl Denials {
    pub fn new(nonce: u64) -> Self {
        Denials {
            nonce,
            next: AtomicUsize::new(0),
            pending: Mutex::new(Vec::new()),
            count: AtomicUsize::new(0),
        }
    }

    /// Registers a denial and returns the marker its substitute must carry.
    pub fn register(&self, denial: &Denial, cycle: u64) -> String {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let marker = format!("{MARKER_PREFIX}{:016x}_{n}", self.nonce);
        let error = encode_denial(denial);
        if let Ok(mut p) = self.pending.lock() {
            p.push(Pending {
                marker: marker.clone(),
                cycle,
                error,
            });
            self.count.store(p.len(), Ordering::Release);
        }
        marker
    }

    /// True when any denial is waiting; a cheap check on the hot path.
    pub fn any_pending(&self) -> bool {
        self.count.load(Ordering::Acquire) > 0
    }

    /// If `error_body` is the server's answer to a substitute, Vigil's
    /// ErrorResponse to send instead.
    pub fn replacement(&self, error_body: &[u8]) -> Option<Bytes> {
        let fields = ErrorFields::parse(error_body).ok()?;
        let message = fields.message()?;
        let at = message.find(MARKER_PREFIX)?;
        let marker: String = message
            .get(at..)?
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let mut p = self.pending.lock().ok()?;
        match p.iter().position(|d| d.marker == marker) {
            Some(i) => {
                let d = p.remove(i);
                self.count.store(p.len(), Ordering::Release);
                Some(d.error)
            }
            // A substitute whose denial was already forgotten: still never
            // show the raw syntax error.
            None => Some(encode_denial(&Denial::new("statement denied"))),
        }
    }

    /// Forgets denials whose batch ended with ReadyForQuery number `cycle`
    /// (their substitute was skipped after an earlier error).
    pub fn end_cycle(&self, cycle: u64) {
        if !self.any_pending() {
            return;
        }
        if let Ok(mut p) = self.pending.lock() {
            p.retain(|d| d.cycle > cycle);
            self.count.store(p.len(), Ordering::Release);
        }
    }
}

/// Vigil's ErrorResponse for a denial.
pub fn encode_denial(d: &Denial) -> Bytes {
    let mut out = BytesMut::new();
    let notice = Notice {
        severity: "ERROR",
        code: &d.sqlstate,
        message: &d.message,
        detail: d.detail.as_deref(),
        hint: d.hint.as_deref(),
    };
    if notice.encode_error(&mut out).is_err() {
        // Only an over-long message can fail; send a short one instead.
        out.clear();
        let _ = Notice {
            severity: "ERROR",
            code: "42501",
            message: "vigil: statement denied",
            detail: None,
            hint: None,
        }
        .encode_error(&mut out);
    }
    out.freeze()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server_error(msg: &str) -> Vec<u8> {
        let mut out = BytesMut::new();
        Notice {
            severity: "ERROR",
            code: "42601",
            message: msg,
            detail: None,
            hint: None,
        }
        .encode_error(&mut out)
        .unwrap();
        out[5..].to_vec()
    }

    #[test]
    fn marker_error_is_replaced_once() {
        let d = Denials::new(7);
        let m = d.register(&Denial::new("no"), 0);
        assert!(d.any_pending());
        let body = server_error(&format!("syntax error at or near \"{m}\""));
        let rep = d.replacement(&body).unwrap();
        let f = ErrorFields::parse(&rep[5..]).unwrap();
        assert_eq!(f.code(), Some("42501"));
        assert_eq!(f.message(), Some("vigil: no"));
        assert!(!d.any_pending());
    }

    #[test]
    fn ordinary_errors_pass() {
        let d = Denials::new(7);
        d.register(&Denial::new("no"), 0);
        assert!(d
            .replacement(&server_error("relation \"x\" does not exist"))
            .is_none());
    }

    #[test]
    fn skipped_substitutes_are_forgotten_at_their_sync() {
        let d = Denials::new(1);
        d.register(&Denial::new("a"), 0);
        d.register(&Denial::new("b"), 1);
        d.end_cycle(0);
        assert!(d.any_pending());
        d.end_cycle(1);
        assert!(!d.any_pending());
    }
}
