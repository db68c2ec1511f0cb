//! Policy-as-code end to end: the default Rego bundle decides statements
//! through the proxy, per environment and per principal kind, and a
//! changed bundle is picked up without a restart (an invalid one is not).

use crate::common::{Stack, StackOptions, CONNECTION};
use crate::guardrails::{assert_server_never_saw, production_with, ATTACKS};
use crate::raw::{errors, first_column, status, Raw};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use vigil_core::PrincipalKind;
use vigil_pgwire::Frame;
use vigil_server::{LivePolicy, PolicyClock, PolicyHook, PolicySource};

const DEV: &str = "dana@example.com";
const BOT: &str = "report-bot";

fn hook(source: PolicySource, reload: Duration) -> Arc<PolicyHook> {
    let live = LivePolicy::load(source).expect("policy loads");
    live.watch(reload);
    Arc::new(PolicyHook::new(live, 1024, 1024, PolicyClock::utc()))
}

fn default_hook() -> Arc<PolicyHook> {
    hook(PolicySource::Embedded, Duration::ZERO)
}

fn stack(environment: &'static str, hook: Arc<PolicyHook>) -> Stack {
    let stack = Stack::start_with(StackOptions {
        hook,
        environment,
        settings: vec![("log_statement", "all")],
        ..StackOptions::default()
    });
    stack.admin(
        "CREATE TABLE orders (id int PRIMARY KEY, total numeric);
         INSERT INTO orders SELECT g, g * 10 FROM generate_series(1, 5) g;
         CREATE TABLE payments (id int PRIMARY KEY, iban text);
         INSERT INTO payments VALUES (1, 'DE89370400440532013000');
         ALTER TABLE orders OWNER TO app_owner;
         ALTER TABLE payments OWNER TO app_owner;",
    );
    stack
}

fn login(stack: &Stack, who: &str, groups: &[&str], kind: PrincipalKind) -> Raw {
    let token = stack.token_for(who, groups, kind, Duration::from_secs(3600));
    stack.session_as(who, &token)
}

fn order_count(stack: &Stack) -> String {
    stack.admin("SELECT count(*) FROM orders").trim().to_owned()
}

/// The single error of a statement that must have been refused.
fn refused(frames: &[Frame], sql: &str) -> (String, String) {
    let errs = errors(frames);
    assert_eq!(
        errs.len(),
        1,
        "{sql}: expected one error, got {}",
        errs.len()
    );
    assert_eq!(status(frames), 'I', "{sql}: session not idle afterwards");
    (
        errs[0].code().unwrap_or_default().to_owned(),
        errs[0].message().unwrap_or_default().to_owned(),
    )
}

#[test]
fn dev_user_delete_runs_on_staging() {
    let stack = stack("staging", default_hook());
    let mut s = login(&stack, DEV, &["dev"], PrincipalKind::Human);
    let frames = s.query("DELETE FROM orders WHERE id = 1");
    assert!(
        errors(&frames).is_empty(),
        "{:?}",
        errors(&frames)
            .first()
            .and_then(|e| e.message().map(str::to_owned))
    );
    assert_eq!(order_count(&stack), "4");
    // Schema changes on staging still wait for a DBA.
    let (code, msg) = refused(&s.query("ALTER TABLE orders ADD COLUMN note text"), "ALTER");
    assert_eq!(code, "42501");
    assert!(
        msg.contains("approval required by policy rule review.staging_ddl"),
        "{msg}"
    );
}

#[test]
fn production_delete_needs_approval_and_never_runs() {
    let stack = stack("production", default_hook());
    let mut s = login(&stack, DEV, &["dev"], PrincipalKind::Human);
    for sql in [
        "DELETE FROM orders WHERE id = 1",
        "UPDATE orders SET total = 0 WHERE id = 2",
        "CREATE INDEX ON orders (total)",
    ] {
        let (code, msg) = refused(&s.query(sql), sql);
        assert_eq!(code, "42501", "{sql}");
        assert!(
            msg.starts_with("vigil: approval required by policy rule review.production_change"),
            "{sql}: {msg}"
        );
    }
    // Reads are allowed, and the session keeps working.
    assert_eq!(
        first_column(&s.query("SELECT count(*) FROM orders")),
        vec!["5"]
    );
    assert_eq!(order_count(&stack), "5");
    // Destructive statements are denied outright by the guardrail rules.
    let (code, msg) = refused(&s.query("DELETE FROM orders"), "DELETE all");
    assert_eq!(code, "42501");
    assert!(
        msg.starts_with("vigil: blocked by guardrail unbounded_write"),
        "{msg}"
    );
    assert_server_never_saw_orders(&stack);
}

