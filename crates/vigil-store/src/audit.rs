//! The audit trail's storage: records and checkpoints in the store, the
//! group-commit writer that appends them, and the readers (search, tail,
//! export, summary, verify, retention). The chain, its hashing and its
//! verification rules are `vigil-audit`'s; this module persists them.
//!
//! - [`AuditLog`] (`writer`): one per replica and chain; `append` returns
//!   once the record is committed. `task` is the single writer behind it
//!   (group commit: concurrent appends share a transaction), `commit` its
//!   durable write, `retention` its signed deletion of expired records.
//!   On a SQLite store a batch is durable once in the chain's `journal`
//!   (one append, one flush); `ingest` copies it into SQLite in bulk, and
//!   readers in this process wait for it (`Store::audit_caught_up`).
//! - `rows`: the SQL and the row ⇄ record mapping; `index`: the searchable
//!   columns copied out of each event.
//! - `read`: search, tail/follow, chains; `export`: JSONL with checkpoints;
//!   `summary`: counts for a period; `verify`: streaming verification;
//!   `sessions`: each session's start, end and records (the web UI).

mod commit;
mod export;
mod index;
mod ingest;
mod journal;
mod read;
mod retention;
mod rows;
mod scan;
mod sessions;
mod summary;
mod task;
mod verify;
mod writer;

pub use export::{export_jsonl, ExportStats};
pub(crate) use ingest::Gate;
pub(crate) use ingest::READER_WAIT;
pub use journal::{recover_journals, Recovered};
pub use read::{
    chains, search, tail, AuditRange, Bound, ChainInfo, Cursor, Follower, Page, SearchFilter,
};
pub use retention::RetentionOutcome;
pub use sessions::{session_records, sessions, SessionRecords};
pub use summary::{summary, Summary, UserCount};
pub use verify::verify_store;
pub use writer::{AppendTicket, AuditLog, AuditSettings, AuditStats, Clock};

pub use vigil_audit::{Checkpoint, Record, RecordRef};

use crate::StoreError;

/// Why an audit operation failed. The proxy answers a failed `append` with
/// SQLSTATE 58030 (`vigil: audit unavailable`) and does not run the statement.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A batch could not be committed (shared by every append in it).
    #[error("audit store unavailable: {0}")]
    Unavailable(String),
    /// The writer has stopped (after `close`, or it crashed).
    #[error("the audit writer has stopped")]
    Closed,
    /// `try_submit` found the writer's queue full.
    #[error("the audit writer's queue is full")]
    QueueFull,
    #[error("cannot record the event: {0}")]
    Encode(#[from] vigil_audit::ChainError),
    #[error("cannot write the export: {0}")]
    Io(#[from] std::io::Error),
}

impl From<sqlx::Error> for AuditError {
    fn from(e: sqlx::Error) -> Self {
        AuditError::Store(StoreError::Query(e))
    }
}
