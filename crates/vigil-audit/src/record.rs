//! One link of the chain: `{schema_version, chain_id, seq, ts_ms,
//! event_type, event, prev_hash, hash}`, where `hash` is the SHA-256 of the
//! canonical JSON of every other field (see [`crate::canonical`]).

use crate::canonical::{self, EncodeError};
use crate::event::{Event, EventError, RecordRef};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// `prev_hash` of a chain's first record (seq 1): 64 zeros.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// A stored audit record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// The layout and event schema version ([`crate::SCHEMA_VERSION`]).
    pub schema_version: u32,
    /// Which chain (one per Vigil replica).
    pub chain_id: String,
    /// Position in the chain, from 1, without gaps.
    pub seq: u64,
    /// When the writer appended it, Unix milliseconds.
    pub ts_ms: i64,
    pub event_type: String,
    pub event: Value,
    /// The previous record's `hash` ([`GENESIS_HASH`] for seq 1).
    pub prev_hash: String,
    /// Hex SHA-256 of the canonical encoding of all fields above.
    pub hash: String,
}

impl Record {
    /// The canonical bytes the hash covers: a JSON object of every field
    /// but `hash`, keys sorted. Written out field by field (the keys below
    /// are already in byte order) so the event is not cloned into a map.
    pub fn preimage(&self) -> Result<Vec<u8>, EncodeError> {
        let (mut out, suffix) = self.preimage_parts()?;
        out.extend_from_slice(self.seq.to_string().as_bytes());
        out.extend_from_slice(&suffix);
        Ok(out)
    }

    /// The preimage split around the value of `seq`, which sits near the
    /// end: lets [`Record::hash_at_seq`] try other positions cheaply.
    fn preimage_parts(&self) -> Result<(Vec<u8>, Vec<u8>), EncodeError> {
        let link = Link::of(self)?;
        Ok(preimage_parts(&link.fields(), link.event_text.as_bytes()))
    }

    /// The hash this record's content should carry.
    pub fn compute_hash(&self) -> Result<String, EncodeError> {
        Ok(Link::of(self)?.compute_hash())
    }

    /// Looks for the seq at which this record's content hashes to its
    /// stored `hash`, within `window` positions of its own seq. Finds
    /// records moved (swapped, renumbered) to another position; only run
    /// on a record whose hash already failed, so the cost is paid once.
    pub fn hash_at_seq(&self, window: u64) -> Option<u64> {
        let (prefix, suffix) = self.preimage_parts().ok()?;
        let mut base = Sha256::new();
        base.update(&prefix);
        let lo = self.seq.saturating_sub(window).max(1);
        let hi = self.seq.saturating_add(window);
        (lo..=hi).filter(|&s| s != self.seq).find(|s| {
            let mut h = base.clone();
            h.update(s.to_string().as_bytes());
            h.update(&suffix);
            hex::encode(h.finalize()) == self.hash
        })
    }

    /// The typed event.
    pub fn decode_event(&self) -> Result<Event, EventError> {
        Event::from_parts(&self.event_type, &self.event)
    }

    /// How other records (an outcome) and callers point at this one.
    pub fn reference(&self) -> RecordRef {
        RecordRef {
            seq: self.seq,
            hash: self.hash.clone(),
        }
    }

    /// The event body as canonical JSON text (how the store keeps it).
    pub fn event_text(&self) -> Result<String, EncodeError> {
        canonical::to_string(&self.event)
    }
}

/// A record as the writer stages and stores it: every field of a
/// [`Record`], the event as its canonical text instead of a
/// `serde_json::Value` (the write path never builds one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub schema_version: u32,
    pub chain_id: String,
    pub seq: u64,
    pub ts_ms: i64,
    pub event_type: String,
    /// The event body's canonical JSON (the `event` column).
    pub event_text: String,
    pub prev_hash: String,
    pub hash: String,
}

