//! Statement events. The intent is written (and durable) before the
//! statement is forwarded; the outcome follows when it completes and names
//! the intent by its record's seq and hash.

use super::{AuditPrincipal, RecordRef};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use vigil_core::{Decision, FlagId, StatementKind, TableAccess, TableRef, Verdict};

/// Simple (`Query`) or extended (`Parse`/`Bind`/`Execute`) protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    Simple,
    Extended,
}

/// A table the statement touches, and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditTable {
    /// `schema.name`, or `name` when written unqualified.
    pub name: String,
    pub access: Vec<TableAccess>,
}

impl AuditTable {
    /// The classifier's tables, as the audit trail records them.
    pub fn from_refs(tables: &[TableRef]) -> Vec<AuditTable> {
        tables
            .iter()
            .map(|t| AuditTable {
                name: t.qualified_name(),
                access: t.access.clone(),
            })
            .collect()
    }
}

/// The policy decision, with its explanation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditDecision {
    pub verdict: Verdict,
    pub rules: Vec<String>,
    pub reasons: Vec<String>,
    /// Hash of the policy bundle that decided (see `policy.loaded`); `None`
    /// for the built-in guardrails alone.
    #[serde(default)]
    pub policy_version: Option<String>,
}

impl AuditDecision {
    pub fn new(decision: &Decision, policy_version: Option<String>) -> Self {
        AuditDecision {
            verdict: decision.verdict,
            rules: decision.rules.clone(),
            reasons: decision.reasons.clone(),
            policy_version,
        }
    }
}

/// `statement.intent`: a statement was decided. For `allow` (and approved
/// `review`) it is durably recorded before the statement is forwarded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementIntent {
    pub session_id: u64,
    pub principal: AuditPrincipal,
    pub connection: String,
    pub environment: String,
    /// The SQL text, full or with literals replaced by `$n` (see `sql_redacted`).
    pub sql: String,
    /// True when `sql` is PostgreSQL's normalized form (literals redacted).
    pub sql_redacted: bool,
    /// Fingerprint of the statement's shape; empty when unparseable.
    pub fingerprint: String,
    pub kind: StatementKind,
    pub tables: Vec<AuditTable>,
    pub flags: Vec<FlagId>,
    pub protocol: Protocol,
    /// Bound parameters (extended protocol); 0 for simple queries.
    pub param_count: u32,
    pub decision: AuditDecision,
    /// The approval request that released the statement, if one did.
    #[serde(default)]
    pub approval_id: Option<String>,
}

/// How many values of one classification were masked, in how many rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MaskedCount {
    pub values: u64,
    pub rows: u64,
}

/// `statement.outcome`: how the statement ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementOutcome {
    pub session_id: u64,
    /// The `statement.intent` record this completes.
    pub intent: RecordRef,
    /// The row count from the command tag: rows returned for SELECT, FETCH
    /// and COPY TO, rows affected for INSERT, UPDATE, DELETE, MERGE, COPY FROM.
    #[serde(default)]
    pub rows: Option<u64>,
    /// The CommandComplete tag, e.g. `UPDATE 3`.
    #[serde(default)]
    pub command_tag: Option<String>,
    /// Masked values by classification, e.g. `{"EMAIL": {"values": 10, "rows": 10}}`.
    #[serde(default)]
    pub masked: BTreeMap<String, MaskedCount>,
    pub duration_ms: u64,
    /// SQLSTATE of the error the statement ended with, if any.
    #[serde(default)]
    pub error_sqlstate: Option<String>,
    /// Which statement of a multi-statement Query string this is, from 0
    /// (every outcome of one Query names the same intent). 0 for the
    /// extended protocol.
    #[serde(default)]
    pub statement_index: u32,
    /// How it ended.
    #[serde(default)]
    pub status: OutcomeStatus,
    /// The server answered but the client was not shown it, because an
    /// earlier result of the same Query or pipeline failed closed.
    #[serde(default)]
    pub withheld: bool,
}

/// How a statement (or one Execute of it) ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeStatus {
    /// CommandComplete: `command_tag` says what it did.
    #[default]
    Ok,
    /// The server raised an error (`error_sqlstate`).
    Error,
    /// Masking could not make the result safe: the client got
    /// `error_sqlstate` instead of it; the server did run the statement.
    MaskingFailed,
    /// An Execute stopped at its row limit (PortalSuspended); later
    /// Executes of the portal record their own outcomes.
    Suspended,
    /// The statement text was empty (EmptyQueryResponse).
    Empty,
    /// Never ran: the server skipped it after an earlier error in the same
    /// extended-protocol batch.
    Skipped,
}

/// The row count a CommandComplete tag carries: its last word when that is
/// a number (`SELECT 5`, `INSERT 0 5`, `UPDATE 5`); `None` for tags without
/// one (`CREATE TABLE`).
pub fn rows_from_command_tag(tag: &str) -> Option<u64> {
    let mut words = tag.split_ascii_whitespace();
    let last = words.next_back()?;
    // A one-word tag has no count, even when the word is numeric.
    words.next()?;
    last.parse().ok()
}
