//! Events about Vigil itself: approvals, policy and config loads, and the
//! signed retention cut.

use super::AuditPrincipal;
use serde::{Deserialize, Serialize};

/// Who must approve a held statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approvers {
    /// Reviewers must belong to one of these groups.
    pub groups: Vec<String>,
    /// Distinct approvals needed.
    pub count: u32,
}

/// `approval.created`: a statement is held for review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalCreated {
    pub approval_id: String,
    #[serde(default)]
    pub session_id: Option<u64>,
    /// The requester.
    pub principal: AuditPrincipal,
    pub connection: String,
    pub environment: String,
    /// The held SQL, full or literal-redacted like `statement.intent`.
    pub sql: String,
    pub sql_redacted: bool,
    /// Hex SHA-256 of the exact bytes that may be forwarded once approved.
    pub statement_hash: String,
    pub fingerprint: String,
    pub rules: Vec<String>,
    pub reasons: Vec<String>,
    pub approvers: Approvers,
    /// When the request expires, Unix milliseconds.
    pub expires_at_ms: i64,
    /// True when the client was told to retry later instead of waiting.
    #[serde(default)]
    pub non_blocking: bool,
}

/// Where an approval request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalStatus {
    Approved,
    Denied,
    Expired,
    Withdrawn,
    Executed,
}

/// `approval.decided`: a request left `pending` (or, `executed`, its
/// statement was forwarded).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalDecided {
    pub approval_id: String,
    pub status: ApprovalStatus,
    /// The reviewer whose review decided it; `None` for expiry and withdrawal.
    #[serde(default)]
    pub reviewer: Option<AuditPrincipal>,
    #[serde(default)]
    pub comment: Option<String>,
}

/// `policy.loaded`: a policy bundle became active.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyLoaded {
    /// Hash of the bundle; decisions name it as `policy_version`.
    pub version: String,
    /// The files in the bundle.
    pub files: Vec<String>,
}

/// `config.loaded`: Vigil started (or reloaded) with a config file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigLoaded {
    pub path: String,
    /// Hex SHA-256 of the file's bytes.
    pub sha256: String,
    /// The configured connection names.
    pub connections: Vec<String>,
}

/// `retention`: expired records were deleted. Names the cut — the last
/// deleted record — and signs it, so verify accepts a chain that now starts
/// at `last_deleted_seq + 1` (see [`crate::retention`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retention {
    /// Records older than this (Unix ms) were expired.
    pub cutoff_ts_ms: i64,
    /// Records deleted by this run.
    pub deleted_records: u64,
    pub last_deleted_seq: u64,
    pub last_deleted_hash: String,
    /// Which audit key signed the cut.
    pub public_key_id: String,
    /// Hex Ed25519 signature over the cut (see docs/audit.md).
    pub signature: String,
}
