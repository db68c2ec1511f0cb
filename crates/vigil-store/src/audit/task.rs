//! The writer task: the only code that appends to a chain. It batches
//! whatever is queued (group commit), chains it onto its head, commits it in
//! one transaction ([`super::commit`]) and only then answers every caller.
//! The head advances only after a commit succeeds; a failed batch answers
//! every caller with an error and makes the writer reload its head from the
//! store before the next batch, so the chain never forks.

use super::index::IndexFields;
use super::rows;
use super::writer::{AuditSettings, Counters};
use super::AuditError;
use crate::Store;
use serde_json::Value;
use sqlx::pool::PoolConnection;
use sqlx::Any;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use vigil_audit::{AuditKey, ChainHead, Checkpoint, Record, RecordRef};

pub(super) type Reply<T> = oneshot::Sender<Result<T, AuditError>>;

/// One queued append, serialized by the caller's task.
pub(super) struct Pending {
    pub event_type: &'static str,
    pub body: Value,
    pub index: IndexFields,
    pub reply: Reply<RecordRef>,
}

pub(super) enum Command {
    Append(Box<Pending>),
    Checkpoint(Reply<Option<Checkpoint>>),
    Retention(i64, Reply<super::RetentionOutcome>),
    Close(Reply<()>),
}

/// A record chained and ready to insert, with the caller to answer.
pub(super) struct Staged {
    pub record: Record,
    /// The event as canonical JSON: what the `event` column holds.
    pub text: String,
    pub index: IndexFields,
    pub reply: Reply<RecordRef>,
}

/// The writer's view of the chain, valid only after a successful commit.
#[derive(Debug, Clone)]
pub(super) struct HeadState {
    pub head: ChainHead,
    pub since_checkpoint: u64,
    pub last_checkpoint_ms: i64,
}

pub(super) struct Writer {
    pub store: Store,
    pub key: AuditKey,
    pub chain_id: String,
    pub settings: AuditSettings,
    pub counters: Arc<Counters>,
    /// `None` after a failure: reload from the store before writing.
    pub state: Option<HeadState>,
    /// The connection batches are written on, kept between batches. (In a
    /// mutex only so `&Writer` is `Sync`; it is never contended.)
    pub conn: Mutex<Option<PoolConnection<Any>>>,
}

impl Writer {
    /// A writer positioned after the chain's last stored record.
    pub async fn start(
        store: Store,
        key: AuditKey,
        chain_id: String,
        settings: AuditSettings,
        counters: Arc<Counters>,
    ) -> Result<Writer, AuditError> {
        let mut writer = Writer {
            store,
            key,
            chain_id,
            settings,
            counters,
            state: None,
            conn: Mutex::new(None),
        };
        writer.register().await?;
        writer.ensure_head().await?;
        Ok(writer)
    }

    /// Lists the chain in `audit_chains` (once; later starts find it there).
    async fn register(&self) -> Result<(), AuditError> {
        sqlx::query(
            "INSERT INTO audit_chains (chain_id, created_ms) VALUES ($1, $2) \
             ON CONFLICT (chain_id) DO NOTHING",
        )
        .bind(self.chain_id.as_str())
        .bind((self.settings.clock)())
        .execute(self.store.pool())
        .await?;
        Ok(())
    }

