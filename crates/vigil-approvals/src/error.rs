//! [`ApprovalError`]: what a caller of the service can get back. The web
//! crate maps it to HTTP status in one place; the proxy maps what it needs
//! to SQLSTATE.

use vigil_store::StoreError;

/// Why an approval operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ApprovalError {
    #[error("no such approval request")]
    NotFound,
    /// The caller may not do this (separation of duties, wrong group).
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// The request is not in a state that allows this (already decided,
    /// expired, reviewed twice by the same person).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The input is malformed (bad id, missing comment, bad settings).
    #[error("invalid: {0}")]
    Invalid(String),
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for ApprovalError {
    /// The store's own NotFound and Conflict are domain answers, not
    /// storage failures.
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApprovalError::NotFound,
            StoreError::Conflict(reason) => ApprovalError::Conflict(reason),
            other => ApprovalError::Store(other),
        }
    }
}
