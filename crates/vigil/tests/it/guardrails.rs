//! The built-in guardrails end to end: on a production connection the
//! dangerous statements are blocked, never reach the server (the tripwire
//! table survives, and neither the server log nor pg_stat_statements ever
//! saw them), and the session keeps working in and out of transactions.

use crate::common::{psql, python_with, stderr, stdout, Stack, StackOptions, CONNECTION, USER};
use crate::raw::{errors, first_column, status, Login, Raw};
use std::sync::Arc;
use vigil_server::GuardrailHook;

/// Statements a read-only agent gateway has been bypassed with, and
/// friends. Each must be blocked on production.
pub(crate) const ATTACKS: &[&str] = &[
    "DROP TABLE tripwire",
    "drop table if exists tripwire cascade",
    "TRUNCATE tripwire",
    "DELETE FROM tripwire",
    "DELETE FROM tripwire WHERE 1=1",
    "UPDATE tripwire SET v = 0 WHERE true",
    "UPDATE tripwire SET v = 0 WHERE 'a' = 'a'",
    "DELETE FROM tripwire WHERE NOT false",
    "SELECT 1; DROP TABLE tripwire",
    "COMMIT; DROP TABLE tripwire",
    "BEGIN; DROP TABLE tripwire; COMMIT",
    "/* harmless */ DROP TABLE tripwire",
    "-- just a comment\nDROP TABLE tripwire",
    "/* nested /* comment */ */ TRUNCATE tripwire",
    "WITH d AS (DELETE FROM tripwire RETURNING *) SELECT count(*) FROM d",
    "EXPLAIN ANALYZE DELETE FROM tripwire",
    "COPY tripwire TO PROGRAM 'touch /tmp/vigil-pwned'",
    "COPY (SELECT * FROM tripwire) TO '/tmp/vigil-exfil'",
    "COPY tripwire FROM PROGRAM 'echo 1'",
    "SELECT pg_read_file('/etc/passwd')",
    "SELECT pg_catalog.pg_read_file('/etc/passwd')",
    "SELECT * FROM pg_ls_dir('.')",
    "SELECT lo_import('/etc/passwd')",
    "SELECT query_to_xml('DELETE FROM tripwire RETURNING 1', true, false, '')",
    "DO $$ BEGIN EXECUTE 'DROP TABLE tripwire'; END $$",
    "CREATE FUNCTION wipe() RETURNS void LANGUAGE sql AS $f$ DELETE FROM tripwire $f$",
    "PREPARE wipe AS DELETE FROM tripwire",
    "EXECUTE wipe",
    "SET ROLE postgres",
    "SET SESSION AUTHORIZATION postgres",
    "SELECT set_config('search_path', 'evil', false)",
    "SET search_path = evil, public",
    "SET session_replication_role = replica",
    "ALTER SYSTEM SET log_statement = 'none'",
    "SELECT pg_terminate_backend(1)",
    "SELECT pg_reload_conf()",
    "CREATE EXTENSION dblink",
    "GRANT ALL ON tripwire TO PUBLIC",
    "CREATE ROLE sneaky SUPERUSER",
    "VACUUM FULL",
    "SELEC * FROM tripwire",
    "SELECT 'unterminated",
];

pub(crate) fn production_with(hook: Arc<dyn vigil_proxy::StatementHook>) -> Stack {
    let stack = Stack::start_with(StackOptions {
        hook,
        environment: "production",
        settings: vec![
            ("log_statement", "all"),
            ("shared_preload_libraries", "pg_stat_statements"),
        ],
        ..StackOptions::default()
    });
    stack.admin(
        "CREATE EXTENSION pg_stat_statements;
         CREATE TABLE tripwire (id int PRIMARY KEY, v int);
         INSERT INTO tripwire SELECT g, g FROM generate_series(1, 5) g;
         ALTER TABLE tripwire OWNER TO app_owner;",
    );
    stack
}

fn production() -> Stack {
    production_with(Arc::new(GuardrailHook::new(1024)))
}

