//! What the client gets instead of a message that failed: Vigil's own
//! ErrorResponse, NoticeResponse or ReadyForQuery; and the messages that
//! answer no request (notices, notifications, parameter reports).

use super::{Action, ResponseFilter};
use crate::respond::{Failure, Rewrite};
use bytes::{Bytes, BytesMut};
use vigil_pgwire::backend::{self, ErrorFields, Notice};

impl ResponseFilter {
    /// Messages that answer no particular request.
    pub(super) fn async_message(&mut self, tag: u8, body: &[u8], denial: Option<Bytes>) -> Action {
        if let Some(d) = denial {
            return Action::Replace(d);
        }
        let Some(hook) = self.hook.as_deref_mut() else {
            return Action::Forward;
        };
        let result = match tag {
            backend::NOTICE_RESPONSE | backend::ERROR_RESPONSE => {
                let in_request = self.tracker.pending() > 0;
                return self.mask_notice(tag, body, in_request);
            }
            backend::NOTIFICATION_RESPONSE => hook.on_notification(body),
            backend::PARAMETER_STATUS => hook.on_parameter_status(body),
            _ => Ok(Rewrite::Unchanged),
        };
        match result {
            Ok(Rewrite::Unchanged) => Action::Forward,
            Ok(Rewrite::Replaced(b)) => Action::Replace(b),
            Err(f) => {
                let mut out = BytesMut::new();
                let what = match tag {
                    backend::NOTIFICATION_RESPONSE => "a notification was withheld",
                    _ => "a parameter status report was withheld",
                };
                let _ = Notice {
                    severity: "WARNING",
                    code: &f.sqlstate,
                    message: &format!("vigil: masking failed: {what}"),
                    detail: None,
                    hint: None,
                }
                .encode_notice(&mut out);
                Action::Replace(out.freeze())
            }
        }
    }

    /// An ErrorResponse or NoticeResponse through the hook; a failure
    /// becomes a generic message of the same severity.
    pub(super) fn mask_notice(&mut self, tag: u8, body: &[u8], in_request: bool) -> Action {
        let Some(hook) = self.hook.as_deref_mut() else {
            return Action::Forward;
        };
        let t = self.tracker.tag().filter(|_| in_request);
        match hook.on_error_or_notice(t, tag, body) {
            Ok(Rewrite::Unchanged) => Action::Forward,
            Ok(Rewrite::Replaced(b)) => Action::Replace(b),
            Err(f) => Action::Replace(generic_notice(tag, body, &f)),
        }
    }
}

/// The ReadyForQuery the client gets after a failed result: an open block
/// (`T`) is reported failed (`E`), as after any error.
pub(super) fn encode_ready_after_failure(body: &[u8], out: &mut BytesMut) {
    let status = match body.first() {
        Some(b'T') | None => b'E',
        Some(s) => *s,
    };
    let _ = backend::encode_ready(status, out);
}

/// Vigil's ErrorResponse for a failed result.
pub(super) fn encode_failure(f: &Failure, out: &mut BytesMut) {
    let message = f.message();
    let notice = Notice {
        severity: "ERROR",
        code: &f.sqlstate,
        message: &message,
        detail: None,
        hint: None,
    };
    if notice.encode_error(out).is_err() {
        let _ = Notice {
            message: "vigil: masking failed",
            code: "58000",
            ..notice
        }
        .encode_error(out);
    }
}

/// `vigil: masking failed` as an ErrorResponse or NoticeResponse with the
/// original's (untranslated) severity when it is a known one.
fn generic_notice(tag: u8, body: &[u8], f: &Failure) -> Bytes {
    let fields = ErrorFields::parse(body).ok();
    let original = fields
        .as_ref()
        .and_then(|e| e.get(b'V').or_else(|| e.get(b'S')));
    let known: &[&str] = match tag {
        backend::ERROR_RESPONSE => &["ERROR", "FATAL", "PANIC"],
        _ => &["WARNING", "NOTICE", "DEBUG", "INFO", "LOG"],
    };
    let severity = original
        .and_then(|s| known.iter().copied().find(|k| *k == s))
        .or(known.first().copied())
        .unwrap_or("ERROR");
    let notice = Notice {
        severity,
        code: &f.sqlstate,
        message: "vigil: masking failed",
        detail: None,
        hint: None,
    };
    let mut out = BytesMut::new();
    let _ = match tag {
        backend::ERROR_RESPONSE => notice.encode_error(&mut out),
        _ => notice.encode_notice(&mut out),
    };
    out.freeze()
}
