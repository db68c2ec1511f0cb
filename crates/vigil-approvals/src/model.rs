//! The approval vocabulary: what a held statement's request says, who
//! reviewed it, and how it ended.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use vigil_core::{Principal, PrincipalKind};

use crate::ApprovalId;

/// Where a request is in its life. `pending` is the only state a review
/// can change; `approved` becomes `executed` once the bytes are forwarded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ApprovalStatus {
    Pending,
    Approved,
    Denied,
    Expired,
    Withdrawn,
    Executed,
}

impl ApprovalStatus {
    pub const ALL: [ApprovalStatus; 6] = [
        ApprovalStatus::Pending,
        ApprovalStatus::Approved,
        ApprovalStatus::Denied,
        ApprovalStatus::Expired,
        ApprovalStatus::Withdrawn,
        ApprovalStatus::Executed,
    ];

    pub fn as_str(self) -> &'static str {
        use vigil_store::approvals::status as s;
        match self {
            ApprovalStatus::Pending => s::PENDING,
            ApprovalStatus::Approved => s::APPROVED,
            ApprovalStatus::Denied => s::DENIED,
            ApprovalStatus::Expired => s::EXPIRED,
            ApprovalStatus::Withdrawn => s::WITHDRAWN,
            ApprovalStatus::Executed => s::EXECUTED,
        }
    }

    /// Parses the lowercase name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Every status but `pending`: the history.
    pub fn decided() -> Vec<ApprovalStatus> {
        Self::ALL
            .into_iter()
            .filter(|s| *s != ApprovalStatus::Pending)
            .collect()
    }
}

impl fmt::Display for ApprovalStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who asked: the verified principal of the held session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requester {
    pub subject: String,
    pub email: Option<String>,
    pub groups: Vec<String>,
    pub kind: PrincipalKind,
}

impl From<&Principal> for Requester {
    fn from(p: &Principal) -> Self {
        Requester {
            subject: p.subject.clone(),
            email: p.email.clone(),
            groups: p.groups.clone(),
            kind: p.kind,
        }
    }
}

/// A bound parameter as the reviewer sees it: the text when its bytes are
/// valid UTF-8, otherwise hex, so nothing is lost or guessed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoundParam {
    /// The Bind format code: 0 text, 1 binary.
    pub format: i16,
    /// `None` is SQL NULL.
    pub value: Option<ParamValue>,
}

/// A parameter's bytes, readable or hex.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ParamValue {
    Text(String),
    Hex(String),
}

impl BoundParam {
    /// From a Bind message's format code and value bytes (`None` = NULL).
    /// Binary values are shown as hex even when the bytes happen to be
    /// valid UTF-8 (an int4 `1` is `00000001`, not control characters).
    pub fn from_wire(format: i16, value: Option<&[u8]>) -> Self {
        let hex =
            |bytes: &[u8]| ParamValue::Hex(bytes.iter().map(|b| format!("{b:02x}")).collect());
        let value = value.map(|bytes| match std::str::from_utf8(bytes) {
            Ok(text) if format == 0 => ParamValue::Text(text.to_owned()),
            _ => hex(bytes),
        });
        BoundParam { format, value }
    }
}

/// Who must approve: `count` distinct members of any of `groups`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequiredApprovers {
    pub groups: Vec<String>,
    pub count: u32,
}

/// A reviewer's identity as recorded with the review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reviewer {
    pub subject: String,
    pub email: Option<String>,
}

/// Approve or deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReviewDecision {
    Approve,
    Deny,
}

/// One reviewer's decision, with when (Unix ms) and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    pub reviewer: Reviewer,
    pub decision: ReviewDecision,
    pub comment: String,
    pub at: i64,
}

/// What the statement hook hands over when policy says `review`.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRequest {
    pub requester: Requester,
    /// The connection name the client used.
    pub connection: String,
    pub environment: String,
    pub labels: BTreeMap<String, String>,
    /// The SQL text as decoded for the classifier.
    pub sql: String,
    pub params: Vec<BoundParam>,
    /// Hex sha256 of the exact bytes the proxy will forward (see
    /// [`crate::statement_hash`]).
    pub statement_hash: String,
    /// The classifier's view: kind, tables, flags, fingerprint, …
    pub statement: serde_json::Value,
    pub reasons: Vec<String>,
    pub rules: Vec<String>,
    pub policy_version: Option<String>,
    pub approvers: RequiredApprovers,
    pub client_application: Option<String>,
    pub client_address: Option<String>,
    /// How long to wait for a decision; `None` uses the default timeout.
    pub timeout: Option<Duration>,
    /// Non-blocking mode: the client is refused at once, and an approval
    /// lets one identical retry run.
    pub non_blocking: bool,
}

/// An approval request: the held statement, its context, and its reviews.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApprovalRequest {
    pub id: ApprovalId,
    pub status: ApprovalStatus,
    pub requester: Requester,
    pub connection: String,
    pub environment: String,
    pub labels: BTreeMap<String, String>,
    pub sql: String,
    pub params: Vec<BoundParam>,
    pub statement_hash: String,
    pub statement: serde_json::Value,
    pub reasons: Vec<String>,
    pub rules: Vec<String>,
    pub policy_version: Option<String>,
    pub approvers: RequiredApprovers,
    pub client_application: Option<String>,
    pub client_address: Option<String>,
    pub non_blocking: bool,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms; a pending request expires then.
    pub expires_at: i64,
    /// Unix ms when approved or denied.
    pub decided_at: Option<i64>,
    /// Unix ms when the approved bytes were forwarded.
    pub executed_at: Option<i64>,
    /// Why it was withdrawn or expired.
    pub status_reason: Option<String>,
    /// Oldest first.
    pub reviews: Vec<Review>,
}

impl ApprovalRequest {
    /// Approvals so far.
    pub fn approvals(&self) -> usize {
        self.reviews
            .iter()
            .filter(|r| r.decision == ReviewDecision::Approve)
            .count()
    }

    /// The review that denied it, if one did.
    pub fn denial(&self) -> Option<&Review> {
        self.reviews
            .iter()
            .find(|r| r.decision == ReviewDecision::Deny)
    }
}

/// How a wait ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// Forward exactly the held bytes (then call `mark_executed`).
    Approved,
    /// Refuse with the reviewer's comment.
    Denied { reviewer: Reviewer, comment: String },
    /// Nobody decided in time; the request is now expired.
    Expired,
    /// The request was withdrawn (client cancel or disconnect).
    Withdrawn,
}