fn assert_server_never_saw_orders(stack: &Stack) {
    let log = stack.cluster.log_contents().to_lowercase();
    for needle in ["delete from orders", "update orders", "create index"] {
        assert!(!log.contains(needle), "the server saw {needle:?}");
    }
}

#[test]
fn production_delete_over_extended_protocol_needs_approval() {
    let stack = stack("production", default_hook());
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let token = stack.token_for(
            DEV,
            &["dev"],
            PrincipalKind::Human,
            Duration::from_secs(3600),
        );
        let (client, conn) = tokio_postgres::connect(
            &stack.proxy_dsn_with(DEV, &token, CONNECTION),
            tokio_postgres::NoTls,
        )
        .await
        .unwrap();
        tokio::spawn(conn);
        let err = client
            .execute("DELETE FROM orders WHERE id = $1", &[&1i32])
            .await
            .unwrap_err();
        let db = err.as_db_error().expect("a server error");
        assert_eq!(db.code().code(), "42501");
        assert!(
            db.message().contains("approval required"),
            "{}",
            db.message()
        );
        let n: i64 = client
            .query_one("SELECT count(*) FROM orders", &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(n, 5);
    });
    assert_server_never_saw_orders(&stack);
}

#[test]
fn agents_need_approval_for_changes_and_sensitive_reads() {
    let stack = stack("dev", default_hook());
    let mut bot = login(&stack, BOT, &[], PrincipalKind::Agent);
    let (code, msg) = refused(
        &bot.query("DELETE FROM orders WHERE id = 1"),
        "agent delete",
    );
    assert_eq!(code, "42501");
    assert!(msg.contains("review.agent_change"), "{msg}");
    let (_, msg) = refused(
        &bot.query("SELECT iban FROM payments"),
        "agent payments read",
    );
    assert!(msg.contains("review.agent_sensitive_read"), "{msg}");
    assert_eq!(
        first_column(&bot.query("SELECT count(*) FROM orders")),
        vec!["5"]
    );
    // A human on the same dev connection is not held.
    let mut human = login(&stack, DEV, &["dev"], PrincipalKind::Human);
    assert!(errors(&human.query("DELETE FROM orders WHERE id = 1")).is_empty());
    assert_eq!(order_count(&stack), "4");
}

#[test]
fn attacks_are_blocked_by_the_rego_bundle_on_production() {
    let stack = production_with(default_hook());
    let mut s = stack.session();
    for attack in ATTACKS {
        let (code, msg) = refused(&s.query(attack), attack);
        assert!(code == "42501" || code == "42601", "{attack}: {code}");
        assert!(
            msg.starts_with("vigil: blocked by guardrail ")
                || msg.starts_with("vigil: approval required by policy rule "),
            "{attack}: {msg}"
        );
    }
    assert_eq!(
        first_column(&s.query("SELECT sum(v) FROM tripwire")),
        vec!["15"]
    );
    assert_server_never_saw(
        &stack,
        &[
            "drop table",
            "truncate",
            "delete from",
            "pg_read_file",
            "set role",
            "wipe",
        ],
    );
}

fn copy_default_bundle(to: &Path) {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies/default");
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, to.join(p.file_name().unwrap())).unwrap();
    }
}

const NO_ORDERS: &str = r#"package vigil
deny contains {"rule": "custom.no_orders", "reason": "orders are closed today", "hint": "come back tomorrow"} if {
	some t in input.statement.tables
	t.name == "orders"
}
"#;

