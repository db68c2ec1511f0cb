//! The audit trail end to end: write-ahead intents for every statement the
//! database ran (cross-checked against the server's own log), outcomes
//! linked to their intents, sessions and refused logins, literal
//! redaction, fail-closed when the store cannot be written, and a real
//! `vigil serve` killed with SIGKILL mid-traffic (see `crash`).

mod crash;

use crate::common::{Stack, StackOptions};
use crate::raw::{errors, first_column, status, Login, Raw};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use vigil_audit::{Event, OutcomeStatus, Record, StatementIntent, StatementOutcome};
use vigil_store::audit::{search, Page, SearchFilter};
use vigil_store::Store;

fn audited(extra_conn: &str) -> Stack {
    Stack::start_with(StackOptions {
        hook: Arc::new(vigil_proxy::AllowAll),
        configured: true,
        settings: vec![("log_statement", "all")],
        connection_extra: extra_conn.into(),
        ..StackOptions::default()
    })
}

fn intents(stack: &Stack) -> Vec<(String, String)> {
    let url = format!("sqlite://{}", stack.dir.path().join("vigil.db").display());
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = Store::open(&url).await.unwrap();
        // What a reader in another process does (as `vigil audit` does).
        vigil_store::audit::recover_journals(&store).await.unwrap();
        let filter = SearchFilter {
            event_type: Some("statement.intent".into()),
            ..SearchFilter::default()
        };
        let page = Page {
            limit: 10_000,
            ..Page::default()
        };
        let records = search(&store, &filter, &page).await.unwrap();
        records
            .iter()
            .filter_map(|r| match r.decode_event().ok()? {
                Event::StatementIntent(i) => Some((i.sql, format!("{:?}", i.decision.verdict))),
                _ => None,
            })
            .collect()
    })
}

