//! Held statements end to end: the default Rego bundle says `review` for
//! writes on a production connection, Vigil holds the statement on the
//! wire, a reviewer decides over the real HTTP API, and only the approved
//! bytes run on a real PostgreSQL (checked on the server itself).

use crate::common::{psql, stderr, stdout, Stack, StackOptions, CONNECTION, USER};
use crate::raw::{errors, first_column, Raw};
use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;
use vigil_core::PrincipalKind;
use vigil_pgwire::Frame;

const REVIEWER: &str = "bob@example.com";

/// A production stack with approvals, and a reviewer's HTTP client.
struct Review {
    stack: Stack,
    base: String,
    rt: tokio::runtime::Runtime,
    http: reqwest::Client,
    _policy: tempfile::TempDir,
}

/// The default bundle with `data` merged over its data.json.
fn policy_dir(data: Value) -> tempfile::TempDir {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies/default");
    let dir = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(&src).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dir.path().join(e.file_name())).unwrap();
    }
    let path = dir.path().join("data.json");
    let mut doc: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    if let (Some(vigil), Some(extra)) = (doc["vigil"].as_object_mut(), data.as_object()) {
        for (k, v) in extra {
            vigil.insert(k.clone(), v.clone());
        }
    }
    std::fs::write(&path, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    dir
}

fn start(data: Value) -> Review {
    start_with(data, "")
}

fn start_with(data: Value, extra: &str) -> Review {
    let policy = policy_dir(data);
    let stack = Stack::start_with(StackOptions {
        configured: true,
        environment: "production",
        proxy_extra: format!(
            "[policy]\npath = \"{}\"\n[audit]\nkey_file = \"$DIR/audit.key\"\n[store]\nurl = \"sqlite://$DIR/vigil.db\"\n{extra}",
            policy.path().display()
        ),
        ..StackOptions::default()
    });
    stack.admin("CREATE TABLE marks (n int PRIMARY KEY); GRANT ALL ON marks TO app_owner;");
    let addr = stack
        .proxy
        .as_ref()
        .and_then(|p| p.http_addr())
        .expect("a configured Vigil serves HTTP");
    Review {
        stack,
        base: format!("http://{addr}"),
        rt: tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap(),
        http: reqwest::Client::new(),
        _policy: policy,
    }
}

impl Review {
    fn token(&self, sub: &str, groups: &[&str]) -> String {
        self.stack
            .token_for(sub, groups, PrincipalKind::Human, Duration::from_secs(3600))
    }

    fn reviewer(&self) -> String {
        self.token(REVIEWER, &["dba"])
    }

    fn get(&self, path: &str) -> Value {
        let token = self.reviewer();
        self.rt.block_on(async {
            let r = self
                .http
                .get(format!("{}{path}", self.base))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            assert!(r.status().is_success(), "GET {path}: {}", r.status());
            r.json().await.unwrap()
        })
    }

    /// POST approve|deny as `token`: (HTTP status, body).
    fn decide(&self, id: &str, action: &str, token: &str, comment: &str) -> (u16, Value) {
        self.rt.block_on(async {
            let r = self
                .http
                .post(format!("{}/api/requests/{id}/{action}", self.base))
                .bearer_auth(token)
                .json(&json!({ "comment": comment }))
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            (status, r.json().await.unwrap_or(Value::Null))
        })
    }

    fn request(&self, id: &str) -> Value {
        self.get(&format!("/api/requests/{id}"))
    }

