//! Verifying the stored trail: the pure verifier fed chunk by chunk, plus
//! one store-only check — the searchable columns must still say what the
//! hashed event says (they are not hashed themselves).

use super::index::IndexFields;
use super::read::AuditRange;
use super::rows::StoredRow;
use super::scan::{self, Scan};
use super::AuditError;
use crate::Store;
use vigil_audit::{Problem, ProblemKind, PublicKeys, Scope, Verifier, VerifyReport};

/// Verifies `range` (every chain, or one) against `keys`. A range without a
/// `from` bound is checked from each chain's start (seq 1 or a signed
/// retention cut); with one, each chain's first record is the trusted anchor.
pub async fn verify_store(
    store: &Store,
    range: &AuditRange,
    keys: &PublicKeys,
) -> Result<VerifyReport, AuditError> {
    store.audit_caught_up().await;
    let scope = if range.from.is_some() {
        Scope::Range
    } else {
        Scope::Full
    };
    let checkpoints = scan::checkpoints(store, range).await?;
    let mut verifier = Verifier::new(keys, checkpoints, scope);
    let mut rows = Scan::new(store, range).await?;
    'chunks: while let Some(chunk) = rows.next_chunk().await? {
        for row in chunk {
            if !check_row(&mut verifier, row) {
                break 'chunks;
            }
        }
    }
    Ok(verifier.finish())
}

/// Feeds one row; false once a problem is known.
fn check_row(v: &mut Verifier<'_>, row: StoredRow) -> bool {
    let problem = |kind, detail: String| Problem {
        chain_id: row.chain_id.clone(),
        seq: row.seq,
        kind,
        detail,
    };
    let record = match &row.record {
        Ok(r) => r,
        Err(detail) => {
            v.fail(problem(ProblemKind::Modified, detail.clone()));
            return false;
        }
    };
    if !v.feed(record) {
        return false;
    }
    // An event type this build does not know (a newer writer) has no
    // derivable columns to compare; its hash was still checked above.
    let Ok(event) = record.decode_event() else {
        return true;
    };
    if let Some((column, stored, derived)) = row.index.first_difference(&IndexFields::of(&event)) {
        v.fail(problem(
            ProblemKind::Modified,
            format!("the searchable column {column} was edited: it holds {stored:?} but the event says {derived:?}"),
        ));
        return false;
    }
    true
}