#[test]
fn every_statement_the_server_ran_has_an_intent() {
    let stack = audited("");
    let mut s = stack.session();
    let mixed = [
        "CREATE TABLE audited (id int PRIMARY KEY, email text)",
        "INSERT INTO audited VALUES (1, 'a@example.com'), (2, 'b@example.com')",
        "UPDATE audited SET email = 'c@example.com' WHERE id = 2",
        "SELECT count(*) FROM audited",
        "DELETE FROM audited WHERE id = 1",
    ];
    for q in mixed {
        let f = s.query(q);
        assert!(errors(&f).is_empty(), "{q}");
    }
    let refused = s.query("SELEC nonsense");
    assert_eq!(errors(&refused).len(), 1);
    assert_eq!(status(&refused), 'I');
    // The server's log names every statement it ran; each must have an intent.
    let log = stack.cluster.log_contents();
    let recorded = intents(&stack);
    for q in mixed {
        assert!(log.contains(q), "server log lacks {q}");
        assert!(
            recorded.iter().any(|(sql, v)| sql == q && v == "Allow"),
            "no intent for {q}: {recorded:?}"
        );
    }
    // The refused statement is recorded as denied (asynchronously) and
    // never reached the server.
    assert!(!log.contains("SELEC nonsense"));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !intents(&stack).iter().any(|(_, v)| v == "Deny") && std::time::Instant::now() < deadline
    {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(intents(&stack).iter().any(|(_, v)| v == "Deny"));
}

/// `[policy] engine = "guardrails"` (no Rego) records as the Rego engine
/// does: every statement the server ran has an intent committed before it
/// ran, each is followed by its outcome, and a refused one is recorded as
/// denied by the guardrail that refused it.
#[test]
fn the_guardrails_engine_records_every_statement_too() {
    let stack = Stack::start_with(StackOptions {
        hook: Arc::new(vigil_proxy::AllowAll),
        configured: true,
        settings: vec![("log_statement", "all")],
        proxy_extra: "[policy]\nengine = \"guardrails\"\n".into(),
        ..StackOptions::default()
    });
    let mut s = stack.session();
    let ran = [
        "CREATE TABLE g (id int PRIMARY KEY, note text)",
        "INSERT INTO g VALUES (1, 'one'), (2, 'two')",
        "SELECT count(*) FROM g",
    ];
    for q in ran {
        assert!(errors(&s.query(q)).is_empty(), "{q}");
    }
    let refused = "SELEC nonsense FROM g";
    let f = s.query(refused);
    assert_eq!(errors(&f)[0].code(), Some("42601"));
    assert_eq!(status(&f), 'I');
    terminate(s);
    let all = records_when(&stack, |all| {
        count(all, "session.end") >= 1
            && all
                .iter()
                .any(|(_, e)| matches!(e, Event::StatementIntent(i) if i.sql == refused))
    });
    let log = stack.cluster.log_contents();
    for q in ran {
        assert!(log.contains(q), "server log lacks {q}");
        let (r, i) = intent_for(&all, q);
        assert_eq!(i.decision.verdict, vigil_core::Verdict::Allow, "{q}");
        assert_eq!(i.decision.policy_version, None, "no bundle decided");
        let o = outcomes_of(&all, r);
        assert_eq!(o.len(), 1, "{q}: {o:?}");
        assert_eq!(o[0].status, OutcomeStatus::Ok, "{q}");
    }
    let (_, i) = intent_for(&all, "INSERT INTO g VALUES (1, 'one'), (2, 'two')");
    assert_eq!(i.tables.len(), 1, "classified: {:?}", i.tables);
    assert!(!log.contains("SELEC nonsense"));
    let (r, i) = intent_for(&all, refused);
    assert_eq!(i.decision.verdict, vigil_core::Verdict::Deny);
    assert_eq!(
        i.decision.rules,
        vec!["guardrail.opaque_code".to_owned()],
        "the guardrail is named"
    );
    assert!(
        outcomes_of(&all, r).is_empty(),
        "a refused statement has no outcome"
    );
}

#[test]
fn literals_are_redacted_when_the_connection_asks() {
    let stack = audited("audit_redact_literals = true\n");
    let mut s = stack.session();
    let f = s.query("SELECT 'secret.person@example.com' AS e");
    // (What the client sees is masking's business, not this test's.)
    assert!(errors(&f).is_empty());
    assert_eq!(first_column(&f).len(), 1);
    let recorded = intents(&stack);
    let (sql, _) = recorded
        .iter()
        .find(|(sql, _)| sql.contains("AS e"))
        .expect("intent recorded");
    assert!(!sql.contains("secret.person"), "{sql}");
    assert!(sql.contains("$1"), "{sql}");
}

/// A second connection takes SQLite's write lock, so the ingester cannot
/// copy the journal into the store. Statements whose intents reached the
/// journal are durable and may run; once the ingester reports the store
/// failing (its busy timeout), every statement is refused with 58030 and
/// none reaches the database. Unlocked, the session works again and every
/// statement that ran has its intent in the store.
#[test]
fn statements_fail_closed_when_the_store_is_unwritable() {
    let stack = audited("");
    let mut s = stack.session();
    assert!(errors(&s.query("CREATE TABLE t (v int)")).is_empty());
    let db = stack.dir.path().join("vigil.db");
    let locker = std::process::Command::new("python3")
        .arg("-c")
        .arg(format!(
            "import sqlite3,time,sys\nc=sqlite3.connect({:?},isolation_level=None)\nc.execute('BEGIN IMMEDIATE')\nprint('locked',flush=True)\ntime.sleep(60)",
            db.display().to_string()
        ))
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3");
    let mut locker = locker;
    {
        use std::io::BufRead;
        let mut line = String::new();
        std::io::BufReader::new(locker.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "locked");
    }
    let mut refused = None;
    let mut ran = Vec::new();
    for v in 1..=100 {
        let f = s.query(&format!("INSERT INTO t VALUES ({v})"));
        let errs = errors(&f);
        assert_eq!(status(&f), 'I');
        if errs.is_empty() {
            ran.push(v);
            std::thread::sleep(Duration::from_millis(200));
            continue;
        }
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].code(), Some("58030"), "{:?}", errs[0].message());
        assert!(errs[0]
            .message()
            .unwrap()
            .starts_with("vigil: audit unavailable"));
        refused = Some(v);
        break;
    }
    let refused = refused.expect("statements were never refused while the store was locked");
    // Refused while locked: a second one too, and neither ran.
    let f = s.query("INSERT INTO t VALUES (1000)");
    assert_eq!(errors(&f).len(), 1);
    let _ = locker.kill();
    let _ = locker.wait();
    let ran_count: usize = stack
        .admin("SELECT count(*) FROM t")
        .trim()
        .parse()
        .unwrap();
    assert_eq!(ran_count, ran.len());
    let log = stack.cluster.log_contents();
    assert!(!log.contains(&format!("INSERT INTO t VALUES ({refused})")));
    assert!(!log.contains("INSERT INTO t VALUES (1000)"));
    // Once the store is writable again the session works (the ingester
    // retries; appends resume when it succeeds).
    let mut back = false;
    for _ in 0..100 {
        if errors(&s.query("INSERT INTO t VALUES (43)")).is_empty() {
            back = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(
        back,
        "the session did not recover once the store was writable"
    );
    let recorded = intents(&stack);
    for v in ran {
        let sql = format!("INSERT INTO t VALUES ({v})");
        assert!(
            recorded.iter().any(|(q, _)| *q == sql),
            "{sql} ran without its intent in the store"
        );
    }
}

/// Every record in the SQLite store at `db`, oldest first, with its event.
pub(crate) fn records_in(db: &Path) -> Vec<(Record, Event)> {
    let url = format!("sqlite://{}", db.display());
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = Store::open(&url).await.unwrap();
        vigil_store::audit::recover_journals(&store).await.unwrap();
        let page = Page {
            limit: 100_000,
            ..Page::default()
        };
        let mut records = search(&store, &SearchFilter::default(), &page)
            .await
            .unwrap();
        store.close().await;
        records.sort_by(|a, b| (&a.chain_id, a.seq).cmp(&(&b.chain_id, b.seq)));
        records
            .into_iter()
            .map(|r| {
                let e = r.decode_event().unwrap();
                (r, e)
            })
            .collect()
    })
}