    /// Waits (no time limit asserted) until `n` requests are pending.
    fn pending(&self, n: usize) -> Vec<Value> {
        for _ in 0..3000 {
            let list = self.get("/api/requests?status=pending");
            let reqs = list["requests"].as_array().cloned().unwrap_or_default();
            if reqs.len() >= n {
                return reqs;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("never saw {n} pending request(s)");
    }

    fn marks(&self) -> String {
        self.stack
            .admin("SELECT coalesce(string_agg(n::text, ',' ORDER BY n), '') FROM marks")
            .trim()
            .to_owned()
    }

    fn session(&self) -> Raw {
        self.stack.session()
    }
}

fn id_of(r: &Value) -> String {
    r["id"].as_str().expect("request id").to_owned()
}

/// The NoticeResponse messages among `frames`.
fn notices(frames: &[Frame]) -> Vec<String> {
    frames
        .iter()
        .filter(|f| f.tag() == b'N')
        .filter_map(|f| vigil_pgwire::backend::ErrorFields::parse(f.body()).ok())
        .filter_map(|e| e.message().map(str::to_owned))
        .collect()
}

#[test]
fn an_approved_statement_runs_once_and_the_session_goes_on() {
    let r = start(json!({}));
    let mut s = r.session();
    s.send(&vigil_pgwire::frontend::encode_query("INSERT INTO marks VALUES (1)").unwrap());
    let req = r.pending(1).remove(0);
    let id = id_of(&req);
    assert_eq!(req["sql"], "INSERT INTO marks VALUES (1)");
    assert_eq!(req["requester"]["subject"], USER);
    assert_eq!(req["connection"], CONNECTION);
    assert_eq!(req["environment"], "production");
    assert_eq!(req["approvers"]["groups"], json!(["dba"]));
    assert!(req["rules"]
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x == "review.production_change"));
    assert_eq!(r.marks(), "", "nothing runs while held");
    let (status, _) = r.decide(&id, "approve", &r.reviewer(), "looks fine");
    assert_eq!(status, 200);
    let frames = s.until_ready();
    assert!(errors(&frames).is_empty(), "{:?}", errors(&frames));
    let told = notices(&frames);
    assert!(
        told.iter().any(
            |n| n.starts_with(&format!("vigil: approval required (request {id}): "))
                && n.contains("Waiting up to 30m")
                && n.contains(&format!("/requests/{id}"))
        ),
        "{told:?}"
    );
    assert_eq!(r.marks(), "1");
    let done = r.request(&id);
    assert_eq!(done["status"], "executed");
    assert_eq!(
        done["statement_hash"],
        vigil_approvals::statement_hash([b"INSERT INTO marks VALUES (1)".as_slice()])
    );
    // The session is usable, and reads are not held.
    assert_eq!(first_column(&s.query("SELECT 'after'")), vec!["after"]);
    // The same statement again is a new request: an approval runs once.
    s.send(&vigil_pgwire::frontend::encode_query("INSERT INTO marks VALUES (1)").unwrap());
    let again = r.pending(1).remove(0);
    assert_ne!(id_of(&again), id);
    r.decide(&id_of(&again), "deny", &r.reviewer(), "once is enough");
    s.until_ready();
    assert_eq!(r.marks(), "1");
}

#[test]
fn a_denied_statement_gets_the_reviewers_comment() {
    let r = start(json!({}));
    let mut s = r.session();
    s.send(&vigil_pgwire::frontend::encode_query("DELETE FROM marks WHERE n > 0").unwrap());
    let id = id_of(&r.pending(1)[0]);
    let (status, _) = r.decide(&id, "deny", &r.reviewer(), "not during the sale");
    assert_eq!(status, 200);
    let frames = s.until_ready();
    let e = errors(&frames);
    assert_eq!(e[0].code(), Some("42501"));
    let msg = e[0].message().unwrap_or_default().to_owned();
    assert!(msg.contains(&id), "{msg}");
    assert!(msg.contains("not during the sale"), "{msg}");
    assert!(msg.contains(REVIEWER), "{msg}");
    assert_eq!(r.request(&id)["status"], "denied");
    assert_eq!(
        first_column(&s.query("SELECT 'still here'")),
        vec!["still here"]
    );
}

#[test]
fn an_unanswered_request_expires_with_57014() {
    let r = start(json!({ "review_timeout": "1s" }));
    let mut s = r.session();
    let frames = s.query("INSERT INTO marks VALUES (7)");
    let e = errors(&frames);
    assert_eq!(e[0].code(), Some("57014"), "{:?}", e[0].message());
    assert!(e[0].message().unwrap_or_default().contains("expired"));
    let list = r.get("/api/requests?status=expired");
    assert_eq!(list["requests"].as_array().map(Vec::len), Some(1));
    assert_eq!(r.marks(), "");
    assert_eq!(first_column(&s.query("SELECT 1")), vec!["1"]);
}

#[test]
fn requesters_cannot_approve_their_own_statement_and_two_approvers_means_two() {
    let r = start(json!({ "review_approvers": {"groups": ["dba"], "count": 2} }));
    // The requester is in the approver group too.
    let mine = r.token(USER, &["dev", "dba"]);
    let mut s = r.stack.session_as(USER, &mine);
    s.send(&vigil_pgwire::frontend::encode_query("INSERT INTO marks VALUES (2)").unwrap());
    let id = id_of(&r.pending(1)[0]);
    let (status, body) = r.decide(&id, "approve", &mine, "me, myself");
    assert_eq!(status, 403, "{body}");
    let outsider = r.token("eve@example.com", &["dev"]);
    assert_eq!(r.decide(&id, "approve", &outsider, "hi").0, 403);
    assert_eq!(r.decide(&id, "approve", "not-a-token", "hi").0, 401);
    assert_eq!(r.decide(&id, "approve", &r.reviewer(), "one").0, 200);
    assert_eq!(
        r.decide(&id, "approve", &r.reviewer(), "one again").0,
        409,
        "the same reviewer cannot count twice"
    );
    assert_eq!(r.marks(), "", "one of two approvals runs nothing");
    let carol = r.token("carol@example.com", &["dba"]);
    assert_eq!(r.decide(&id, "approve", &carol, "two").0, 200);
    assert!(errors(&s.until_ready()).is_empty());
    assert_eq!(r.marks(), "2");
    assert_eq!(r.decide(&id, "deny", &carol, "too late").0, 409);
}

#[test]
fn cancelling_a_held_statement_withdraws_the_request() {
    let r = start(json!({}));
    let mut s = r.session();
    s.send(&vigil_pgwire::frontend::encode_query("INSERT INTO marks VALUES (3)").unwrap());
    let id = id_of(&r.pending(1)[0]);
    let mut c = Raw::connect_tcp(r.stack.proxy_port());
    let mut out = bytes::BytesMut::new();
    vigil_pgwire::startup::encode_cancel(s.pid, s.secret, &mut out);
    std::io::Write::write_all(&mut c, &out).unwrap();
    let frames = s.until_ready();
    assert_eq!(errors(&frames)[0].code(), Some("57014"));
    assert_eq!(first_column(&s.query("SELECT 'after'")), vec!["after"]);
    wait_status(&r, &id, "withdrawn");
    assert_eq!(r.decide(&id, "approve", &r.reviewer(), "late").0, 409);
    assert_eq!(r.marks(), "");
}

#[test]
fn disconnecting_while_held_withdraws_the_request() {
    let r = start(json!({}));
    let mut s = r.session();
    s.send(&vigil_pgwire::frontend::encode_query("INSERT INTO marks VALUES (4)").unwrap());
    let id = id_of(&r.pending(1)[0]);
    drop(s);
    wait_status(&r, &id, "withdrawn");
    assert_eq!(r.marks(), "");
}

fn wait_status(r: &Review, id: &str, status: &str) {
    for _ in 0..3000 {
        if r.request(id)["status"] == status {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("request {id} never became {status}: {}", r.request(id));
}

#[test]
fn non_blocking_clients_are_refused_at_once_and_one_identical_retry_runs() {
    let r = start(json!({}));
    let token = r.stack.token();
    let params = [
        ("user", USER),
        ("database", CONNECTION),
        ("vigil.approval", "nowait"),
    ];
    let mut s = match Raw::login(r.stack.proxy_port(), &params, &token) {
        crate::raw::Login::Ok(s) => s,
        crate::raw::Login::Refused(e) => panic!("{:?}", e.message()),
    };
    let frames = s.query("INSERT INTO marks VALUES (5)");
    let e = errors(&frames);
    assert_eq!(e[0].code(), Some("42501"));
    let id = id_of(&r.pending(1)[0]);
    assert!(e[0].message().unwrap_or_default().contains(&id));
    assert!(e[0]
        .get(b'H')
        .unwrap_or_default()
        .contains(&format!("/requests/{id}")));
    assert_eq!(r.request(&id)["non_blocking"], true);
    // A different statement does not ride on the approval.
    r.decide(&id, "approve", &r.reviewer(), "ok");
    let other = s.query("INSERT INTO marks VALUES (6)");
    assert_eq!(errors(&other)[0].code(), Some("42501"));
    assert_eq!(r.marks(), "");
    // The identical retry runs, once.
    let retry = s.query("INSERT INTO marks VALUES (5)");
    assert!(
        errors(&retry).is_empty(),
        "{:?}",
        errors(&retry)[0].message()
    );
    assert_eq!(r.marks(), "5");
    assert_eq!(r.request(&id)["status"], "executed");
    r.stack.admin("DELETE FROM marks");
    let third = s.query("INSERT INTO marks VALUES (5)");
    assert_eq!(errors(&third)[0].code(), Some("42501"));
    assert_eq!(r.marks(), "");
}

#[test]
fn psql_waits_for_approval_and_psql_with_nowait_options_is_told_at_once() {
    let r = start(json!({}));
    let dsn = r.stack.proxy_dsn();
    let waiting = std::thread::spawn(move || {
        psql(&dsn, "INSERT INTO marks VALUES (9);\nSELECT 'done';\n", &[])
    });
    let id = id_of(&r.pending(1)[0]);
    assert_eq!(r.decide(&id, "approve", &r.reviewer(), "go").0, 200);
    let out = waiting.join().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("INSERT 0 1"), "{}", stdout(&out));
    assert!(stdout(&out).contains("done"));
    assert!(
        stderr(&out).contains(&format!("NOTICE:  vigil: approval required (request {id})")),
        "{}",
        stderr(&out)
    );
    assert_eq!(r.marks(), "9");
    // libpq clients pick non-blocking mode with options (PGOPTIONS).
    let nowait = format!("{} options='-c vigil.approval=nowait'", r.stack.proxy_dsn());
    let out = psql(&nowait, "INSERT INTO marks VALUES (12);\n", &[]);
    let err = stderr(&out);
    assert!(
        err.contains("ERROR:  vigil: approval required (request "),
        "{err}"
    );
    assert!(err.contains("HINT:  request "), "{err}");
    assert_eq!(r.marks(), "9");
}

#[test]
fn extended_protocol_holds_the_bind_and_the_approval_covers_the_values() {
    let r = start(json!({}));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let client = rt.block_on(r.stack.driver());
    let insert = rt.spawn(async move {
        let res = client
            .execute("INSERT INTO marks VALUES ($1)", &[&10i32])
            .await
            .map_err(|e| e.to_string());
        (client, res)
    });
    let req = r.pending(1).remove(0);
    let id = id_of(&req);
    assert_eq!(req["sql"], "INSERT INTO marks VALUES ($1)");
    assert_eq!(req["params"].as_array().map(Vec::len), Some(1), "{req}");
    assert_eq!(r.marks(), "");
    r.decide(&id, "approve", &r.reviewer(), "ok");
    let (client, res) = rt.block_on(insert).unwrap();
    assert_eq!(res, Ok(1));
    assert_eq!(r.marks(), "10");
    assert_eq!(r.request(&id)["status"], "executed");
    // Prepared reads are not held; a denied write fails like any error.
    let rows = rt
        .block_on(client.query("SELECT n FROM marks WHERE n = $1", &[&10i32]))
        .unwrap();
    assert_eq!(rows.len(), 1);
    let denied = rt.spawn(async move {
        client
            .execute("DELETE FROM marks WHERE n = $1", &[&10i32])
            .await
            .map_err(|e| e.as_db_error().map(|d| d.code().code().to_owned()))
    });
    let id = id_of(&r.pending(1)[0]);
    r.decide(&id, "deny", &r.reviewer(), "no");
    assert_eq!(rt.block_on(denied).unwrap(), Err(Some("42501".to_owned())));
    assert_eq!(r.marks(), "10");
}

#[test]
fn the_audit_trail_links_the_statement_to_its_approval() {
    let r = start(json!({}));
    let mut s = r.session();
    s.send(&vigil_pgwire::frontend::encode_query("INSERT INTO marks VALUES (11)").unwrap());
    let id = id_of(&r.pending(1)[0]);
    r.decide(&id, "approve", &r.reviewer(), "fine");
    assert!(errors(&s.until_ready()).is_empty());
    drop(s);
    // Approval events reach the trail from the service's event stream,
    // just after the fact: read until the executed one is there.
    let read = || {
        r.rt.block_on(async {
            let url = format!("sqlite://{}", r.stack.dir.path().join("vigil.db").display());
            let store = vigil_store::Store::open(&url).await.unwrap();
            let page = vigil_store::audit::Page {
                limit: 1000,
                ..Default::default()
            };
            let filter = vigil_store::audit::SearchFilter::default();
            let out = vigil_store::audit::search(&store, &filter, &page)
                .await
                .unwrap();
            store.close().await;
            out
        })
    };
    let mut records = read();
    for _ in 0..500 {
        if records
            .iter()
            .any(|x| x.event_type == "approval.decided" && x.event["status"] == "executed")
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
        records = read();
    }
    let intent = records
        .iter()
        .find(|x| {
            x.event_type == "statement.intent" && x.event["sql"] == "INSERT INTO marks VALUES (11)"
        })
        .expect("the approved statement's intent");
    assert_eq!(intent.event["approval_id"], id.as_str());
    assert_eq!(intent.event["decision"]["verdict"], "review");
    let created = records
        .iter()
        .find(|x| x.event_type == "approval.created" && x.event["approval_id"] == id.as_str());
    assert!(created.is_some(), "approval.created recorded");
    let statuses: Vec<&Value> = records
        .iter()
        .filter(|x| x.event_type == "approval.decided" && x.event["approval_id"] == id.as_str())
        .map(|x| &x.event["status"])
        .collect();
    assert!(statuses.contains(&&json!("approved")), "{statuses:?}");
    assert!(statuses.contains(&&json!("executed")), "{statuses:?}");
    let approved = records
        .iter()
        .find(|x| x.event_type == "approval.decided" && x.event["status"] == "approved")
        .unwrap();
    assert_eq!(approved.event["reviewer"]["sub"], REVIEWER);
    assert_eq!(approved.event["comment"], "fine");
}

/// The reviewer's side in real headless Chromium: a psql statement held by
/// Vigil completes after the Approve button is clicked in the web UI.
#[test]
fn a_held_psql_statement_completes_after_a_click_in_chromium() {
    use std::io::BufRead;
    let browser = Path::new(env!("CARGO_MANIFEST_DIR")).join("../vigil-web/tests/browser");
    let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .any(|p| Path::new(p).exists());
    if !chromium || !browser.join("node_modules/playwright-core").exists() {
        let msg = "needs chromium and `npm ci` in crates/vigil-web/tests/browser";
        if std::env::var("VIGIL_REQUIRE_ALL_CLIENTS").as_deref() == Ok("1") {
            panic!("{msg}");
        }
        eprintln!("\n!!!!! SKIPPED a_held_psql_statement_completes_after_a_click_in_chromium: {msg} !!!!!\n");
        return;
    }
    let r = start(json!({}));
    let dsn = r.stack.proxy_dsn();
    let first = std::thread::spawn(move || psql(&dsn, "INSERT INTO marks VALUES (21);\n", &[]));
    let id = id_of(&r.pending(1)[0]);
    let mut node = std::process::Command::new("node")
        .arg(browser.join("approve.js"))
        .args([r.base.as_str(), r.reviewer().as_str(), id.as_str()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .expect("node runs");
    let out = node.stdout.take().unwrap();
    let mut lines = std::io::BufReader::new(out).lines();
    let mut second = None;
    let mut saw = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        if line == "queue-open" {
            // A second held statement arrives in the open queue over SSE.
            let dsn = r.stack.proxy_dsn();
            second = Some(std::thread::spawn(move || {
                psql(&dsn, "INSERT INTO marks VALUES (22);\n", &[])
            }));
        }
        saw.push(line);
    }
    assert!(
        node.wait().unwrap().success(),
        "browser script failed: {saw:?}"
    );
    assert_eq!(saw, vec!["queue-open", "approved"]);
    let out = first.join().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("INSERT 0 1"));
    assert_eq!(r.request(&id)["status"], "executed");
    let other = r
        .pending(1)
        .into_iter()
        .map(|x| id_of(&x))
        .find(|x| *x != id)
        .expect("the second request");
    r.decide(&other, "deny", &r.reviewer(), "one is enough");
    let out = second.expect("second psql").join().unwrap();
    assert!(stderr(&out).contains("one is enough"), "{}", stderr(&out));
    assert_eq!(r.marks(), "21");
}

/// Two Vigil processes share a PostgreSQL store: a statement held by one is
/// approved through the other's API (a separate `vigil serve` process),
/// and runs on the first.
#[test]
fn a_statement_held_by_one_replica_is_approved_through_another_process() {
    let policy = policy_dir(json!({}));
    let stack = Stack::start_with(StackOptions {
        configured: true,
        environment: "production",
        proxy_extra: format!(
            "[policy]\npath = \"{}\"\n[audit]\nkey_file = \"$DIR/audit.key\"\nchain_id = \"replica-a\"\n[store]\nurl = \"$PGSTORE\"\n",
            policy.path().display()
        ),
        ..StackOptions::default()
    });
    stack.admin("CREATE TABLE marks (n int PRIMARY KEY); GRANT ALL ON marks TO app_owner;");
    // Replica B: the same config, its own chain and HTTP port, its own process.
    let b_port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let text = std::fs::read_to_string(&stack.config_path).unwrap();
    let (head, tail) = text
        .split_once("[http]\n")
        .expect("the harness writes [http]");
    let tail = tail.replacen(
        "listen = \"127.0.0.1:0\"",
        &format!("listen = \"127.0.0.1:{b_port}\""),
        1,
    );
    let b_config = stack.dir.path().join("replica-b.toml");
    std::fs::write(
        &b_config,
        format!("{head}[http]\n{tail}").replace("replica-a", "replica-b"),
    )
    .unwrap();
    let b = KillOnDrop(
        std::process::Command::new(env!("CARGO_BIN_EXE_vigil"))
            .args(["serve", "--config"])
            .arg(&b_config)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .expect("start replica b"),
    );
    let b_http = format!("http://127.0.0.1:{b_port}");
    let reviewer = stack.token_for(
        REVIEWER,
        &["dba"],
        PrincipalKind::Human,
        Duration::from_secs(600),
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let http = reqwest::Client::new();
    let list = |status: &str| -> Option<Value> {
        rt.block_on(async {
            let r = http
                .get(format!("{b_http}/api/requests?status={status}"))
                .bearer_auth(&reviewer)
                .send()
                .await
                .ok()?;
            r.json().await.ok()
        })
    };
    let mut s = stack.session();
    s.send(&vigil_pgwire::frontend::encode_query("DELETE FROM marks WHERE n > 0").unwrap());
    stack.admin("INSERT INTO marks VALUES (31)");
    // Replica B (once up) lists the request replica A created.
    let id = (0..3000)
        .find_map(|_| {
            let found = list("pending")
                .and_then(|l| l["requests"].as_array().and_then(|a| a.first()).map(id_of));
            if found.is_none() {
                std::thread::sleep(Duration::from_millis(20));
            }
            found
        })
        .expect("replica b lists the held request");
    let status = rt.block_on(async {
        http.post(format!("{b_http}/api/requests/{id}/approve"))
            .bearer_auth(&reviewer)
            .json(&json!({"comment": "approved on b"}))
            .send()
            .await
            .unwrap()
            .status()
    });
    assert_eq!(status.as_u16(), 200);
    let frames = s.until_ready();
    assert!(errors(&frames).is_empty(), "{:?}", errors(&frames));
    assert!(crate::raw::tags(&frames).contains('C'));
    assert_eq!(
        stack.admin("SELECT count(*) FROM marks").trim(),
        "0",
        "the approved DELETE ran on replica a's session"
    );
    drop(b);
}

struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// psycopg (extended protocol, server-side parameters): a held DELETE
/// completes after approval, and the request shows its parameter.
#[test]
fn psycopg_held_delete_completes_after_approval() {
    let Some(py) = crate::common::python_with(&["psycopg"]) else {
        return;
    };
    let r = start(json!({}));
    r.stack.admin("INSERT INTO marks VALUES (1), (2), (3)");
    let dsn = r.stack.proxy_dsn();
    let script = [
        "import sys, psycopg",
        "notices = []",
        "with psycopg.connect(sys.argv[1], autocommit=True) as c:",
        "    c.add_notice_handler(lambda d: notices.append(d.message_primary))",
        "    cur = c.execute('DELETE FROM marks WHERE n > %s', (1,))",
        "    print('deleted', cur.rowcount)",
        "    print('notice', notices[0] if notices else '-')",
        "    print('after', c.execute('SELECT count(*) FROM marks').fetchone()[0])",
    ]
    .join("\n");
    let child = std::thread::spawn(move || {
        std::process::Command::new(py)
            .args(["-c", &script, &dsn])
            .output()
            .unwrap()
    });
    let req = loop {
        if child.is_finished() {
            let out = child.join().unwrap();
            panic!(
                "psycopg ended before its statement was held: {}\n{}",
                stdout(&out),
                stderr(&out)
            );
        }
        let list = r.get("/api/requests?status=pending");
        if let Some(first) = list["requests"].as_array().and_then(|a| a.first()) {
            break first.clone();
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(req["sql"], "DELETE FROM marks WHERE n > $1");
    // psycopg sends the int binary (int2 here): shown as hex, not as text.
    assert_eq!(req["params"][0]["format"], 1, "{req}");
    assert!(
        req["params"][0]["value"]["hex"]
            .as_str()
            .is_some_and(|h| h.trim_start_matches('0') == "1"),
        "{req}"
    );
    assert_eq!(r.stack.admin("SELECT count(*) FROM marks").trim(), "3");
    r.decide(&id_of(&req), "approve", &r.reviewer(), "ok");
    let out = child.join().unwrap();
    let text = stdout(&out);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(text.contains("deleted 2"), "{text}");
    assert!(
        text.contains("notice vigil: approval required (request "),
        "{text}"
    );
    assert!(text.contains("after 1"), "{text}");
}

/// The policy can put a principal in non-blocking mode (here: agents, via
/// `data.vigil.nowait_kinds`), without any startup parameter.
#[test]
fn policy_puts_agents_in_non_blocking_mode() {
    let r = start(json!({ "nowait_kinds": ["agent"] }));
    let agent = r.stack.token_for(
        "sql-agent",
        &["agents"],
        PrincipalKind::Agent,
        Duration::from_secs(600),
    );
    let mut s = r.stack.session_as("sql-agent", &agent);
    let frames = s.query("INSERT INTO marks VALUES (41)");
    let e = errors(&frames);
    assert_eq!(e[0].code(), Some("42501"));
    let req = r.pending(1).remove(0);
    assert_eq!(req["non_blocking"], true);
    assert!(e[0].message().unwrap_or_default().contains(&id_of(&req)));
    // A human on the same connection still waits on the wire.
    let mut h = r.session();
    h.send(&vigil_pgwire::frontend::encode_query("INSERT INTO marks VALUES (42)").unwrap());
    let both = r.pending(2);
    let held = both
        .iter()
        .find(|x| x["non_blocking"] == false)
        .expect("held one");
    r.decide(&id_of(held), "approve", &r.reviewer(), "ok");
    assert!(errors(&h.until_ready()).is_empty());
    assert_eq!(r.marks(), "42");
}
