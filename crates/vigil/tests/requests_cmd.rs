//! `vigil requests` / `approve` / `deny` against a real web server
//! (127.0.0.1:0) in front of a SQLite-backed approval service. The module
//! is compiled in from src/ so its functions are called directly and their
//! output captured.

#[allow(dead_code)]
#[path = "../src/requests_cmd.rs"]
mod requests_cmd;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use requests_cmd::{ApiArgs, ApproveArgs, DenyArgs, RequestsArgs, ReviewCommand};
use vigil_approvals::{
    statement_hash, ApprovalRequest, ApprovalService, ApprovalSettings, ApprovalStatus, NewRequest,
    Requester, RequiredApprovers,
};
use vigil_core::{Principal, PrincipalKind};
use vigil_identity::{BuiltinIssuer, BuiltinSettings, TokenRequest, Verifier};

struct Server {
    base: String,
    service: ApprovalService,
    issuer: BuiltinIssuer,
    _dir: tempfile::TempDir,
}

async fn server() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let issuer = BuiltinIssuer::load_or_create(&BuiltinSettings {
        issuer: "vigil-test".to_owned(),
        audience: "vigil".to_owned(),
        key_file: dir.path().join("issuer.pem"),
    })
    .unwrap();
    let verifier = Verifier::new(Some(&issuer), Vec::new(), Duration::from_secs(30)).unwrap();
    let store =
        vigil_store::Store::open(&format!("sqlite://{}", dir.path().join("v.db").display()))
            .await
            .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let settings = ApprovalSettings {
        public_url: base.clone(),
        ..ApprovalSettings::default()
    };
    let service = ApprovalService::start(&store, settings).unwrap();
    let app = vigil_web::router(vigil_web::WebState::new(
        service.clone(),
        Arc::new(verifier),
    ));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Server {
        base,
        service,
        issuer,
        _dir: dir,
    }
}

impl Server {
    fn api(&self, sub: &str, groups: &[&str]) -> ApiArgs {
        let token = self
            .issuer
            .issue(&TokenRequest {
                subject: sub.to_owned(),
                email: None,
                groups: groups.iter().map(|g| (*g).to_owned()).collect(),
                kind: PrincipalKind::Human,
                ttl: Duration::from_secs(600),
            })
            .unwrap();
        ApiArgs {
            url: self.base.clone(),
            token: Some(token),
        }
    }

    async fn create(&self, count: u32) -> ApprovalRequest {
        let alice = Principal {
            subject: "alice".to_owned(),
            email: Some("alice@example.com".to_owned()),
            groups: vec!["dev".to_owned()],
            issuer: "vigil-test".to_owned(),
            token_id: None,
            expires_at: i64::MAX,
            kind: PrincipalKind::Human,
        };
        let sql = "UPDATE accounts SET balance = 0";
        self.service
            .create(NewRequest {
                requester: Requester::from(&alice),
                connection: "prod".to_owned(),
                environment: "production".to_owned(),
                labels: BTreeMap::new(),
                sql: sql.to_owned(),
                params: Vec::new(),
                statement_hash: statement_hash([sql.as_bytes()]),
                statement: serde_json::json!({"kind": "write"}),
                reasons: vec!["unbounded write".to_owned()],
                rules: vec!["review.unbounded_write".to_owned()],
                policy_version: None,
                approvers: RequiredApprovers {
                    groups: vec!["dba".to_owned()],
                    count,
                },
                client_application: None,
                client_address: None,
                timeout: None,
                non_blocking: false,
            })
            .await
            .unwrap()
    }
}

async fn run(cmd: ReviewCommand) -> Result<String, String> {
    let mut out = Vec::new();
    match requests_cmd::run_to(cmd, &mut out).await {
        Ok(()) => Ok(String::from_utf8(out).unwrap()),
        Err(e) => Err(format!("{e:#}")),
    }
}

