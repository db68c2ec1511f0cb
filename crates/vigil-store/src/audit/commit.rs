//! The durable write of one batch: every record and the checkpoint (if
//! one is due) in a single transaction, so one fsync covers the batch.
//! The writer keeps one pooled connection for itself (no pool hand-off and
//! liveness ping per batch); a connection that fails is closed, never
//! reused or returned to the pool.

use super::journal::Row;
use super::rows;
use super::task::Writer;
use crate::Backend;
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, Connection};
use vigil_audit::Checkpoint;

/// More than the pool's connections: each retry replaces one.
const READ_ONLY_RETRIES: u32 = 9;

impl Writer {
    /// Writes `staged` and `checkpoint` in one transaction. A connection
    /// that is read-only (see [`discard`]) is replaced and the write retried
    /// at once, so the writer recovers as soon as the store is writable.
    pub(super) async fn write(
        &self,
        staged: &[&Row],
        checkpoint: Option<&Checkpoint>,
    ) -> Result<(), sqlx::Error> {
        let backend = self.store.backend();
        if self.store.pool().is_closed() {
            // The store was shut down: the kept connection must not outlive it.
            if let Ok(mut slot) = self.conn.lock() {
                slot.take();
            }
            return Err(sqlx::Error::PoolClosed);
        }
        let mut attempts = READ_ONLY_RETRIES;
        loop {
            let kept = self.conn.lock().ok().and_then(|mut c| c.take());
            let mut conn = match kept {
                Some(conn) => conn,
                None => self.store.pool().acquire().await?,
            };
            let Err(e) = write_batch(&mut conn, backend, staged, checkpoint).await else {
                if let Ok(mut slot) = self.conn.lock() {
                    *slot = Some(conn);
                }
                return Ok(());
            };
            discard(&mut conn);
            attempts -= 1;
            let retry = backend == Backend::Sqlite && is_read_only(&e);
            if attempts == 0 || !retry {
                return Err(e);
            }
        }
    }
}

async fn write_batch(
    conn: &mut AnyConnection,
    backend: Backend,
    staged: &[&Row],
    checkpoint: Option<&Checkpoint>,
) -> Result<(), sqlx::Error> {
    // The common case, a batch that fits one INSERT and no checkpoint, is
    // one autocommit statement: atomic and durable on its own, and one
    // round trip to the database instead of three (BEGIN, INSERT, COMMIT).
    if checkpoint.is_none() && staged.len() <= rows::ROWS_PER_INSERT {
        return rows::insert_rows(conn, backend, staged, false).await;
    }
    let mut tx = conn.begin().await?;
    rows::insert_rows(&mut tx, backend, staged, false).await?;
    if let Some(cp) = checkpoint {
        rows::insert_checkpoint(&mut tx, cp, false).await?;
    }
    tx.commit().await
}

/// SQLITE_READONLY and its extended codes (the low byte is 8).
fn is_read_only(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .and_then(|d| d.code())
        .and_then(|c| c.parse::<u32>().ok())
        .is_some_and(|c| c & 0xff == 8)
}

/// Closes a connection that failed a write instead of returning it to the
/// pool: SQLite opens a connection read-only for good when the files were
/// unwritable at that moment, and an I/O error can leave one unusable, so a
/// fresh one is what lets the writer recover when the store does.
pub(super) fn discard(conn: &mut PoolConnection<Any>) {
    conn.close_on_drop();
}
