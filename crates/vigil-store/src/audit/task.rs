//! The writer: the only code that appends to a chain. It batches whatever
//! is queued (group commit), chains it onto its head, makes it durable (the
//! journal's append and flush, or one transaction: [`super::commit`]) and
//! only then answers every caller. The head advances only after the write
//! succeeds; a failed batch answers every caller with an error and makes the
//! writer reload its head from the store before the next batch, so the
//! chain never forks.
//!
//! A writer with a journal (a SQLite store) runs on a thread of its own
//! ([`Writer::spawn`]) and appends and flushes the journal in place: a
//! statement's intent then costs one wake-up of that thread and one of the
//! session, not a hop to the blocking pool and back through the async
//! workers' queue (where it waited behind the sessions' own work). A writer
//! without one (PostgreSQL) stays a task on the caller's runtime, whose
//! connections it shares.

use super::index::IndexFields;
use super::ingest::{self, Gate, Item};
use super::journal::{self, Journal, Row};
use super::rows;
use super::writer::{AuditSettings, Counters};
use super::AuditError;
use crate::Store;
use sqlx::pool::PoolConnection;
use sqlx::Any;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use vigil_audit::{AuditKey, ChainHead, Checkpoint, Link, RecordRef};

pub(super) type Reply<T> = oneshot::Sender<Result<T, AuditError>>;

/// Resolves once a spawned writer has stopped ([`Writer::spawn`]).
pub(super) type Stopped = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

/// One queued append, encoded by the caller's task.
pub(super) struct Pending {
    pub event_type: &'static str,
    /// The event's canonical JSON ([`vigil_audit::Event::canonical_text`]).
    pub text: String,
    pub index: IndexFields,
    pub reply: Reply<RecordRef>,
}

pub(super) enum Command {
    Append(Box<Pending>),
    Checkpoint(Reply<Option<Checkpoint>>),
    Retention(i64, Reply<super::RetentionOutcome>),
    Close(Reply<()>),
}

/// A record chained and ready to write, with the caller to answer.
pub(super) struct Staged {
    pub row: Row,
    pub reply: Reply<RecordRef>,
}