#[tokio::test]
async fn list_approve_and_deny() {
    let s = server().await;
    let a = s.create(2).await;
    let b = s.create(1).await;
    let list = run(ReviewCommand::Requests(RequestsArgs {
        pending: true,
        json: false,
        api: s.api("bob", &["dba"]),
    }))
    .await
    .unwrap();
    assert!(list.starts_with("ID"), "{list}");
    assert!(
        list.contains(a.id.as_str()) && list.contains(b.id.as_str()),
        "{list}"
    );
    assert!(
        list.contains("alice@example.com")
            && list.contains("prod/production")
            && list.contains("0/2"),
        "{list}"
    );

    let first = ApproveArgs {
        id: a.id.to_string(),
        comment: "ok".to_owned(),
        api: s.api("bob", &["dba"]),
    };
    let out = run(ReviewCommand::Approve(first.clone())).await.unwrap();
    assert!(
        out.contains("is now pending (1 of 2 approvals)") && out.contains("waiting for 1 more"),
        "{out}"
    );
    let again = run(ReviewCommand::Approve(first)).await.unwrap_err();
    assert!(
        again.starts_with("409") && again.contains("already reviewed"),
        "{again}"
    );
    let second = ApproveArgs {
        id: a.id.to_string(),
        comment: String::new(),
        api: s.api("carol", &["dba"]),
    };
    assert!(run(ReviewCommand::Approve(second))
        .await
        .unwrap()
        .contains("is now approved"));
    assert_eq!(
        s.service.get(&a.id).await.unwrap().status,
        ApprovalStatus::Approved
    );

    let deny = |comment: &str, who: &str, groups: &[&str]| {
        ReviewCommand::Deny(DenyArgs {
            id: b.id.to_string(),
            comment: comment.to_owned(),
            api: s.api(who, groups),
        })
    };
    let blank = run(deny(" ", "bob", &["dba"])).await.unwrap_err();
    assert!(blank.contains("--comment"), "{blank}");
    let outsider = run(deny("no", "eve", &["dev"])).await.unwrap_err();
    assert!(outsider.starts_with("403"), "{outsider}");
    let own = run(deny("no", "alice", &["dba"])).await.unwrap_err();
    assert!(own.contains("own request"), "{own}");
    assert!(run(deny("not today", "bob", &["dba"]))
        .await
        .unwrap()
        .contains("is now denied"));
    let stored = s.service.get(&b.id).await.unwrap();
    assert_eq!(stored.reviews[0].comment, "not today");
}

#[tokio::test]
async fn errors_name_the_problem() {
    let s = server().await;
    let no_token = ApiArgs {
        url: s.base.clone(),
        token: None,
    };
    let err = run(ReviewCommand::Requests(RequestsArgs {
        pending: false,
        json: false,
        api: no_token,
    }))
    .await
    .unwrap_err();
    assert!(err.contains("VIGIL_TOKEN"), "{err}");
    let bad = ApiArgs {
        url: s.base.clone(),
        token: Some("x.y.z".to_owned()),
    };
    let err = run(ReviewCommand::Requests(RequestsArgs {
        pending: false,
        json: false,
        api: bad,
    }))
    .await
    .unwrap_err();
    assert!(err.starts_with("401"), "{err}");
    let ghost = vigil_approvals::ApprovalId::generate().to_string();
    let err = run(ReviewCommand::Approve(ApproveArgs {
        id: ghost,
        comment: String::new(),
        api: s.api("bob", &["dba"]),
    }))
    .await
    .unwrap_err();
    assert!(err.starts_with("404"), "{err}");
    let err = run(ReviewCommand::Approve(ApproveArgs {
        id: "../x".into(),
        comment: String::new(),
        api: s.api("bob", &["dba"]),
    }))
    .await
    .unwrap_err();
    assert!(err.contains("not a request id"), "{err}");
    let empty = run(ReviewCommand::Requests(RequestsArgs {
        pending: true,
        json: false,
        api: s.api("bob", &["dba"]),
    }))
    .await
    .unwrap();
    assert_eq!(empty.trim(), "no pending requests");
    let json = run(ReviewCommand::Requests(RequestsArgs {
        pending: false,
        json: true,
        api: s.api("bob", &["dba"]),
    }))
    .await
    .unwrap();
    assert!(json.contains("\"requests\""), "{json}");
}
