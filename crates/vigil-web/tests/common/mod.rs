//! A web server on 127.0.0.1:0 in front of a SQLite-backed approval
//! service, with Vigil's built-in issuer minting reviewer tokens.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use vigil_approvals::{
    statement_hash, ApprovalRequest, ApprovalService, ApprovalSettings, NewRequest, Requester,
    RequiredApprovers,
};
use vigil_core::{Principal, PrincipalKind};
use vigil_identity::{BuiltinIssuer, BuiltinSettings, TokenRequest, Verifier};
use vigil_store::Store;
use vigil_web::{router, WebState};

pub struct Harness {
    pub base: String,
    pub service: ApprovalService,
    issuer: BuiltinIssuer,
    _dir: tempfile::TempDir,
}

/// SQL with markup in it: pages must show it, never run it.
pub const SQL: &str = "DELETE FROM orders WHERE note = '<script>alert(1)</script>' AND id = 42";

impl Harness {
    pub async fn start() -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let issuer = BuiltinIssuer::load_or_create(&BuiltinSettings {
            issuer: "vigil-test".to_owned(),
            audience: "vigil".to_owned(),
            key_file: dir.path().join("issuer.pem"),
        })
        .unwrap();
        let verifier = Verifier::new(Some(&issuer), Vec::new(), Duration::from_secs(30)).unwrap();
        let store = Store::open(&format!("sqlite://{}", dir.path().join("v.db").display()))
            .await
            .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let settings = ApprovalSettings {
            public_url: base.clone(),
            ..ApprovalSettings::default()
        };
        let service = ApprovalService::start(&store, settings).unwrap();
        let app = router(WebState::new(service.clone(), Arc::new(verifier)));
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Harness {
            base,
            service,
            issuer,
            _dir: dir,
        }
    }

    pub fn token(&self, sub: &str, email: Option<&str>, groups: &[&str]) -> String {
        self.issuer
            .issue(&TokenRequest {
                subject: sub.to_owned(),
                email: email.map(str::to_owned),
                groups: groups.iter().map(|g| (*g).to_owned()).collect(),
                kind: PrincipalKind::Human,
                ttl: Duration::from_secs(600),
            })
            .unwrap()
    }

    /// alice (the requester) is in `dba` herself: only separation of duties stops her.
    pub fn alice(&self) -> String {
        self.token("alice", Some("alice@example.com"), &["dev", "dba"])
    }
    pub fn bob(&self) -> String {
        self.token("bob", Some("bob@example.com"), &["dba"])
    }
    pub fn carol(&self) -> String {
        self.token("carol", None, &["dba"])
    }
    pub fn eve(&self) -> String {
        self.token("eve", None, &["dev"])
    }

    /// A request by alice needing `count` approvals from `dba`.
    pub async fn create(&self, count: u32) -> ApprovalRequest {
        let alice = Principal {
            subject: "alice".to_owned(),
            email: Some("alice@example.com".to_owned()),
            groups: vec!["dev".to_owned(), "dba".to_owned()],
            issuer: "vigil-test".to_owned(),
            token_id: None,
            expires_at: i64::MAX,
            kind: PrincipalKind::Human,
        };
        self.service
            .create(NewRequest {
                requester: Requester::from(&alice),
                connection: "prod".to_owned(),
                environment: "production".to_owned(),
                labels: BTreeMap::new(),
                sql: SQL.to_owned(),
                params: vec![vigil_approvals::BoundParam::from_wire(
                    1,
                    Some(&[0xff, 0x00]),
                )],
                statement_hash: statement_hash([SQL.as_bytes()]),
                statement: serde_json::json!({
                    "kind": "write",
                    "tables": [{"schema": "public", "name": "orders", "access": ["write"]}],
                    "flags": [{"id": "write_in_production", "detail": "DELETE on production"}],
                }),
                reasons: vec!["writes in production need review".to_owned()],
                rules: vec!["review.prod_write".to_owned()],
                policy_version: None,
                approvers: RequiredApprovers {
                    groups: vec!["dba".to_owned()],
                    count,
                },
                client_application: Some("psql".to_owned()),
                client_address: Some("127.0.0.1:50000".to_owned()),
                timeout: None,
                non_blocking: false,
            })
            .await
            .unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

/// A client that does not follow redirects (tests look at them).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}
