//! Real drivers: psycopg 3 binary cursors (plain and server-side) and
//! asyncpg prepared statements, through the test response hook.

use crate::hooks::stack;
use std::process::Command;

#[test]
fn psycopg_binary_cursors_and_asyncpg_prepared() {
    let have = Command::new("python3")
        .args(["-c", "import psycopg, asyncpg"])
        .status()
        .is_ok_and(|s| s.success());
    if !have {
        if std::env::var_os("VIGIL_REQUIRE_ALL_CLIENTS").is_some() {
            panic!("python3 with psycopg and asyncpg is required");
        }
        eprintln!("SKIP: python3 with psycopg and asyncpg not installed");
        return;
    }
    let (stack, _, _) = stack();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/responses/relay_clients.py"
    );
    let out = Command::new("python3")
        .arg(script)
        .env("VIGIL_DSN", stack.dsn())
        .env("VIGIL_URL", stack.url())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env_remove("PGPASSWORD")
        .output()
        .expect("run python");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "script failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).expect("json");
    let two = serde_json::json!([
        [97, "ALICE@EXAMPLE.COM", "FIRST"],
        [98, "BOB@EXAMPLE.COM", null]
    ]);
    assert_eq!(v["psycopg_binary"], two);
    assert_eq!(
        v["psycopg_named"],
        serde_json::json!([[97, "ALICE@EXAMPLE.COM"], [98, "BOB@EXAMPLE.COM"]])
    );
    assert_eq!(v["psycopg_poison"], "58000");
    assert_eq!(v["psycopg_after"], "OK");
    assert_eq!(v["asyncpg"], two);
    assert_eq!(
        v["asyncpg_again"],
        serde_json::json!([[97, "ALICE@EXAMPLE.COM", "FIRST"]])
    );
    assert_eq!(v["asyncpg_poison"], "58000");
    assert_eq!(v["asyncpg_after"], "OK");
}
