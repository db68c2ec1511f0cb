//! One link of the chain: `{schema_version, chain_id, seq, ts_ms,
//! event_type, event, prev_hash, hash}`, where `hash` is the SHA-256 of the
//! canonical JSON of every other field (see [`crate::canonical`]).

use crate::canonical::{self, EncodeError};
use crate::digest::Sha256;
use crate::event::{Event, EventError, RecordRef};
use serde::{Deserialize, Serialize};
use serde_json::Value;

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
        let link = Link::of(self)?;
        let p = Pieces::of(&link.fields());
        let mut out = Vec::with_capacity(link.event_text.len() + 256);
        for piece in [
            p.head.as_slice(),
            link.event_text.as_bytes(),
            &p.mid,
            self.seq.to_string().as_bytes(),
            p.tail.as_bytes(),
        ] {
            out.extend_from_slice(piece);
        }
        Ok(out)
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
        let link = Link::of(self).ok()?;
        let p = Pieces::of(&link.fields());
        let mut base = Sha256::new();
        p.before_seq(link.event_text.as_bytes(), &mut base);
        let lo = self.seq.saturating_sub(window).max(1);
        let hi = self.seq.saturating_add(window);
        (lo..=hi).filter(|&s| s != self.seq).find(|&s| {
            let mut h = base.clone();
            p.seq_onward(s, &mut h);
            h.finish_hex() == self.hash
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
    /// The event text is hashed where it lies, not copied into a preimage.
    pub fn compute_hash(&self) -> String {
        let p = Pieces::of(&self.fields());
        let mut h = Sha256::new();
        p.before_seq(self.event_text.as_bytes(), &mut h);
        p.seq_onward(self.seq, &mut h);
        h.finish_hex()
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

/// The preimage around its two variable parts: it is `head`, the event
/// text, `mid`, the seq's digits, then `tail` (the keys in byte order).
struct Pieces {
    head: Vec<u8>,
    mid: Vec<u8>,
    tail: String,
}

impl Pieces {
    fn of(f: &Fields<'_>) -> Pieces {
        let mut head = Vec::with_capacity(f.chain_id.len() + 24);
        head.extend_from_slice(b"{\"chain_id\":");
        canonical::encode_str(f.chain_id, &mut head);
        head.extend_from_slice(b",\"event\":");
        let mut mid = Vec::with_capacity(f.event_type.len() + f.prev_hash.len() + 64);
        mid.extend_from_slice(b",\"event_type\":");
        canonical::encode_str(f.event_type, &mut mid);
        mid.extend_from_slice(b",\"prev_hash\":");
        canonical::encode_str(f.prev_hash, &mut mid);
        mid.extend_from_slice(b",\"schema_version\":");
        mid.extend_from_slice(f.schema_version.to_string().as_bytes());
        mid.extend_from_slice(b",\"seq\":");
        let tail = format!(",\"ts_ms\":{}}}", f.ts_ms);
        Pieces { head, mid, tail }
    }

    /// Feeds everything before the seq's digits.
    fn before_seq(&self, event_text: &[u8], h: &mut Sha256) {
        h.update(&self.head);
        h.update(event_text);
        h.update(&self.mid);
    }

    /// Feeds `seq`'s digits and the rest.
    fn seq_onward(&self, seq: u64, h: &mut Sha256) {
        h.update(seq.to_string().as_bytes());
        h.update(self.tail.as_bytes());
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
    fn the_hash_is_sha256_of_the_preimage() {
        let r = record();
        let hash = r.compute_hash().unwrap();
        assert_eq!(hash, Sha256::hex_of(&r.preimage().unwrap()));
        // Computed independently (Python's hashlib over the preimage text),
        // so a change of layout or hash function cannot pass unnoticed.
        assert_eq!(
            hash,
            "0e61566752bf09bbff6d3b918163e858c9041e326c06cbe643d9aff77df6dee4"
        );
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
