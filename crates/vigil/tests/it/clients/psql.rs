//! psql through Vigil versus direct: the same script on the same data must
//! print the same bytes, including COPY data, meta-command output, error
//! lines and notices.

use super::{assert_same_output, both, psql_raw};
use crate::common::Stack;

/// Tables with awkward values: NULLs, unicode incl. emoji, numeric edge
/// cases, bytea, json, arrays; plus a view and a function for `\d`/`\df`.
const SCHEMA: &str = r#"
SET TimeZone = 'UTC';
CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL, email text, balance numeric(14,2),
    score float8, joined timestamptz, avatar bytea, prefs jsonb, tags text[]);
CREATE TABLE orders (id int PRIMARY KEY, customer_id int REFERENCES customers, total numeric,
    placed date, note text);
CREATE INDEX orders_customer ON orders (customer_id);
INSERT INTO customers VALUES
 (1, 'Zoë Ünïcode 🐘', 'zoe@example.com', 1234.56, 3.141592653589793, '2026-01-02 03:04:05+00',
  '\x00ff10', '{"theme": "dark", "n": [1, 2]}', '{a,b}'),
 (2, 'Bob', NULL, -0.01, 'NaN', '2026-11-21 12:00:00.123456+00', NULL, NULL, '{}'),
 (3, '日本語 テキスト', 'x@例え.jp', 999999999999.99, 'Infinity', '1999-12-31 23:59:59+00',
  '\xdeadbeef', '{"🐘": "\"quoted\""}', '{NULL,"x y","🐘"}'),
 (4, 'O''Brien', '', 0, -0.0, NULL, '\x', '[]', NULL);
INSERT INTO orders VALUES (10, 1, 19.99, '2026-11-01', 'first'), (11, 1, 0.01, '2026-11-02', NULL),
 (12, 3, 1e6, '2026-11-03', E'multi\nline'), (13, NULL, -5, NULL, 'orphan');
CREATE VIEW spenders AS SELECT c.name, sum(o.total) AS spent FROM customers c JOIN orders o
    ON o.customer_id = c.id GROUP BY c.name;
