//! The end of a verification: what only the whole stream can tell —
//! checkpoints that matched no record (a truncated tail, a removed chain)
//! and late chain starts that no signed retention record explained.

use super::{ChainReport, ChainState, Problem, ProblemKind, Scope, Verifier, VerifyReport};

impl Verifier<'_> {
    /// Settles what only the end can tell: unmatched checkpoints and late
    /// starts without a retention cut.
    pub fn finish(mut self) -> VerifyReport {
        if self.problem.is_none() {
            self.problem = self.check_leftovers().err();
        }
        let chains: Vec<ChainReport> = self
            .chains
            .iter()
            .map(|(id, s)| chain_report(id, s, self.scope))
            .collect();
        VerifyReport {
            records: self.records,
            checkpoints_verified: chains.iter().map(|c| c.checkpoints_verified).sum(),
            chains,
            checkpoints_skipped: self.checkpoints_skipped,
            signatures_checked: !self.keys.is_empty(),
            problem: self.problem,
        }
    }

    fn check_leftovers(&mut self) -> Result<(), Problem> {
        for (id, state) in &self.chains {
            if let Some((cut, prev)) = &state.pending_cut {
                return Err(Problem {
                    chain_id: id.clone(),
                    seq: state.first_seq,
                    kind: ProblemKind::Deleted,
                    detail: format!(
                        "the chain starts at seq {} but no signed retention record names the cut (seq {cut}, hash {prev})",
                        state.first_seq
                    ),
                });
            }
        }
        let leftovers = std::mem::take(&mut self.checkpoints);
        for ((chain, seq), cps) in leftovers {
            for cp in &cps {
                self.check_signature(cp)?;
            }
            let state = self.chains.get(&chain);
            let after_end = match state {
                Some(s) => seq > s.last_seq,
                None => self.scope == Scope::Full,
            };
            if after_end {
                let last = state.map_or("no records".to_owned(), |s| {
                    format!("the last record is seq {}", s.last_seq)
                });
                return Err(Problem {
                    chain_id: chain,
                    seq,
                    kind: ProblemKind::Truncated,
                    detail: format!(
                        "a checkpoint signs seq {seq} but {last}: the tail was removed"
                    ),
                });
            }
            self.checkpoints_skipped += cps.len() as u64;
        }
        Ok(())
    }
}

fn chain_report(id: &str, s: &ChainState, scope: Scope) -> ChainReport {
    ChainReport {
        chain_id: id.to_owned(),
        records: s.records,
        first_seq: s.first_seq,
        last_seq: s.last_seq,
        last_hash: s.last_hash.clone(),
        checkpoints_verified: s.checkpoints_verified,
        last_signed_seq: s.last_signed_seq,
        unsigned_tail: s.last_seq - s.last_signed_seq.unwrap_or(s.first_seq - 1),
        retention_cut: s.accepted_cut,
        anchored: scope == Scope::Range && s.first_seq > 1,
    }
}
