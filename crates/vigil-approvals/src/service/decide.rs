//! Reviews: approve and deny. The rules that depend only on who is asking
//! (separation of duties, groups) are checked here; the ones that depend
//! on other reviews (pending, distinct reviewers, N-of-M) are decided in
//! the store's transaction, so replicas cannot race past them.

use vigil_core::Principal;
use vigil_store::approvals::status;

use super::{now_ms, ApprovalService};
use crate::events::EventKind;
use crate::model::{ReviewDecision, Reviewer};
use crate::{codec, rules, ApprovalError, ApprovalId, ApprovalRequest};

impl ApprovalService {
    /// Approves as `reviewer`. The request becomes approved once
    /// `approvers.count` distinct reviewers approved; until then it stays
    /// pending. Returns the request after the review.
    ///
    /// `Forbidden`: own request, not in a required group, an agent.
    /// `Conflict`: not pending (decided, expired, withdrawn), or this
    /// reviewer already reviewed it. `NotFound`: no such request.
    pub async fn approve(
        &self,
        id: &ApprovalId,
        reviewer: &Principal,
        comment: &str,
    ) -> Result<ApprovalRequest, ApprovalError> {
        self.review(id, reviewer, ReviewDecision::Approve, comment)
            .await
    }

    /// Denies as `reviewer`: one denial decides the request. The comment
    /// is required (`Invalid` without one); the client sees it.
    pub async fn deny(
        &self,
        id: &ApprovalId,
        reviewer: &Principal,
        comment: &str,
    ) -> Result<ApprovalRequest, ApprovalError> {
        self.review(id, reviewer, ReviewDecision::Deny, comment)
            .await
    }

    async fn review(
        &self,
        id: &ApprovalId,
        reviewer: &Principal,
        decision: ReviewDecision,
        comment: &str,
    ) -> Result<ApprovalRequest, ApprovalError> {
        let comment = rules::check_comment(comment, decision == ReviewDecision::Deny)?;
        let current = self.inner.load(id).await?;
        rules::check_reviewer(&current, reviewer)?;
        let who = Reviewer {
            subject: reviewer.subject.clone(),
            email: reviewer.email.clone(),
        };
        let now = now_ms();
        let row = codec::review_row(id, &who, decision, &comment, now);
        let outcome = match self.inner.repo.review(&row, now).await {
            Ok(outcome) => outcome,
            Err(e) => {
                // A review that came too late: expire the request now (and
                // announce it) rather than leave that to the sweeper.
                self.expire_if_due(id).await?;
                return Err(e.into());
            }
        };
        let request = self.inner.load(id).await?;
        let kind = if outcome.status == status::PENDING {
            EventKind::Reviewed
        } else {
            EventKind::Decided
        };
        tracing::info!(
            id = %id,
            reviewer = %who.subject,
            decision = ?decision,
            status = %outcome.status,
            approvals = outcome.approvals,
            "review recorded"
        );
        self.inner.emit(kind, request.clone(), false);
        Ok(request)
    }
}
