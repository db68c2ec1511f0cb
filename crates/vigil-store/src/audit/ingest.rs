//! The ingester: copies what the writer committed to the journal into
//! SQLite, in order, many records per transaction, so the search columns
//! and indexes are written in bulk behind the statements instead of in
//! front of each one. Its [`Gate`] tells the writer when SQLite stopped
//! taking records (the writer then refuses new appends: fail closed) and
//! lets readers wait until SQLite holds everything already journaled.

use super::journal::Row;
use super::rows;
use crate::Store;
use sqlx::pool::PoolConnection;
use sqlx::{Any, Connection};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, Notify};
use vigil_audit::Checkpoint;

/// How long a reader waits for the ingester before reading what is there.
pub(crate) const READER_WAIT: Duration = Duration::from_secs(10);
/// Most entries in one ingest transaction.
const MAX_ENTRIES: usize = 4096;
/// How long the ingester gathers entries before a transaction, unless a
/// reader or the writer is waiting for it: SQLite then commits (and
/// flushes) a few times a second, not once per batch, and its flushes do
/// not queue in front of the journal's on the device.
const GATHER: Duration = Duration::from_millis(100);
/// Pause after a failed ingest before trying again.
const RETRY_AFTER: Duration = Duration::from_millis(100);

/// What the writer hands over, in chain order.
pub(crate) enum Item {
    Rows(Vec<Row>),
    Checkpoint(Checkpoint),
}

impl Item {
    fn entries(&self) -> u64 {
        match self {
            Item::Rows(r) => r.len() as u64,
            Item::Checkpoint(_) => 1,
        }
    }
}

/// Progress shared by a writer, its ingester and readers.
#[derive(Debug, Default)]
pub(crate) struct Gate {
    /// Entries handed to the ingester.
    queued: AtomicU64,
    /// Entries committed to SQLite.
    done: AtomicU64,
    /// Why the last ingest failed; cleared by the next success.
    failure: Mutex<Option<String>>,
    progress: Notify,
    /// Somebody waits for the ingester: commit what is gathered now.
    hurry: Notify,
}

impl Gate {
    pub(crate) fn queued(&self, n: u64) {
        self.queued.fetch_add(n, Ordering::AcqRel);
    }

    /// Entries handed over so far.
    pub(crate) fn handed_over(&self) -> u64 {
        self.queued.load(Ordering::Acquire)
    }

    /// Entries committed to SQLite so far.
    pub(crate) fn ingested(&self) -> u64 {
        self.done.load(Ordering::Acquire)
    }

    /// Entries handed over and not yet in SQLite.
    pub(crate) fn backlog(&self) -> u64 {
        self.queued
            .load(Ordering::Acquire)
            .saturating_sub(self.done.load(Ordering::Acquire))
    }

    /// Everything handed over is in SQLite.
    pub(crate) fn caught_up(&self) -> bool {
        self.done.load(Ordering::Acquire) >= self.queued.load(Ordering::Acquire)
    }

    /// Why SQLite is not taking records, while it is not.
    pub(crate) fn failure(&self) -> Option<String> {
        self.failure.lock().ok().and_then(|f| f.clone())
    }

    fn set_failure(&self, why: Option<String>) {
        if let Ok(mut f) = self.failure.lock() {
            *f = why;
        }
    }

    fn done(&self, n: u64) {
        self.done.fetch_add(n, Ordering::AcqRel);
        self.progress.notify_waiters();
    }

    /// Waits up to `limit` until everything handed over so far is in
    /// SQLite. False if it is not: the ingester is slow, or failing (then
    /// at once, without waiting).
    pub(crate) async fn wait_caught_up(&self, limit: Duration) -> bool {
        let target = self.queued.load(Ordering::Acquire);
        let deadline = tokio::time::Instant::now() + limit;
        if self.done.load(Ordering::Acquire) < target {
            self.hurry.notify_one();
        }
        loop {
            let notified = self.progress.notified();
            if self.done.load(Ordering::Acquire) >= target {
                return true;
            }
            if self.failure().is_some() {
                return false;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.done.load(Ordering::Acquire) >= target;
            }
        }
    }
}

/// Runs until the writer drops its sender, then returns once everything
/// received is in SQLite (or, if SQLite keeps failing, after `give_up`).
pub(crate) async fn run(
    store: Store,
    gate: Arc<Gate>,
    mut rx: mpsc::UnboundedReceiver<Item>,
    give_up: Duration,
) {
    let mut pending: Vec<Item> = Vec::new();
    let mut conn: Option<PoolConnection<Any>> = None;
    let mut closed = false;
    let mut failing_since: Option<tokio::time::Instant> = None;
    loop {
        if pending.is_empty() {
            if closed {
                return;
            }
            match rx.recv().await {
                Some(item) => pending.push(item),
                None => return,
            }
        }
        let mut entries: usize = pending.iter().map(|i| i.entries() as usize).sum();
        let gather_until = tokio::time::Instant::now() + GATHER;
        while !closed && entries < MAX_ENTRIES {
            tokio::select! {
                item = rx.recv() => match item {
                    Some(item) => {
                        entries += item.entries() as usize;
                        pending.push(item);
                    }
                    None => closed = true,
                },
                () = tokio::time::sleep_until(gather_until) => break,
                () = gate.hurry.notified() => break,
            }
        }
        match write(&store, &mut conn, &pending).await {
            Ok(()) => {
                failing_since = None;
                gate.set_failure(None);
                gate.done(entries as u64);
                pending.clear();
            }
            Err(e) => {
                tracing::error!(error = %e, entries, "audit ingest into the store failed; appends are refused until it succeeds");
                gate.set_failure(Some(e.to_string()));
                gate.progress.notify_waiters();
                if let Some(mut c) = conn.take() {
                    super::commit::discard(&mut c);
                }
                let since = *failing_since.get_or_insert_with(tokio::time::Instant::now);
                if closed && since.elapsed() >= give_up {
                    tracing::error!(entries, "audit ingest gave up at shutdown; the journal keeps the records for the next start");
                    return;
                }
                tokio::time::sleep(RETRY_AFTER).await;
            }
        }
    }
}

/// One transaction: every row and checkpoint of `items`, in order. Rows
/// already present (a command replayed the journal first) are skipped.
async fn write(
    store: &Store,
    slot: &mut Option<PoolConnection<Any>>,
    items: &[Item],
) -> Result<(), sqlx::Error> {
    let conn = match slot {
        Some(c) => c,
        None => slot.insert(store.pool().acquire().await?),
    };
    let mut tx = conn.begin().await?;
    let mut run: Vec<&Row> = Vec::new();
    for item in items {
        match item {
            Item::Rows(rs) => run.extend(rs.iter()),
            Item::Checkpoint(cp) => {
                rows::insert_rows(&mut tx, store.backend(), &run, true).await?;
                run.clear();
                rows::insert_checkpoint(&mut tx, cp, true).await?;
            }
        }
    }
    rows::insert_rows(&mut tx, store.backend(), &run, true).await?;
    tx.commit().await
}