impl Link {
    /// A record's link (encodes its event).
    pub fn of(record: &Record) -> Result<Link, EncodeError> {
        Ok(Link {
            schema_version: record.schema_version,
            chain_id: record.chain_id.clone(),
            seq: record.seq,
            ts_ms: record.ts_ms,
            event_type: record.event_type.clone(),
            event_text: record.event_text()?,
            prev_hash: record.prev_hash.clone(),
            hash: record.hash.clone(),
        })
    }

    /// The hash this link's content should carry (as [`Record::compute_hash`]).
    pub fn compute_hash(&self) -> String {
        let (prefix, suffix) = preimage_parts(&self.fields(), self.event_text.as_bytes());
        let mut h = Sha256::new();
        h.update(&prefix);
        h.update(self.seq.to_string().as_bytes());
        h.update(&suffix);
        hex::encode(h.finalize())
    }

    /// Every field but the event and the hash.
    fn fields(&self) -> Fields<'_> {
        Fields {
            schema_version: self.schema_version,
            chain_id: &self.chain_id,
            ts_ms: self.ts_ms,
            event_type: &self.event_type,
            prev_hash: &self.prev_hash,
        }
    }

    pub fn reference(&self) -> RecordRef {
        RecordRef {
            seq: self.seq,
            hash: self.hash.clone(),
        }
    }
}

/// A record's fields but the event, the hash and the seq (the preimage is
/// split around the seq).
struct Fields<'a> {
    schema_version: u32,
    chain_id: &'a str,
    ts_ms: i64,
    event_type: &'a str,
    prev_hash: &'a str,
}

/// The preimage split around the value of `seq`: everything before it,
/// and everything after it.
fn preimage_parts(f: &Fields<'_>, event_text: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let mut out = Vec::with_capacity(event_text.len() + 256);
    out.extend_from_slice(b"{\"chain_id\":");
    canonical::encode_str(f.chain_id, &mut out);
    out.extend_from_slice(b",\"event\":");
    out.extend_from_slice(event_text);
    out.extend_from_slice(b",\"event_type\":");
    canonical::encode_str(f.event_type, &mut out);
    out.extend_from_slice(b",\"prev_hash\":");
    canonical::encode_str(f.prev_hash, &mut out);
    out.extend_from_slice(b",\"schema_version\":");
    out.extend_from_slice(f.schema_version.to_string().as_bytes());
    out.extend_from_slice(b",\"seq\":");
    let suffix = format!(",\"ts_ms\":{}}}", f.ts_ms).into_bytes();
    (out, suffix)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record() -> Record {
        Record {
            schema_version: 1,
            chain_id: "vigil-a".into(),
            seq: 7,
            ts_ms: 1_700_000_000_123,
            event_type: "policy.loaded".into(),
            event: json!({"version": "v1", "files": ["a.rego"]}),
            prev_hash: GENESIS_HASH.into(),
            hash: String::new(),
        }
    }

    #[test]
    fn preimage_is_the_canonical_object_without_hash() {
        let r = record();
        let mut as_value = serde_json::to_value(&r).unwrap();
        as_value.as_object_mut().unwrap().remove("hash");
        assert_eq!(r.preimage().unwrap(), canonical::encode(&as_value).unwrap());
    }

    #[test]
    fn a_link_hashes_as_its_record() {
        let mut r = record();
        r.hash = r.compute_hash().unwrap();
        let link = Link::of(&r).unwrap();
        assert_eq!(link.compute_hash(), r.hash);
        assert_eq!(link.reference(), r.reference());
        let mut moved = link.clone();
        moved.seq += 1;
        assert_ne!(moved.compute_hash(), r.hash);
    }

    #[test]
    fn moved_content_is_found_at_its_true_seq() {
        let mut r = record();
        r.seq = 42;
        r.hash = r.compute_hash().unwrap();
        r.seq = 40;
        assert_eq!(r.hash_at_seq(8), Some(42));
        assert_eq!(r.hash_at_seq(1), None);
        r.event = json!({"version": "v2", "files": []});
        assert_eq!(r.hash_at_seq(8), None);
    }
}
