//! Driver suites through Vigil: psycopg 3, asyncpg and node-postgres. Each
//! script runs its checks against Vigil and against the server directly,
//! compares values, and prints a JSON verdict that [`assert_suite`] reads.

use super::{assert_suite, node_with_pg, Run};
use crate::common::{python_with, scripts_dir, Stack};
use std::path::Path;
use std::process::Command;

/// Runs a script with the proxy and direct endpoints in the environment.
fn run_script(program: &str, script: &Path, cwd: &Path, env: &[(&str, String)]) -> Run {
    let out = Command::new(program)
        .arg(script)
        .current_dir(cwd)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .env_remove("PGPASSWORD")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .unwrap_or_else(|e| panic!("spawn {program} {}: {e}", script.display()));
    Run::from_output(out)
}

fn url_env(stack: &Stack) -> [(&'static str, String); 2] {
    [
        ("VIGIL_PROXY_URL", stack.proxy_url()),
        ("VIGIL_DIRECT_URL", stack.direct_url()),
    ]
}

#[test]
fn psycopg3_suite() {
    let Some(python) = python_with(&["psycopg"]) else {
        return;
    };
    let stack = Stack::start();
    let dir = scripts_dir();
    let env = [
        ("VIGIL_PROXY_DSN", stack.proxy_dsn()),
        ("VIGIL_DIRECT_DSN", stack.direct_dsn()),
    ];
    let run = run_script(&python, &dir.join("psycopg_suite.py"), &dir, &env);
    let checks = [
        "types_text",
        "types_binary",
        "params",
        "executemany",
        "copy_text",
        "copy_binary",
        "pipeline",
        "transactions",
        "notifications",
        "prepared",
    ];
    assert_suite(&run, "psycopg 3", &checks);
    assert_eq!(stack.admin("SELECT count(*) FROM pg3_many"), "200");
}

#[test]
fn asyncpg_suite() {
    let Some(python) = python_with(&["asyncpg"]) else {
        return;
    };
    let stack = Stack::start();
    let dir = scripts_dir();
    let run = run_script(
        &python,
        &dir.join("asyncpg_suite.py"),
        &dir,
        &url_env(&stack),
    );
    let checks = [
        "types",
        "executemany",
        "copy",
        "transaction",
        "prepared",
        "error_recovery",
        "listen",
    ];
    assert_suite(&run, "asyncpg", &checks);
    assert_eq!(stack.admin("SELECT count(*) FROM apg_copy"), "399");
}

#[test]
fn node_postgres_suite() {
    let Some(dir) = node_with_pg() else { return };
    let stack = Stack::start();
    let run = run_script("node", &dir.join("pg_suite.js"), &dir, &url_env(&stack));
    let checks = [
        "simple_query",
        "parameterized",
        "named_prepared",
        "error_in_transaction",
        "listen_notify",
    ];
    assert_suite(&run, "node-postgres", &checks);
    assert_eq!(stack.admin("SELECT count(*) FROM node_tx"), "1");
}
