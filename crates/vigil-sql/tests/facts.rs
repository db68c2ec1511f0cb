//! Per-statement facts beyond kind/flags/tables: WHERE analysis, LIMIT,
//! COPY direction, columns, fingerprints, redaction and serialization.

use vigil_core::{CopyDirection, FlagId, StatementInfo};
use vigil_sql::{classify, Classifier};

fn only(sql: &str) -> StatementInfo {
    let m = classify(sql);
    assert_eq!(m.statements.len(), 1, "{sql}");
    m.statements.into_iter().next().unwrap()
}

#[test]
fn where_analysis_for_updates_and_deletes() {
    for (sql, has_where, constant_true) in [
        ("DELETE FROM t", Some(false), false),
        ("DELETE FROM t WHERE id = 1", Some(true), false),
        ("DELETE FROM t WHERE 1=1", Some(true), true),
        ("UPDATE t SET a = 1 WHERE 'a'='a'", Some(true), true),
        ("UPDATE t SET a = 1 WHERE NOT false", Some(true), true),
        ("UPDATE t SET a = 1 WHERE a > 0 OR true", Some(true), true),
        ("DELETE FROM t WHERE CURRENT OF c", Some(true), false),
        ("SELECT * FROM t WHERE true", None, false),
        ("INSERT INTO t VALUES (1)", None, false),
    ] {
        let s = only(sql);
        assert_eq!(
            (s.has_where, s.where_constant_true),
            (has_where, constant_true),
            "{sql}"
        );
    }
}

#[test]
fn limit_is_reported_as_written() {
    for (sql, limit) in [
        ("SELECT * FROM t LIMIT 10", Some("10")),
        ("SELECT * FROM t LIMIT $1", Some("$1")),
        ("SELECT * FROM t LIMIT ALL", Some("ALL")),
        ("SELECT * FROM t FETCH FIRST 3 ROWS ONLY", Some("3")),
        ("SELECT * FROM t LIMIT 2 + 2", Some("expr")),
        ("SELECT * FROM t", None),
    ] {
        assert_eq!(only(sql).limit.as_deref(), limit, "{sql}");
    }
}

#[test]
fn copy_direction_and_target() {
    for (sql, dir, target) in [
        ("COPY t FROM STDIN", CopyDirection::FromClient, None),
        ("COPY t TO STDOUT", CopyDirection::ToClient, None),
        ("COPY t TO '/tmp/x'", CopyDirection::ToFile, Some("/tmp/x")),
        (
            "COPY t FROM '/etc/passwd'",
            CopyDirection::FromFile,
            Some("/etc/passwd"),
        ),
        (
            "COPY t TO PROGRAM 'gzip > /tmp/x'",
            CopyDirection::ToProgram,
            Some("gzip > /tmp/x"),
        ),
        (
            "COPY t FROM PROGRAM 'cat /etc/passwd'",
            CopyDirection::FromProgram,
            Some("cat /etc/passwd"),
        ),
    ] {
        let copy = only(sql).copy.unwrap();
        assert_eq!(
            (copy.direction, copy.target.as_deref()),
            (dir, target),
            "{sql}"
        );
    }
}

#[test]
fn columns_are_attributed_to_their_tables() {
    let s = only("SELECT o.id, c.email FROM orders o JOIN customers c ON o.customer_id = c.id");
    let cols = |name: &str| {
        s.tables
            .iter()
            .find(|t| t.name == name)
            .unwrap()
            .columns
            .clone()
    };
    assert_eq!(cols("orders"), vec!["id", "customer_id"]);
    assert_eq!(cols("customers"), vec!["email", "id"]);
    assert_eq!(
        only("SELECT email FROM users").tables[0].columns,
        vec!["email"]
    );
    assert_eq!(
        only("INSERT INTO t (a, b) VALUES (1, 2)").tables[0].columns,
        vec!["a", "b"]
    );
    assert_eq!(
        only("UPDATE t SET x = 1 WHERE id = 2").tables[0].columns,
        vec!["x", "id"]
    );
}

#[test]
fn functions_are_listed_lowercased_and_qualified() {
    let s = only("SELECT lower(name), pg_catalog.NOW(), myschema.f(1) FROM t");
    assert_eq!(s.functions, vec!["lower", "pg_catalog.now", "myschema.f"]);
}

#[test]
fn fingerprints_ignore_literals_but_not_shape() {
    let a = only("SELECT * FROM t WHERE id = 1").fingerprint;
    let b = only("SELECT * FROM t WHERE id = 42").fingerprint;
    let c = only("SELECT * FROM t WHERE name = 'x'").fingerprint;
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert_eq!(a.len(), 16);
}

#[test]
fn redacted_sql_has_no_literals() {
    let s = only("SELECT * FROM users WHERE email = 'alice@example.com' AND pin = 1234");
    assert_eq!(
        s.redacted_sql,
        "SELECT * FROM users WHERE email = $1 AND pin = $2"
    );
    let r = only("CREATE ROLE bob PASSWORD 'hunter2'");
    assert!(!r.redacted_sql.contains("hunter2"), "{}", r.redacted_sql);
    let m = classify("SELECT 1; SELECT 'secret'");
    assert_eq!(m.statements[1].redacted_sql, "SELECT $1");
}

#[test]
fn unparseable_input_is_one_opaque_statement_with_the_parser_error() {
    let m = classify("SELECT 1; DELETE FROM");
    assert_eq!(m.statements.len(), 1);
    let s = &m.statements[0];
    assert!(s.parse_error.as_deref().unwrap().contains("syntax error"));
    assert!(s.has_flag(FlagId::OpaqueCode));
    assert!(!s.redacted_sql.contains("DELETE"));
    assert!(m.has_parse_error());
}

#[test]
fn classification_serializes_with_stable_ids() {
    let json = serde_json::to_value(classify("DELETE FROM t; SELECT 1")).unwrap();
    assert_eq!(json["kind"], "write");
    assert_eq!(json["flags"][0]["id"], "unbounded_write");
    assert_eq!(json["flags"][1]["id"], "multi_statement");
    assert_eq!(json["statements"][0]["tables"][0]["access"][0], "delete");
    let back: vigil_core::ClassifiedMessage = serde_json::from_value(json).unwrap();
    assert_eq!(back, classify("DELETE FROM t; SELECT 1"));
}

#[test]
fn cached_and_uncached_agree() {
    let c = Classifier::default();
    for sql in ["SELECT 1", "DROP TABLE t", "garbage here", "SELECT 1"] {
        assert_eq!(*c.classify(sql), classify(sql), "{sql}");
    }
    assert_eq!(c.len(), 3);
}
