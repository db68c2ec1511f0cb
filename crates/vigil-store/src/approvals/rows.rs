//! Row types and their decoding. Columns are read by name so a reordered
//! SELECT cannot shift values into the wrong field.

use sqlx::any::AnyRow;
use sqlx::Row;

use crate::StoreError;

/// The request columns, in SELECT order.
pub(super) const COLUMNS: &str = "id, status, created_at, expires_at, updated_at, decided_at, \
     executed_at, requester_subject, requester_email, connection_name, statement_hash, \
     non_blocking, required_count, status_reason, body";

/// The review columns, in SELECT order.
pub(super) const REVIEW_COLUMNS: &str =
    "request_id, reviewer_subject, reviewer_email, decision, comment, at";

/// One approval request as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRow {
    /// uuid, text form.
    pub id: String,
    /// One of [`super::status`].
    pub status: String,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms; a pending request past this is expired.
    pub expires_at: i64,
    /// Unix ms of the last change (creation, a review, a transition).
    pub updated_at: i64,
    /// Unix ms when it became approved or denied.
    pub decided_at: Option<i64>,
    /// Unix ms when the approved statement was forwarded.
    pub executed_at: Option<i64>,
    pub requester_subject: String,
    pub requester_email: Option<String>,
    /// The connection name the statement was sent on.
    pub connection: String,
    /// Hex sha256 of the exact bytes the proxy will forward.
    pub statement_hash: String,
    /// Non-blocking mode: approval grants one identical retry.
    pub non_blocking: bool,
    /// Distinct approvals needed.
    pub required_count: i64,
    /// Why it was withdrawn or expired, when it was.
    pub status_reason: Option<String>,
    /// The immutable request context, JSON.
    pub body: String,
}

/// One reviewer's decision on a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewRow {
    pub request_id: String,
    pub reviewer_subject: String,
    pub reviewer_email: Option<String>,
    /// One of [`super::decision`].
    pub decision: String,
    pub comment: String,
    /// Unix ms.
    pub at: i64,
}

/// A request with its reviews, oldest review first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRequest {
    pub request: RequestRow,
    pub reviews: Vec<ReviewRow>,
}

pub(super) fn request(row: &AnyRow) -> Result<RequestRow, StoreError> {
    Ok(RequestRow {
        id: get(row, "id")?,
        status: get(row, "status")?,
        created_at: get(row, "created_at")?,
        expires_at: get(row, "expires_at")?,
        updated_at: get(row, "updated_at")?,
        decided_at: get(row, "decided_at")?,
        executed_at: get(row, "executed_at")?,
        requester_subject: get(row, "requester_subject")?,
        requester_email: get(row, "requester_email")?,
        connection: get(row, "connection_name")?,
        statement_hash: get(row, "statement_hash")?,
        non_blocking: get::<i64>(row, "non_blocking")? != 0,
        required_count: get(row, "required_count")?,
        status_reason: get(row, "status_reason")?,
        body: get(row, "body")?,
    })
}

pub(super) fn review(row: &AnyRow) -> Result<ReviewRow, StoreError> {
    Ok(ReviewRow {
        request_id: get(row, "request_id")?,
        reviewer_subject: get(row, "reviewer_subject")?,
        reviewer_email: get(row, "reviewer_email")?,
        decision: get(row, "decision")?,
        comment: get(row, "comment")?,
        at: get(row, "at")?,
    })
}

/// A column that does not decode is a corrupt row, not a query failure:
/// the message names the column so an operator can find it.
fn get<'r, T>(row: &'r AnyRow, column: &'static str) -> Result<T, StoreError>
where
    T: sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>,
{
    row.try_get(column).map_err(|e| StoreError::Corrupt {
        what: "approval row",
        detail: format!("{column}: {e}"),
    })
}