CREATE FUNCTION add_one(i int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT i + 1';
"#;

const QUERIES: &str = r#"
SET TimeZone = 'UTC';
\pset null '<null>'
SELECT c.id, c.name, o.id AS order_id, o.total, o.note
  FROM customers c LEFT JOIN orders o ON o.customer_id = c.id ORDER BY c.id, o.id;
SELECT * FROM customers ORDER BY id;
SELECT id, email, avatar, prefs, prefs->>'theme' AS theme, tags, tags[2] AS second_tag
  FROM customers ORDER BY id;
\x on
SELECT * FROM customers WHERE id = 3;
\x off
SELECT * FROM spenders ORDER BY name;
SELECT o.id, c.name FROM orders o FULL JOIN customers c ON c.id = o.customer_id ORDER BY 1, 2;
SELECT 1.5::float4 AS f4, 1e-10::float8 AS tiny, 12345678901234567890.000001::numeric AS big,
       'NaN'::numeric AS nan, '2026-11-21'::date + 1 AS tomorrow, interval '1 day 2 hours' AS iv,
       '{1,2,3}'::int[] || 4 AS arr, ARRAY['🐘', NULL] AS emoji_arr, '\xdeadbeef'::bytea AS bin,
       row(1, 'a b') AS rec, '{"a": {"b": [true, null]}}'::json AS js, add_one(41) AS fn;
SELECT name FROM customers WHERE name ~ '🐘' OR name LIKE '日本%' ORDER BY id;
\pset format csv
SELECT * FROM customers ORDER BY id;
\pset format unaligned
SELECT string_agg(name, '|' ORDER BY id) FROM customers;
"#;

/// Creates the shared tables through Vigil (so set-up is proxied too).
fn load_schema(stack: &Stack) {
    let run = psql_raw(
        &stack.proxy_dsn(),
        SCHEMA.as_bytes(),
        &[],
        &["-v", "ON_ERROR_STOP=1"],
    );
    run.assert_ok("schema through Vigil");
    assert!(!run.err().contains("ERROR"), "schema: {}", run.err());
}

#[test]
fn psql_queries_match_direct() {
    let stack = Stack::start();
    load_schema(&stack);
    let (proxied, direct) = both(&stack, QUERIES, &[]);
    assert_same_output(&proxied.stdout, &direct.stdout, "query results");
    assert_same_output(&proxied.stderr, &direct.stderr, "query stderr");
    let out = proxied.out();
    for needle in [
        "Zoë Ünïcode 🐘",
        "日本語 テキスト",
        "\\x00ff10",
        "<null>",
        "{NULL,\"x y\",🐘}",
        "(4 rows)",
        "NaN",
    ] {
        assert!(out.contains(needle), "missing {needle:?} in\n{out}");
    }
    assert!(
        out.contains("Zoë Ünïcode 🐘|Bob|日本語 テキスト|O'Brien"),
        "{out}"
    );
}

/// COPY text and CSV loaded through Vigil, dumped through Vigil and direct:
/// canonical input must come back byte for byte.
const COPY_TEXT: &str = "1\tplain\t1234.50\t2026-01-02 03:04:05+00\t\\\\x00ff\t{a,\"b c\",NULL}\n\
2\t\\N\t\\N\t\\N\t\\N\t\\N\n\
3\ttab\\there, newline\\n, backslash\\\\ 🐘\t-0.01\t1999-12-31 23:59:59.123456+00\t\\\\x\t{}\n\
4\t\t0\t2026-11-21 00:00:00+00\t\\\\xdeadbeef\t{🐘}\n\
5\t日本語 ünï\t1000000.000001\t2000-02-29 12:00:00+00\t\\\\x41\t{\"\\\\\\\\\"}\n";

const COPY_CSV: &str = "id,name,note\n\
1,plain,\n\
2,\"comma, inside\",\"\"\n\
3,\"quote \"\" inside\",\"multi\nline\"\n\
4,🐘 日本語,\\backslash\n";

#[test]
fn psql_copy_round_trips() {
    let stack = Stack::start();
    let load = format!(
        "SET TimeZone = 'UTC';\n\
         CREATE TABLE copy_t (id int, name text, amount numeric, at timestamptz, data bytea, tags text[]);\n\
         CREATE TABLE copy_csv (id int, name text, note text);\n\
         \\copy copy_t FROM stdin\n{COPY_TEXT}\\.\n\
         \\copy copy_csv FROM stdin WITH (FORMAT csv, HEADER)\n{COPY_CSV}\\.\n"
    );
    let run = psql_raw(
        &stack.proxy_dsn(),
        load.as_bytes(),
        &[],
        &["-v", "ON_ERROR_STOP=1"],
    );
    run.assert_ok("\\copy FROM stdin through Vigil");
    assert!(
        run.out().contains("COPY 5") && run.out().contains("COPY 4"),
        "{}",
        run.out()
    );
    assert_eq!(stack.admin("SELECT count(*) FROM copy_t"), "5");
    let dump = "SET TimeZone = 'UTC';\n\\copy copy_t TO stdout\n";
    let (proxied, direct) = both(&stack, dump, &["-q"]);
    assert_same_output(
        &proxied.stdout,
        COPY_TEXT.as_bytes(),
        "text COPY round trip through Vigil",
    );
    assert_same_output(
        &direct.stdout,
        COPY_TEXT.as_bytes(),
        "text COPY loaded via Vigil, read direct",
    );
    let dump_csv = "\\copy copy_csv TO stdout WITH (FORMAT csv, HEADER)\n";
    let (proxied, direct) = both(&stack, dump_csv, &["-q"]);
    assert_same_output(
        &proxied.stdout,
        COPY_CSV.as_bytes(),
        "CSV COPY round trip through Vigil",
    );
    assert_same_output(
        &direct.stdout,
        COPY_CSV.as_bytes(),
        "CSV COPY loaded via Vigil, read direct",
    );
    // Server-side COPY TO STDOUT (not \copy) goes the same way.
    let (proxied, direct) = both(
        &stack,
        "COPY (SELECT * FROM copy_t ORDER BY id) TO STDOUT WITH (FORMAT csv);\n",
        &["-q"],
    );
    assert_same_output(&proxied.stdout, &direct.stdout, "COPY TO STDOUT csv");
    assert_eq!(proxied.out().lines().count(), 6, "{}", proxied.out());
}

#[test]
fn psql_meta_commands_match_direct() {
    let stack = Stack::start();
    load_schema(&stack);
    let script = concat!(
        "\\d\n\\dt\n\\d customers\n\\d orders\n\\d+ spenders\n",
        "\\df\n\\df add_one\n\\dv\n\\di\n\\dn\n\\l app\n\\conninfo\n"
    );
    let (proxied, direct) = both(&stack, script, &[]);
    // \conninfo names the port, which differs; compare everything before it.
    let cut = |b: &[u8]| {
        let s = String::from_utf8_lossy(b).into_owned();
        s.split("You are connected")
            .next()
            .unwrap_or_default()
            .to_owned()
    };
    assert_same_output(
        cut(&proxied.stdout).as_bytes(),
        cut(&direct.stdout).as_bytes(),
        "meta-commands",
    );
    assert_same_output(&proxied.stderr, &direct.stderr, "meta-command stderr");
    let out = proxied.out();
    for needle in [
        "customers",
        "orders_customer",
        "add_one",
        "spenders",
        "Referenced by:",
        "app_owner",
    ] {
        assert!(out.contains(needle), "missing {needle:?} in\n{out}");
    }
    assert!(
        proxied.out().contains("You are connected"),
        "{}",
        proxied.out()
    );
}

const TX_SCRIPT: &str = r#"
\set ON_ERROR_STOP 0
CREATE TEMP TABLE tx_t (id int);
BEGIN;
INSERT INTO tx_t VALUES (1);
SELECT 1/0;
\echo error=:ERROR sqlstate=:SQLSTATE
SELECT 2;
ROLLBACK;
SELECT count(*) AS after_rollback FROM tx_t;
BEGIN;
INSERT INTO tx_t VALUES (2);
SAVEPOINT s1;
INSERT INTO tx_t VALUES (3);
SELECT * FROM no_such_table;
ROLLBACK TO SAVEPOINT s1;
INSERT INTO tx_t VALUES (4);
RELEASE SAVEPOINT s1;
COMMIT;
\set ON_ERROR_ROLLBACK on
BEGIN;
INSERT INTO tx_t VALUES (5);
SELEC 'syntax error';
INSERT INTO tx_t VALUES (6);
COMMIT;
\set ON_ERROR_ROLLBACK off
SELECT array_agg(id ORDER BY id) AS ids FROM tx_t;
\echo error=:ERROR
SELECT 'usable' AS still;
"#;

#[test]
fn psql_errors_in_transactions_leave_session_usable() {
    let stack = Stack::start();
    let (proxied, direct) = both(&stack, TX_SCRIPT, &[]);
    assert_same_output(&proxied.stdout, &direct.stdout, "transaction script stdout");
    // Vigil never forwards what PostgreSQL's grammar cannot parse: it answers
    // the syntax error itself (same SQLSTATE, its own text), so that one
    // message differs from the server's; every other line must match.
    let strip = |e: &[u8]| -> String {
        String::from_utf8_lossy(e)
            .lines()
            .filter(|l| {
                !l.contains("syntax error")
                    && !l.starts_with("LINE 1: SELEC")
                    && !l.trim_start().starts_with('^')
                    && !l.starts_with("HINT:  check the SQL syntax")
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(
        strip(&proxied.stderr),
        strip(&direct.stderr),
        "transaction script stderr"
    );
    let (out, err) = (proxied.out(), proxied.err());
    assert!(err.contains("vigil: blocked by guardrail opaque_code: the statement could not be parsed: syntax error"), "{err}");
    assert!(out.contains("error=true sqlstate=22012"), "{out}");
    assert!(out.contains("{2,4,5,6}"), "{out}");
    assert!(
        out.contains("error=false") && out.contains("usable"),
        "{out}"
    );
    assert!(
        err.contains("division by zero") && err.contains("current transaction is aborted"),
        "{err}"
    );
    assert!(
        err.contains("relation \"no_such_table\" does not exist") && err.contains("syntax error"),
        "{err}"
    );
}
