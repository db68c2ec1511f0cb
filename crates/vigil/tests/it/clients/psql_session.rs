//! psql session-level traffic through Vigil: asynchronous notifications,
//! notices, and client encodings other than UTF-8.

use super::{assert_same_output, both, psql_raw};
use crate::common::Stack;

/// The listener runs the notifier with `\!`, which returns only after the
/// notifier's commit, and PostgreSQL delivers pending notifications before
/// the ReadyForQuery of the listener's next command: deterministic, no sleep.
#[test]
fn psql_listen_notify_and_notices() {
    let stack = Stack::start();
    let notifier = format!(
        "psql '{}' -X -q -c \"NOTIFY vigil_chan, 'payload'\"",
        stack.proxy_dsn()
    );
    let script = format!(
        "LISTEN vigil_chan;\n\
         NOTIFY vigil_chan, 'self 🐘';\n\
         \\! {notifier}\n\
         SELECT 1 AS after_notify;\n\
         DO $$ BEGIN RAISE NOTICE 'hello 🐘 %', 42; RAISE WARNING 'careful'; END $$;\n\
         SELECT 'done' AS fin;\n"
    );
    let run = psql_raw(&stack.proxy_dsn(), script.as_bytes(), &[], &[]);
    run.assert_ok("psql listener through Vigil");
    let (out, err) = (run.out(), run.err());
    for payload in ["self 🐘", "payload"] {
        let line =
            format!("Asynchronous notification \"vigil_chan\" with payload \"{payload}\" received");
        assert!(
            out.contains(&line),
            "missing {line:?} in\n{out}\n--- stderr\n{err}"
        );
    }
    let self_at = out.find("payload \"self").unwrap_or(usize::MAX);
    let other_at = out.find("payload \"payload\"").unwrap_or(0);
    assert!(self_at < other_at, "notifications out of order:\n{out}");
    assert!(err.contains("NOTICE:  hello 🐘 42"), "{err}");
    assert!(err.contains("WARNING:  careful"), "{err}");
    assert!(out.contains("done"), "{out}");
}

#[test]
fn psql_notices_match_direct() {
    let stack = Stack::start();
    let script = "SET client_min_messages = notice;\n\
        DO $$ BEGIN RAISE NOTICE 'n1 %', 'ünï'; RAISE INFO 'i1'; END $$;\n\
        CREATE TEMP TABLE IF NOT EXISTS n (id int);\n\
        CREATE TEMP TABLE IF NOT EXISTS n (id int);\n\
        DROP TABLE IF EXISTS never_there;\n\
        \\set VERBOSITY verbose\n\
        DO $$ BEGIN RAISE NOTICE 'detailed' USING DETAIL = 'd', HINT = 'h', ERRCODE = '01000'; END $$;\n";
    let (proxied, direct) = both(&stack, script, &[]);
    assert_same_output(&proxied.stdout, &direct.stdout, "notice script stdout");
    // VERBOSITY verbose prints a source location that is the same server.
    assert_same_output(&proxied.stderr, &direct.stderr, "notices");
    let err = proxied.err();
    assert!(
        err.contains("n1 ünï") && err.contains("already exists, skipping"),
        "{err}"
    );
    assert!(
        err.contains("DETAIL:  d") && err.contains("HINT:  h"),
        "{err}"
    );
}

/// Rows inserted as UTF-8; the script itself is LATIN1 bytes.
fn latin1_script() -> Vec<u8> {
    let mut s: Vec<u8> = b"SHOW client_encoding;\n\
        SELECT t FROM enc WHERE id = 1;\n\
        CREATE TEMP TABLE mine AS SELECT '"
        .to_vec();
    s.extend_from_slice(b"\xe9t\xe9 \xc4"); // "été Ä" in LATIN1
    s.extend_from_slice(
        b"'::text AS t;\n\
        SELECT t, length(t) AS chars, octet_length(convert_to(t, 'UTF8')) AS utf8_bytes FROM mine;\n\
        SELECT t FROM enc WHERE id = 2;\n\
        SET client_encoding TO 'UTF8';\n\
        SELECT t FROM enc WHERE id = 2;\n\
        SHOW client_encoding;\n",
    );
    s
}

#[test]
fn psql_latin1_client_encoding() {
    let stack = Stack::start();
    let setup = "CREATE TABLE enc (id int, t text);\n\
        INSERT INTO enc VALUES (1, 'café ñandú Ärger'), (2, 'only 🐘 here');\n";
    psql_raw(
        &stack.proxy_dsn(),
        setup.as_bytes(),
        &[],
        &["-v", "ON_ERROR_STOP=1"],
    )
    .assert_ok("setup");
    let env = [("PGCLIENTENCODING", "LATIN1")];
    let script = latin1_script();
    let proxied = psql_raw(&stack.proxy_dsn(), &script, &env, &[]);
    let direct = psql_raw(&stack.direct_dsn(), &script, &env, &[]);
    proxied.assert_ok("LATIN1 psql through Vigil");
    assert_same_output(&proxied.stdout, &direct.stdout, "LATIN1 stdout");
    assert_same_output(&proxied.stderr, &direct.stderr, "LATIN1 stderr");
    let out = &proxied.stdout;
    let has = |needle: &[u8]| out.windows(needle.len()).any(|w| w == needle);
    assert!(has(b" LATIN1"), "{}", proxied.out());
    assert!(
        has(b"caf\xe9 \xf1and\xfa \xc4rger"),
        "not converted to LATIN1: {}",
        proxied.out()
    );
    assert!(
        has(b"\xe9t\xe9 \xc4 |     5 |          8"),
        "LATIN1 input not converted: {}",
        proxied.out()
    );
    assert!(
        has("only 🐘 here".as_bytes()) && has(b" UTF8"),
        "{}",
        proxied.out()
    );
    assert!(
        proxied
            .err()
            .contains("has no equivalent in encoding \"LATIN1\""),
        "{}",
        proxied.err()
    );
}

/// `SET client_encoding` in the middle of a session (allowed in dev): the
/// SQL that follows arrives in LATIN1 bytes, which are not valid UTF-8.
#[test]
fn psql_set_client_encoding_mid_session() {
    let stack = Stack::start();
    let mut script = b"SET client_encoding = 'LATIN1';\nSELECT '".to_vec();
    script.extend_from_slice(b"\xfcber caf\xe9");
    script.extend_from_slice(
        b"' AS t, length('\xfc') AS one;\nRESET client_encoding;\nSELECT 'back to ok' AS t;\n",
    );
    let proxied = psql_raw(&stack.proxy_dsn(), &script, &[], &[]);
    let direct = psql_raw(&stack.direct_dsn(), &script, &[], &[]);
    proxied.assert_ok("SET client_encoding through Vigil");
    assert_same_output(
        &proxied.stderr,
        &direct.stderr,
        "SET client_encoding stderr",
    );
    assert_same_output(
        &proxied.stdout,
        &direct.stdout,
        "SET client_encoding stdout",
    );
    assert!(proxied.out().contains("back to ok"), "{}", proxied.out());
}
