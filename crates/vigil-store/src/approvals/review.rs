//! Recording a review and deciding the request, in one transaction.
//!
//! The transaction starts with an UPDATE of the request row so that
//! reviews of one request run one at a time (PostgreSQL holds the row lock,
//! SQLite the write lock, until commit). Counting approvals and flipping
//! the status therefore see every earlier review, on every replica.

use sqlx::{Any, Transaction};

use super::{decision, status, ApprovalRepo, ReviewRow};
use crate::StoreError;

/// What a recorded review did to its request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewOutcome {
    /// The status after the review: `pending` while approvals are missing,
    /// `approved` once enough distinct reviewers approved, `denied` after a deny.
    pub status: String,
    /// Distinct approvals recorded so far, this one included.
    pub approvals: i64,
}

impl ApprovalRepo {
    /// Records `review` (taken at `now`, Unix ms) and decides the request
    /// when it should be.
    ///
    /// Errors: [`StoreError::NotFound`]; [`StoreError::Conflict`] when the
    /// request is no longer pending or has expired, or when this reviewer
    /// (same subject, or same email) has already reviewed it.
    pub async fn review(&self, review: &ReviewRow, now: i64) -> Result<ReviewOutcome, StoreError> {
        if review.decision != decision::APPROVE && review.decision != decision::DENY {
            return Err(StoreError::Conflict(format!(
                "unknown review decision {:?}",
                review.decision
            )));
        }
        let mut tx = self.pool.begin().await?;
        let locked: Option<(i64,)> = sqlx::query_as(
            "UPDATE approval_requests SET updated_at = $2 \
             WHERE id = $1 AND status = $3 AND expires_at > $2 RETURNING required_count",
        )
        .bind(&review.request_id)
        .bind(now)
        .bind(status::PENDING)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((required,)) = locked else {
            tx.rollback().await?;
            return Err(self.why_not_pending(&review.request_id, now).await?);
        };
        if already_reviewed(&mut tx, review).await? {
            tx.rollback().await?;
            return Err(StoreError::Conflict(format!(
                "{} has already reviewed this request",
                review.reviewer_subject
            )));
        }
        insert_review(&mut tx, review).await?;
        let approvals = count_approvals(&mut tx, &review.request_id).await?;
        let next = if review.decision == decision::DENY {
            status::DENIED
        } else if approvals >= required {
            status::APPROVED
        } else {
            status::PENDING
        };
        if next != status::PENDING {
            sqlx::query(
                "UPDATE approval_requests SET status = $2, decided_at = $3, updated_at = $3 \
                 WHERE id = $1 AND status = $4",
            )
            .bind(&review.request_id)
            .bind(next)
            .bind(now)
            .bind(status::PENDING)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(ReviewOutcome {
            status: next.to_owned(),
            approvals,
        })
    }

    /// The error for a request that could not be locked as pending. One
    /// still pending past its deadline is reported as expired; the caller
    /// expires it (and announces that) with [`ApprovalRepo::expire`].
    async fn why_not_pending(&self, id: &str, now: i64) -> Result<StoreError, StoreError> {
        let row: Option<(String, i64)> =
            sqlx::query_as("SELECT status, expires_at FROM approval_requests WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(match row {
            None => StoreError::NotFound,
            Some((s, expires_at)) if s == status::PENDING && expires_at <= now => {
                StoreError::Conflict("the request has expired".to_owned())
            }
            Some((s, _)) => StoreError::Conflict(format!("the request is already {s}")),
        })
    }
}

async fn already_reviewed(
    tx: &mut Transaction<'static, Any>,
    r: &ReviewRow,
) -> Result<bool, StoreError> {
    // Same subject or same email is the same person: two tokens from two
    // issuers must not count as two approvals.
    let (n,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM approval_reviews WHERE request_id = $1 \
         AND (reviewer_subject = $2 OR (reviewer_email IS NOT NULL AND reviewer_email = $3))",
    )
    .bind(&r.request_id)
    .bind(&r.reviewer_subject)
    .bind(&r.reviewer_email)
    .fetch_one(&mut **tx)
    .await?;
    Ok(n > 0)
}

async fn insert_review(
    tx: &mut Transaction<'static, Any>,
    r: &ReviewRow,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO approval_reviews \
         (request_id, reviewer_subject, reviewer_email, decision, comment, at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&r.request_id)
    .bind(&r.reviewer_subject)
    .bind(&r.reviewer_email)
    .bind(&r.decision)
    .bind(&r.comment)
    .bind(r.at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn count_approvals(tx: &mut Transaction<'static, Any>, id: &str) -> Result<i64, StoreError> {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM approval_reviews WHERE request_id = $1 AND decision = $2",
    )
    .bind(id)
    .bind(decision::APPROVE)
    .fetch_one(&mut **tx)
    .await?;
    Ok(n)
}
