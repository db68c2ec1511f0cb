//! The UI in real headless Chromium (Debian's `chromium`, driven by
//! `playwright-core` from tests/browser). Needs `node`, Chromium and
//! `npm ci` in tests/browser; without them the test is skipped loudly,
//! or fails when VIGIL_REQUIRE_ALL_CLIENTS=1 (CI).

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use common::Harness;
use tokio::io::{AsyncBufReadExt, BufReader};
use vigil_approvals::{ApprovalStatus, Resolution};

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

/// What is missing to run the browser test, if anything.
fn missing_tools() -> Vec<String> {
    let mut missing = Vec::new();
    let node = std::process::Command::new("node").arg("--version").output();
    if !node.is_ok_and(|o| o.status.success()) {
        missing.push("node".to_owned());
    }
    let browsers = [
        std::env::var("CHROMIUM_PATH").unwrap_or_default(),
        "/usr/bin/chromium".into(),
        "/usr/bin/chromium-browser".into(),
        "/usr/bin/google-chrome".into(),
    ];
    if !browsers
        .iter()
        .any(|p| !p.is_empty() && Path::new(p).exists())
    {
        missing.push("chromium (apt-get install -y chromium)".to_owned());
    }
    if !browser_dir().join("node_modules/playwright-core").exists() {
        missing.push(format!(
            "playwright-core (npm ci in {})",
            browser_dir().display()
        ));
    }
    missing
}

#[tokio::test]
async fn approve_in_headless_chromium() {
    let missing = missing_tools();
    if !missing.is_empty() {
        let msg = format!("browser test needs: {}", missing.join(", "));
        if std::env::var("VIGIL_REQUIRE_ALL_CLIENTS").as_deref() == Ok("1") {
            panic!("{msg}");
        }
        eprintln!("\n!!!!! SKIPPED approve_in_headless_chromium: {msg} !!!!!\n");
        return;
    }
    let h = Harness::start().await;
    let req = h.create(1).await;
    let wait = tokio::spawn({
        let (svc, id) = (h.service.clone(), req.id.clone());
        async move { svc.wait(&id).await }
    });
    let mut child = tokio::process::Command::new("node")
        .arg(browser_dir().join("approve.js"))
        .args([h.base.as_str(), h.bob().as_str(), req.id.as_str()])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut saw = Vec::new();
    let mut second = None;
    let run = async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if line == "queue-open" {
                // Arrives in the open queue over SSE, not by reloading.
                second = Some(h.create(1).await);
            }
            saw.push(line);
        }
        child.wait().await.unwrap()
    };
    let status = tokio::time::timeout(Duration::from_secs(120), run)
        .await
        .expect("the browser script finishes");
    assert!(
        status.success(),
        "browser script failed; it printed {saw:?}"
    );
    assert_eq!(saw, vec!["queue-open".to_owned(), "approved".to_owned()]);
    assert_eq!(wait.await.unwrap().unwrap(), Resolution::Approved);
    let stored = h.service.get(&req.id).await.unwrap();
    assert_eq!(stored.reviews[0].comment, "approved from headless Chromium");
    assert_eq!(stored.reviews[0].reviewer.subject, "bob");
    let second = second.expect("the script opened the queue");
    assert_eq!(
        h.service.get(&second.id).await.unwrap().status,
        ApprovalStatus::Pending
    );
}
