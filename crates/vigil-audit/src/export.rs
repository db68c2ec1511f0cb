//! The JSONL export: one JSON object per line, records and the checkpoints
//! that sign them, so a third party can verify with the public key alone.
//!
//! ```text
//! {"type":"record","schema_version":1,"chain_id":"…","seq":1,…,"hash":"…"}
//! {"type":"checkpoint","chain_id":"…","seq":1000,"head_hash":"…",…}
//! ```
//! `type` is not part of any hash; every other field is as stored.

use crate::checkpoint::Checkpoint;
use crate::record::Record;
use serde::{Deserialize, Serialize};
use std::io::BufRead;

/// One line of an export.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ExportLine {
    Record(Record),
    Checkpoint(Checkpoint),
}

/// A line that is not a record or checkpoint.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("reading the export: {0}")]
    Io(#[from] std::io::Error),
    #[error("line {line}: {source}")]
    Parse {
        line: u64,
        #[source]
        source: serde_json::Error,
    },
}

impl ExportLine {
    /// The line's JSON text (no trailing newline).
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(self)
    }
}

/// Iterates the lines of an export, skipping blank ones.
pub fn read_lines<R: BufRead>(reader: R) -> impl Iterator<Item = Result<ExportLine, ExportError>> {
    reader
        .lines()
        .enumerate()
        .filter_map(|(i, line)| match line {
            Err(e) => Some(Err(ExportError::Io(e))),
            Ok(text) if text.trim().is_empty() => None,
            Ok(text) => Some(
                serde_json::from_str(&text).map_err(|source| ExportError::Parse {
                    line: i as u64 + 1,
                    source,
                }),
            ),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AuditKey, ChainHead, Event, PolicyLoaded};

    #[test]
    fn lines_round_trip_with_a_type_tag() {
        let key = AuditKey::generate();
        let mut head = ChainHead::genesis("c");
        let ev = Event::PolicyLoaded(PolicyLoaded {
            version: "v".into(),
            files: vec![],
        });
        let record = head.append(5, &ev).unwrap();
        let cp = Checkpoint::sign(&key, "c", 1, &record.hash, 6);
        let text = format!(
            "{}\n\n{}\n",
            ExportLine::Record(record.clone()).to_json().unwrap(),
            ExportLine::Checkpoint(cp.clone()).to_json().unwrap()
        );
        assert!(text.starts_with("{\"type\":\"record\""));
        let lines: Vec<ExportLine> = read_lines(text.as_bytes()).map(Result::unwrap).collect();
        assert_eq!(
            lines,
            vec![ExportLine::Record(record), ExportLine::Checkpoint(cp)]
        );
        let bad: Vec<_> = read_lines("{\"type\":\"x\"}\n".as_bytes()).collect();
        assert!(matches!(
            bad.first(),
            Some(Err(ExportError::Parse { line: 1, .. }))
        ));
    }
}
