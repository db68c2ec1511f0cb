//! Streaming a range chain by chain in seq order, a chunk at a time, so
//! verify and export never hold millions of records (nor keep one long read
//! transaction open on SQLite, which would stop WAL checkpointing).

use super::read::AuditRange;
use super::rows::{self, Sql, StoredRow, CHECKPOINT_COLUMNS, RECORD_COLUMNS};
use super::AuditError;
use crate::Store;
use vigil_audit::Checkpoint;

/// Rows per query.
const CHUNK: i64 = 1000;

pub(crate) struct Scan<'a> {
    store: &'a Store,
    range: &'a AuditRange,
    chains: std::vec::IntoIter<String>,
    current: Option<String>,
    after: u64,
}

impl<'a> Scan<'a> {
    pub async fn new(store: &'a Store, range: &'a AuditRange) -> Result<Scan<'a>, AuditError> {
        store.audit_caught_up().await;
        let chains = match &range.chain {
            Some(c) => vec![c.clone()],
            None => {
                let found: Vec<(String,)> =
                    sqlx::query_as("SELECT DISTINCT chain_id FROM audit_records ORDER BY chain_id")
                        .fetch_all(store.pool())
                        .await?;
                // Sorted here, not by the database's collation, so every
                // reader (and the export's checkpoint merge) agrees.
                let mut chains: Vec<String> = found.into_iter().map(|(c,)| c).collect();
                chains.sort();
                chains
            }
        };
        Ok(Scan {
            store,
            range,
            chains: chains.into_iter(),
            current: None,
            after: 0,
        })
    }

    /// The next chunk of rows (a chain's rows in seq order, chains one after
    /// another); `None` at the end.
    pub async fn next_chunk(&mut self) -> Result<Option<Vec<StoredRow>>, AuditError> {
        loop {
            let chain = match &self.current {
                Some(c) => c.clone(),
                None => match self.chains.next() {
                    Some(c) => {
                        self.current = Some(c.clone());
                        self.after = 0;
                        c
                    }
                    None => return Ok(None),
                },
            };
            let mut sql = Sql::new(&format!("SELECT {RECORD_COLUMNS} FROM audit_records"));
            let (c, s) = (sql.text(chain.as_str()), sql.int(rows::to_i64(self.after)));
            sql.and(&format!("chain_id = {c} AND seq > {s}"));
            self.range.apply(&mut sql);
            let l = sql.int(CHUNK);
            sql.push(&format!("ORDER BY seq LIMIT {l}"));
            let found = sql.query().fetch_all(self.store.pool()).await?;
            if found.is_empty() {
                self.current = None;
                continue;
            }
            let mut chunk = Vec::with_capacity(found.len());
            for row in &found {
                chunk.push(rows::decode_record(row)?);
            }
            if let Some(last) = chunk.last() {
                self.after = last.seq;
            }
            return Ok(Some(chunk));
        }
    }
}

/// The checkpoints inside `range`, in (chain, seq) order.
pub(crate) async fn checkpoints(
    store: &Store,
    range: &AuditRange,
) -> Result<Vec<Checkpoint>, AuditError> {
    let mut sql = Sql::new(&format!(
        "SELECT {CHECKPOINT_COLUMNS} FROM audit_checkpoints"
    ));
    range.apply(&mut sql);
    let found = sql.query().fetch_all(store.pool()).await?;
    let mut out = Vec::with_capacity(found.len());
    for row in &found {
        out.push(rows::decode_checkpoint(row)?);
    }
    out.sort_by(|a, b| (&a.chain_id, a.seq).cmp(&(&b.chain_id, b.seq)));
    Ok(out)
}
