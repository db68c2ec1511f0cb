//! What verify found: counts per chain, or the first problem with the exact
//! record and what kind of tampering it shows.

use serde::Serialize;
use std::fmt;

/// The kind of damage found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// The record's content does not hash to its `hash`.
    Modified,
    /// A seq is missing, a record does not link to its predecessor, or the
    /// chain starts late without a signed retention cut.
    Deleted,
    /// Seqs go backwards, or a record's content belongs at another seq.
    Reordered,
    /// A checkpoint's signature is invalid or by an unknown key.
    ForgedCheckpoint,
    /// A validly signed checkpoint names a different head than the chain.
    CheckpointMismatch,
    /// A checkpoint signs a seq after the chain's last record: the tail
    /// after it was removed.
    Truncated,
    /// A retention record is malformed or its signature does not verify.
    InvalidRetention,
    /// A schema version this build cannot check.
    Unsupported,
}

impl ProblemKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProblemKind::Modified => "modified",
            ProblemKind::Deleted => "deleted",
            ProblemKind::Reordered => "reordered",
            ProblemKind::ForgedCheckpoint => "forged checkpoint",
            ProblemKind::CheckpointMismatch => "checkpoint mismatch",
            ProblemKind::Truncated => "truncated",
            ProblemKind::InvalidRetention => "invalid retention record",
            ProblemKind::Unsupported => "unsupported",
        }
    }
}

/// The first problem found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub chain_id: String,
    /// The record (or checkpoint) position where the chain breaks.
    pub seq: u64,
    pub kind: ProblemKind,
    /// A sentence for the operator.
    pub detail: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "chain {} seq {}: {}: {}",
            self.chain_id,
            self.seq,
            self.kind.as_str(),
            self.detail
        )
    }
}

/// One chain's counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainReport {
    pub chain_id: String,
    pub records: u64,
    pub first_seq: u64,
    pub last_seq: u64,
    pub last_hash: String,
    pub checkpoints_verified: u64,
    /// The highest seq covered by a verified checkpoint.
    pub last_signed_seq: Option<u64>,
    /// Records after `last_signed_seq`: linked, but not yet signed, so
    /// deleting them would not be detectable.
    pub unsigned_tail: u64,
    /// The accepted retention cut: records up to this seq were expired.
    pub retention_cut: Option<u64>,
    /// True when the check started mid-chain (a range), trusting the first
    /// record's prev_hash.
    pub anchored: bool,
}

/// The outcome of verify.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    pub records: u64,
    pub chains: Vec<ChainReport>,
    pub checkpoints_verified: u64,
    /// Validly signed checkpoints for records outside what was checked
    /// (before a range start or a retention cut).
    pub checkpoints_skipped: u64,
    /// False when no public key was given: links and checkpoint heads were
    /// checked, signatures were not.
    pub signatures_checked: bool,
    pub problem: Option<Problem>,
}

impl VerifyReport {
    pub fn is_ok(&self) -> bool {
        self.problem.is_none()
    }
}

impl fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(p) = &self.problem {
            writeln!(f, "BROKEN: {p}")?;
            return writeln!(f, "({} records checked before it)", self.records);
        }
        writeln!(
            f,
            "OK: {} records in {} chain(s), {} checkpoint(s) verified{}",
            self.records,
            self.chains.len(),
            self.checkpoints_verified,
            if self.signatures_checked {
                ""
            } else {
                " (signatures NOT checked: no public key)"
            }
        )?;
        for c in &self.chains {
            write_chain(f, c)?;
        }
        Ok(())
    }
}

fn write_chain(f: &mut fmt::Formatter<'_>, c: &ChainReport) -> fmt::Result {
    write!(
        f,
        "  chain {}: seq {}..{} ({} records)",
        c.chain_id, c.first_seq, c.last_seq, c.records
    )?;
    match c.last_signed_seq {
        Some(s) => write!(f, ", last signed seq {s}")?,
        None => write!(f, ", no checkpoint")?,
    }
    if c.unsigned_tail > 0 {
        write!(f, ", unsigned tail: {} record(s)", c.unsigned_tail)?;
    }
    if let Some(cut) = c.retention_cut {
        write!(f, ", retention cut after seq {cut}")?;
    }
    if c.anchored {
        write!(f, ", anchored at seq {} (range)", c.first_seq)?;
    }
    writeln!(f)
}
