//! Builders shared by this crate's unit tests.

use std::collections::BTreeMap;

use vigil_core::{Principal, PrincipalKind};

use crate::model::{ApprovalRequest, ApprovalStatus, NewRequest, Requester, RequiredApprovers};
use crate::ApprovalId;

pub fn principal(sub: &str, email: Option<&str>, groups: &[&str]) -> Principal {
    Principal {
        subject: sub.to_owned(),
        email: email.map(str::to_owned),
        groups: groups.iter().map(|g| (*g).to_owned()).collect(),
        issuer: "test".to_owned(),
        token_id: None,
        expires_at: i64::MAX,
        kind: PrincipalKind::Human,
    }
}

pub fn new_request(sub: &str, email: Option<&str>, groups: &[&str], count: u32) -> NewRequest {
    NewRequest {
        requester: Requester {
            subject: sub.to_owned(),
            email: email.map(str::to_owned),
            groups: vec!["dev".to_owned()],
            kind: PrincipalKind::Human,
        },
        connection: "prod".to_owned(),
        environment: "production".to_owned(),
        labels: BTreeMap::new(),
        sql: "DELETE FROM orders WHERE id = 1".to_owned(),
        params: Vec::new(),
        statement_hash: "ab".repeat(32),
        statement: serde_json::json!({"kind": "write"}),
        reasons: vec!["writes in production need review".to_owned()],
        rules: vec!["review.prod_write".to_owned()],
        policy_version: None,
        approvers: RequiredApprovers {
            groups: groups.iter().map(|g| (*g).to_owned()).collect(),
            count,
        },
        client_application: Some("psql".to_owned()),
        client_address: Some("127.0.0.1:5000".to_owned()),
        timeout: None,
        non_blocking: false,
    }
}

/// `r` as the store would return it right after creation.
pub fn stored(r: NewRequest) -> ApprovalRequest {
    ApprovalRequest {
        id: ApprovalId::generate(),
        status: ApprovalStatus::Pending,
        requester: r.requester,
        connection: r.connection,
        environment: r.environment,
        labels: r.labels,
        sql: r.sql,
        params: r.params,
        statement_hash: r.statement_hash,
        statement: r.statement,
        reasons: r.reasons,
        rules: r.rules,
        policy_version: r.policy_version,
        approvers: r.approvers,
        client_application: r.client_application,
        client_address: r.client_address,
        non_blocking: r.non_blocking,
        created_at: 1_700_000_000_000,
        expires_at: 1_700_000_300_000,
        decided_at: None,
        executed_at: None,
        status_reason: None,
        reviews: Vec::new(),
    }
}
