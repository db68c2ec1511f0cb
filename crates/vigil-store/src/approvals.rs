//! Approval requests and their reviews: the rows behind a held statement.
//!
//! The domain (who may review, N-of-M, events) lives in `vigil-approvals`;
//! this module only keeps rows and makes every state change a conditional
//! UPDATE (`… WHERE status = 'pending'`), so two replicas racing on one
//! request cannot both win. A request's immutable context is one JSON
//! document (`body`); the columns beside it are what queries filter on.
//!
//! - `rows`: row types and decoding.
//! - `review`: recording a review and deciding the request, in one transaction.
//! - `transitions`: withdraw, expire, mark executed, retry grants.

mod review;
mod rows;
mod transitions;

use std::collections::HashMap;

use sqlx::AnyPool;

use crate::{Store, StoreError};

pub use review::ReviewOutcome;
pub use rows::{RequestRow, ReviewRow, StoredRequest};

/// The status values the store writes. They are the domain's state machine:
/// `pending` → `approved` | `denied` | `expired` | `withdrawn`;
/// `approved` → `executed`.
pub mod status {
    pub const PENDING: &str = "pending";
    pub const APPROVED: &str = "approved";
    pub const DENIED: &str = "denied";
    pub const EXPIRED: &str = "expired";
    pub const WITHDRAWN: &str = "withdrawn";
    pub const EXECUTED: &str = "executed";
}

/// The review decisions the store writes.
pub mod decision {
    pub const APPROVE: &str = "approve";
    pub const DENY: &str = "deny";
}

/// Longest id list sent in one `IN (…)`: far below every backend's
/// parameter limit (SQLite 32766, PostgreSQL 65535).
const IN_CHUNK: usize = 500;

/// Which requests [`ApprovalRepo::list`] returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListFilter {
    /// Only these statuses; empty means every status.
    pub statuses: Vec<String>,
    /// Only requests created strictly before this time (Unix ms): paging.
    pub created_before: Option<i64>,
    /// At most this many; 0 means the default (100).
    pub limit: u32,
    /// Newest first (history) instead of oldest first (a queue).
    pub newest_first: bool,
}

/// Approval rows in one store. Cheap to clone.
#[derive(Debug, Clone)]
pub struct ApprovalRepo {
    pool: AnyPool,
}

impl ApprovalRepo {
    pub fn new(store: &Store) -> Self {
        ApprovalRepo {
            pool: store.pool().clone(),
        }
    }

    /// Stores a new request. Its id must be fresh.
    pub async fn insert(&self, r: &RequestRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO approval_requests (id, status, created_at, expires_at, updated_at, \
             decided_at, executed_at, requester_subject, requester_email, connection_name, \
             statement_hash, non_blocking, required_count, status_reason, body) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        )
        .bind(&r.id)
        .bind(&r.status)
        .bind(r.created_at)
        .bind(r.expires_at)
        .bind(r.updated_at)
        .bind(r.decided_at)
        .bind(r.executed_at)
        .bind(&r.requester_subject)
        .bind(&r.requester_email)
        .bind(&r.connection)
        .bind(&r.statement_hash)
        .bind(i64::from(r.non_blocking))
        .bind(r.required_count)
        .bind(&r.status_reason)
        .bind(&r.body)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// One request with its reviews, or `None`.
    pub async fn get(&self, id: &str) -> Result<Option<StoredRequest>, StoreError> {
        let sql = format!(
            "SELECT {} FROM approval_requests WHERE id = $1",
            rows::COLUMNS
        );
        let Some(row) = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        let request = rows::request(&row)?;
        let reviews = self.reviews_of(std::slice::from_ref(&request.id)).await?;
        Ok(Some(StoredRequest { request, reviews }))
    }