/// The records once `done` holds for them (they are written without
/// waiting: outcomes and session events are queued, not awaited).
fn records_when(stack: &Stack, done: impl Fn(&[(Record, Event)]) -> bool) -> Vec<(Record, Event)> {
    let db = stack.dir.path().join("vigil.db");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let all = records_in(&db);
        if done(&all) || Instant::now() > deadline {
            return all;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn count(all: &[(Record, Event)], event_type: &str) -> usize {
    all.iter()
        .filter(|(r, _)| r.event_type == event_type)
        .count()
}

/// The intent recorded for exactly `sql`, with its record.
fn intent_for<'a>(all: &'a [(Record, Event)], sql: &str) -> (&'a Record, &'a StatementIntent) {
    all.iter()
        .find_map(|(r, e)| match e {
            Event::StatementIntent(i) if i.sql == sql => Some((r, i)),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no intent for {sql:?}"))
}

/// The outcomes naming `intent`, in chain order.
fn outcomes_of<'a>(all: &'a [(Record, Event)], intent: &Record) -> Vec<&'a StatementOutcome> {
    all.iter()
        .filter_map(|(_, e)| match e {
            Event::StatementOutcome(o) if o.intent.seq == intent.seq => {
                assert_eq!(
                    o.intent.hash, intent.hash,
                    "the link names the intent's hash"
                );
                Some(o)
            }
            _ => None,
        })
        .collect()
}

fn terminate(mut s: Raw) {
    s.send_bytes(&[b'X', 0, 0, 0, 4]);
    // Vigil closes the connection after Terminate.
    while s.read_frame().is_some() {}
}

#[test]
fn outcomes_link_to_their_intents() {
    let stack = audited("");
    let mut s = stack.session();
    let run = |s: &mut Raw, q: &str| {
        let f = s.query(q);
        assert!(errors(&f).is_empty(), "{q}: {:?}", errors(&f));
    };
    run(&mut s, "CREATE TABLE o (id int PRIMARY KEY, email text)");
    run(
        &mut s,
        "INSERT INTO o VALUES (1, 'a@x.org'), (2, 'b@x.org'), (3, 'c@x.org')",
    );
    run(&mut s, "UPDATE o SET email = 'z@x.org' WHERE id > 1");
    let multi = "SELECT id FROM o ORDER BY id; SELECT 1/0; SELECT 2";
    let f = s.query(multi);
    assert_eq!(first_column(&f), vec!["1", "2", "3"]);
    assert_eq!(errors(&f)[0].code(), Some("22012"));
    let masked = "SELECT email FROM o ORDER BY id";
    let f = s.query(masked);
    assert_eq!(first_column(&f).len(), 3);
    assert!(
        first_column(&f)
            .iter()
            .all(|e| !e.contains("a@x.org") && !e.contains("z@x.org")),
        "emails are masked on the way out: {:?}",
        first_column(&f)
    );
    let dup = "INSERT INTO o VALUES (1, 'dup@x.org')";
    assert_eq!(errors(&s.query(dup))[0].code(), Some("23505"));
    terminate(s);
    // The extended protocol: one Parse (one intent), two Executes.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let prepared = "SELECT email FROM o WHERE id = $1";
    rt.block_on(async {
        let c = stack.driver().await;
        let st = c.prepare(prepared).await.unwrap();
        assert_eq!(c.query(&st, &[&1i32]).await.unwrap().len(), 1);
        assert_eq!(c.query(&st, &[&2i32]).await.unwrap().len(), 1);
    });
    drop(rt);
    let all = records_when(&stack, |all| count(all, "session.end") >= 2);

    let (r, _) = intent_for(
        &all,
        "INSERT INTO o VALUES (1, 'a@x.org'), (2, 'b@x.org'), (3, 'c@x.org')",
    );
    let o = outcomes_of(&all, r);
    assert_eq!(o.len(), 1);
    assert_eq!(
        (o[0].rows, o[0].command_tag.as_deref()),
        (Some(3), Some("INSERT 0 3"))
    );
    assert_eq!(
        (o[0].status, o[0].error_sqlstate.as_deref()),
        (OutcomeStatus::Ok, None)
    );
    let (r, _) = intent_for(&all, "UPDATE o SET email = 'z@x.org' WHERE id > 1");
    assert_eq!(outcomes_of(&all, r)[0].rows, Some(2));

    // One outcome per statement that ran, numbered; the third never ran.
    let (r, i) = intent_for(&all, multi);
    let o = outcomes_of(&all, r);
    assert_eq!(o.len(), 2, "{o:?}");
    assert_eq!((o[0].statement_index, o[0].rows), (0, Some(3)));
    assert_eq!(o[0].command_tag.as_deref(), Some("SELECT 3"));
    assert_eq!(
        (o[1].statement_index, o[1].status),
        (1, OutcomeStatus::Error)
    );
    assert_eq!(o[1].error_sqlstate.as_deref(), Some("22012"));
    assert!(o.iter().all(|o| o.session_id == i.session_id));

    // What masking did is counted on the statement's outcome.
    let (r, _) = intent_for(&all, masked);
    let o = outcomes_of(&all, r);
    let values: u64 = o[0].masked.values().map(|m| m.values).sum();
    let rows: u64 = o[0].masked.values().map(|m| m.rows).max().unwrap_or(0);
    assert_eq!((values, rows), (3, 3), "{:?}", o[0].masked);

    let (r, _) = intent_for(&all, dup);
    let o = outcomes_of(&all, r);
    assert_eq!(
        (o[0].status, o[0].error_sqlstate.as_deref()),
        (OutcomeStatus::Error, Some("23505"))
    );

    let (r, i) = intent_for(&all, prepared);
    assert_eq!(i.protocol, vigil_audit::Protocol::Extended);
    let o = outcomes_of(&all, r);
    assert_eq!(o.len(), 2, "one per Execute: {o:?}");
    assert!(o
        .iter()
        .all(|o| o.rows == Some(1) && o.command_tag.as_deref() == Some("SELECT 1")));
    // Each outcome comes after its intent in the chain.
    for (rec, e) in &all {
        if let Event::StatementOutcome(o) = e {
            assert!(
                o.intent.seq < rec.seq,
                "outcome {} before its intent",
                rec.seq
            );
        }
    }
}

/// A verified login whose backend is down is on the record under that
/// identity: its session starts and ends at once, with the reason.
#[test]
fn a_login_whose_backend_is_down_is_recorded() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let stack = audited(&format!(
        "\n[[connections]]\nname = \"down\"\nhost = \"127.0.0.1\"\nport = {port}\n\
         database = \"app\"\nuser = \"app_owner\"\npassword_file = \"app.password\"\n\
         environment = \"dev\"\n"
    ));
    let params = [
        ("user", crate::common::USER),
        ("database", "down"),
        ("application_name", "audit-down"),
    ];
    let Login::Refused(e) = Raw::login(stack.proxy_port(), &params, &stack.token()) else {
        panic!("logged in through a backend that is down");
    };
    assert_eq!(e.code(), Some("08006"));
    let all = records_when(&stack, |all| count(all, "session.end") >= 1);
    let start = all
        .iter()
        .find_map(|(_, e)| match e {
            Event::SessionStart(s) if s.connection == "down" => Some(s),
            _ => None,
        })
        .expect("session.start recorded");
    assert_eq!(start.principal.sub, crate::common::USER);
    assert_eq!(start.application_name.as_deref(), Some("audit-down"));
    let end = all
        .iter()
        .find_map(|(_, e)| match e {
            Event::SessionEnd(e) if e.session_id == start.session_id => Some(e),
            _ => None,
        })
        .expect("session.end recorded");
    assert_eq!((end.statements, end.bytes_in), (0, 0));
    let reason = end.reason.as_deref().unwrap_or_default();
    assert!(reason.contains("cannot reach the backend"), "{reason}");
    assert_eq!(count(&all, "auth.failure"), 0, "the login itself was good");
}

