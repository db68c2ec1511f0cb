//! Cancel keys. Each client gets its own (pid, secret) in BackendKeyData;
//! a CancelRequest is forwarded to the matching backend only when both
//! match, so one client can never cancel another's query.

use rand::Rng;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

/// Where the real backend of a session is, and its real key.
#[derive(Debug, Clone)]
pub struct BackendKey {
    pub host: String,
    pub port: u16,
    pub pid: i32,
    pub secret: i32,
}

#[derive(Debug)]
struct Entry {
    secret: i32,
    backend: BackendKey,
    /// Woken by a cancel so a held statement can be withdrawn.
    cancelled: Arc<CancelSignal>,
}

/// How a cancel reaches a session that may be holding a statement.
///
/// While a statement is held, the server is not running anything for this
/// session, so a cancel must withdraw the held statement and must *not* be
/// forwarded: forwarded late, it would cancel whatever the client sends
/// next.
#[derive(Debug, Default)]
pub struct CancelSignal {
    notify: Notify,
    holding: AtomicBool,
}

impl CancelSignal {
    /// Marks the session as holding a statement until the returned guard
    /// drops. `waiter` must already be enabled, so a cancel that sees the
    /// flag always finds it.
    pub fn holding(&self) -> HoldingGuard<'_> {
        self.holding.store(true, Ordering::SeqCst);
        HoldingGuard(self)
    }

    /// A waiter for the next cancel; enable it before calling `holding`.
    pub fn waiter(&self) -> tokio::sync::futures::Notified<'_> {
        self.notify.notified()
    }

    /// Wakes a held statement; false if none is held.
    fn withdraw(&self) -> bool {
        if self.holding.load(Ordering::SeqCst) {
            self.notify.notify_waiters();
            true
        } else {
            false
        }
    }
}

/// Clears the holding flag on drop.
#[derive(Debug)]
pub struct HoldingGuard<'a>(&'a CancelSignal);

impl Drop for HoldingGuard<'_> {
    fn drop(&mut self) {
        self.0.holding.store(false, Ordering::SeqCst);
    }
}

/// What a matching cancel request does.
#[derive(Debug, Clone)]
pub enum Cancel {
    /// A held statement was withdrawn; nothing to forward.
    Withdrawn,
    /// Forward the cancel to this backend.
    Forward(BackendKey),
}

/// All live sessions' cancel keys.
#[derive(Debug, Clone)]
pub struct CancelRegistry {
    inner: Arc<Mutex<HashMap<i32, Entry>>>,
    next_pid: Arc<AtomicI32>,
}

/// Removes the key when the session ends.
#[derive(Debug)]
pub struct CancelGuard {
    registry: CancelRegistry,
    pub pid: i32,
    pub secret: i32,
    pub cancelled: Arc<CancelSignal>,
}

impl Drop for CancelGuard {
    fn drop(&mut self) {
        if let Ok(mut m) = self.registry.inner.lock() {
            m.remove(&self.pid);
        }
    }
}

impl Default for CancelRegistry {
    fn default() -> Self {
        CancelRegistry {
            inner: Arc::default(),
            next_pid: Arc::new(AtomicI32::new(
                rand::thread_rng().gen_range(100_000..1_000_000),
            )),
        }
    }
}

impl CancelRegistry {
    /// Registers a session and returns its client-visible key.
    pub fn register(&self, backend: BackendKey) -> CancelGuard {
        let secret: i32 = rand::thread_rng().gen();
        let cancelled = Arc::new(CancelSignal::default());
        let mut pid = self.next_pid.fetch_add(1, Ordering::Relaxed) & 0x3fff_ffff;
        if let Ok(mut m) = self.inner.lock() {
            while m.contains_key(&pid) || pid == 0 {
                pid = self.next_pid.fetch_add(1, Ordering::Relaxed) & 0x3fff_ffff;
            }
            m.insert(
                pid,
                Entry {
                    secret,
                    backend,
                    cancelled: cancelled.clone(),
                },
            );
        }
        CancelGuard {
            registry: self.clone(),
            pid,
            secret,
            cancelled,
        }
    }

    /// What to do with a cancel, if `pid` and `secret` both match a live
    /// session: withdraw its held statement, or forward to its backend.
    pub fn resolve(&self, pid: i32, secret: i32) -> Option<Cancel> {
        let m = self.inner.lock().ok()?;
        let e = m.get(&pid)?;
        // Constant-time compare: do not leak how much of the secret matched.
        if (e.secret ^ secret) != 0 {
            return None;
        }
        if e.cancelled.withdraw() {
            return Some(Cancel::Withdrawn);
        }
        Some(Cancel::Forward(e.backend.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> BackendKey {
        BackendKey {
            host: "h".into(),
            port: 1,
            pid: 42,
            secret: 7,
        }
    }

    #[test]
    fn only_matching_secret_resolves() {
        let r = CancelRegistry::default();
        let a = r.register(key());
        let b = r.register(key());
        assert_ne!(a.pid, b.pid);
        assert!(r.resolve(a.pid, a.secret).is_some());
        assert!(r.resolve(a.pid, a.secret.wrapping_add(1)).is_none());
        assert!(r.resolve(a.pid, b.secret).is_none() || a.secret == b.secret);
        drop(a);
        assert!(r.resolve(b.pid, b.secret).is_some());
    }

    #[test]
    fn a_held_statement_is_withdrawn_not_forwarded() {
        let r = CancelRegistry::default();
        let a = r.register(key());
        let waiter = a.cancelled.waiter();
        tokio::pin!(waiter);
        waiter.as_mut().enable();
        let holding = a.cancelled.holding();
        assert!(matches!(
            r.resolve(a.pid, a.secret),
            Some(Cancel::Withdrawn)
        ));
        drop(holding);
        assert!(matches!(
            r.resolve(a.pid, a.secret),
            Some(Cancel::Forward(_))
        ));
    }

    #[test]
    fn dropped_guard_unregisters() {
        let r = CancelRegistry::default();
        let a = r.register(key());
        let (pid, secret) = (a.pid, a.secret);
        drop(a);
        assert!(r.resolve(pid, secret).is_none());
    }
}
