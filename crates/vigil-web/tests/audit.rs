//! `GET /api/audit` and the audit pages over real HTTP, against a real
//! SQLite store written by the real audit writer.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use vigil_approvals::{ApprovalService, ApprovalSettings};
use vigil_audit::{
    AuditDecision, AuditKey, AuditPrincipal, AuditTable, AuthFailure, Event, MaskedCount,
    OutcomeStatus, Protocol, RecordRef, SessionEnd, SessionStart, StatementIntent,
    StatementOutcome,
};
use vigil_core::{PrincipalKind, StatementKind, TableAccess, Verdict};
use vigil_identity::{BuiltinIssuer, BuiltinSettings, TokenRequest, Verifier};
use vigil_store::audit::{AuditLog, AuditSettings};
use vigil_store::Store;
use vigil_web::{router, WebState};

struct Site {
    base: String,
    issuer: BuiltinIssuer,
    _dir: tempfile::TempDir,
}

const APPROVAL: &str = "3f2c7a9e-1b1d-4c55-9d0e-0a7c1f7e9b21";

impl Site {
    /// A web server whose store holds a small trail (see `write_trail`);
    /// `audit: false` serves no audit trail at all.
    async fn start(audit: bool) -> Site {
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
        write_trail(&store).await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let settings = ApprovalSettings {
            public_url: base.clone(),
            ..ApprovalSettings::default()
        };
        let service = ApprovalService::start(&store, settings).unwrap();
        let mut state = WebState::new(service, Arc::new(verifier));
        if audit {
            state = state.with_audit(store);
        }
        let app = router(state);
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Site {
            base,
            issuer,
            _dir: dir,
        }
    }

    fn token(&self, sub: &str, groups: &[&str]) -> String {
        self.issuer
            .issue(&TokenRequest {
                subject: sub.to_owned(),
                email: None,
                groups: groups.iter().map(|g| (*g).to_owned()).collect(),
                kind: PrincipalKind::Human,
                ttl: Duration::from_secs(600),
            })
            .unwrap()
    }

    fn auditor(&self) -> String {
        self.token("ivy", &["auditor"])
    }

