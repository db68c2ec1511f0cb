//! [`ApprovalEvent`]: what the service broadcasts (the web UI's live queue
//! and SSE stream listen).

use serde::Serialize;

use crate::ApprovalRequest;

/// What happened to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    Created,
    /// A review was recorded but more approvals are needed.
    Reviewed,
    /// Approved or denied.
    Decided,
    Expired,
    Withdrawn,
    Executed,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Created => "created",
            EventKind::Reviewed => "reviewed",
            EventKind::Decided => "decided",
            EventKind::Expired => "expired",
            EventKind::Withdrawn => "withdrawn",
            EventKind::Executed => "executed",
        }
    }
}

/// One change to one request, with the request as it is after the change.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApprovalEvent {
    pub kind: EventKind,
    /// True when another replica made the change and this one only saw it
    /// (while waiting on the request); webhooks fire only where it was made.
    pub remote: bool,
    pub request: ApprovalRequest,
}
