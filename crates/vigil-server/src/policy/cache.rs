//! The decision cache: for bundles that declare `cacheable := true`
//! (decisions depend only on the statement's facts, the principal, the
//! connection and grants — not on time, client, session or literal values).
//!
//! Keyed by the classified facts (their precomputed digest, then compared
//! in full), the principal (subject, email, issuer, groups, kind), the
//! connection, the policy version and the active grants. A key hash
//! collision is a miss, never a wrong decision.

use lru::LruCache;
use std::hash::{Hash, Hasher};
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};
use vigil_core::{ClassifiedMessage, Principal};
use vigil_policy::PolicyDecision;

/// What a cached decision was made for.
pub struct CacheKey<'a> {
    pub msg: &'a Arc<ClassifiedMessage>,
    pub principal: &'a Principal,
    pub connection: &'a str,
    pub version: &'a str,
    /// Digest of the active grants (0 while grants are always empty).
    pub grants: u64,
}

struct Entry {
    msg: Arc<ClassifiedMessage>,
    principal: Principal,
    connection: String,
    version: String,
    grants: u64,
    decision: Arc<PolicyDecision>,
}

/// A bounded LRU of decisions.
pub struct DecisionCache {
    inner: Option<Mutex<LruCache<u64, Entry>>>,
}

impl DecisionCache {
    /// `entries == 0` disables caching.
    pub fn new(entries: usize) -> Self {
        DecisionCache {
            inner: NonZeroUsize::new(entries).map(|n| Mutex::new(LruCache::new(n))),
        }
    }

    pub fn get(&self, key: &CacheKey<'_>) -> Option<Arc<PolicyDecision>> {
        let mut lru = self.inner.as_ref()?.lock().ok()?;
        let e = lru.get(&hash(key))?;
        matches(e, key).then(|| Arc::clone(&e.decision))
    }

    pub fn put(&self, key: &CacheKey<'_>, decision: Arc<PolicyDecision>) {
        let Some(Ok(mut lru)) = self.inner.as_ref().map(|m| m.lock()) else {
            return;
        };
        lru.put(
            hash(key),
            Entry {
                msg: Arc::clone(key.msg),
                principal: key.principal.clone(),
                connection: key.connection.to_owned(),
                version: key.version.to_owned(),
                grants: key.grants,
                decision,
            },
        );
    }
}

fn hash(k: &CacheKey<'_>) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    k.msg.digest.hash(&mut h);
    k.principal.subject.hash(&mut h);
    k.principal.email.hash(&mut h);
    k.principal.issuer.hash(&mut h);
    k.principal.groups.hash(&mut h);
    k.principal.kind.as_str().hash(&mut h);
    k.connection.hash(&mut h);
    k.version.hash(&mut h);
    k.grants.hash(&mut h);
    h.finish()
}

fn matches(e: &Entry, k: &CacheKey<'_>) -> bool {
    (Arc::ptr_eq(&e.msg, k.msg) || *e.msg == **k.msg)
        && e.principal.subject == k.principal.subject
        && e.principal.email == k.principal.email
        && e.principal.issuer == k.principal.issuer
        && e.principal.groups == k.principal.groups
        && e.principal.kind == k.principal.kind
        && e.connection == k.connection
        && e.version == k.version
        && e.grants == k.grants
}
