//! The statement hook with a small test-only decider: deny, hold and
//! bind-time decisions, in every protocol position that matters.

use crate::common::{psql, stderr, stdout, Stack, StackOptions, CONNECTION, USER};
use crate::raw::{errors, first_column, status, Raw};
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, oneshot};
use vigil_proxy::{
    BindRequest, Denial, HookVerdict, SessionContext, StatementHook, StatementRequest,
};

/// Denies text mentioning `forbidden`, holds text mentioning `hold_me`
/// until the test says so, and denies a Bind whose parameter is
/// `blocked-param`.
struct TestDecider {
    held: mpsc::UnboundedSender<oneshot::Sender<bool>>,
    seen: Mutex<Vec<String>>,
}

impl StatementHook for TestDecider {
    fn on_statement(&self, ctx: &SessionContext, req: &StatementRequest<'_>) -> HookVerdict {
        assert_eq!(ctx.principal.subject, USER);
        assert_eq!(ctx.connection.name, CONNECTION);
        self.seen.lock().unwrap().push(req.sql.to_owned());
        if req.sql.contains("forbidden") {
            return HookVerdict::Deny(
                Denial::new("test decider says no").with_hint("do not touch forbidden"),
            );
        }
        if req.sql.contains("hold_me") {
            let (tx, rx) = oneshot::channel();
            let _ = self.held.send(tx);
            return HookVerdict::Hold(Box::pin(async move {
                match rx.await {
                    Ok(true) => HookVerdict::Allow,
                    _ => HookVerdict::Deny(Denial::new("the reviewer said no")),
                }
            }));
        }
        HookVerdict::Allow
    }

    fn on_bind(&self, _: &SessionContext, req: &BindRequest<'_>) -> HookVerdict {
        if req.params.iter().any(|p| *p == Some(&b"blocked-param"[..])) {
            return HookVerdict::Deny(Denial::new(format!("parameter refused for {}", req.sql)));
        }
        HookVerdict::Allow
    }
}

fn stack() -> (
    Stack,
    mpsc::UnboundedReceiver<oneshot::Sender<bool>>,
    Arc<TestDecider>,
) {
    let (tx, rx) = mpsc::unbounded_channel();
    let decider = Arc::new(TestDecider {
        held: tx,
        seen: Mutex::new(Vec::new()),
    });
    let stack = Stack::start_with(StackOptions {
        hook: decider.clone(),
        ..StackOptions::default()
    });
    stack.admin(
        "CREATE TABLE forbidden (id int); INSERT INTO forbidden VALUES (1);
         CREATE TABLE marks (n int); GRANT ALL ON forbidden, marks TO app_owner;",
    );
    (stack, rx, decider)
}

#[test]
fn denied_simple_query_never_reaches_the_server() {
    let (stack, _rx, _) = stack();
    let mut s = stack.session();
    let frames = s.query("DROP TABLE forbidden");
    let errs = errors(&frames);
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].code(), Some("42501"));
    assert_eq!(errs[0].message(), Some("vigil: test decider says no"));
    assert_eq!(errs[0].get(b'H'), Some("do not touch forbidden"));
    assert_eq!(status(&frames), 'I');
    // The tripwire table is still there, checked directly.
    assert_eq!(stack.admin("SELECT count(*) FROM forbidden").trim(), "1");
    assert_eq!(
        first_column(&s.query("SELECT 'usable'")),
        vec!["usable".to_string()]
    );
}

#[test]
fn denial_inside_a_transaction_block_behaves_like_an_error() {
    let (stack, _rx, _) = stack();
    let mut s = stack.session();
    assert_eq!(status(&s.query("BEGIN")), 'T');
    assert_eq!(status(&s.query("INSERT INTO marks VALUES (1)")), 'T');
    let frames = s.query("DELETE FROM forbidden");
    assert_eq!(errors(&frames)[0].code(), Some("42501"));
    assert_eq!(
        status(&frames),
        'E',
        "the block is aborted, as after any error"
    );
    assert_eq!(status(&s.query("ROLLBACK")), 'I');
    assert_eq!(stack.admin("SELECT count(*) FROM marks").trim(), "0");
    assert_eq!(stack.admin("SELECT count(*) FROM forbidden").trim(), "1");
    assert_eq!(first_column(&s.query("SELECT 2")), vec!["2".to_string()]);
}

#[test]
fn multi_statement_message_with_a_denied_part_runs_nothing() {
    let (stack, _rx, _) = stack();
    let mut s = stack.session();
    let frames = s.query("INSERT INTO marks VALUES (1); DROP TABLE forbidden");
    assert_eq!(errors(&frames)[0].code(), Some("42501"));
    assert_eq!(stack.admin("SELECT count(*) FROM marks").trim(), "0");
}

