//! A request's life outside reviews: created by the hook, withdrawn when
//! the client goes away, executed when the approved bytes are forwarded,
//! and (non-blocking mode) consumed as a retry grant.

use std::time::Duration;

use super::{now_ms, ApprovalService};
use crate::events::EventKind;
use crate::model::NewRequest;
use crate::{codec, rules, ApprovalError, ApprovalId, ApprovalRequest};

impl ApprovalService {
    /// Stores a new pending request and announces it (subscribers, webhooks).
    pub async fn create(&self, new: NewRequest) -> Result<ApprovalRequest, ApprovalError> {
        rules::check_new(&new)?;
        let timeout = new.timeout.unwrap_or(self.inner.settings.default_timeout);
        let now = now_ms();
        let expires_at = now.saturating_add(millis(timeout));
        let id = ApprovalId::generate();
        let row = codec::new_row(&id, &new, now, expires_at)?;
        self.inner.repo.insert(&row).await?;
        let request = self.inner.load(&id).await?;
        tracing::info!(id = %id, requester = %new.requester.subject, connection = %new.connection, "approval requested");
        self.inner.emit(EventKind::Created, request.clone(), false);
        Ok(request)
    }

    /// Withdraws a pending request (the client cancelled or disconnected).
    /// `Conflict` when it was already decided or ended.
    pub async fn withdraw(&self, id: &ApprovalId, reason: &str) -> Result<(), ApprovalError> {
        if !self
            .inner
            .repo
            .withdraw(id.as_str(), reason, now_ms())
            .await?
        {
            let current = self.inner.load(id).await?;
            return Err(ApprovalError::Conflict(format!(
                "the request is already {}",
                current.status
            )));
        }
        let request = self.inner.load(id).await?;
        tracing::info!(id = %id, reason, "approval request withdrawn");
        self.inner.emit(EventKind::Withdrawn, request, false);
        Ok(())
    }

    /// Records that exactly the approved bytes were forwarded. Refuses
    /// (`Forbidden`) when `statement_hash` is not the approved one, and
    /// (`Conflict`) when the request is not approved or already executed.
    pub async fn mark_executed(
        &self,
        id: &ApprovalId,
        statement_hash: &str,
    ) -> Result<(), ApprovalError> {
        let current = self.inner.load(id).await?;
        if current.statement_hash != statement_hash {
            return Err(ApprovalError::Forbidden(
                "the statement differs from the one that was approved".to_owned(),
            ));
        }
        if !self
            .inner
            .repo
            .mark_executed(id.as_str(), statement_hash, now_ms())
            .await?
        {
            let current = self.inner.load(id).await?;
            return Err(ApprovalError::Conflict(format!(
                "the request is {}, not approved",
                current.status
            )));
        }
        let request = self.inner.load(id).await?;
        self.inner.emit(EventKind::Executed, request, false);
        Ok(())
    }

    /// Non-blocking mode: consumes the approval of an identical earlier
    /// statement (same subject, same connection, byte-identical hash) and
    /// returns its id; the request becomes executed, so it lets exactly one
    /// retry run. `None` when there is no such unused approval.
    pub async fn take_retry_grant(
        &self,
        subject: &str,
        connection: &str,
        statement_hash: &str,
    ) -> Result<Option<ApprovalId>, ApprovalError> {
        let now = now_ms();
        let since = now.saturating_sub(millis(self.inner.settings.retry_grant_ttl));
        let Some(id) = self
            .inner
            .repo
            .take_grant(subject, connection, statement_hash, since, now)
            .await?
        else {
            return Ok(None);
        };
        let id = ApprovalId::from_stored(id);
        let request = self.inner.load(&id).await?;
        tracing::info!(id = %id, subject, connection, "retry grant used");
        self.inner.emit(EventKind::Executed, request, false);
        Ok(Some(id))
    }
}

pub(crate) fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}