    pub async fn run(mut self, mut rx: mpsc::Receiver<Command>) {
        let mut tick = tokio::time::interval(self.tick_period());
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                cmd = rx.recv() => {
                    let Some(cmd) = cmd else { break };
                    if !self.handle(cmd, &mut rx).await {
                        return;
                    }
                }
                _ = tick.tick() => self.timed_checkpoint().await,
            }
        }
        // Every handle dropped without close(): still sign what was written.
        if let Err(e) = self.checkpoint_now().await {
            tracing::warn!(chain = %self.chain_id, error = %e, "final audit checkpoint failed");
        }
    }

    /// Handles one command (and, for appends, whatever is queued behind
    /// it). False when the writer should stop.
    async fn handle(&mut self, cmd: Command, rx: &mut mpsc::Receiver<Command>) -> bool {
        let mut next = Some(cmd);
        while let Some(cmd) = next.take() {
            match cmd {
                Command::Append(first) => {
                    let mut batch = vec![*first];
                    next = self.fill(&mut batch, rx);
                    if next.is_none() && nobody_waits(&batch) {
                        next = self.linger(&mut batch, rx).await;
                    }
                    self.commit_batch(batch).await;
                }
                Command::Checkpoint(reply) => {
                    let _ = reply.send(self.checkpoint_now().await);
                }
                Command::Retention(cutoff, reply) => {
                    let _ = reply.send(self.retention(cutoff).await);
                }
                Command::Close(reply) => {
                    let _ = reply.send(self.checkpoint_now().await.map(|_| ()));
                    return false;
                }
            }
        }
        true
    }

    /// Adds what is queued to `batch`, up to `max_batch`; returns the
    /// first command that is not an append.
    fn fill(&self, batch: &mut Vec<Pending>, rx: &mut mpsc::Receiver<Command>) -> Option<Command> {
        while batch.len() < self.settings.max_batch {
            match rx.try_recv() {
                Ok(Command::Append(p)) => batch.push(*p),
                Ok(other) => return Some(other),
                Err(_) => return None,
            }
        }
        None
    }

    /// Waits up to `linger` for one more command, so a batch nobody waits
    /// for (queued outcomes) shares the commit of the next awaited append
    /// (the next statement's intent): one fsync per statement, not two.
    async fn linger(
        &self,
        batch: &mut Vec<Pending>,
        rx: &mut mpsc::Receiver<Command>,
    ) -> Option<Command> {
        if batch.len() >= self.settings.max_batch || self.settings.linger.is_zero() {
            return None;
        }
        match tokio::time::timeout(self.settings.linger, rx.recv()).await {
            Ok(Some(Command::Append(p))) => {
                batch.push(*p);
                self.fill(batch, rx)
            }
            Ok(other) => other,
            Err(_elapsed) => None,
        }
    }

    /// How often to look whether a checkpoint is due by time.
    fn tick_period(&self) -> Duration {
        let every = self.settings.checkpoint.every_ms;
        let ms = if every == 0 {
            1000
        } else {
            (every / 2).clamp(10, 1000)
        };
        Duration::from_millis(ms)
    }

    /// Chains, signs if due, commits, answers.
    async fn commit_batch(&mut self, batch: Vec<Pending>) {
        let state = match self.ensure_head().await {
            Ok(s) => s,
            Err(e) => return fail_all(batch.into_iter().map(|p| p.reply), &e),
        };
        let now = (self.settings.clock)();
        let mut head = state.head.clone();
        let mut staged = Vec::with_capacity(batch.len());
        for p in batch {
            match stage(&mut head, now, p.event_type, p.body) {
                Ok((record, text)) => staged.push(Staged {
                    record,
                    text,
                    index: p.index,
                    reply: p.reply,
                }),
                Err(e) => {
                    let _ = p.reply.send(Err(e));
                }
            }
        }
        if staged.is_empty() {
            return;
        }
        let since = state.since_checkpoint + staged.len() as u64;
        let checkpoint = self
            .settings
            .checkpoint
            .due(since, elapsed(now, state.last_checkpoint_ms))
            .then(|| Checkpoint::sign(&self.key, &self.chain_id, head.seq(), head.hash(), now));
        if let Err(e) = self.write(&staged, checkpoint.as_ref()).await {
            tracing::error!(chain = %self.chain_id, error = %e, records = staged.len(), "audit batch failed");
            self.state = None;
            self.counters.failed_batch();
            return fail_all(staged.into_iter().map(|s| s.reply), &e.into());
        }
        self.counters.batch(staged.len());
        self.state = Some(match checkpoint {
            Some(_) => {
                self.counters.checkpoint();
                HeadState {
                    head,
                    since_checkpoint: 0,
                    last_checkpoint_ms: now,
                }
            }
            None => HeadState {
                head,
                since_checkpoint: since,
                ..state
            },
        });
        for s in staged {
            let _ = s.reply.send(Ok(s.record.reference()));
        }
    }

    /// The head, reloading it from the store after a failure.
    pub async fn ensure_head(&mut self) -> Result<HeadState, AuditError> {
        match &self.state {
            Some(s) => Ok(s.clone()),
            None => {
                let s = self.load_head().await?;
                self.state = Some(s.clone());
                Ok(s)
            }
        }
    }

    /// Reads the chain's last record and last checkpoint.
    async fn load_head(&self) -> Result<HeadState, AuditError> {
        let pool = self.store.pool();
        let last: Option<(i64, String)> = sqlx::query_as(
            "SELECT seq, hash FROM audit_records WHERE chain_id = $1 ORDER BY seq DESC LIMIT 1",
        )
        .bind(self.chain_id.as_str())
        .fetch_optional(pool)
        .await?;
        let cp: Option<(i64, i64)> = sqlx::query_as(
            "SELECT seq, ts_ms FROM audit_checkpoints WHERE chain_id = $1 ORDER BY seq DESC LIMIT 1",
        )
        .bind(self.chain_id.as_str())
        .fetch_optional(pool)
        .await?;
        let head = match last {
            Some((seq, hash)) => ChainHead::resume(&self.chain_id, rows::to_u64(seq), hash),
            None => ChainHead::genesis(&self.chain_id),
        };
        let (cp_seq, cp_ms) =
            cp.map_or((0, (self.settings.clock)()), |(s, t)| (rows::to_u64(s), t));
        let since = head.seq().saturating_sub(cp_seq);
        if since > 0 {
            tracing::info!(chain = %self.chain_id, seq = head.seq(), unsigned = since, "resuming the audit chain after an unsigned tail");
        }
        Ok(HeadState {
            head,
            since_checkpoint: since,
            last_checkpoint_ms: cp_ms,
        })
    }

    /// Signs the head if records were added since the last checkpoint.
    async fn checkpoint_now(&mut self) -> Result<Option<Checkpoint>, AuditError> {
        let state = self.ensure_head().await?;
        if state.since_checkpoint == 0 {
            return Ok(None);
        }
        let now = (self.settings.clock)();
        let head = &state.head;
        let cp = Checkpoint::sign(&self.key, &self.chain_id, head.seq(), head.hash(), now);
        if let Err(e) = self.write(&[], Some(&cp)).await {
            self.state = None;
            return Err(e.into());
        }
        self.counters.checkpoint();
        self.state = Some(HeadState {
            since_checkpoint: 0,
            last_checkpoint_ms: now,
            ..state
        });
        Ok(Some(cp))
    }

    async fn timed_checkpoint(&mut self) {
        let Some(state) = &self.state else { return };
        let now = (self.settings.clock)();
        let due = self.settings.checkpoint.due(
            state.since_checkpoint,
            elapsed(now, state.last_checkpoint_ms),
        );
        if !due {
            return;
        }
        if let Err(e) = self.checkpoint_now().await {
            tracing::warn!(chain = %self.chain_id, error = %e, "timed audit checkpoint failed");
        }
    }
}

/// Milliseconds from `then` to `now`; 0 if the clock went backwards.
fn elapsed(now: i64, then: i64) -> u64 {
    u64::try_from(now.saturating_sub(then)).unwrap_or(0)
}

/// Chains one event onto `head`: the record and its canonical event text.
pub(super) fn stage(
    head: &mut ChainHead,
    now: i64,
    event_type: &str,
    body: Value,
) -> Result<(Record, String), AuditError> {
    let record = head.append_raw(now, event_type, body)?;
    let text = record.event_text().map_err(vigil_audit::ChainError::from)?;
    Ok((record, text))
}

/// True when every caller dropped its ticket (nobody awaits the commit).
fn nobody_waits(batch: &[Pending]) -> bool {
    batch.iter().all(|p| p.reply.is_closed())
}

fn fail_all(replies: impl Iterator<Item = Reply<RecordRef>>, e: &AuditError) {
    let msg = e.to_string();
    for reply in replies {
        let _ = reply.send(Err(AuditError::Unavailable(msg.clone())));
    }
}
