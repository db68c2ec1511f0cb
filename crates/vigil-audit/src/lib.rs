//! vigil-audit: the tamper-evident audit trail, as pure data and functions.
//! On the data path the proxy records a statement's intent before it is
//! forwarded and its outcome when it completes; this crate defines what is
//! recorded and how it is chained, signed and verified. Storage, the group
//! commit writer and the clock live in `vigil-store`.
//!
//! - [`event`]: the versioned event schema (`session.start`, `statement.intent`, …).
//! - [`canonical`]: the canonical JSON every hash and signature covers.
//! - [`record`]: a chain link and its hash; [`chain`]: appending.
//! - [`checkpoint`]: signed chain heads and when to write them.
//! - [`retention`]: the signed cut that lets expired records go.
//! - [`keys`]: the Ed25519 audit key file, public keys and key ids.
//! - [`verify`]: streaming verification naming the first broken record.
//! - [`export`]: JSONL lines for SIEMs and third-party verification.
//! - [`time`]: the time arguments searches take (`2h`, `2025-01-02`, …).
//!
//! docs/audit.md is the reference for third parties.

pub mod canonical;
pub mod chain;
pub mod checkpoint;
mod digest;
pub mod event;
pub mod export;
pub mod keys;
pub mod record;
pub mod retention;
pub mod time;
pub mod verify;

pub use chain::{ChainError, ChainHead};
pub use checkpoint::{Checkpoint, CheckpointPolicy};
pub use event::{
    rows_from_command_tag, ApprovalCreated, ApprovalDecided, ApprovalStatus, Approvers,
    AuditDecision, AuditPrincipal, AuditTable, AuthFailure, ConfigLoaded, Event, EventError,
    MaskedCount, OutcomeStatus, PolicyLoaded, Protocol, RecordRef, Retention, SessionEnd,
    SessionStart, StatementIntent, StatementOutcome, EVENT_TYPES, SCHEMA_VERSION,
};
pub use export::{read_lines, ExportError, ExportLine};
pub use keys::{key_id, AuditKey, KeyError, PublicKeys, SignatureProblem};
pub use record::{Link, Record, GENESIS_HASH};
pub use retention::Cut;
pub use verify::{verify, ChainReport, Problem, ProblemKind, Scope, Verifier, VerifyReport};
