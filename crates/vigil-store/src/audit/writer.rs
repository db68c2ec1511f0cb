//! [`AuditLog`]: the handle callers append through. One writer per chain
//! does the work ([`super::task`]); every clone of the handle talks
//! to it over one bounded channel, and `append` returns only once the
//! record is committed.

use super::index::IndexFields;
use super::task::{Command, Pending, Stopped, Writer};
use super::AuditError;
use crate::Store;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use vigil_audit::{AuditKey, Checkpoint, CheckpointPolicy, Event, RecordRef};

/// Unix milliseconds now; replaceable so tests control time.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// How the writer batches and signs.
#[derive(Clone)]
pub struct AuditSettings {
    pub checkpoint: CheckpointPolicy,
    /// Most records in one transaction.
    pub max_batch: usize,
    /// How long a batch nobody waits for (outcomes and session events
    /// whose tickets were dropped) may wait for an append somebody does
    /// wait for, so both share one commit (one fsync) instead of two.
    pub linger: Duration,
    /// Appends queued before `append` waits for room.
    pub queue_capacity: usize,
    /// Most records one retention run deletes (bounds its transaction).
    pub retention_batch: u64,
    /// A SQLite store's journal: the writer moves to the journal's other
    /// file once the one it appends to holds this many bytes (and SQLite
    /// holds all of the other).
    pub journal_switch_at: u64,
    /// Bytes of zeros each journal file is pre-written with.
    pub journal_prewrite: u64,
    pub clock: Clock,
}

impl Default for AuditSettings {
    fn default() -> Self {
        AuditSettings {
            checkpoint: CheckpointPolicy::default(),
            max_batch: 256,
            linger: Duration::from_millis(5),
            queue_capacity: 8192,
            retention_batch: 50_000,
            journal_switch_at: super::journal::SWITCH_AT,
            journal_prewrite: super::journal::PREWRITE,
            clock: Arc::new(system_now_ms),
        }
    }
}

impl std::fmt::Debug for AuditSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditSettings")
            .field("checkpoint", &self.checkpoint)
            .field("max_batch", &self.max_batch)
            .field("linger", &self.linger)
            .field("queue_capacity", &self.queue_capacity)
            .field("retention_batch", &self.retention_batch)
            .field("journal_switch_at", &self.journal_switch_at)
            .field("journal_prewrite", &self.journal_prewrite)
            .finish_non_exhaustive()
    }
}

fn system_now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Counters since start, for metrics and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AuditStats {
    /// Transactions committed with at least one record.
    pub batches: u64,
    /// Records committed.
    pub records: u64,
    /// Batches that failed (each failed every append in it).
    pub failed_batches: u64,
    /// Checkpoints written.
    pub checkpoints: u64,
}

/// The writer's side of [`AuditStats`].
#[derive(Debug, Default)]
pub(super) struct Counters {
    batches: AtomicU64,
    records: AtomicU64,
    failed_batches: AtomicU64,
    checkpoints: AtomicU64,
}

impl Counters {
    pub fn batch(&self, records: usize) {
        self.batches.fetch_add(1, Ordering::Relaxed);
        self.records.fetch_add(records as u64, Ordering::Relaxed);
    }

    pub fn failed_batch(&self) {
        self.failed_batches.fetch_add(1, Ordering::Relaxed);
    }

    pub fn checkpoint(&self) {
        self.checkpoints.fetch_add(1, Ordering::Relaxed);
    }

    fn snapshot(&self) -> AuditStats {
        AuditStats {
            batches: self.batches.load(Ordering::Relaxed),
            records: self.records.load(Ordering::Relaxed),
            failed_batches: self.failed_batches.load(Ordering::Relaxed),
            checkpoints: self.checkpoints.load(Ordering::Relaxed),
        }
    }
}

/// The writer's command for appending `event`, and the caller's ticket.
/// Encoded here, on the caller's task, so the writer only hashes.
fn queued(event: &Event) -> Result<(Command, AppendTicket), AuditError> {
    let text = event
        .canonical_text()
        .map_err(vigil_audit::ChainError::from)?;
    let (reply, rx) = oneshot::channel();
    let pending = Pending {
        event_type: event.event_type(),
        text,
        index: IndexFields::of(event),
        reply,
    };
    Ok((Command::Append(Box::new(pending)), AppendTicket { rx }))
}

/// A queued append: resolves to the record once it is committed.
#[must_use = "await the ticket to wait for the commit, or drop it explicitly"]
pub struct AppendTicket {
    rx: oneshot::Receiver<Result<RecordRef, AuditError>>,
}

impl Future for AppendTicket {
    type Output = Result<RecordRef, AuditError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.rx)
            .poll(cx)
            .map(|r| r.unwrap_or(Err(AuditError::Closed)))
    }
}