/// Nothing that was blocked reached the server.
pub(crate) fn assert_server_never_saw(stack: &Stack, needles: &[&str]) {
    assert_eq!(
        stack
            .admin("SELECT count(*) || ':' || sum(v) FROM tripwire")
            .trim(),
        "5:15"
    );
    let log = stack.cluster.log_contents().to_lowercase();
    let stats = stack
        .admin("SELECT string_agg(query, E'\\n') FROM pg_stat_statements")
        .to_lowercase();
    for n in needles {
        let n = n.to_lowercase();
        assert!(!log.contains(&n), "server log contains {n:?}");
        assert!(!stats.contains(&n), "pg_stat_statements contains {n:?}");
    }
}

#[test]
fn attacks_are_blocked_on_production_over_simple_protocol() {
    let stack = production();
    let mut s = stack.session();
    for attack in ATTACKS {
        let frames = s.query(attack);
        let errs = errors(&frames);
        assert_eq!(
            errs.len(),
            1,
            "{attack}: {:?}",
            errs.iter().map(|e| e.message()).collect::<Vec<_>>()
        );
        let code = if attack.starts_with("SELEC ") || attack.contains("'unterminated") {
            "42601"
        } else {
            "42501"
        };
        assert_eq!(errs[0].code(), Some(code), "{attack}");
        let msg = errs[0].message().unwrap();
        assert!(
            msg.starts_with("vigil: blocked by guardrail "),
            "{attack}: {msg}"
        );
        assert!(errs[0].get(b'H').is_some(), "{attack}: no hint");
        assert_eq!(status(&frames), 'I', "{attack}");
    }
    assert_eq!(
        first_column(&s.query("SELECT sum(v) FROM tripwire")),
        vec!["15".to_string()]
    );
    assert_server_never_saw(
        &stack,
        &[
            "drop table",
            "truncate",
            "delete from",
            "pg_read_file",
            "to program",
            "from program",
            "pg_ls_dir",
            "lo_import",
            "set role",
            "alter system",
            "set_config",
            "grant all on tripwire",
            "vigil-pwned",
            "wipe",
        ],
    );
}

#[test]
fn harmless_statements_pass_on_production() {
    let stack = production();
    let mut s = stack.session();
    for ok in [
        "SELECT * FROM tripwire WHERE id = 1",
        "UPDATE tripwire SET v = v WHERE id = 1",
        "DELETE FROM tripwire WHERE id = 999",
        "BEGIN",
        "INSERT INTO tripwire VALUES (100, 0) ON CONFLICT (id) DO UPDATE SET v = excluded.v",
        "ROLLBACK",
        "SET application_name = 'x'",
        "SHOW search_path",
        "EXPLAIN SELECT * FROM tripwire",
        "COPY tripwire TO STDOUT",
    ] {
        let frames = s.query(ok);
        assert!(
            errors(&frames).is_empty(),
            "{ok}: {:?}",
            errors(&frames)
                .first()
                .and_then(|e| e.message().map(str::to_owned))
        );
    }
}

#[test]
fn blocked_inside_a_transaction_then_the_session_recovers() {
    let stack = production();
    let mut s = stack.session();
    s.query("BEGIN");
    s.query("UPDATE tripwire SET v = 100 WHERE id = 1");
    let frames = s.query("TRUNCATE tripwire");
    assert_eq!(errors(&frames)[0].code(), Some("42501"));
    assert_eq!(status(&frames), 'E');
    assert_eq!(status(&s.query("ROLLBACK")), 'I');
    assert_eq!(
        first_column(&s.query("SELECT v FROM tripwire WHERE id = 1")),
        vec!["1".to_string()]
    );
}

