//! Retention: expired records leave, and the chain says so. The writer
//! deletes the oldest records of its chain and appends a `retention` record
//! naming the cut (last deleted seq and hash), signed with the audit key, in
//! the same transaction — a crash leaves either both or neither. Verify then
//! accepts the chain starting after the cut, and shows it.

use super::journal::Row;
use super::rows;
use super::task::{stage, HeadState, Writer};
use super::AuditError;
use vigil_audit::retention::{sign_retention, Cut};
use vigil_audit::{Checkpoint, Event, RecordRef};

/// What one retention run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionOutcome {
    /// Records deleted by this run (0: nothing had expired).
    pub deleted: u64,
    /// The last deleted seq, when something was deleted.
    pub cut_seq: Option<u64>,
    /// The `retention` record written, when something was deleted.
    pub record: Option<RecordRef>,
    /// More expired records remain (the run was capped); call again.
    pub more: bool,
}

impl Writer {
    pub(super) async fn retention(
        &mut self,
        cutoff_ms: i64,
    ) -> Result<RetentionOutcome, AuditError> {
        // Retention works on SQLite directly: it must hold the whole chain.
        self.caught_up().await?;
        let state = self.ensure_head().await?;
        let nothing = RetentionOutcome {
            deleted: 0,
            cut_seq: None,
            record: None,
            more: false,
        };
        let Some((first, wanted)) = self.expired_range(cutoff_ms, &state).await? else {
            return Ok(nothing);
        };
        let cap = first.saturating_add(self.settings.retention_batch.max(1) - 1);
        let cut = wanted.min(cap);
        let result = self.cut(cutoff_ms, cut, &state).await;
        if result.is_err() {
            self.state = None;
        }
        let (deleted, record) = result?;
        // Expired records must not outlive the cut in the journal.
        self.trim_journal().await;
        Ok(RetentionOutcome {
            deleted,
            cut_seq: Some(cut),
            record: Some(record),
            more: cut < wanted,
        })
    }

    /// `(first stored seq, last expired seq)`. A record is expired when it
    /// and every record before it are older than the cutoff, so a clock
    /// step backwards never deletes a record newer than the cutoff.
    async fn expired_range(
        &self,
        cutoff_ms: i64,
        state: &HeadState,
    ) -> Result<Option<(u64, u64)>, AuditError> {
        let pool = self.store.pool();
        let (first,): (Option<i64>,) =
            sqlx::query_as("SELECT MIN(seq) FROM audit_records WHERE chain_id = $1")
                .bind(self.chain_id.as_str())
                .fetch_one(pool)
                .await?;
        let Some(first) = first.map(rows::to_u64) else {
            return Ok(None);
        };
        let (kept,): (Option<i64>,) = sqlx::query_as(
            "SELECT MIN(seq) FROM audit_records WHERE chain_id = $1 AND ts_ms >= $2",
        )
        .bind(self.chain_id.as_str())
        .bind(cutoff_ms)
        .fetch_one(pool)
        .await?;
        let last_expired = match kept.map(rows::to_u64) {
            Some(k) => k.saturating_sub(1),
            None => state.head.seq(),
        };
        Ok((last_expired >= first).then_some((first, last_expired)))
    }

    /// Deletes up to `cut` and appends the signed retention record (and a
    /// checkpoint on it) in one transaction.
    async fn cut(
        &mut self,
        cutoff_ms: i64,
        cut: u64,
        state: &HeadState,
    ) -> Result<(u64, RecordRef), AuditError> {
        let mut conn = self.store.pool().acquire().await?;
        let result = self.cut_in(&mut conn, cutoff_ms, cut, state).await;
        if result.is_err() {
            super::commit::discard(&mut conn);
        }
        result
    }

    async fn cut_in(
        &mut self,
        conn: &mut sqlx::AnyConnection,
        cutoff_ms: i64,
        cut: u64,
        state: &HeadState,
    ) -> Result<(u64, RecordRef), AuditError> {
        use sqlx::Connection;
        let chain = self.chain_id.clone();
        let chain = chain.as_str();
        let mut tx = conn.begin().await?;
        let (hash,): (String,) =
            sqlx::query_as("SELECT hash FROM audit_records WHERE chain_id = $1 AND seq = $2")
                .bind(chain)
                .bind(rows::to_i64(cut))
                .fetch_one(&mut *tx)
                .await?;
        let deleted = sqlx::query("DELETE FROM audit_records WHERE chain_id = $1 AND seq <= $2")
            .bind(chain)
            .bind(rows::to_i64(cut))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        sqlx::query("DELETE FROM audit_checkpoints WHERE chain_id = $1 AND seq <= $2")
            .bind(chain)
            .bind(rows::to_i64(cut))
            .execute(&mut *tx)
            .await?;
        let event = Event::Retention(sign_retention(
            &self.key,
            chain,
            &Cut {
                cutoff_ts_ms: cutoff_ms,
                deleted_records: deleted,
                last_deleted_seq: cut,
                last_deleted_hash: hash,
            },
        ));
        let now = (self.settings.clock)();
        let mut head = state.head.clone();
        let text = event
            .canonical_text()
            .map_err(vigil_audit::ChainError::from)?;
        let link = stage(&mut head, now, event.event_type(), text)?;
        let reference = link.reference();
        let row = Row {
            link,
            index: super::index::IndexFields::of(&event),
        };
        rows::insert_rows(&mut tx, self.store.backend(), &[&row], false).await?;
        let cp = Checkpoint::sign(&self.key, chain, head.seq(), head.hash(), now);
        rows::insert_checkpoint(&mut tx, &cp, false).await?;
        tx.commit().await?;
        self.counters.checkpoint();
        self.counters.batch(1);
        tracing::info!(chain, cut, deleted, "audit retention applied");
        self.state = Some(HeadState {
            head,
            since_checkpoint: 0,
            last_checkpoint_ms: now,
        });
        Ok((deleted, reference))
    }
}
