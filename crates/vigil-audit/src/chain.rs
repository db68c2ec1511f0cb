//! Appending to a chain. [`ChainHead`] is the writer's only state: the last
//! record's seq and hash. A writer builds a batch on a clone and keeps the
//! clone only once the batch is durably stored, so a failed batch can never
//! fork the chain.

use crate::canonical::EncodeError;
use crate::event::Event;
use crate::record::{Link, Record, GENESIS_HASH};
use crate::SCHEMA_VERSION;
use serde_json::Value;

/// An event could not be turned into a record.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    #[error("cannot serialize the event: {0}")]
    Serialize(#[from] serde_json::Error),
    #[error(transparent)]
    Encode(#[from] EncodeError),
    /// Only reachable from a store whose last seq was edited to the maximum.
    #[error("the chain's seq is exhausted")]
    SeqExhausted,
}

/// Where the next record goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainHead {
    chain_id: String,
    seq: u64,
    hash: String,
}

impl ChainHead {
    /// An empty chain: the first record gets seq 1 and the genesis prev_hash.
    pub fn genesis(chain_id: impl Into<String>) -> Self {
        ChainHead {
            chain_id: chain_id.into(),
            seq: 0,
            hash: GENESIS_HASH.to_owned(),
        }
    }

    /// Continues after a stored record (the last one of the chain).
    pub fn resume(chain_id: impl Into<String>, seq: u64, hash: impl Into<String>) -> Self {
        ChainHead {
            chain_id: chain_id.into(),
            seq,
            hash: hash.into(),
        }
    }

    pub fn chain_id(&self) -> &str {
        &self.chain_id
    }

    /// The last record's seq (0 for an empty chain).
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// The last record's hash (the genesis hash for an empty chain).
    pub fn hash(&self) -> &str {
        &self.hash
    }

    /// Builds the next record for `event` at `ts_ms` and advances.
    pub fn append(&mut self, ts_ms: i64, event: &Event) -> Result<Record, ChainError> {
        let body = event.body()?;
        self.append_raw(ts_ms, event.event_type(), body)
    }

    /// Like [`ChainHead::append`] with an already serialized body.
    pub fn append_raw(
        &mut self,
        ts_ms: i64,
        event_type: &str,
        event: Value,
    ) -> Result<Record, ChainError> {
        let text = crate::canonical::to_string(&event)?;
        let link = self.append_text(ts_ms, event_type, text)?;
        Ok(Record {
            schema_version: link.schema_version,
            chain_id: link.chain_id,
            seq: link.seq,
            ts_ms: link.ts_ms,
            event_type: link.event_type,
            event,
            prev_hash: link.prev_hash,
            hash: link.hash,
        })
    }

    /// The next link for an event given as its canonical text
    /// ([`Event::canonical_text`]), and advances: what the writer stages.
    pub fn append_text(
        &mut self,
        ts_ms: i64,
        event_type: &str,
        event_text: String,
    ) -> Result<Link, ChainError> {
        let mut link = Link {
            schema_version: SCHEMA_VERSION,
            chain_id: self.chain_id.clone(),
            seq: self.seq.checked_add(1).ok_or(ChainError::SeqExhausted)?,
            ts_ms,
            event_type: event_type.to_owned(),
            event_text,
            prev_hash: self.hash.clone(),
            hash: String::new(),
        };
        link.hash = link.compute_hash();
        self.seq = link.seq;
        self.hash.clone_from(&link.hash);
        Ok(link)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_head_at_the_last_seq_refuses_instead_of_wrapping() {
        let mut head = ChainHead::resume("c", u64::MAX, GENESIS_HASH);
        let body = serde_json::json!({});
        assert!(matches!(
            head.append_raw(0, "x", body),
            Err(ChainError::SeqExhausted)
        ));
        assert_eq!(head.seq(), u64::MAX);
    }
}