#[test]
fn psql_sees_the_denial_and_keeps_going() {
    let (stack, _rx, _) = stack();
    let out = psql(
        &stack.proxy_dsn(),
        "BEGIN;\nSELECT * FROM forbidden;\nROLLBACK;\nSELECT 'next' AS v;\n",
        &["-At"],
    );
    let err = stderr(&out);
    assert!(err.contains("vigil: test decider says no"), "{err}");
    assert!(stdout(&out).contains("next"), "{}", stdout(&out));
}

#[test]
fn extended_protocol_pipeline_with_a_denied_statement() {
    let (stack, _rx, _) = stack();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let client = stack.driver().await;
        // tokio-postgres pipelines concurrent queries on one connection.
        let (a, b, c) = tokio::join!(
            client.query_one("SELECT $1::int + 1", &[&1i32]),
            client.query("SELECT * FROM forbidden WHERE id = $1", &[&1i32]),
            client.query_one("SELECT $1::text", &[&"third"]),
        );
        assert_eq!(a.unwrap().get::<_, i32>(0), 2);
        let e = b.unwrap_err();
        assert_eq!(e.code().map(|c| c.code()), Some("42501"), "{e}");
        assert_eq!(c.unwrap().get::<_, String>(0), "third");
        // Named statements: prepare once, run twice.
        let st = client.prepare("SELECT count(*) FROM marks").await.unwrap();
        for _ in 0..2 {
            assert_eq!(
                client.query_one(&st, &[]).await.unwrap().get::<_, i64>(0),
                0
            );
        }
    });
}

#[test]
fn bind_hook_sees_parameters() {
    let (stack, _rx, _) = stack();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let client = stack.driver().await;
        let e = client
            .execute(
                "INSERT INTO marks SELECT length($1::text)",
                &[&"blocked-param"],
            )
            .await
            .unwrap_err();
        assert_eq!(e.code().map(|c| c.code()), Some("42501"));
        let msg = e
            .as_db_error()
            .map(|d| d.message().to_owned())
            .unwrap_or_default();
        assert!(
            msg.contains("parameter refused for INSERT INTO marks"),
            "{msg}"
        );
        client
            .execute("INSERT INTO marks SELECT length($1::text)", &[&"fine"])
            .await
            .unwrap();
    });
    assert_eq!(
        stack
            .admin("SELECT string_agg(n::text, ',') FROM marks")
            .trim(),
        "4"
    );
}

#[test]
fn held_statement_waits_then_runs_with_traffic_queued_in_order() {
    let (stack, mut rx, _) = stack();
    let mut s = stack.session();
    // Two messages in one write: the second must wait behind the first.
    let mut both = vigil_pgwire::frontend::encode_query("INSERT INTO marks VALUES (1) -- hold_me")
        .unwrap()
        .raw()
        .to_vec();
    both.extend_from_slice(
        vigil_pgwire::frontend::encode_query("INSERT INTO marks VALUES (2)")
            .unwrap()
            .raw(),
    );
    s.send_bytes(&both);
    let release = rx.blocking_recv().expect("statement held");
    assert_eq!(
        stack.admin("SELECT count(*) FROM marks").trim(),
        "0",
        "nothing runs while held"
    );
    release.send(true).unwrap();
    assert!(errors(&s.until_ready()).is_empty());
    assert!(errors(&s.until_ready()).is_empty());
    assert_eq!(
        stack
            .admin("SELECT string_agg(n::text, ',' ORDER BY n) FROM marks")
            .trim(),
        "1,2"
    );
}

#[test]
fn held_statement_denied_then_session_continues() {
    let (stack, mut rx, _) = stack();
    let mut s = stack.session();
    s.send(&vigil_pgwire::frontend::encode_query("DELETE FROM marks -- hold_me").unwrap());
    rx.blocking_recv().expect("held").send(false).unwrap();
    let frames = s.until_ready();
    assert_eq!(
        errors(&frames)[0].message(),
        Some("vigil: the reviewer said no")
    );
    assert_eq!(
        first_column(&s.query("SELECT 'ok'")),
        vec!["ok".to_string()]
    );
}

#[test]
fn cancel_withdraws_a_held_statement() {
    let (stack, mut rx, _) = stack();
    let mut s = stack.session();
    s.send(&vigil_pgwire::frontend::encode_query("SELECT 1 -- hold_me").unwrap());
    let _keep = rx.blocking_recv().expect("held");
    let mut c = Raw::connect_tcp(stack.proxy_port());
    let mut out = bytes::BytesMut::new();
    vigil_pgwire::startup::encode_cancel(s.pid, s.secret, &mut out);
    std::io::Write::write_all(&mut c, &out).unwrap();
    let frames = s.until_ready();
    assert_eq!(errors(&frames)[0].code(), Some("57014"));
    assert_eq!(
        first_column(&s.query("SELECT 'after'")),
        vec!["after".to_string()]
    );
}
