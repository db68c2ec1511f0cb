//! Verify: recompute every hash, follow every link, match every checkpoint
//! and retention cut, and name the first record where the chain breaks.
//!
//! [`Verifier`] is streaming: feed records in `(chain, seq)` order, one at
//! a time, so millions of records never sit in memory. Only checkpoints
//! (one per N records) are held, given up front. Chains (one per replica)
//! are checked independently; their records may come interleaved.

mod finish;
mod report;

pub use report::{ChainReport, Problem, ProblemKind, VerifyReport};

use crate::checkpoint::Checkpoint;
use crate::event::Retention;
use crate::keys::PublicKeys;
use crate::record::{Record, GENESIS_HASH};
use crate::{retention, SCHEMA_VERSION};
use std::collections::BTreeMap;

/// How far from its own seq a record's content is searched for when its
/// hash fails (to tell "moved" from "edited"). Cheap: one SHA-256 per seq.
const MOVED_WINDOW: u64 = 4096;

/// What the check covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scope {
    /// Whole chains: a chain must start at seq 1 or at a signed retention cut.
    #[default]
    Full,
    /// A range: each chain's first record is trusted as the anchor.
    Range,
}

/// Per-chain progress.
#[derive(Debug)]
struct ChainState {
    first_seq: u64,
    first_prev: String,
    last_seq: u64,
    last_hash: String,
    records: u64,
    checkpoints_verified: u64,
    last_signed_seq: Option<u64>,
    /// A late start waiting for a retention record: `(seq - 1, prev_hash)`.
    pending_cut: Option<(u64, String)>,
    accepted_cut: Option<u64>,
}

/// The streaming checker.
#[derive(Debug)]
pub struct Verifier<'k> {
    keys: &'k PublicKeys,
    scope: Scope,
    checkpoints: BTreeMap<(String, u64), Vec<Checkpoint>>,
    chains: BTreeMap<String, ChainState>,
    records: u64,
    checkpoints_skipped: u64,
    problem: Option<Problem>,
}

/// Checks whole chains held in memory (tests, small exports).
pub fn verify(
    records: impl IntoIterator<Item = Record>,
    checkpoints: impl IntoIterator<Item = Checkpoint>,
    keys: &PublicKeys,
) -> VerifyReport {
    let mut v = Verifier::new(keys, checkpoints, Scope::Full);
    for record in records {
        if !v.feed(&record) {
            break;
        }
    }
    v.finish()
}

impl<'k> Verifier<'k> {
    /// With no keys, signatures are not checked (the report says so).
    pub fn new(
        keys: &'k PublicKeys,
        checkpoints: impl IntoIterator<Item = Checkpoint>,
        scope: Scope,
    ) -> Self {
        let mut by_pos: BTreeMap<(String, u64), Vec<Checkpoint>> = BTreeMap::new();
        for cp in checkpoints {
            by_pos
                .entry((cp.chain_id.clone(), cp.seq))
                .or_default()
                .push(cp);
        }
        Verifier {
            keys,
            scope,
            checkpoints: by_pos,
            chains: BTreeMap::new(),
            records: 0,
            checkpoints_skipped: 0,
            problem: None,
        }
    }

    /// Checks the next record. Returns false once a problem was found
    /// (further records are ignored).
    pub fn feed(&mut self, record: &Record) -> bool {
        if self.problem.is_some() {
            return false;
        }
        if let Err(p) = self.check(record) {
            self.problem = Some(p);
            return false;
        }
        self.records += 1;
        true
    }

    /// Records a problem found outside the verifier (a row that could not
    /// even be read as a record).
    pub fn fail(&mut self, problem: Problem) {
        if self.problem.is_none() {
            self.problem = Some(problem);
        }
    }

    pub fn has_problem(&self) -> bool {
        self.problem.is_some()
    }

    fn check(&mut self, r: &Record) -> Result<(), Problem> {
        let problem = |kind, detail: String| Problem {
            chain_id: r.chain_id.clone(),
            seq: r.seq,
            kind,
            detail,
        };
        if r.schema_version != SCHEMA_VERSION {
            return Err(problem(
                ProblemKind::Unsupported,
                format!(
                    "schema_version {} is not {SCHEMA_VERSION}",
                    r.schema_version
                ),
            ));
        }
        check_own_hash(r)?;
        self.check_link(r)?;
        if r.event_type == "retention" {
            self.check_retention(r)?;
        }
        self.check_checkpoints(r)
    }

    /// Follows the link to the previous record of the same chain.
    fn check_link(&mut self, r: &Record) -> Result<(), Problem> {
        let problem = |kind, detail: String| Problem {
            chain_id: r.chain_id.clone(),
            seq: r.seq,
            kind,
            detail,
        };
        let Some(state) = self.chains.get_mut(&r.chain_id) else {
            return self.start_chain(r);
        };
        if r.seq <= state.last_seq {
            return Err(problem(
                ProblemKind::Reordered,
                format!("seq {} comes after seq {}", r.seq, state.last_seq),
            ));
        }
        let expected = state.last_seq.saturating_add(1);
        if r.seq > expected {
            let missing = if r.seq - 1 == expected {
                format!("seq {expected} is missing")
            } else {
                format!("seqs {expected}..{} are missing", r.seq - 1)
            };
            return Err(problem(ProblemKind::Deleted, missing));
        }
        if r.prev_hash != state.last_hash {
            return Err(problem(
                ProblemKind::Deleted,
                format!(
                    "prev_hash does not match seq {}'s hash: a record between them was removed, or seq {} was rewritten",
                    state.last_seq, state.last_seq
                ),
            ));
        }
        state.last_seq = r.seq;
        state.last_hash.clone_from(&r.hash);
        state.records += 1;
        Ok(())
    }

