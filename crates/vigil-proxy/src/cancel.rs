//! Cancel keys. Each client gets its own (pid, secret) in BackendKeyData;
//! a CancelRequest is forwarded to the matching backend only when both
//! match, so one client can never cancel another's query.

use rand::Rng;
use std::collections::HashMap;
use std::sync::atomic::{AtomicI32, Ordering};
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
    cancelled: Arc<Notify>,
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
    pub cancelled: Arc<Notify>,
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
        let cancelled = Arc::new(Notify::new());
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

    /// The backend to cancel, if `pid` and `secret` both match a live
    /// session. Also wakes that session's held statement, if any.
    pub fn resolve(&self, pid: i32, secret: i32) -> Option<BackendKey> {
        let m = self.inner.lock().ok()?;
        let e = m.get(&pid)?;
        // Constant-time compare: do not leak how much of the secret matched.
        if (e.secret ^ secret) != 0 {
            return None;
        }
        e.cancelled.notify_waiters();
        Some(e.backend.clone())
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
    fn dropped_guard_unregisters() {
        let r = CancelRegistry::default();
        let a = r.register(key());
        let (pid, secret) = (a.pid, a.secret);
        drop(a);
        assert!(r.resolve(pid, secret).is_none());
    }
}