#[test]
fn psql_reports_guardrail_and_continues() {
    let stack = production();
    let out = psql(
        &stack.proxy_dsn(),
        "DELETE FROM tripwire;\nBEGIN;\nDROP TABLE tripwire;\nROLLBACK;\nSELECT count(*) FROM tripwire;\n",
        &["-At"],
    );
    let err = stderr(&out);
    assert!(
        err.contains("blocked by guardrail unbounded_write"),
        "{err}"
    );
    assert!(err.contains("blocked by guardrail drop"), "{err}");
    assert!(err.contains("HINT:"), "{err}");
    assert_eq!(stdout(&out).lines().last(), Some("5"), "{}", stdout(&out));
}

#[test]
fn psycopg_extended_protocol_is_guarded_too() {
    let Some(py) = python_with(&["psycopg"]) else {
        return;
    };
    let stack = production();
    let script = r#"
import os, sys, psycopg
conn = psycopg.connect(os.environ["DSN"])
blocked = [
    ("DELETE FROM tripwire WHERE %s", (True,)),
    ("DROP TABLE tripwire", None),
    ("SELECT pg_read_file(%s)", ("/etc/passwd",)),
    ("UPDATE tripwire SET v = %s", (0,)),
]
for sql, params in blocked:
    try:
        # prepare=True forces the extended protocol with a named statement.
        conn.execute(sql, params, prepare=True)
        sys.exit(f"not blocked: {sql}")
    except psycopg.errors.InsufficientPrivilege as e:
        assert "blocked by guardrail" in str(e), str(e)
    conn.rollback()
with conn.transaction():
    conn.execute("UPDATE tripwire SET v = v WHERE id = %s", (1,))
    try:
        with conn.transaction():
            conn.execute("TRUNCATE tripwire")
        sys.exit("truncate not blocked")
    except psycopg.errors.InsufficientPrivilege:
        pass
    assert conn.execute("SELECT count(*) FROM tripwire").fetchone()[0] == 5
try:
    with conn.pipeline():
        conn.execute("SELECT 1")
        conn.execute("DELETE FROM tripwire", prepare=True)
        conn.execute("SELECT 2")
    sys.exit("pipelined DELETE not blocked")
except psycopg.errors.InsufficientPrivilege as e:
    assert "unbounded_write" in str(e), str(e)
conn.rollback()
assert conn.execute("SELECT sum(v) FROM tripwire").fetchone()[0] == 15
print("ok")
"#;
    let out = std::process::Command::new(py)
        .args(["-c", script])
        .env("DSN", stack.proxy_dsn())
        .output()
        .unwrap();
    assert_eq!(stdout(&out).trim(), "ok", "{}", stderr(&out));
    assert_server_never_saw(
        &stack,
        &[
            "drop table",
            "truncate",
            "delete from tripwire",
            "pg_read_file",
        ],
    );
}

#[test]
fn multibyte_client_encodings_cannot_hide_statements() {
    let stack = production();
    let login = Raw::login(
        stack.proxy_port(),
        &[
            ("user", USER),
            ("database", CONNECTION),
            ("client_encoding", "SJIS"),
        ],
        &stack.token(),
    );
    let Login::Ok(mut s) = login else {
        panic!("SJIS login refused")
    };
    // In SJIS, 0x83 0x5c is one character whose second byte is '\'; what
    // follows the closing quote is a second statement to the server.
    let mut q = b"SELECT '\x83\x5c'; DROP TABLE tripwire; --'".to_vec();
    q.push(0);
    s.send(&vigil_pgwire::Frame::new(b'Q', &q).unwrap());
    let frames = s.until_ready();
    let errs = errors(&frames);
    assert_eq!(errs.len(), 1);
    assert!(
        errs[0].message().unwrap().contains("guardrail drop"),
        "{:?}",
        errs[0].message()
    );
    // Bytes that are not valid SJIS are refused, not guessed at.
    let mut bad = b"SELECT '\x83".to_vec();
    bad.push(0);
    s.send(&vigil_pgwire::Frame::new(b'Q', &bad).unwrap());
    let errs = errors(&s.until_ready());
    assert_eq!(errs[0].code(), Some("22021"));
    assert_eq!(
        first_column(&s.query("SELECT count(*) FROM tripwire")),
        vec!["5".to_string()]
    );
}
