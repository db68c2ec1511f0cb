//! Status transitions other than reviews. Each is one conditional UPDATE
//! whose row count says whether this caller made the change: of two
//! replicas (or two tasks) racing, exactly one sees `true`.

use super::{status, ApprovalRepo};
use crate::StoreError;

/// How many candidate grants one lookup tries before giving up; more than
/// one matters only when a racing caller consumed the first.
const GRANT_CANDIDATES: u32 = 8;

impl ApprovalRepo {
    /// pending → withdrawn (the client cancelled or went away).
    pub async fn withdraw(&self, id: &str, reason: &str, now: i64) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE approval_requests SET status = $2, status_reason = $3, updated_at = $4 \
             WHERE id = $1 AND status = $5",
        )
        .bind(id)
        .bind(status::WITHDRAWN)
        .bind(reason)
        .bind(now)
        .bind(status::PENDING)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// pending → expired, only once the deadline has passed at `now`.
    pub async fn expire(&self, id: &str, now: i64) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE approval_requests SET status = $2, status_reason = $3, updated_at = $4 \
             WHERE id = $1 AND status = $5 AND expires_at <= $4",
        )
        .bind(id)
        .bind(status::EXPIRED)
        .bind("no decision before the deadline")
        .bind(now)
        .bind(status::PENDING)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// approved → executed, only when `statement_hash` is the approved one:
    /// the record that exactly those bytes were forwarded.
    pub async fn mark_executed(
        &self,
        id: &str,
        statement_hash: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE approval_requests SET status = $2, executed_at = $3, updated_at = $3 \
             WHERE id = $1 AND status = $4 AND statement_hash = $5",
        )
        .bind(id)
        .bind(status::EXECUTED)
        .bind(now)
        .bind(status::APPROVED)
        .bind(statement_hash)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Consumes one retry grant: an approved, non-blocking, not yet executed
    /// request by `subject` on `connection` for exactly `statement_hash`,
    /// decided at or after `decided_since`. It becomes executed; its id is
    /// returned. Concurrent callers cannot both get the same grant.
    pub async fn take_grant(
        &self,
        subject: &str,
        connection: &str,
        statement_hash: &str,
        decided_since: i64,
        now: i64,
    ) -> Result<Option<String>, StoreError> {
        let sql = format!(
            "SELECT id FROM approval_requests WHERE requester_subject = $1 \
             AND connection_name = $2 AND statement_hash = $3 AND status = $4 \
             AND non_blocking = 1 AND decided_at >= $5 ORDER BY decided_at, id \
             LIMIT {GRANT_CANDIDATES}"
        );
        let candidates: Vec<(String,)> = sqlx::query_as(&sql)
            .bind(subject)
            .bind(connection)
            .bind(statement_hash)
            .bind(status::APPROVED)
            .bind(decided_since)
            .fetch_all(&self.pool)
            .await?;
        for (id,) in candidates {
            if self.mark_executed(&id, statement_hash, now).await? {
                return Ok(Some(id));
            }
        }
        Ok(None)
    }
}
