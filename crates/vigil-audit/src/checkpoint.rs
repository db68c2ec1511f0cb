//! Signed checkpoints: every N records or T milliseconds the writer signs
//! `(chain_id, seq, head hash, ts)` with the audit key. A checkpoint pins
//! the chain up to `seq`: rewriting any earlier record — even recomputing
//! every hash after it — no longer matches the signed head, and deleting
//! records after it leaves the signed seq dangling.

use crate::canonical;
use crate::keys::{AuditKey, PublicKeys, SignatureProblem};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Domain separation: a checkpoint signature can never be replayed as a
/// retention signature or anything else signed with the same key.
pub const CHECKPOINT_DOMAIN: &str = "vigil.audit.checkpoint.v1";

/// A signed chain head.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub chain_id: String,
    /// The seq of the record it signs.
    pub seq: u64,
    /// That record's hash.
    pub head_hash: String,
    /// When it was signed, Unix milliseconds.
    pub ts_ms: i64,
    /// The signing key's id (see [`crate::keys::key_id`]).
    pub public_key_id: String,
    /// Hex Ed25519 signature over [`Checkpoint::signed_bytes`].
    pub signature: String,
}

impl Checkpoint {
    /// Signs the head `(seq, head_hash)` of `chain_id` at `ts_ms`.
    pub fn sign(key: &AuditKey, chain_id: &str, seq: u64, head_hash: &str, ts_ms: i64) -> Self {
        let mut cp = Checkpoint {
            chain_id: chain_id.to_owned(),
            seq,
            head_hash: head_hash.to_owned(),
            ts_ms,
            public_key_id: key.key_id().to_owned(),
            signature: String::new(),
        };
        cp.signature = key.sign_hex(&cp.signed_bytes());
        cp
    }

    /// The canonical JSON the signature covers:
    /// `{"chain_id","domain","head_hash","seq","ts_ms"}`.
    pub fn signed_bytes(&self) -> Vec<u8> {
        let value = json!({
            "chain_id": self.chain_id,
            "domain": CHECKPOINT_DOMAIN,
            "head_hash": self.head_hash,
            "seq": self.seq,
            "ts_ms": self.ts_ms,
        });
        // Strings and integers only: canonical encoding cannot fail here.
        canonical::encode(&value).unwrap_or_default()
    }

    /// Checks the signature against the trusted keys.
    pub fn verify_signature(&self, keys: &PublicKeys) -> Result<(), SignatureProblem> {
        keys.verify_hex(&self.public_key_id, &self.signed_bytes(), &self.signature)
    }
}

/// When the writer signs a checkpoint. The caller tracks the counts and
/// the time (this crate reads no clock).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckpointPolicy {
    /// Sign after this many records (0 = never by count).
    pub every_records: u64,
    /// Sign when the last checkpoint is this old and records were added
    /// since (0 = never by time).
    pub every_ms: u64,
}

impl Default for CheckpointPolicy {
    /// Every 1000 records or 10 seconds: the unsigned tail stays short, and
    /// one signature per 1000 appends costs nothing measurable.
    fn default() -> Self {
        CheckpointPolicy {
            every_records: 1000,
            every_ms: 10_000,
        }
    }
}

impl CheckpointPolicy {
    /// True when a checkpoint should be signed now, given the records
    /// appended and the milliseconds elapsed since the last one. Never due
    /// without new records: the head is already signed.
    pub fn due(&self, records_since: u64, ms_since: u64) -> bool {
        if records_since == 0 {
            return false;
        }
        (self.every_records > 0 && records_since >= self.every_records)
            || (self.every_ms > 0 && ms_since >= self.every_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_is_due_by_count_or_time_but_never_without_records() {
        let p = CheckpointPolicy {
            every_records: 10,
            every_ms: 1000,
        };
        assert!(!p.due(0, 1_000_000));
        assert!(!p.due(9, 999));
        assert!(p.due(10, 0));
        assert!(p.due(1, 1000));
        let never = CheckpointPolicy {
            every_records: 0,
            every_ms: 0,
        };
        assert!(!never.due(1_000_000, 1_000_000));
    }

    #[test]
    fn signature_binds_every_field() {
        let key = AuditKey::generate();
        let keys = PublicKeys::from(&key);
        let cp = Checkpoint::sign(&key, "a", 5, "ab", 77);
        assert_eq!(cp.verify_signature(&keys), Ok(()));
        let edits: [fn(&mut Checkpoint); 4] = [
            |c| c.chain_id = "b".into(),
            |c| c.seq = 6,
            |c| c.head_hash = "ac".into(),
            |c| c.ts_ms = 78,
        ];
        for edit in edits {
            let mut forged = cp.clone();
            edit(&mut forged);
            assert!(matches!(
                forged.verify_signature(&keys),
                Err(SignatureProblem::Invalid(_))
            ));
        }
    }

    #[test]
    fn signed_bytes_are_the_documented_canonical_json() {
        let cp = Checkpoint {
            chain_id: "vigil-a".into(),
            seq: 3,
            head_hash: "ff".into(),
            ts_ms: 10,
            public_key_id: "k".into(),
            signature: String::new(),
        };
        assert_eq!(
            String::from_utf8(cp.signed_bytes()).unwrap(),
            r#"{"chain_id":"vigil-a","domain":"vigil.audit.checkpoint.v1","head_hash":"ff","seq":3,"ts_ms":10}"#
        );
    }
}
