//! Errors → HTTP status: the one place. The API answers JSON
//! `{error, message}`; the UI answers the same status with a page.
//! Store failures are logged here and shown only as "unavailable": their
//! text may name hosts or queries.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use vigil_approvals::ApprovalError;

/// Why a web request failed.
#[derive(Debug)]
pub enum WebError {
    /// No token, or one that does not verify.
    Unauthorized(String),
    /// Malformed input (bad id, bad query, missing comment).
    BadRequest(String),
    /// Cookie-authenticated POST without a matching CSRF token.
    Csrf,
    Approval(ApprovalError),
    /// A page failed to render: a bug, logged.
    Render(String),
    /// Signed in, but not in a group allowed here (e.g. reading the audit
    /// trail needs `auditor` or `admin`).
    Forbidden(String),
    /// Nothing by that name (an audit session, a disabled feature).
    NotFound(String),
    /// The audit store failed; the detail is logged, not shown.
    AuditStore(String),
}

impl From<ApprovalError> for WebError {
    fn from(e: ApprovalError) -> Self {
        WebError::Approval(e)
    }
}

impl WebError {
    /// HTTP status, stable code and a message safe to show.
    pub fn parts(&self) -> (StatusCode, &'static str, String) {
        match self {
            WebError::Unauthorized(m) => (StatusCode::UNAUTHORIZED, "unauthorized", m.clone()),
            WebError::BadRequest(m) => (StatusCode::BAD_REQUEST, "bad_request", m.clone()),
            WebError::Csrf => (
                StatusCode::FORBIDDEN,
                "csrf",
                "the form is stale or was not sent by Vigil's page; reload and try again"
                    .to_owned(),
            ),
            WebError::Render(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "the page could not be rendered".to_owned(),
            ),
            WebError::Approval(e) => approval_parts(e),
            WebError::Forbidden(m) => (StatusCode::FORBIDDEN, "forbidden", m.clone()),
            WebError::NotFound(m) => (StatusCode::NOT_FOUND, "not_found", m.clone()),
            WebError::AuditStore(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the audit store is unavailable".to_owned(),
            ),
        }
    }

    fn log(&self) {
        match self {
            WebError::Approval(ApprovalError::Store(e)) => {
                tracing::error!(error = %e, "approval store failed")
            }
            WebError::Render(e) => tracing::error!(error = %e, "template failed"),
            WebError::AuditStore(e) => tracing::error!(error = %e, "audit store failed"),
            _ => {}
        }
    }
}

fn approval_parts(e: &ApprovalError) -> (StatusCode, &'static str, String) {
    match e {
        ApprovalError::NotFound => (StatusCode::NOT_FOUND, "not_found", e.to_string()),
        ApprovalError::Forbidden(m) => (StatusCode::FORBIDDEN, "forbidden", m.clone()),
        ApprovalError::Conflict(m) => (StatusCode::CONFLICT, "conflict", m.clone()),
        ApprovalError::Invalid(m) => (StatusCode::BAD_REQUEST, "bad_request", m.clone()),
        ApprovalError::Store(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the approval store is unavailable".to_owned(),
        ),
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        self.log();
        let (status, code, message) = self.parts();
        let body = Json(serde_json::json!({ "error": code, "message": message }));
        (status, body).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_error_has_its_status() {
        let cases = [
            (WebError::Unauthorized("x".into()), 401),
            (WebError::BadRequest("x".into()), 400),
            (WebError::Csrf, 403),
            (ApprovalError::NotFound.into(), 404),
            (ApprovalError::Forbidden("own".into()).into(), 403),
            (ApprovalError::Conflict("decided".into()).into(), 409),
            (ApprovalError::Invalid("comment".into()).into(), 400),
            (ApprovalError::Store(vigil_store_error()).into(), 503),
            (WebError::Forbidden("auditor".into()), 403),
            (WebError::NotFound("session".into()), 404),
            (WebError::AuditStore("postgres://secret@host".into()), 503),
        ];
        for (err, status) in cases {
            assert_eq!(err.parts().0.as_u16(), status, "{err:?}");
        }
    }

    fn vigil_store_error() -> vigil_store::StoreError {
        vigil_store::StoreError::BadUrl("postgres://secret@host".into())
    }

    #[test]
    fn store_errors_do_not_leak_their_text() {
        let (_, _, msg) = WebError::from(ApprovalError::Store(vigil_store_error())).parts();
        assert!(!msg.contains("secret"));
        let (_, _, msg) = WebError::AuditStore("postgres://secret@host".into()).parts();
        assert!(!msg.contains("secret"));
    }
}