/// Appends to one chain. Cheap to clone; all clones share one writer.
#[derive(Clone)]
pub struct AuditLog {
    inner: Arc<Inner>,
}

struct Inner {
    chain_id: String,
    counters: Arc<Counters>,
    tx: mpsc::Sender<Command>,
    /// Resolves when the writer has stopped; taken by the first `close`.
    stopped: Mutex<Option<Stopped>>,
}

impl AuditLog {
    /// Starts the writer for `chain_id`, resuming after the chain's last
    /// stored record (after a clean stop, a crash or a SIGKILL alike).
    /// Every replica needs its own chain id.
    pub async fn start(
        store: Store,
        chain_id: impl Into<String>,
        key: AuditKey,
        settings: AuditSettings,
    ) -> Result<AuditLog, AuditError> {
        let chain_id = chain_id.into();
        let (tx, rx) = mpsc::channel(settings.queue_capacity.max(1));
        let counters = Arc::new(Counters::default());
        let writer =
            Writer::start(store, key, chain_id.clone(), settings, counters.clone()).await?;
        let stopped = writer.spawn(rx)?;
        Ok(AuditLog {
            inner: Arc::new(Inner {
                chain_id,
                counters,
                tx,
                stopped: Mutex::new(Some(stopped)),
            }),
        })
    }

    pub fn chain_id(&self) -> &str {
        &self.inner.chain_id
    }

    /// Batches, records and checkpoints written so far.
    pub fn stats(&self) -> AuditStats {
        self.inner.counters.snapshot()
    }

    /// Appends `event`; returns once the record is durably committed. On
    /// error nothing was appended for it (fail closed: do not run the
    /// statement).
    pub async fn append(&self, event: &Event) -> Result<RecordRef, AuditError> {
        self.submit(event).await?.await
    }

    /// Queues `event` and returns without waiting for the commit; await the
    /// ticket to wait for it, or drop it (a `statement.outcome` need not
    /// hold the session: its intent is already durable). A dropped ticket's
    /// record is still written; a failure is logged and counted.
    pub async fn submit(&self, event: &Event) -> Result<AppendTicket, AuditError> {
        let (cmd, ticket) = queued(event)?;
        self.inner
            .tx
            .send(cmd)
            .await
            .map_err(|_| AuditError::Closed)?;
        Ok(ticket)
    }

    /// [`AuditLog::submit`] for callers that must not wait (the response
    /// phases run on the session's server pump): queues `event` now, in call
    /// order, or fails with [`AuditError::QueueFull`] when the writer is
    /// that far behind (the caller may then [`submit`](Self::submit) from a
    /// task of its own).
    pub fn try_submit(&self, event: &Event) -> Result<AppendTicket, AuditError> {
        let (cmd, ticket) = queued(event)?;
        self.inner.tx.try_send(cmd).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => AuditError::QueueFull,
            mpsc::error::TrySendError::Closed(_) => AuditError::Closed,
        })?;
        Ok(ticket)
    }

    /// Signs a checkpoint on the current head now (if it is not signed yet).
    pub async fn checkpoint(&self) -> Result<Option<Checkpoint>, AuditError> {
        let (reply, rx) = oneshot::channel();
        self.request(Command::Checkpoint(reply), rx).await
    }

    /// Deletes this chain's records older than `cutoff_ms` (at most
    /// `retention_batch` of them; `more` says whether to call again) and
    /// appends a signed `retention` record naming the cut, in one transaction.
    pub async fn apply_retention(
        &self,
        cutoff_ms: i64,
    ) -> Result<super::RetentionOutcome, AuditError> {
        let (reply, rx) = oneshot::channel();
        self.request(Command::Retention(cutoff_ms, reply), rx).await
    }

    /// Writes what is queued, signs a final checkpoint and stops the writer.
    /// Appends after this fail with [`AuditError::Closed`].
    pub async fn close(&self) -> Result<(), AuditError> {
        let (reply, rx) = oneshot::channel();
        let result = self.request(Command::Close(reply), rx).await;
        let stopped = self.inner.stopped.lock().ok().and_then(|mut t| t.take());
        if let Some(stopped) = stopped {
            stopped.await;
        }
        match result {
            // Already closed by another clone.
            Err(AuditError::Closed) => Ok(()),
            other => other,
        }
    }

    async fn request<T>(
        &self,
        cmd: Command,
        rx: oneshot::Receiver<Result<T, AuditError>>,
    ) -> Result<T, AuditError> {
        self.inner
            .tx
            .send(cmd)
            .await
            .map_err(|_| AuditError::Closed)?;
        rx.await.map_err(|_| AuditError::Closed)?
    }
}