    fn start_chain(&mut self, r: &Record) -> Result<(), Problem> {
        let mut pending_cut = None;
        if r.seq == 0 {
            return Err(problem_at(
                r,
                ProblemKind::Modified,
                "seq 0 is not a position",
            ));
        }
        if r.seq == 1 && r.prev_hash != GENESIS_HASH {
            return Err(problem_at(
                r,
                ProblemKind::Deleted,
                "the first record does not start from the genesis hash",
            ));
        }
        if r.seq > 1 && self.scope == Scope::Full {
            pending_cut = Some((r.seq - 1, r.prev_hash.clone()));
        }
        self.chains.insert(
            r.chain_id.clone(),
            ChainState {
                first_seq: r.seq,
                first_prev: r.prev_hash.clone(),
                last_seq: r.seq,
                last_hash: r.hash.clone(),
                records: 1,
                checkpoints_verified: 0,
                last_signed_seq: None,
                pending_cut,
                accepted_cut: None,
            },
        );
        Ok(())
    }

    /// A retention record must be validly signed; if it names the cut this
    /// chain starts after, the late start is accepted.
    fn check_retention(&mut self, r: &Record) -> Result<(), Problem> {
        let invalid = |detail: String| problem_at(r, ProblemKind::InvalidRetention, &detail);
        let event: Retention =
            serde_json::from_value(r.event.clone()).map_err(|e| invalid(e.to_string()))?;
        if event.last_deleted_seq >= r.seq {
            return Err(invalid(format!(
                "names seq {} as deleted, not before itself",
                event.last_deleted_seq
            )));
        }
        if !self.keys.is_empty() {
            retention::verify_retention(self.keys, &r.chain_id, &event)
                .map_err(|e| invalid(e.to_string()))?;
        }
        if let Some(state) = self.chains.get_mut(&r.chain_id) {
            let names_start = state.first_seq == event.last_deleted_seq + 1
                && state.first_prev == event.last_deleted_hash;
            if names_start {
                state.pending_cut = None;
                state.accepted_cut = Some(event.last_deleted_seq);
            }
        }
        Ok(())
    }

    /// Every checkpoint at this record's seq must be validly signed and
    /// name this record's hash.
    fn check_checkpoints(&mut self, r: &Record) -> Result<(), Problem> {
        let Some(cps) = self.checkpoints.remove(&(r.chain_id.clone(), r.seq)) else {
            return Ok(());
        };
        for cp in &cps {
            self.check_signature(cp)?;
            if cp.head_hash != r.hash {
                let since = self
                    .chains
                    .get(&r.chain_id)
                    .and_then(|s| s.last_signed_seq)
                    .map_or("the chain's start".to_owned(), |s| format!("seq {s}"));
                return Err(problem_at(
                    r,
                    ProblemKind::CheckpointMismatch,
                    &format!(
                        "the signed head hash differs from the record's: the chain was rewritten after {since}"
                    ),
                ));
            }
        }
        if let Some(state) = self.chains.get_mut(&r.chain_id) {
            state.checkpoints_verified += cps.len() as u64;
            state.last_signed_seq = Some(r.seq);
        }
        Ok(())
    }

    fn check_signature(&self, cp: &Checkpoint) -> Result<(), Problem> {
        if self.keys.is_empty() {
            return Ok(());
        }
        cp.verify_signature(self.keys).map_err(|e| Problem {
            chain_id: cp.chain_id.clone(),
            seq: cp.seq,
            kind: ProblemKind::ForgedCheckpoint,
            detail: e.to_string(),
        })
    }
}

/// The record's content must hash to its `hash`; if it hashes at another
/// seq, it was moved there from elsewhere.
fn check_own_hash(r: &Record) -> Result<(), Problem> {
    let computed = r
        .compute_hash()
        .map_err(|e| problem_at(r, ProblemKind::Modified, &e.to_string()))?;
    if computed == r.hash {
        return Ok(());
    }
    Err(match r.hash_at_seq(MOVED_WINDOW) {
        Some(true_seq) => problem_at(
            r,
            ProblemKind::Reordered,
            &format!("holds the content of seq {true_seq} (records swapped or renumbered)"),
        ),
        None => problem_at(
            r,
            ProblemKind::Modified,
            "the content does not hash to the stored hash",
        ),
    })
}

fn problem_at(r: &Record, kind: ProblemKind, detail: &str) -> Problem {
    Problem {
        chain_id: r.chain_id.clone(),
        seq: r.seq,
        kind,
        detail: detail.to_owned(),
    }
}

#[cfg(test)]
mod tests;
