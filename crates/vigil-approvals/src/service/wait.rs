//! Waiting for a decision, and expiry at the deadline.

use std::time::Duration;

use super::{now_ms, ApprovalService};
use crate::events::EventKind;
use crate::model::ApprovalStatus;
use crate::{ApprovalError, ApprovalId, ApprovalRequest, Resolution};

impl ApprovalService {
    /// Waits until the request is decided, withdrawn or expired. At its
    /// deadline a still-pending request is marked expired and `Expired`
    /// returned. Decisions made in this process end the wait at once,
    /// those made by another replica at its next poll. Dropping the future
    /// stops the wait (the request stays pending: call `withdraw`).
    ///
    /// `Conflict` for a request already executed (its approval was used).
    pub async fn wait(&self, id: &ApprovalId) -> Result<Resolution, ApprovalError> {
        let mut guard = self.inner.waiters.register(id);
        let mut request = self.inner.load(id).await?;
        loop {
            if let Some(done) = resolution(&request) {
                return done;
            }
            let left = request.expires_at.saturating_sub(now_ms()).max(1);
            let left = Duration::from_millis(u64::try_from(left).unwrap_or(u64::MAX));
            tokio::select! {
                changed = guard.rx.changed() => {
                    if changed.is_err() {
                        // The slot lives as long as the guard; this is unreachable
                        // in practice, and a reload is always a correct answer.
                        request = self.inner.load(id).await?;
                        continue;
                    }
                    if let Some(r) = guard.rx.borrow_and_update().clone() {
                        request = r;
                    }
                }
                () = tokio::time::sleep(left) => {
                    request = self.expire_if_due(id).await?;
                }
            }
        }
    }

    /// Expires `id` if it is pending and past its deadline, announcing it
    /// when this call made the change. Returns the request as it is now.
    pub(crate) async fn expire_if_due(
        &self,
        id: &ApprovalId,
    ) -> Result<ApprovalRequest, ApprovalError> {
        let expired = self.inner.repo.expire(id.as_str(), now_ms()).await?;
        let request = self.inner.load(id).await?;
        if expired {
            tracing::info!(id = %id, "approval request expired");
            self.inner.emit(EventKind::Expired, request.clone(), false);
        }
        Ok(request)
    }
}

/// How a request that is no longer pending ends a wait.
fn resolution(r: &ApprovalRequest) -> Option<Result<Resolution, ApprovalError>> {
    Some(Ok(match r.status {
        ApprovalStatus::Pending => return None,
        ApprovalStatus::Approved => Resolution::Approved,
        ApprovalStatus::Denied => match r.denial() {
            Some(review) => Resolution::Denied {
                reviewer: review.reviewer.clone(),
                comment: review.comment.clone(),
            },
            None => {
                return Some(Err(ApprovalError::Conflict(
                    "the request is denied but its denial is missing".to_owned(),
                )))
            }
        },
        ApprovalStatus::Expired => Resolution::Expired,
        ApprovalStatus::Withdrawn => Resolution::Withdrawn,
        ApprovalStatus::Executed => {
            return Some(Err(ApprovalError::Conflict(
                "the request's approval was already used".to_owned(),
            )))
        }
    }))
}
