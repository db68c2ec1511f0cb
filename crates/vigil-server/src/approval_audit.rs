//! Approval lifecycle events as audit records: `approval.created` when a
//! statement is held, `approval.decided` when its request leaves pending
//! (approved, denied, expired, withdrawn) and when the approved bytes run.

use std::collections::HashSet;
use vigil_approvals::{ApprovalEvent, ApprovalRequest, EventKind, ReviewDecision};
use vigil_audit::event::{ApprovalCreated, ApprovalDecided, ApprovalStatus, Approvers};
use vigil_audit::{AuditPrincipal, Event};

/// The audit record for `ev`, if it is one the trail keeps. Events seen
/// from another replica are that replica's to record. `redact` names the
/// connections whose audit records hold literal-redacted SQL.
pub fn event(ev: &ApprovalEvent, redact: &HashSet<String>) -> Option<Event> {
    if ev.remote {
        return None;
    }
    let r = &ev.request;
    let status = match ev.kind {
        EventKind::Created => return Some(created(r, redact.contains(&r.connection))),
        EventKind::Reviewed => return None,
        EventKind::Decided => match r.status {
            vigil_approvals::ApprovalStatus::Approved => ApprovalStatus::Approved,
            _ => ApprovalStatus::Denied,
        },
        EventKind::Expired => ApprovalStatus::Expired,
        EventKind::Withdrawn => ApprovalStatus::Withdrawn,
        EventKind::Executed => ApprovalStatus::Executed,
    };
    let deciding = match status {
        ApprovalStatus::Approved => r
            .reviews
            .iter()
            .rev()
            .find(|v| v.decision == ReviewDecision::Approve),
        ApprovalStatus::Denied => r
            .reviews
            .iter()
            .rev()
            .find(|v| v.decision == ReviewDecision::Deny),
        _ => None,
    };
    Some(Event::ApprovalDecided(ApprovalDecided {
        approval_id: r.id.to_string(),
        status,
        reviewer: deciding.map(|v| AuditPrincipal {
            sub: v.reviewer.subject.clone(),
            email: v.reviewer.email.clone(),
            groups: Vec::new(),
            kind: vigil_core::PrincipalKind::Human,
            issuer: String::new(),
        }),
        comment: deciding
            .map(|v| v.comment.clone())
            .or_else(|| r.status_reason.clone()),
    }))
}

fn created(r: &ApprovalRequest, redact: bool) -> Event {
    let statements = r.statement.get("statements").and_then(|s| s.as_array());
    let joined = |field: &str| {
        statements
            .map(|s| {
                s.iter()
                    .filter_map(|st| st.get(field).and_then(|v| v.as_str()))
                    .collect::<Vec<_>>()
                    .join(if field == "fingerprint" { "," } else { "; " })
            })
            .unwrap_or_default()
    };
    Event::ApprovalCreated(ApprovalCreated {
        approval_id: r.id.to_string(),
        session_id: None,
        principal: AuditPrincipal {
            sub: r.requester.subject.clone(),
            email: r.requester.email.clone(),
            groups: r.requester.groups.clone(),
            kind: r.requester.kind,
            issuer: String::new(),
        },
        connection: r.connection.clone(),
        environment: r.environment.clone(),
        sql: if redact {
            joined("redacted_sql")
        } else {
            r.sql.clone()
        },
        sql_redacted: redact,
        statement_hash: r.statement_hash.clone(),
        fingerprint: joined("fingerprint"),
        rules: r.rules.clone(),
        reasons: r.reasons.clone(),
        approvers: Approvers {
            groups: r.approvers.groups.clone(),
            count: r.approvers.count,
        },
        expires_at_ms: r.expires_at,
        non_blocking: r.non_blocking,
    })
}