    /// Requests matching `filter`, each with its reviews.
    pub async fn list(&self, filter: &ListFilter) -> Result<Vec<StoredRequest>, StoreError> {
        let mut sql = format!(
            "SELECT {} FROM approval_requests WHERE 1 = 1",
            rows::COLUMNS
        );
        let mut n = 0;
        if !filter.statuses.is_empty() {
            sql.push_str(" AND status IN (");
            sql.push_str(&placeholders(&mut n, filter.statuses.len()));
            sql.push(')');
        }
        if filter.created_before.is_some() {
            n += 1;
            sql.push_str(&format!(" AND created_at < ${n}"));
        }
        let order = if filter.newest_first { "DESC" } else { "ASC" };
        let limit = if filter.limit == 0 { 100 } else { filter.limit };
        sql.push_str(&format!(" ORDER BY created_at {order}, id LIMIT {limit}"));
        let mut q = sqlx::query(&sql);
        for s in &filter.statuses {
            q = q.bind(s);
        }
        if let Some(before) = filter.created_before {
            q = q.bind(before);
        }
        let requests = q
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(rows::request)
            .collect::<Result<Vec<_>, _>>()?;
        let ids: Vec<String> = requests.iter().map(|r| r.id.clone()).collect();
        let mut by_id: HashMap<String, Vec<ReviewRow>> = HashMap::new();
        for review in self.reviews_of(&ids).await? {
            by_id
                .entry(review.request_id.clone())
                .or_default()
                .push(review);
        }
        Ok(requests
            .into_iter()
            .map(|request| {
                let reviews = by_id.remove(&request.id).unwrap_or_default();
                StoredRequest { request, reviews }
            })
            .collect())
    }

    /// `(id, status)` for each of `ids` that exists: one query per
    /// [`IN_CHUNK`] ids, so a poller watching many waits stays cheap.
    pub async fn statuses(&self, ids: &[String]) -> Result<Vec<(String, String)>, StoreError> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(IN_CHUNK) {
            let mut n = 0;
            let sql = format!(
                "SELECT id, status FROM approval_requests WHERE id IN ({})",
                placeholders(&mut n, chunk.len())
            );
            let mut q = sqlx::query_as::<_, (String, String)>(&sql);
            for id in chunk {
                q = q.bind(id);
            }
            out.extend(q.fetch_all(&self.pool).await?);
        }
        Ok(out)
    }

    /// Ids of pending requests whose deadline has passed (at most `limit`),
    /// for the sweeper that expires requests nobody waits on any more.
    pub async fn overdue(&self, now: i64, limit: u32) -> Result<Vec<String>, StoreError> {
        let sql = format!(
            "SELECT id FROM approval_requests WHERE status = $1 AND expires_at <= $2 \
             ORDER BY expires_at, id LIMIT {limit}"
        );
        let ids: Vec<(String,)> = sqlx::query_as(&sql)
            .bind(status::PENDING)
            .bind(now)
            .fetch_all(&self.pool)
            .await?;
        Ok(ids.into_iter().map(|(id,)| id).collect())
    }

    /// The reviews of `ids`, oldest first.
    async fn reviews_of(&self, ids: &[String]) -> Result<Vec<ReviewRow>, StoreError> {
        let mut out = Vec::new();
        for chunk in ids.chunks(IN_CHUNK) {
            let mut n = 0;
            let sql = format!(
                "SELECT {} FROM approval_reviews WHERE request_id IN ({}) ORDER BY at, reviewer_subject",
                rows::REVIEW_COLUMNS,
                placeholders(&mut n, chunk.len())
            );
            let mut q = sqlx::query(&sql);
            for id in chunk {
                q = q.bind(id);
            }
            for row in q.fetch_all(&self.pool).await? {
                out.push(rows::review(&row)?);
            }
        }
        Ok(out)
    }
}

/// `$k+1, $k+2, …` for `count` parameters, advancing `next` past them.
fn placeholders(next: &mut usize, count: usize) -> String {
    let list: Vec<String> = (0..count)
        .map(|_| {
            *next += 1;
            format!("${next}")
        })
        .collect();
    list.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_continue_numbering() {
        let mut n = 0;
        assert_eq!(placeholders(&mut n, 3), "$1, $2, $3");
        assert_eq!(placeholders(&mut n, 1), "$4");
        assert_eq!(n, 4);
    }
}
