//! Domain ↔ store rows. The immutable context travels as one JSON `Body`;
//! the row's columns carry what changes (status, times) and what queries
//! filter on. Fields default when absent so older rows still read.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use vigil_store::approvals::{decision, RequestRow, ReviewRow, StoredRequest};
use vigil_store::StoreError;

use crate::model::{
    ApprovalRequest, ApprovalStatus, BoundParam, NewRequest, Requester, RequiredApprovers, Review,
    ReviewDecision, Reviewer,
};
use crate::ApprovalId;

/// The JSON kept in `approval_requests.body`.
#[derive(Serialize, Deserialize)]
struct Body {
    requester: Requester,
    #[serde(default)]
    environment: String,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    sql: String,
    #[serde(default)]
    params: Vec<BoundParam>,
    #[serde(default)]
    statement: serde_json::Value,
    #[serde(default)]
    reasons: Vec<String>,
    #[serde(default)]
    rules: Vec<String>,
    #[serde(default)]
    policy_version: Option<String>,
    approvers: RequiredApprovers,
    #[serde(default)]
    client_application: Option<String>,
    #[serde(default)]
    client_address: Option<String>,
}

/// The row for a new request created at `now` (Unix ms), expiring at `expires_at`.
pub(crate) fn new_row(
    id: &ApprovalId,
    r: &NewRequest,
    now: i64,
    expires_at: i64,
) -> Result<RequestRow, StoreError> {
    let body = Body {
        requester: r.requester.clone(),
        environment: r.environment.clone(),
        labels: r.labels.clone(),
        sql: r.sql.clone(),
        params: r.params.clone(),
        statement: r.statement.clone(),
        reasons: r.reasons.clone(),
        rules: r.rules.clone(),
        policy_version: r.policy_version.clone(),
        approvers: r.approvers.clone(),
        client_application: r.client_application.clone(),
        client_address: r.client_address.clone(),
    };
    let body = serde_json::to_string(&body).map_err(|e| corrupt(&e))?;
    Ok(RequestRow {
        id: id.to_string(),
        status: ApprovalStatus::Pending.as_str().to_owned(),
        created_at: now,
        expires_at,
        updated_at: now,
        decided_at: None,
        executed_at: None,
        requester_subject: r.requester.subject.clone(),
        requester_email: r.requester.email.as_deref().map(normalize_email),
        connection: r.connection.clone(),
        statement_hash: r.statement_hash.clone(),
        non_blocking: r.non_blocking,
        required_count: i64::from(r.approvers.count),
        status_reason: None,
        body,
    })
}

/// A stored request back in domain form.
pub(crate) fn request(s: StoredRequest) -> Result<ApprovalRequest, StoreError> {
    let StoredRequest {
        request: row,
        reviews,
    } = s;
    let body: Body = serde_json::from_str(&row.body).map_err(|e| corrupt(&e))?;
    let status = ApprovalStatus::parse(&row.status).ok_or_else(|| StoreError::Corrupt {
        what: "approval request",
        detail: format!("unknown status {:?}", row.status),
    })?;
    Ok(ApprovalRequest {
        id: ApprovalId::from_stored(row.id),
        status,
        requester: body.requester,
        connection: row.connection,
        environment: body.environment,
        labels: body.labels,
        sql: body.sql,
        params: body.params,
        statement_hash: row.statement_hash,
        statement: body.statement,
        reasons: body.reasons,
        rules: body.rules,
        policy_version: body.policy_version,
        approvers: body.approvers,
        client_application: body.client_application,
        client_address: body.client_address,
        non_blocking: row.non_blocking,
        created_at: row.created_at,
        expires_at: row.expires_at,
        decided_at: row.decided_at,
        executed_at: row.executed_at,
        status_reason: row.status_reason,
        reviews: reviews.into_iter().map(review).collect::<Result<_, _>>()?,
    })
}

/// The row for a review of `id` taken at `now`.
pub(crate) fn review_row(
    id: &ApprovalId,
    reviewer: &Reviewer,
    d: ReviewDecision,
    comment: &str,
    now: i64,
) -> ReviewRow {
    ReviewRow {
        request_id: id.to_string(),
        reviewer_subject: reviewer.subject.clone(),
        reviewer_email: reviewer.email.as_deref().map(normalize_email),
        decision: match d {
            ReviewDecision::Approve => decision::APPROVE,
            ReviewDecision::Deny => decision::DENY,
        }
        .to_owned(),
        comment: comment.to_owned(),
        at: now,
    }
}

fn review(r: ReviewRow) -> Result<Review, StoreError> {
    let d = match r.decision.as_str() {
        decision::APPROVE => ReviewDecision::Approve,
        decision::DENY => ReviewDecision::Deny,
        other => {
            return Err(StoreError::Corrupt {
                what: "approval review",
                detail: format!("unknown decision {other:?}"),
            })
        }
    };
    Ok(Review {
        reviewer: Reviewer {
            subject: r.reviewer_subject,
            email: r.reviewer_email,
        },
        decision: d,
        comment: r.comment,
        at: r.at,
    })
}

/// Emails compare case-insensitively everywhere (separation of duties,
/// distinct reviewers), so they are stored in one case.
pub(crate) fn normalize_email(e: &str) -> String {
    e.trim().to_lowercase()
}

fn corrupt(e: &serde_json::Error) -> StoreError {
    StoreError::Corrupt {
        what: "approval request body",
        detail: e.to_string(),
    }
}