/// A SQLite store's write-ahead journal (two files, [`journal`]) and the
/// ingester behind it ([`ingest`]).
pub(super) struct JournalState {
    files: [Journal; 2],
    paths: [std::path::PathBuf; 2],
    /// The file appends go to.
    active: usize,
    /// The ingester's count of entries handed over when the other file got
    /// its last one: SQLite holds all of that file once it has ingested
    /// this many.
    other_until: u64,
    switch_at: u64,
    /// A write or flush failed: the files are not trusted until they are
    /// emptied (once SQLite holds everything acknowledged before).
    broken: bool,
    pub gate: Arc<Gate>,
    tx: Option<mpsc::UnboundedSender<Item>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl JournalState {
    fn path(&self) -> &std::path::Path {
        self.paths
            .get(self.active)
            .map_or(std::path::Path::new(""), |p| p.as_path())
    }

    /// Moves appends to the other file once the active one has passed
    /// `switch_at` and SQLite holds everything in the other: the other is
    /// emptied first (durably), so each file holds one run of consecutive
    /// entries. Until then appends stay where they are, and the file grows.
    fn switch_if_due(&mut self) -> Result<(), AuditError> {
        let other = 1 - self.active.min(1);
        let due = self.files.get(self.active).map_or(0, Journal::len) > self.switch_at
            && self.gate.ingested() >= self.other_until;
        if !due {
            return Ok(());
        }
        if let (Some(file), Some(path)) = (self.files.get_mut(other), self.paths.get(other)) {
            file.reset().map_err(|e| journal_error(path, &e))?;
        }
        // Everything in the file being left has been handed over by now.
        self.other_until = self.gate.handed_over();
        self.active = other;
        Ok(())
    }

    /// Empties both files (SQLite holds everything in them).
    fn reset_all(&mut self) -> Result<(), AuditError> {
        for (file, path) in self.files.iter_mut().zip(&self.paths) {
            file.reset().map_err(|e| journal_error(path, &e))?;
        }
        self.active = 0;
        self.other_until = 0;
        Ok(())
    }
}

/// How long the writer waits for the ingester where it must (before
/// reloading its head, emptying a broken journal, retention).
const CATCH_UP: Duration = Duration::from_secs(5);
/// How long the ingester keeps retrying at shutdown before leaving the
/// rest to the journal (replayed at the next start).
const INGEST_GIVE_UP: Duration = Duration::from_secs(5);
/// Most entries journaled and not yet in SQLite (what the ingester holds
/// in memory) before appends wait for it, and are refused if it does not
/// catch up within [`CATCH_UP`].
const MAX_BACKLOG: u64 = 200_000;

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
    /// SQLite stores write ahead to a journal; others commit each batch.
    pub journal: Option<JournalState>,
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
            journal: None,
        };
        writer.register().await?;
        writer.open_journal().await?;
        writer.ensure_head().await?;
        Ok(writer)
    }

    /// For a SQLite store: replays what the chain's journal holds beyond
    /// the database (a crash or a kill before the ingester caught up),
    /// empties it, and starts the ingester.
    async fn open_journal(&mut self) -> Result<(), AuditError> {
        let Some(db) = self.store.sqlite_path() else {
            return Ok(());
        };
        let paths = journal::paths_for(db, &self.chain_id);
        let base = self.settings.journal_prewrite;
        let open = |path: &std::path::Path| {
            let mut file = Journal::open(path, base).map_err(|e| journal_error(path, &e))?;
            let bytes = file.read_all().map_err(|e| journal_error(path, &e))?;
            Ok::<_, AuditError>((file, journal::decode(&bytes)))
        };
        let (mut first, a) = open(&paths[0])?;
        let (mut second, b) = open(&paths[1])?;
        journal::replay(&self.store, &paths[0], &journal::in_order(a, b)).await?;
        for (file, path) in [(&mut first, &paths[0]), (&mut second, &paths[1])] {
            file.reset().map_err(|e| journal_error(path, &e))?;
        }
        let gate = Arc::new(Gate::default());
        let (tx, rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(ingest::run(
            self.store.clone(),
            gate.clone(),
            rx,
            INGEST_GIVE_UP,
        ));
        self.store.add_gate(gate.clone());
        self.journal = Some(JournalState {
            files: [first, second],
            paths,
            active: 0,
            other_until: 0,
            switch_at: self.settings.journal_switch_at,
            broken: false,
            gate,
            tx: Some(tx),
            task: Some(task),
        });
        Ok(())
    }

    /// Writes what is staged durably: to the journal (then hands it to the
    /// ingester), or, without one, in one store transaction.
    async fn persist(
        &mut self,
        staged: &[Staged],
        checkpoint: Option<&Checkpoint>,
    ) -> Result<(), AuditError> {
        let rows: Vec<&Row> = staged.iter().map(|s| &s.row).collect();
        let Some(j) = self.journal.as_mut() else {
            return Ok(self.write(&rows, checkpoint).await?);
        };
        if self.store.pool().is_closed() {
            return Err(AuditError::Unavailable("the store is closed".to_owned()));
        }
        if let Some(why) = j.gate.failure() {
            return Err(AuditError::Unavailable(format!(
                "the audit store is not taking records: {why}"
            )));
        }
        if j.gate.backlog() > MAX_BACKLOG && !j.gate.wait_caught_up(CATCH_UP).await {
            return Err(AuditError::Unavailable(
                "the audit store is too far behind its journal".to_owned(),
            ));
        }
        if j.broken {
            if !j.gate.wait_caught_up(CATCH_UP).await {
                return Err(AuditError::Unavailable(
                    "the audit journal cannot be written and the store is behind it".to_owned(),
                ));
            }
            j.reset_all()?;
            j.broken = false;
        }
        let mut bytes = Vec::with_capacity(rows.len() * 768 + 256);
        journal::encode(&rows, checkpoint, &mut bytes);
        // File I/O in place: this is the writer's own thread ([`Writer::spawn`]).
        j.switch_if_due()?;
        let active = j.active;
        match j.files.get_mut(active).map(|f| f.append(&bytes)) {
            Some(Ok(())) => Ok(()),
            Some(Err(e)) => {
                j.broken = true;
                Err(journal_error(j.path(), &e))
            }
            None => Err(AuditError::Unavailable(
                "the audit journal has no active file".to_owned(),
            )),
        }
    }

    /// Hands a journaled batch to the ingester (before its callers are
    /// answered, so a reader they then ask finds it). No-op without a
    /// journal.
    fn hand_over(&self, rows: Vec<Row>, checkpoint: Option<Checkpoint>) {
        let Some(j) = &self.journal else { return };
        j.gate
            .queued(rows.len() as u64 + u64::from(checkpoint.is_some()));
        if let Some(tx) = &j.tx {
            if !rows.is_empty() {
                let _ = tx.send(Item::Rows(rows));
            }
            if let Some(cp) = checkpoint {
                let _ = tx.send(Item::Checkpoint(cp));
            }
        }
    }

    /// Waits until SQLite holds everything journaled (a no-op without a
    /// journal); an error if it does not within [`CATCH_UP`].
    pub(super) async fn caught_up(&self) -> Result<(), AuditError> {
        match &self.journal {
            Some(j) if !j.gate.wait_caught_up(CATCH_UP).await => {
                Err(AuditError::Unavailable(j.gate.failure().unwrap_or_else(
                    || "the audit store is behind its journal".to_owned(),
                )))
            }
            _ => Ok(()),
        }
    }

    /// Empties the journal when SQLite holds all of it (after retention,
    /// so expired records do not outlive it there, and at close).
    pub(super) async fn trim_journal(&mut self) {
        let Some(j) = self.journal.as_mut() else {
            return;
        };
        if !j.gate.caught_up() {
            return;
        }
        if let Err(e) = j.reset_all() {
            tracing::warn!(error = %e, "cannot empty the audit journal");
        }
    }

    /// Stops the ingester once it has written everything (or given up),
    /// and empties the journal if SQLite holds all of it.
    async fn stop_ingest(&mut self) {
        let Some(j) = self.journal.as_mut() else {
            return;
        };
        j.tx = None;
        if let Some(task) = j.task.take() {
            let _ = task.await;
        }
        let gate = j.gate.clone();
        self.trim_journal().await;
        self.store.remove_gate(&gate);
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

    /// Runs the writer until its channel closes or it is told to close:
    /// on a thread of its own with a single-threaded runtime when it has a
    /// journal (its file I/O then blocks only that thread), else as a task
    /// on the caller's runtime. The returned future resolves when it has
    /// stopped.
    pub fn spawn(self, rx: mpsc::Receiver<Command>) -> Result<Stopped, AuditError> {
        if self.journal.is_none() {
            let task = tokio::spawn(self.run(rx));
            return Ok(Box::pin(async move {
                let _ = task.await;
            }));
        }
        let unavailable = |e: std::io::Error| {
            AuditError::Unavailable(format!("cannot start the audit writer's thread: {e}"))
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(unavailable)?;
        let (done, stopped) = oneshot::channel::<()>();
        // A fixed name: the chain id comes from the config, and a name
        // holding a NUL byte would make `spawn` panic.
        std::thread::Builder::new()
            .name("vigil-audit".to_owned())
            .spawn(move || {
                rt.block_on(self.run(rx));
                drop(rt);
                let _ = done.send(());
            })
            .map_err(unavailable)?;
        Ok(Box::pin(async move {
            let _ = stopped.await;
        }))
    }

    async fn run(mut self, mut rx: mpsc::Receiver<Command>) {
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
        self.stop_ingest().await;
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
                    let result = self.checkpoint_now().await.map(|_| ());
                    self.stop_ingest().await;
                    let _ = reply.send(result);
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
            Err(e) => {
                self.counters.failed_batch();
                return fail_all(batch.into_iter().map(|p| p.reply), &e);
            }
        };
        let now = (self.settings.clock)();
        let mut head = state.head.clone();
        let mut staged = Vec::with_capacity(batch.len());
        for p in batch {
            match stage(&mut head, now, p.event_type, p.text) {
                Ok(link) => staged.push(Staged {
                    row: Row {
                        link,
                        index: p.index,
                    },
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
        if let Err(e) = self.persist(&staged, checkpoint.as_ref()).await {
            tracing::error!(chain = %self.chain_id, error = %e, records = staged.len(), "audit batch failed");
            self.state = None;
            self.counters.failed_batch();
            return fail_all(staged.into_iter().map(|s| s.reply), &e);
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
        let mut rows = Vec::with_capacity(staged.len());
        let mut answers = Vec::with_capacity(staged.len());
        for s in staged {
            answers.push((s.reply, s.row.link.reference()));
            rows.push(s.row);
        }
        self.hand_over(rows, checkpoint);
        for (reply, reference) in answers {
            let _ = reply.send(Ok(reference));
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

    /// Reads the chain's last record and last checkpoint (once SQLite
    /// holds everything journaled: a stale head would fork the chain).
    async fn load_head(&self) -> Result<HeadState, AuditError> {
        self.caught_up().await?;
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
        if let Err(e) = self.persist(&[], Some(&cp)).await {
            self.state = None;
            return Err(e);
        }
        self.hand_over(Vec::new(), Some(cp.clone()));
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

/// Chains one event, given as its canonical text, onto `head`.
pub(super) fn stage(
    head: &mut ChainHead,
    now: i64,
    event_type: &str,
    text: String,
) -> Result<Link, AuditError> {
    Ok(head.append_text(now, event_type, text)?)
}

fn journal_error(path: &std::path::Path, e: &std::io::Error) -> AuditError {
    AuditError::Unavailable(format!(
        "cannot write the audit journal {}: {e}",
        path.display()
    ))
}

/// True when every caller dropped its ticket (nobody awaits the commit).
fn nobody_waits(batch: &[Pending]) -> bool {
    batch.iter().all(|p| p.reply.is_closed())
}

fn fail_all(replies: impl Iterator<Item = Reply<RecordRef>>, e: &AuditError) {
    let msg = match e {
        AuditError::Unavailable(m) => m.clone(),
        other => other.to_string(),
    };
    for reply in replies {
        let _ = reply.send(Err(AuditError::Unavailable(msg.clone())));
    }
}
