//! A bounded cache of classifications keyed by the exact message text:
//! applications repeat the same statements, and a hit skips parsing.

use crate::classify::classify;
use lru::LruCache;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, PoisonError};
use vigil_core::ClassifiedMessage;

/// Default number of cached messages.
pub const DEFAULT_CAPACITY: usize = 4096;

/// Messages longer than this are classified but not cached, so that a few
/// huge statements cannot pin megabytes each.
pub const MAX_CACHED_LEN: usize = 16 * 1024;

/// A classifier with a bounded LRU cache; share it across sessions.
pub struct Classifier {
    cache: Mutex<LruCache<String, Arc<ClassifiedMessage>>>,
}

impl Classifier {
    /// A classifier caching up to `capacity` messages (at least one).
    pub fn new(capacity: usize) -> Self {
        let capacity = NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN);
        Classifier {
            cache: Mutex::new(LruCache::new(capacity)),
        }
    }

    /// Classifies `sql`, from the cache when the exact text was seen before.
    pub fn classify(&self, sql: &str) -> Arc<ClassifiedMessage> {
        if let Some(hit) = self.lock().get(sql) {
            return Arc::clone(hit);
        }
        // Parse outside the lock so one slow statement does not stall others.
        let fresh = Arc::new(classify(sql));
        if sql.len() <= MAX_CACHED_LEN {
            self.lock().put(sql.to_string(), Arc::clone(&fresh));
        }
        fresh
    }

    /// Number of cached messages.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LruCache<String, Arc<ClassifiedMessage>>> {
        // A panic while holding the lock leaves a cache that is still valid.
        self.cache.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Default for Classifier {
    fn default() -> Self {
        Classifier::new(DEFAULT_CAPACITY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_text_is_served_from_the_cache() {
        let c = Classifier::new(2);
        let a = c.classify("SELECT 1");
        let b = c.classify("SELECT 1");
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(c.len(), 1);
    }

    #[test]
    fn capacity_bounds_the_cache() {
        let c = Classifier::new(2);
        for sql in ["SELECT 1", "SELECT 2", "SELECT 3"] {
            c.classify(sql);
        }
        assert_eq!(c.len(), 2);
        assert_eq!(Classifier::new(0).classify("SELECT 1").statements.len(), 1);
    }

    #[test]
    fn classifier_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Classifier>();
    }
}
