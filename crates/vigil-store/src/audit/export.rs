//! The JSONL export: every record in the range, each checkpoint right after
//! the record it signs (before it, if that record is outside the range), so
//! the file verifies on its own with the public key (docs/audit.md).

use super::read::AuditRange;
use super::scan::{self, Scan};
use super::AuditError;
use crate::{Store, StoreError};
use std::collections::VecDeque;
use std::io::Write;
use vigil_audit::{Checkpoint, ExportLine};

/// What an export wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExportStats {
    pub records: u64,
    pub checkpoints: u64,
}

/// Writes `range` as JSONL to `out`. Rows whose event is not JSON (edited
/// by hand) stop the export with an error: run verify to see where.
pub async fn export_jsonl(
    store: &Store,
    out: &mut (dyn Write + Send),
    range: &AuditRange,
) -> Result<ExportStats, AuditError> {
    store.audit_caught_up().await;
    let mut pending: VecDeque<Checkpoint> = scan::checkpoints(store, range).await?.into();
    let mut stats = ExportStats::default();
    let mut rows = Scan::new(store, range).await?;
    while let Some(chunk) = rows.next_chunk().await? {
        for row in chunk {
            let record = row.record.map_err(|detail| StoreError::Corrupt {
                what: "audit record",
                detail: format!("chain {} seq {}: {detail}", row.chain_id, row.seq),
            })?;
            // Checkpoints sort by (chain, seq) like the records: first those
            // before this record, then those signing it.
            let (chain, seq) = (record.chain_id.clone(), record.seq);
            let at = |c: &Checkpoint| (c.chain_id.as_str(), c.seq).cmp(&(chain.as_str(), seq));
            stats.checkpoints += drain(out, &mut pending, |c| at(c).is_lt())?;
            write_line(out, &ExportLine::Record(record))?;
            stats.records += 1;
            stats.checkpoints += drain(out, &mut pending, |c| at(c).is_eq())?;
        }
    }
    for cp in pending {
        write_line(out, &ExportLine::Checkpoint(cp))?;
        stats.checkpoints += 1;
    }
    out.flush()?;
    Ok(stats)
}

/// Writes and removes the leading checkpoints that satisfy `take`.
fn drain(
    out: &mut (dyn Write + Send),
    pending: &mut VecDeque<Checkpoint>,
    take: impl Fn(&Checkpoint) -> bool,
) -> Result<u64, AuditError> {
    let mut n = 0;
    while let Some(cp) = pending.front() {
        if !take(cp) {
            break;
        }
        write_line(out, &ExportLine::Checkpoint(cp.clone()))?;
        pending.pop_front();
        n += 1;
    }
    Ok(n)
}

fn write_line(out: &mut (dyn Write + Send), line: &ExportLine) -> Result<(), AuditError> {
    let text = line
        .to_json()
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    out.write_all(text.as_bytes())?;
    out.write_all(b"\n")?;
    Ok(())
}
