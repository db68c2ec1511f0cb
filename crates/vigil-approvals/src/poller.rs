//! The background task that makes replicas see each other's decisions.
//!
//! While this process waits on at least one request it asks the store for
//! the status of all of them every `poll_interval`, in one query. Once a
//! second it also expires overdue pending requests that nobody waits on
//! (a non-blocking request, or a replica that died mid-wait). The task
//! holds only a weak reference, so it ends when the service is dropped.

use std::sync::{Arc, Weak};
use std::time::Duration;

use tokio::time::Instant;

use crate::events::EventKind;
use crate::service::{now_ms, Inner};
use crate::{ApprovalId, ApprovalStatus};

/// How often overdue requests are swept.
const SWEEP_EVERY: Duration = Duration::from_secs(1);
/// Overdue requests expired per sweep; the rest wait for the next one.
const SWEEP_BATCH: u32 = 100;

pub(crate) fn spawn(inner: &Arc<Inner>) {
    let weak = Arc::downgrade(inner);
    let waiters = inner.waiters.clone();
    let every = inner.settings.poll_interval;
    tokio::spawn(async move {
        let mut next_sweep = Instant::now();
        loop {
            let Some(inner) = weak.upgrade() else { return };
            let ids = inner.waiters.ids();
            if !ids.is_empty() {
                if let Err(e) = poll(&inner, &ids).await {
                    tracing::warn!(error = %e, "polling approval statuses failed");
                }
            }
            if Instant::now() >= next_sweep {
                if let Err(e) = sweep(&inner).await {
                    tracing::warn!(error = %e, "expiring overdue approval requests failed");
                }
                next_sweep = Instant::now() + SWEEP_EVERY;
            }
            drop(inner);
            if ids.is_empty() {
                tokio::select! {
                    () = waiters.started() => {}
                    () = tokio::time::sleep_until(next_sweep) => {}
                }
            } else {
                tokio::time::sleep(every).await;
            }
            if Weak::strong_count(&weak) == 0 {
                return;
            }
        }
    });
}

/// Resolves local waits on requests that are no longer pending.
async fn poll(inner: &Inner, ids: &[ApprovalId]) -> Result<(), crate::ApprovalError> {
    let ids: Vec<String> = ids.iter().map(|id| id.to_string()).collect();
    for (id, status) in inner.repo.statuses(&ids).await? {
        if status == ApprovalStatus::Pending.as_str() {
            continue;
        }
        let request = inner.load(&ApprovalId::from_stored(id)).await?;
        // First news here means another replica made the change.
        if !inner.waiters.has_news(&request.id) {
            let kind = match request.status {
                ApprovalStatus::Expired => EventKind::Expired,
                ApprovalStatus::Withdrawn => EventKind::Withdrawn,
                ApprovalStatus::Executed => EventKind::Executed,
                _ => EventKind::Decided,
            };
            inner.emit(kind, request, true);
        }
    }
    Ok(())
}

/// Expires overdue pending requests; each is announced by the replica
/// whose conditional UPDATE won.
async fn sweep(inner: &Inner) -> Result<(), crate::ApprovalError> {
    let now = now_ms();
    for id in inner.repo.overdue(now, SWEEP_BATCH).await? {
        if inner.repo.expire(&id, now).await? {
            let request = inner.load(&ApprovalId::from_stored(id)).await?;
            tracing::info!(id = %request.id, "approval request expired (sweep)");
            inner.emit(EventKind::Expired, request, false);
        }
    }
    Ok(())
}