    async fn api(&self, token: Option<&str>, query: &str) -> (u16, Value) {
        let mut req = client().get(format!("{}/api/audit{query}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap())
    }

    /// A page as a signed-in visitor (the UI's cookie).
    async fn page(&self, token: &str, path: &str) -> (u16, String) {
        let resp = client()
            .get(format!("{}{path}", self.base))
            .header("cookie", format!("vigil_session={token}"))
            .send()
            .await
            .unwrap();
        (resp.status().as_u16(), resp.text().await.unwrap())
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn who(sub: &str) -> AuditPrincipal {
    AuditPrincipal {
        sub: sub.to_owned(),
        email: Some(format!("{sub}@example.com")),
        groups: vec!["dev".to_owned()],
        kind: PrincipalKind::Human,
        issuer: "vigil-test".to_owned(),
    }
}

fn start(session_id: u64, sub: &str, connection: &str) -> Event {
    Event::SessionStart(SessionStart {
        session_id,
        principal: who(sub),
        client_addr: "10.0.0.5:5000".to_owned(),
        application_name: Some("psql".to_owned()),
        tls: true,
        connection: connection.to_owned(),
        environment: "production".to_owned(),
    })
}

fn intent(session_id: u64, sub: &str, sql: &str, verdict: Verdict, table: &str) -> Event {
    Event::StatementIntent(StatementIntent {
        session_id,
        principal: who(sub),
        connection: "prod".to_owned(),
        environment: "production".to_owned(),
        sql: sql.to_owned(),
        sql_redacted: false,
        fingerprint: "f".to_owned(),
        kind: StatementKind::Read,
        tables: vec![AuditTable {
            name: table.to_owned(),
            access: vec![TableAccess::Read],
        }],
        flags: Vec::new(),
        protocol: Protocol::Simple,
        param_count: 0,
        decision: AuditDecision {
            verdict,
            rules: vec![format!("rule.{}", verdict.as_str())],
            reasons: vec![format!("because {}", verdict.as_str())],
            policy_version: Some("e3b0".to_owned()),
        },
        approval_id: (verdict == Verdict::Review).then(|| APPROVAL.to_owned()),
    })
}

fn outcome(session_id: u64, intent: RecordRef, rows: u64, masked: u64) -> Event {
    let masked = if masked > 0 {
        BTreeMap::from([(
            "EMAIL".to_owned(),
            MaskedCount {
                values: masked,
                rows: masked,
            },
        )])
    } else {
        BTreeMap::new()
    };
    Event::StatementOutcome(StatementOutcome {
        session_id,
        intent,
        rows: Some(rows),
        command_tag: Some(format!("SELECT {rows}")),
        masked,
        duration_ms: 4,
        error_sqlstate: None,
        statement_index: 0,
        status: OutcomeStatus::Ok,
        withheld: false,
    })
}

/// Two sessions of one run, a refused login, then a restarted Vigil whose
/// first session reuses id 1.
async fn write_trail(store: &Store) {
    let now = Arc::new(AtomicI64::new(0));
    let clock = now.clone();
    let settings = AuditSettings {
        clock: Arc::new(move || clock.load(Ordering::SeqCst)),
        ..AuditSettings::default()
    };
    let log = AuditLog::start(store.clone(), "web-a", AuditKey::generate(), settings)
        .await
        .unwrap();
    let at = |ms: i64| now.store(ms, Ordering::SeqCst);
    at(1000);
    log.append(&start(1, "alice", "prod")).await.unwrap();
    at(2000);
    let read = "SELECT email FROM public.customers";
    let i = log
        .append(&intent(
            1,
            "alice",
            read,
            Verdict::Allow,
            "public.customers",
        ))
        .await
        .unwrap();
    at(2001);
    log.append(&outcome(1, i, 3, 3)).await.unwrap();
    at(3000);
    let held = "DELETE FROM orders WHERE id = 7";
    let i = log
        .append(&intent(1, "alice", held, Verdict::Review, "orders"))
        .await
        .unwrap();
    at(3001);
    log.append(&outcome(1, i, 1, 0)).await.unwrap();
    at(4000);
    let denied = "DROP TABLE orders";
    log.append(&intent(1, "alice", denied, Verdict::Deny, "orders"))
        .await
        .unwrap();
    at(5000);
    log.append(&Event::SessionEnd(SessionEnd {
        session_id: 1,
        principal: who("alice"),
        client_addr: "10.0.0.5:5000".to_owned(),
        application_name: Some("psql".to_owned()),
        tls: true,
        connection: "prod".to_owned(),
        environment: "production".to_owned(),
        duration_ms: 4000,
        statements: 3,
        bytes_in: 300,
        bytes_out: 12_345,
        reason: Some("client terminated".to_owned()),
    }))
    .await
    .unwrap();
    at(6000);
    log.append(&start(2, "bob", "staging")).await.unwrap();
    at(7000);
    log.append(&intent(2, "bob", "SELECT 1", Verdict::Allow, "dual"))
        .await
        .unwrap();
    at(8000);
    log.append(&Event::AuthFailure(AuthFailure {
        reason: "authentication failed: bad signature".to_owned(),
        client_addr: "10.0.0.9:4000".to_owned(),
        claimed_user: Some("mallory".to_owned()),
        connection: Some("prod".to_owned()),
        application_name: None,
        tls: false,
    }))
    .await
    .unwrap();
    // Vigil restarted: session ids count from 1 again on the same chain.
    at(9000);
    log.append(&start(1, "carol", "prod")).await.unwrap();
    at(9500);
    log.append(&intent(
        1,
        "carol",
        "SELECT 'carol'",
        Verdict::Allow,
        "dual",
    ))
    .await
    .unwrap();
    log.close().await.unwrap();
}

fn sqls(page: &Value) -> Vec<String> {
    page["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["event"]["sql"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn reading_the_trail_needs_the_auditor_or_admin_group() {
    let site = Site::start(true).await;
    let (status, body) = site.api(None, "").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("unauthorized"))
    );
    let dev = site.token("eve", &["dev", "dba"]);
    let (status, body) = site.api(Some(&dev), "").await;
    assert_eq!((status, body["error"].as_str()), (403, Some("forbidden")));
    assert!(body["message"].as_str().unwrap().contains("auditor"));
    for groups in [&["auditor"][..], &["admin"]] {
        let (status, body) = site.api(Some(&site.token("ivy", groups)), "").await;
        assert_eq!(status, 200, "{groups:?}: {body}");
        assert!(!body["records"].as_array().unwrap().is_empty());
    }
    let (status, _) = site.page(&dev, "/audit").await;
    assert_eq!(status, 403);
    let resp = client()
        .get(format!("{}/audit", site.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["location"], "/signin");
    // A Vigil that keeps no audit trail says so.
    let bare = Site::start(false).await;
    let (status, body) = bare.api(Some(&bare.auditor()), "").await;
    assert_eq!((status, body["error"].as_str()), (404, Some("not_found")));
}

#[tokio::test]
async fn the_search_filters_match_the_cli() {
    let site = Site::start(true).await;
    let t = site.auditor();
    let (_, all) = site.api(Some(&t), "").await;
    // Newest first, every record of the chain (12 appended),
    // in the export's format.
    let records = all["records"].as_array().unwrap();
    assert_eq!(records.len(), 12, "{all}");
    assert_eq!(records[0]["type"], "record");
    assert_eq!(records[0]["event"]["sql"], "SELECT 'carol'");
    assert!(records[0]["hash"].as_str().unwrap().len() == 64);
    assert_eq!(all["next_cursor"], Value::Null);

    let (_, p) = site.api(Some(&t), "?verdict=deny").await;
    assert_eq!(sqls(&p), ["DROP TABLE orders"]);
    let (_, p) = site
        .api(Some(&t), "?user=bob%40example.com&type=statement.intent")
        .await;
    assert_eq!(sqls(&p), ["SELECT 1"]);
    let (_, p) = site.api(Some(&t), "?table=customers").await;
    assert_eq!(sqls(&p), ["SELECT email FROM public.customers"]);
    let (_, p) = site.api(Some(&t), "?text=DELETE").await;
    assert_eq!(sqls(&p), ["DELETE FROM orders WHERE id = 7"]);
    let (_, p) = site.api(Some(&t), "?since=@2500&until=@4500").await;
    let types: Vec<_> = p["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["ts_ms"].as_i64().unwrap(),
                r["event_type"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        types,
        [
            (4000, "statement.intent"),
            (3001, "statement.outcome"),
            (3000, "statement.intent")
        ]
    );
    let (_, p) = site.api(Some(&t), "?user=mallory").await;
    assert_eq!(p["records"][0]["event_type"], "auth.failure");
    let (_, p) = site.api(Some(&t), "?session=2&chain=web-a").await;
    assert_eq!(p["records"].as_array().unwrap().len(), 2);

    let (status, body) = site.api(Some(&t), "?verdict=maybe").await;
    assert_eq!((status, body["error"].as_str()), (400, Some("bad_request")));
    let (status, _) = site.api(Some(&t), "?since=someday").await;
    assert_eq!(status, 400);
    let (status, _) = site.api(Some(&t), "?cursor=nonsense").await;
    assert_eq!(status, 400);
    let (status, _) = site.api(Some(&t), "?limit=ten").await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn pages_follow_the_cursor_without_gaps_or_repeats() {
    let site = Site::start(true).await;
    let t = site.auditor();
    let (_, all) = site.api(Some(&t), "").await;
    let everything: Vec<u64> = all["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["seq"].as_u64().unwrap())
        .collect();
    let mut seen = Vec::new();
    let mut query = "?limit=4".to_owned();
    loop {
        let (status, page) = site.api(Some(&t), &query).await;
        assert_eq!(status, 200, "{page}");
        let records = page["records"].as_array().unwrap();
        assert!(records.len() <= 4);
        seen.extend(records.iter().map(|r| r["seq"].as_u64().unwrap()));
        match page["next_cursor"].as_str() {
            Some(c) => query = format!("?limit=4&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen, everything);
    // Offset paging reaches the same records.
    let (_, p) = site.api(Some(&t), "?limit=3&offset=9").await;
    let tail: Vec<u64> = p["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(tail, everything[9..]);
}

#[tokio::test]
async fn the_session_list_drills_down_to_statements() {
    let site = Site::start(true).await;
    let t = site.auditor();
    let (status, list) = site.page(&t, "/audit").await;
    assert_eq!(status, 200, "{list}");
    // Three sessions, newest first; carol's has no end (yet).
    let alice = list.find("alice@example.com").expect("alice listed");
    let carol = list.find("carol@example.com").expect("carol listed");
    assert!(carol < alice, "newest first");
    assert!(list.contains("bob@example.com"));
    assert!(list.contains("client terminated"));
    assert!(list.contains("no end recorded"));
    assert!(list.contains("12.3 kB out"));
    assert!(
        list.contains(r#"href="/audit""#),
        "the nav links the audit page"
    );
    let (_, filtered) = site.page(&t, "/audit?user=bob%40example.com").await;
    assert!(filtered.contains("bob@example.com") && !filtered.contains("carol@example.com"));

    // alice's session (id 1 of the first run) holds her three statements
    // and not carol's, although carol's session reused id 1.
    let (status, page) = site.page(&t, "/audit/sessions/web-a/1").await;
    assert_eq!(status, 200, "{page}");
    for sql in [
        "SELECT email FROM public.customers",
        "DELETE FROM orders WHERE id = 7",
        "DROP TABLE orders",
    ] {
        assert!(page.contains(sql), "{sql} missing");
    }
    assert!(!page.contains("carol"));
    assert_eq!(page.matches(r#"class="statement""#).count(), 3);
    assert!(page.contains("masked EMAIL: 3 values in 3 rows"));
    assert!(page.contains(&format!(r#"href="/requests/{APPROVAL}""#)));
    assert!(page.contains("rule.deny") && page.contains("because review"));
    assert!(page.contains("<code>SELECT 3</code>"));
    assert!(
        page.contains("not run"),
        "the denied statement has no outcome"
    );

    // carol's session: found by the seq of its start.
    let (_, carol_list) = site.page(&t, "/audit?user=carol%40example.com").await;
    let link = carol_list
        .split("href=\"")
        .find_map(|s| s.strip_prefix("/audit/sessions/"))
        .and_then(|s| s.split('"').next())
        .expect("a session link");
    let (_, page) = site.page(&t, &format!("/audit/sessions/{link}")).await;
    assert!(
        page.contains("SELECT &#39;carol&#39;") || page.contains("SELECT &#x27;carol&#x27;"),
        "{page}"
    );
    assert_eq!(page.matches(r#"class="statement""#).count(), 1);

    let (status, _) = site.page(&t, "/audit/sessions/web-a/2").await;
    assert_eq!(status, 404, "seq 2 is not a session start");
}

#[tokio::test]
async fn older_sessions_load_in_place() {
    let site = Site::start(true).await;
    let t = site.auditor();
    let (_, first) = site.page(&t, "/audit?limit=2").await;
    assert_eq!(first.matches(r#"class="session""#).count(), 2);
    let more = first
        .split("hx-get=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("an htmx link to older sessions")
        .replace("&amp;", "&");
    assert!(more.starts_with("/audit/rows?"), "{more}");
    let (status, rows) = site.page(&t, &more).await;
    assert_eq!(status, 200);
    assert!(!rows.contains("<html"), "a fragment, not a page");
    assert!(rows.contains("alice@example.com"), "{rows}");
    assert!(!rows.contains("carol@example.com"));
}