#[test]
fn sessions_and_refused_logins_are_recorded() {
    let stack = audited("");
    let params = [
        ("user", crate::common::USER),
        ("database", crate::common::CONNECTION),
        ("application_name", "audit-it"),
    ];
    let token = stack.token();
    let Login::Ok(mut s) = Raw::login(stack.proxy_port(), &params, &token) else {
        panic!("login refused");
    };
    assert!(errors(&s.query("SELECT 1")).is_empty());
    assert!(errors(&s.query("SELECT repeat('x', 5000)")).is_empty());
    terminate(s);
    // A forged token and a user that is not the token's: both refused.
    let forged = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJtYWxsb3J5In0.c2VjcmV0LXRva2VuLW1hcmtlcg";
    let Login::Refused(e) = Raw::login(stack.proxy_port(), &params, forged) else {
        panic!("a forged token logged in");
    };
    assert_eq!(e.code(), Some("28P01"));
    let other = [("user", "mallory"), ("database", crate::common::CONNECTION)];
    let Login::Refused(e) = Raw::login(stack.proxy_port(), &other, &token) else {
        panic!("a user that is not the token's logged in");
    };
    assert_eq!(e.code(), Some("28000"));
    let all = records_when(&stack, |all| {
        count(all, "session.end") >= 1 && count(all, "auth.failure") >= 2
    });

    let start = all.iter().find_map(|(_, e)| match e {
        Event::SessionStart(s) => Some(s),
        _ => None,
    });
    let start = start.expect("session.start recorded");
    assert_eq!(start.principal.sub, crate::common::USER);
    assert_eq!(start.application_name.as_deref(), Some("audit-it"));
    assert_eq!((start.connection.as_str(), start.tls), ("app", false));
    assert!(
        start.client_addr.starts_with("127.0.0.1:"),
        "{}",
        start.client_addr
    );
    let end = all.iter().find_map(|(_, e)| match e {
        Event::SessionEnd(e) => Some(e),
        _ => None,
    });
    let end = end.expect("session.end recorded");
    assert_eq!((end.session_id, end.statements), (start.session_id, 2));
    assert_eq!(end.reason.as_deref(), Some("client terminated"));
    // Two Query messages and a Terminate in; at least the 5000-byte row out.
    let sent =
        5 + "SELECT 1".len() as u64 + 1 + 5 + "SELECT repeat('x', 5000)".len() as u64 + 1 + 5;
    assert_eq!(end.bytes_in, sent);
    assert!(end.bytes_out > 5000, "{}", end.bytes_out);
    // The session's records sit between its start and its end.
    let seq_of = |t: &str| {
        all.iter()
            .find(|(r, _)| r.event_type == t)
            .map(|(r, _)| r.seq)
    };
    assert!(seq_of("session.start") < seq_of("statement.intent"));
    assert!(seq_of("statement.intent") < seq_of("session.end"));

    let failures: Vec<_> = all
        .iter()
        .filter_map(|(_, e)| match e {
            Event::AuthFailure(f) => Some(f),
            _ => None,
        })
        .collect();
    assert_eq!(failures.len(), 2, "{failures:?}");
    assert!(
        failures[0].reason.starts_with("authentication failed"),
        "{failures:?}"
    );
    assert_eq!(
        failures[0].claimed_user.as_deref(),
        Some(crate::common::USER)
    );
    assert_eq!(failures[0].connection.as_deref(), Some("app"));
    assert_eq!(failures[0].application_name.as_deref(), Some("audit-it"));
    assert!(failures[1].reason.contains("mallory"), "{failures:?}");
    // No token is ever recorded: not the forged one, not the real one.
    // Everything the store keeps: the database, its WAL and the audit
    // journal beside them.
    let mut stored = Vec::new();
    for entry in std::fs::read_dir(stack.dir.path()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("vigil.db") && !name.ends_with("-shm") {
            stored.extend(std::fs::read(&path).unwrap_or_default());
        }
    }
    let stored = String::from_utf8_lossy(&stored);
    assert!(
        stored.contains("mallory"),
        "the search reads the stored bytes"
    );
    assert!(
        !stored.contains("c2VjcmV0LXRva2VuLW1hcmtlcg"),
        "the forged token leaked"
    );
    let signature = token.rsplit('.').next().unwrap();
    assert!(!stored.contains(signature), "a real token leaked");
}