/// Runs `sql` until `done` says the policy changed, or gives up after a
/// minute (hot reload polls every second).
fn until(s: &mut Raw, sql: &str, done: impl Fn(&[Frame]) -> bool) -> Vec<Frame> {
    let start = Instant::now();
    loop {
        let frames = s.query(sql);
        if done(&frames) || start.elapsed() > Duration::from_secs(60) {
            return frames;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn policy_changes_are_picked_up_and_invalid_ones_rejected() {
    let dir = tempfile::tempdir().unwrap();
    copy_default_bundle(dir.path());
    let hook = hook(
        PolicySource::Dir(dir.path().to_owned()),
        Duration::from_secs(1),
    );
    let live = Arc::clone(hook.live());
    let v1 = live.current().version().to_owned();
    let stack = stack("dev", hook);
    let mut s = stack.session();
    assert!(errors(&s.query("SELECT count(*) FROM orders")).is_empty());

    std::fs::write(dir.path().join("50_no_orders.rego"), NO_ORDERS).unwrap();
    let frames = until(&mut s, "SELECT count(*) FROM orders", |f| {
        !errors(f).is_empty()
    });
    let (_, msg) = refused(&frames, "after reload");
    assert!(msg.contains("custom.no_orders"), "{msg}");
    let v2 = live.current().version().to_owned();
    assert_ne!(v1, v2);

    // A broken file: the whole new version is refused, the old one stays.
    std::fs::write(
        dir.path().join("60_broken.rego"),
        "package vigil\ndeny contains x if {",
    )
    .unwrap();
    let start = Instant::now();
    while live.last_error().is_none() && start.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(100));
    }
    let err = live.last_error().expect("the broken bundle is reported");
    assert!(err.contains("60_broken.rego"), "{err}");
    assert_eq!(live.current().version(), v2);
    let (_, msg) = refused(&s.query("SELECT count(*) FROM orders"), "still v2");
    assert!(msg.contains("custom.no_orders"), "{msg}");

    // Fixing the bundle (removing both files) brings reads back.
    std::fs::remove_file(dir.path().join("60_broken.rego")).unwrap();
    std::fs::remove_file(dir.path().join("50_no_orders.rego")).unwrap();
    let frames = until(&mut s, "SELECT count(*) FROM orders", |f| {
        errors(f).is_empty()
    });
    assert_eq!(first_column(&frames), vec!["5"]);
    assert_eq!(live.current().version(), v1);
    assert!(live.last_error().is_none());
}

fn vigil(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(args)
        .output()
        .expect("run vigil")
}

#[test]
fn policy_cli_checks_tests_and_evaluates() {
    let dir = tempfile::tempdir().unwrap();
    copy_default_bundle(dir.path());
    let d = dir.path().to_str().unwrap();
    let out = vigil(&["policy", "check", d]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("evaluator compiled"), "{text}");
    let out = vigil(&["policy", "test", d]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("PASS data.vigil_test.test_production_denies_each_destructive_flag"),
        "{text}"
    );
    assert!(text.contains(" 0 failed"), "{text}");

    let out = vigil(&[
        "policy",
        "eval",
        "--config",
        "/nonexistent.toml",
        "--as",
        "alice@example.com",
        "--groups",
        "dev",
        "--connection",
        "shop-prod",
        "--environment",
        "production",
        "--json",
        "DELETE FROM orders WHERE id = 1",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["decision"]["verdict"], "review");
    assert_eq!(v["decision"]["rules"][0], "review.production_change");
    assert_eq!(v["decision"]["approvers"]["groups"][0], "dba");

    // A failing test fails the run, and names the test.
    std::fs::write(
        dir.path().join("zz_test.rego"),
        "package vigil_test\nimport data.vigil\ntest_wrong if { vigil.decision.verdict == \"nope\" }\n",
    )
    .unwrap();
    let out = vigil(&["policy", "test", d]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("FAIL data.vigil_test.test_wrong"), "{text}");

    // A broken bundle fails the check with the file named.
    std::fs::write(
        dir.path().join("zz_broken.rego"),
        "package vigil\ndeny contains x if {",
    )
    .unwrap();
    let out = vigil(&["policy", "check", d]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("zz_broken.rego"));
}

/// `POST /api/policy/eval` on a configured Vigil: the policy in force,
/// the configured connection, the caller's identity unless an admin asks
/// for another one; nothing reaches the database.
#[test]
fn the_http_dry_run_decides_with_the_policy_in_force() {
    let stack = Stack::start_with(StackOptions {
        configured: true,
        environment: "production",
        settings: vec![("log_statement", "all")],
        proxy_extra: "[audit]\nenabled = false\n[store]\nurl = \"sqlite://$DIR/vigil.db\"\n"
            .to_owned(),
        ..StackOptions::default()
    });
    let addr = stack
        .proxy
        .as_ref()
        .and_then(|p| p.http_addr())
        .expect("a configured Vigil serves HTTP");
    let url = format!("http://{addr}/api/policy/eval");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let http = reqwest::Client::new();
    let post = |token: Option<&str>, body: serde_json::Value| -> (u16, serde_json::Value) {
        rt.block_on(async {
            let mut req = http.post(&url).json(&body);
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            let r = req.send().await.unwrap();
            let status = r.status().as_u16();
            (status, r.json().await.unwrap_or(serde_json::Value::Null))
        })
    };
    let sql = "DELETE FROM orders WHERE id = 7";
    let dev = stack.token_for(
        DEV,
        &["dev"],
        PrincipalKind::Human,
        Duration::from_secs(600),
    );
    let admin = stack.token_for(
        "root@example.com",
        &["admin"],
        PrincipalKind::Human,
        Duration::from_secs(600),
    );

    // As the caller: a production change needs a DBA's approval.
    let (status, v) = post(
        Some(&dev),
        serde_json::json!({"connection": CONNECTION, "sql": sql}),
    );
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["decision"]["verdict"], "review", "{v}");
    assert_eq!(v["decision"]["rules"][0], "review.production_change");
    assert_eq!(v["environment"], "production");
    assert_eq!(v["statement"]["kind"], "write", "{v}");
    assert_eq!(
        v["decision"]["policy_version"].as_str().map(str::len),
        Some(16)
    );

    // For another identity: only the policy groups may ask.
    let agent = serde_json::json!({"connection": CONNECTION, "sql": "SELECT * FROM orders",
        "as": BOT, "groups": [], "kind": "agent"});
    let (status, v) = post(Some(&dev), agent.clone());
    assert_eq!(status, 403, "{v}");
    let (status, v) = post(Some(&admin), agent);
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["decision"]["verdict"], "allow", "{v}");
    let (status, v) = post(
        Some(&admin),
        serde_json::json!({"connection": CONNECTION,
        "sql": "DROP TABLE orders", "as": BOT, "kind": "agent"}),
    );
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["decision"]["verdict"], "deny", "{v}");
    assert_eq!(v["decision"]["rules"][0], "guardrail.drop", "{v}");

    // Unparseable SQL is decided (denied), never an HTTP error.
    let (status, v) = post(
        Some(&dev),
        serde_json::json!({"connection": CONNECTION, "sql": "DELETE FRM x"}),
    );
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["decision"]["verdict"], "deny", "{v}");

    // Bad input is a 4xx with a message; no token is a 401.
    let (status, v) = post(
        Some(&dev),
        serde_json::json!({"connection": "nope", "sql": sql}),
    );
    assert_eq!(status, 400, "{v}");
    assert!(
        v["message"].as_str().unwrap_or_default().contains("nope"),
        "{v}"
    );
    let (status, _) = post(
        Some(&dev),
        serde_json::json!({"connection": CONNECTION, "sql": sql, "group": "dba"}),
    );
    assert_eq!(status, 400, "an unknown field is refused, not ignored");
    let (status, _) = post(
        None,
        serde_json::json!({"connection": CONNECTION, "sql": sql}),
    );
    assert_eq!(status, 401);

    // A dry run runs nothing.
    assert!(!stack.cluster.log_contents().contains("orders"));
}
