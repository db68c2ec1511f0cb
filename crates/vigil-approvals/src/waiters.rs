//! The requests this process is waiting on. A decision made here resolves
//! its waiters at once; the poller resolves them when another replica made
//! the decision. Several waits on one id share one channel.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::{watch, Notify};

use crate::{ApprovalId, ApprovalRequest};

/// The registry. Cheap to clone (an `Arc` inside).
#[derive(Debug, Clone, Default)]
pub(crate) struct Waiters {
    inner: Arc<Shared>,
}

#[derive(Debug, Default)]
struct Shared {
    map: Mutex<HashMap<ApprovalId, Slot>>,
    /// Wakes the idle poller when the first wait starts.
    wake: Notify,
}

#[derive(Debug)]
struct Slot {
    tx: watch::Sender<Option<ApprovalRequest>>,
    waits: usize,
}

/// One registered wait; unregisters itself on drop, so a wait whose
/// future is dropped (client gone) stops being polled.
pub(crate) struct WaitGuard {
    waiters: Waiters,
    id: ApprovalId,
    pub(crate) rx: watch::Receiver<Option<ApprovalRequest>>,
}

impl Waiters {
    /// Registers a wait on `id`. Register before reading the request's
    /// status so a decision in between is not missed.
    pub(crate) fn register(&self, id: &ApprovalId) -> WaitGuard {
        let rx = {
            let mut map = self.lock();
            let slot = map.entry(id.clone()).or_insert_with(|| Slot {
                tx: watch::channel(None).0,
                waits: 0,
            });
            slot.waits += 1;
            slot.tx.subscribe()
        };
        self.inner.wake.notify_one();
        WaitGuard {
            waiters: self.clone(),
            id: id.clone(),
            rx,
        }
    }

    /// Ids with at least one wait.
    pub(crate) fn ids(&self) -> Vec<ApprovalId> {
        self.lock().keys().cloned().collect()
    }

    /// Hands the final request to everyone waiting on it. Returns true
    /// when this is the first news of its end here (no earlier resolve).
    pub(crate) fn resolve(&self, request: &ApprovalRequest) -> bool {
        let map = self.lock();
        let Some(slot) = map.get(&request.id) else {
            return false;
        };
        let first = slot.tx.borrow().is_none();
        slot.tx.send_replace(Some(request.clone()));
        first
    }

    /// True when `id`'s waits already have their answer (or nobody waits).
    pub(crate) fn has_news(&self, id: &ApprovalId) -> bool {
        match self.lock().get(id) {
            Some(slot) => slot.tx.borrow().is_some(),
            None => true,
        }
    }

    /// Resolves when a wait is registered (a permit is kept if nobody listens).
    pub(crate) async fn started(&self) {
        self.inner.wake.notified().await;
    }

    /// Poisoning only means another thread panicked mid-update of a plain
    /// map; the map itself is still consistent, so keep going.
    fn lock(&self) -> MutexGuard<'_, HashMap<ApprovalId, Slot>> {
        self.inner
            .map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Drop for WaitGuard {
    fn drop(&mut self) {
        let mut map = self.waiters.lock();
        if let Some(slot) = map.get_mut(&self.id) {
            slot.waits = slot.waits.saturating_sub(1);
            if slot.waits == 0 {
                map.remove(&self.id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{new_request, stored};

    #[tokio::test]
    async fn waits_share_a_slot_and_leave_on_drop() {
        let w = Waiters::default();
        let req = stored(new_request("alice", None, &["dba"], 1));
        let a = w.register(&req.id);
        let mut b = w.register(&req.id);
        assert_eq!(w.ids(), vec![req.id.clone()]);
        assert!(!w.has_news(&req.id));
        assert!(w.resolve(&req), "first news");
        assert!(w.has_news(&req.id));
        assert!(!w.resolve(&req), "second news");
        b.rx.changed().await.unwrap();
        assert_eq!(
            b.rx.borrow().as_ref().map(|r| r.id.clone()),
            Some(req.id.clone())
        );
        drop(a);
        assert_eq!(w.ids().len(), 1, "b still waits");
        drop(b);
        assert!(w.ids().is_empty());
        assert!(!w.resolve(&req), "nobody waits");
    }
}
