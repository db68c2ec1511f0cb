//! The signed retention cut. Deleting expired records removes the start of
//! a chain; without proof, that looks exactly like an attacker deleting
//! history. So the writer appends a `retention` record naming the last
//! deleted record (seq and hash) and signs that cut with the audit key.
//! Verify accepts a chain that starts at seq N > 1 only if some validly
//! signed retention record in the same chain names `(N - 1, prev_hash of N)`.

use crate::canonical;
use crate::event::Retention;
use crate::keys::{AuditKey, PublicKeys, SignatureProblem};
use serde_json::json;

/// Domain separation for retention signatures.
pub const RETENTION_DOMAIN: &str = "vigil.audit.retention.v1";

/// What a retention run deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cut {
    pub cutoff_ts_ms: i64,
    pub deleted_records: u64,
    pub last_deleted_seq: u64,
    pub last_deleted_hash: String,
}

/// Builds the signed `retention` event for `cut` on `chain_id`.
pub fn sign_retention(key: &AuditKey, chain_id: &str, cut: &Cut) -> Retention {
    let mut event = Retention {
        cutoff_ts_ms: cut.cutoff_ts_ms,
        deleted_records: cut.deleted_records,
        last_deleted_seq: cut.last_deleted_seq,
        last_deleted_hash: cut.last_deleted_hash.clone(),
        public_key_id: key.key_id().to_owned(),
        signature: String::new(),
    };
    event.signature = key.sign_hex(&signed_bytes(chain_id, &event));
    event
}

/// The canonical JSON the signature covers: `{"chain_id","cutoff_ts_ms",
/// "deleted_records","domain","last_deleted_hash","last_deleted_seq"}`.
pub fn signed_bytes(chain_id: &str, event: &Retention) -> Vec<u8> {
    let value = json!({
        "chain_id": chain_id,
        "cutoff_ts_ms": event.cutoff_ts_ms,
        "deleted_records": event.deleted_records,
        "domain": RETENTION_DOMAIN,
        "last_deleted_hash": event.last_deleted_hash,
        "last_deleted_seq": event.last_deleted_seq,
    });
    // Strings and integers only: canonical encoding cannot fail here.
    canonical::encode(&value).unwrap_or_default()
}

/// Checks a retention event's signature for `chain_id`.
pub fn verify_retention(
    keys: &PublicKeys,
    chain_id: &str,
    event: &Retention,
) -> Result<(), SignatureProblem> {
    keys.verify_hex(
        &event.public_key_id,
        &signed_bytes(chain_id, event),
        &event.signature,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cut() -> Cut {
        Cut {
            cutoff_ts_ms: 1000,
            deleted_records: 9,
            last_deleted_seq: 9,
            last_deleted_hash: "aa".into(),
        }
    }

    #[test]
    fn signature_binds_chain_and_cut() {
        let key = AuditKey::generate();
        let keys = PublicKeys::from(&key);
        let ev = sign_retention(&key, "a", &cut());
        assert_eq!(verify_retention(&keys, "a", &ev), Ok(()));
        assert!(verify_retention(&keys, "b", &ev).is_err());
        let mut moved = ev.clone();
        moved.last_deleted_seq = 10;
        assert!(verify_retention(&keys, "a", &moved).is_err());
        let mut rehashed = ev;
        rehashed.last_deleted_hash = "ab".into();
        assert!(verify_retention(&keys, "a", &rehashed).is_err());
    }
}
