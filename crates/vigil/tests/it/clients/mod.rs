//! Real clients through Vigil, compared with a direct connection: psql
//! (scripts, COPY, meta-commands, notifications, encodings), pgbench in
//! every query mode, and the psycopg 3, asyncpg and node-postgres drivers.
//!
//! A difference between "through Vigil" and "direct" is a proxy bug; the
//! tests report it, they never paper over it.

mod drivers;
mod pgbench;
mod psql;
mod psql_session;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

/// The output of one client run, decoded for assertions and messages.
pub struct Run {
    pub status: std::process::ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl Run {
    fn from_output(o: Output) -> Run {
        Run {
            status: o.status,
            stdout: o.stdout,
            stderr: o.stderr,
        }
    }

    pub fn out(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    pub fn err(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }

    /// Panics with both streams when the client failed.
    pub fn assert_ok(&self, what: &str) -> &Run {
        assert!(
            self.status.success(),
            "{what} failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
            self.status,
            self.out(),
            self.err()
        );
        self
    }
}

/// Runs psql with a byte script on stdin (so non-UTF-8 client encodings can
/// be tested) and extra environment; never reads ~/.psqlrc or PGPASSWORD.
pub fn psql_raw(dsn: &str, script: &[u8], env: &[(&str, &str)], extra: &[&str]) -> Run {
    let mut cmd = Command::new("psql");
    cmd.arg(dsn)
        .args(["-X", "-v", "ON_ERROR_STOP=0", "-f", "-"])
        .args(extra)
        .env_remove("PGPASSWORD")
        .env_remove("PGCLIENTENCODING")
        .env("PGAPPNAME", "vigil-it")
        .envs(env.iter().copied());
    run_with_stdin(cmd, script)
}

pub fn run_with_stdin(mut cmd: Command, input: &[u8]) -> Run {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
    child.stdin.take().unwrap().write_all(input).unwrap();
    Run::from_output(child.wait_with_output().expect("client output"))
}

/// psql through Vigil and direct on the same script; both runs must succeed
/// at the process level. Returns (proxied, direct).
pub fn both(stack: &crate::common::Stack, script: &str, extra: &[&str]) -> (Run, Run) {
    let proxied = psql_raw(&stack.proxy_dsn(), script.as_bytes(), &[], extra);
    let direct = psql_raw(&stack.direct_dsn(), script.as_bytes(), &[], extra);
    proxied.assert_ok("psql through Vigil");
    direct.assert_ok("psql direct");
    (proxied, direct)
}

/// Asserts that a stream printed through Vigil equals the direct one.
pub fn assert_same_output(proxied: &[u8], direct: &[u8], what: &str) {
    if proxied != direct {
        panic!(
            "{what}: output through Vigil differs from direct\n--- through Vigil\n{}\n--- direct\n{}",
            String::from_utf8_lossy(proxied),
            String::from_utf8_lossy(direct)
        );
    }
}

/// Reads the JSON verdict a driver script prints last and checks that every
/// expected check ran and passed (a script that silently skipped a check
/// must not pass).
pub fn assert_suite(run: &Run, client: &str, expected: &[&str]) {
    let out = run.out();
    let last = out.lines().rev().find(|l| l.trim_start().starts_with('{'));
    let verdict: serde_json::Value = match last.map(serde_json::from_str) {
        Some(Ok(v)) => v,
        _ => panic!(
            "{client}: no JSON verdict ({})\n--- stdout\n{out}\n--- stderr\n{}",
            run.status,
            run.err()
        ),
    };
    let failed = &verdict["failed"];
    assert!(
        failed.as_array().is_some_and(|f| f.is_empty()) && run.status.success(),
        "{client} through Vigil: failed checks {failed:#}\n--- stderr\n{}",
        run.err()
    );
    let passed: Vec<&str> = verdict["passed"]
        .as_array()
        .expect("passed list")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    for name in expected {
        assert!(
            passed.contains(name),
            "{client}: check {name} did not run; passed {passed:?}"
        );
    }
}

/// The node-postgres script directory, or None (skip) when `npm ci` has not
/// been run there; a failure under `VIGIL_REQUIRE_ALL_CLIENTS`, like
/// [`crate::common::python_with`].
pub fn node_with_pg() -> Option<PathBuf> {
    let dir = crate::common::scripts_dir().join("node");
    let node_ok = Command::new("node")
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if node_ok && dir.join("node_modules/pg/package.json").is_file() {
        return Some(dir);
    }
    if std::env::var_os("VIGIL_REQUIRE_ALL_CLIENTS").is_some() {
        panic!(
            "node 20 with `pg` is required: run `npm ci` in {}",
            dir.display()
        );
    }
    eprintln!(
        "SKIP: node or {}/node_modules/pg missing (run npm ci there)",
        dir.display()
    );
    None
}
