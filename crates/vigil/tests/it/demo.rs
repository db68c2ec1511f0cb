//! `vigil demo`, the README's first command, end to end with the real
//! binary: it starts its own throw-away PostgreSQL with fake PII and Vigil,
//! and prints how to connect; the printed developer command works through
//! Vigil with PII masked and a guardrail enforced; the printed metrics URL
//! answers; Ctrl-C (SIGINT) stops it and deletes everything.

use crate::common::psql;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The text between the first pair of double quotes in `line`.
fn quoted(line: &str) -> Option<&str> {
    let start = line.find('"')? + 1;
    let end = start + line.get(start..)?.find('"')?;
    line.get(start..end)
}

#[test]
fn the_demo_connects_masks_and_cleans_up() {
    let port = vigil_pgtemp::free_port().expect("free port");
    let mut child = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(["demo", "--port", &port.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start vigil demo");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut printed = Vec::new();
    while !printed
        .iter()
        .any(|l: &String| l.starts_with("Press Ctrl-C"))
    {
        match rx.recv_timeout(Duration::from_secs(180)) {
            Ok(line) => printed.push(line),
            Err(e) => {
                let _ = child.kill();
                panic!("the demo printed no instructions ({e}): {printed:#?}");
            }
        }
    }
    let find = |needle: &str| {
        printed
            .iter()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no line with {needle:?}: {printed:#?}"))
            .clone()
    };
    let developer = find("dbname=shop-prod user=alice@example.com");
    let dsn = quoted(&developer).expect("a quoted psql DSN").to_owned();
    assert!(dsn.contains(&format!("port={port}")), "{dsn}");
    let last_word = |needle: &str| -> String {
        let line = find(needle);
        line.split_whitespace()
            .last()
            .unwrap_or_else(|| panic!("nothing after {needle:?}"))
            .to_owned()
    };
    let config = last_word("  config ");
    let dir = std::path::Path::new(&config).parent().unwrap().to_owned();
    assert!(dir.is_dir(), "{dir:?}");
    let metrics = last_word("/metrics");

    // The printed command, as a user would run it: PII comes back masked.
    let out = psql(
        &dsn,
        "SELECT full_name, email FROM customers ORDER BY id LIMIT 3;\n",
        &["-A", "-t"],
    );
    let rows = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(rows.lines().count(), 3, "{rows}");
    assert!(rows.lines().all(|l| l.contains("****")), "{rows}");
    assert!(!rows.contains("@example"), "{rows}");
    // And a guardrail the instructions promise: DELETE without WHERE is refused.
    let out = psql(&dsn, "DELETE FROM orders;\n", &[]);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(err.contains("vigil:"), "{err}");

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let text = rt.block_on(async { reqwest::get(&metrics).await.unwrap().text().await.unwrap() });
    assert!(text.contains("vigil_masked_values_total"), "{text}");

    // Ctrl-C: the demo stops and deletes its directory (database, keys, store).
    let interrupted = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill -INT");
    assert!(interrupted.success());
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the demo did not stop after SIGINT");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "{status:?}");
    assert!(!dir.exists(), "{dir:?} was left behind");
}
