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
        self.preimage_parts_with(None)
    }

    /// [`Record::preimage_parts`], with the event's canonical text when the
    /// caller already has it ([`Record::event_text`]).
    fn preimage_parts_with(
        &self,
        event_text: Option<&str>,
    ) -> Result<(Vec<u8>, Vec<u8>), EncodeError> {
        let mut out = Vec::with_capacity(512);
        out.extend_from_slice(b"{\"chain_id\":");
        canonical::encode_str(&self.chain_id, &mut out);
        out.extend_from_slice(b",\"event\":");
        match event_text {
            Some(text) => out.extend_from_slice(text.as_bytes()),
            None => canonical::encode_into(&self.event, &mut out)?,
        }
        out.extend_from_slice(b",\"event_type\":");
        canonical::encode_str(&self.event_type, &mut out);
        out.extend_from_slice(b",\"prev_hash\":");
        canonical::encode_str(&self.prev_hash, &mut out);
        out.extend_from_slice(b",\"schema_version\":");
        out.extend_from_slice(self.schema_version.to_string().as_bytes());
        out.extend_from_slice(b",\"seq\":");
        let suffix = format!(",\"ts_ms\":{}}}", self.ts_ms).into_bytes();
        Ok((out, suffix))
    }

    /// The hash this record's content should carry.
    pub fn compute_hash(&self) -> Result<String, EncodeError> {
        Ok(hex::encode(Sha256::digest(self.preimage()?)))
    }

    /// [`Record::compute_hash`] given the event's canonical text, which
    /// must be `self.event_text()` (the writer has it already and saves
    /// encoding the event a second time).
    pub fn compute_hash_with(&self, event_text: &str) -> Result<String, EncodeError> {
        let (mut out, suffix) = self.preimage_parts_with(Some(event_text))?;
        out.extend_from_slice(self.seq.to_string().as_bytes());
        out.extend_from_slice(&suffix);
        Ok(hex::encode(Sha256::digest(out)))
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
    fn the_hash_from_the_event_text_is_the_hash() {
        let r = record();
        let text = r.event_text().unwrap();
        assert_eq!(
            r.compute_hash_with(&text).unwrap(),
            r.compute_hash().unwrap()
        );
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
