//! Builders and a SQLite-backed service for the integration tests.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::time::Duration;

use vigil_approvals::{
    statement_hash, ApprovalService, ApprovalSettings, NewRequest, Requester, RequiredApprovers,
};
use vigil_core::{Principal, PrincipalKind};
use vigil_store::Store;

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

pub fn alice() -> Principal {
    principal("alice", Some("alice@example.com"), &["dev", "dba"])
}

pub const SQL: &str = "DELETE FROM orders WHERE id = 42";

/// A request by alice on `prod`, needing `count` approvals from `dba`.
pub fn request(count: u32) -> NewRequest {
    NewRequest {
        requester: Requester::from(&alice()),
        connection: "prod".to_owned(),
        environment: "production".to_owned(),
        labels: BTreeMap::from([("team".to_owned(), "payments".to_owned())]),
        sql: SQL.to_owned(),
        params: Vec::new(),
        statement_hash: statement_hash([SQL.as_bytes()]),
        statement: serde_json::json!({"kind": "write", "tables": [{"name": "orders"}]}),
        reasons: vec!["writes in production need review".to_owned()],
        rules: vec!["review.prod_write".to_owned()],
        policy_version: Some("v1".to_owned()),
        approvers: RequiredApprovers {
            groups: vec!["dba".to_owned()],
            count,
        },
        client_application: Some("psql".to_owned()),
        client_address: Some("127.0.0.1:50000".to_owned()),
        timeout: None,
        non_blocking: false,
    }
}

pub fn settings() -> ApprovalSettings {
    ApprovalSettings {
        public_url: "https://vigil.example".to_owned(),
        default_timeout: Duration::from_secs(60),
        poll_interval: Duration::from_millis(25),
        ..ApprovalSettings::default()
    }
}

/// A service on a fresh SQLite file; keep the TempDir alive.
pub async fn sqlite_service(s: ApprovalSettings) -> (tempfile::TempDir, ApprovalService) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("vigil.db").display());
    let store = Store::open(&url).await.unwrap();
    (dir, ApprovalService::start(&store, s).unwrap())
}

/// Polls `check` every 20 ms for up to 10 s: for background effects
/// (sweeper, webhooks) whose exact timing is not what is tested.
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..500 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{what} did not happen within 10 s");
}
