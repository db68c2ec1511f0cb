//! A bounded cache of classifications. Applications repeat the same
//! statements, and a hit skips parsing.
//!
//! Two keys lead to an entry:
//! - the exact message text;
//! - the message's *shape*: PostgreSQL's own normalization, with every
//!   literal replaced by `$n`. Simple-protocol clients send literals inline
//!   (`… WHERE aid = 48213`), so exact keys rarely repeat for them.
//!
//! Sharing one classification across literal variants is safe only if it
//! cannot depend on which variant came first. So the shape's entry is the
//! classification *of the shape text itself*: the classifier never sees any
//! literal value and judges a `$n` conservatively (`WHERE $1 = $2` counts as
//! unbounded; `set_config($1, …)` as tampering). A shape is served only when
//! that classification has no risk flag; everything else is classified from
//! its exact text, so flagged statements keep precise facts and reasons.

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

    /// Classifies `sql`: from the cache when the exact text or its
    /// flag-free shape was seen before.
    pub fn classify(&self, sql: &str) -> Arc<ClassifiedMessage> {
        if let Some(hit) = self.lock().get(sql) {
            return Arc::clone(hit);
        }
        if let Some(shared) = self.by_shape(sql) {
            return shared;
        }
        self.fresh(sql)
    }

    /// Parses outside the lock so one slow statement does not stall others.
    fn fresh(&self, sql: &str) -> Arc<ClassifiedMessage> {
        let fresh = Arc::new(classify(sql));
        if sql.len() <= MAX_CACHED_LEN {
            self.lock().put(sql.to_string(), Arc::clone(&fresh));
        }
        fresh
    }

    /// The classification of `sql`'s shape, if it has literals and the
    /// shape is flag-free (see the module doc for why this is sound).
    fn by_shape(&self, sql: &str) -> Option<Arc<ClassifiedMessage>> {
        if sql.len() > MAX_CACHED_LEN {
            return None;
        }
        let shape = pg_query::normalize(sql).ok()?;
        if shape == sql {
            return None;
        }
        let hit = self.lock().get(&shape).cloned();
        let c = hit.unwrap_or_else(|| self.fresh(&shape));
        (c.flags.is_empty() && !c.has_parse_error()).then_some(c)
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
        for sql in ["SELECT a FROM t", "SELECT b FROM t", "SELECT c FROM t"] {
            c.classify(sql);
        }
        assert_eq!(c.len(), 2);
        assert_eq!(Classifier::new(0).classify("SELECT 1").statements.len(), 1);
    }

    #[test]
    fn literal_variants_share_one_classification() {
        let c = Classifier::new(16);
        let a = c.classify("SELECT abalance FROM pgbench_accounts WHERE aid = 1");
        let b = c.classify("SELECT abalance FROM pgbench_accounts WHERE aid = 2");
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(a.statements[0].tables[0].name, "pgbench_accounts");
    }

    #[test]
    fn a_benign_variant_cannot_vouch_for_a_dangerous_one() {
        let c = Classifier::new(16);
        let benign = c.classify("DELETE FROM t WHERE id = 1");
        assert!(benign.flags.is_empty());
        for evil in [
            "DELETE FROM t WHERE 1 = 1",
            "DELETE FROM t WHERE 'a' = 'a'",
            "DELETE FROM t WHERE id = 1 OR 2 = 2",
            "DELETE FROM t WHERE true",
        ] {
            let e = c.classify(evil);
            assert!(e.has_flag(vigil_core::FlagId::UnboundedWrite), "{evil}");
        }
        // Flagged shapes are classified exactly: a WHERE that is false for
        // every row stays unflagged, and reasons name the real statement.
        assert!(c.classify("DELETE FROM t WHERE 1 = 2").flags.is_empty());
        let cfg = c.classify("SELECT set_config('search_path', 'x', false)");
        assert!(cfg.has_flag(vigil_core::FlagId::SessionTamper));
        assert!(c
            .classify("SELECT set_config('application_name', 'x', false)")
            .flags
            .is_empty());
    }

    #[test]
    fn classifier_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Classifier>();
    }
}
