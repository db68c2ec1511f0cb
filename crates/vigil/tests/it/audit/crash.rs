//! Crash safety: a real `vigil serve` (the built binary) is killed with
//! SIGKILL while three clients run mixed traffic through it, then
//! restarted. `vigil audit verify` must pass on the store both times, and
//! every statement the server's own log (`log_statement = all`) shows must
//! have its write-ahead intent: the intent is committed before a statement
//! is forwarded, so no kill can separate them.

use super::records_in;
use crate::common::{Stack, StackOptions, CONNECTION, USER};
use crate::raw::{Login, Raw};
use std::collections::HashSet;
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use vigil_audit::Event;

/// Statements completed before the kill.
const BEFORE_KILL: u64 = 150;
const WORKERS: u64 = 3;

#[test]
fn sigkill_mid_traffic_leaves_a_verifiable_trail_with_every_intent() {
    let stack = Stack::start_with(StackOptions {
        settings: vec![("log_statement", "all")],
        ..StackOptions::default()
    });
    let config = write_config(&stack);
    let mut vigil = Served::start(&config);
    let token = stack.token();
    let mut setup = vigil.login(&token);
    assert!(run(
        &mut setup,
        "CREATE TABLE crashy (w int, i int, note text, PRIMARY KEY (w, i))"
    ));

    let done = Arc::new(AtomicU64::new(0));
    let workers: Vec<_> = (0..WORKERS)
        .map(|w| {
            let (done, token, port) = (done.clone(), token.clone(), vigil.port);
            std::thread::spawn(move || traffic(port, &token, w, &done))
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(180);
    while done.load(Ordering::Relaxed) < BEFORE_KILL && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        done.load(Ordering::Relaxed) >= BEFORE_KILL,
        "traffic did not get going"
    );
    vigil.kill();
    for w in workers {
        w.join().expect("worker");
    }
    drop(setup);

    let db = stack.dir.path().join("crash.db");
    let report = verify(&config);
    assert!(
        report["records"].as_u64().unwrap() > BEFORE_KILL,
        "{report}"
    );
    eprintln!(
        "killed after {} statements; verify after the kill: {report}",
        done.load(Ordering::Relaxed)
    );
    every_logged_statement_has_an_intent(&stack, &db);

    // Restarted, Vigil resumes the chain where the kill left it.
    let last_before = last_seq(&db);
    let mut vigil = Served::start(&config);
    let mut s = vigil.login(&token);
    let after = "INSERT INTO crashy VALUES (99, 0, 'after the restart')";
    assert!(run(&mut s, after));
    drop(s);
    vigil.stop();
    let report = verify(&config);
    assert!(
        report["checkpoints_verified"].as_u64().unwrap() > 0,
        "{report}"
    );
    let records = records_in(&db);
    let (restarted, _) = records
        .iter()
        .find(|(_, e)| matches!(e, Event::StatementIntent(i) if i.sql == after))
        .expect("the statement after the restart has its intent");
    assert!(restarted.seq > last_before);
    every_logged_statement_has_an_intent(&stack, &db);
}

/// One client's loop: writes, reads, a multi-statement Query and a refused
/// statement, each text unique, until the connection is cut.
fn traffic(port: u16, token: &str, w: u64, done: &AtomicU64) {
    let mut s = login(port, token);
    for i in 0.. {
        let q = match i % 5 {
            0 => format!("INSERT INTO crashy VALUES ({w}, {i}, 'n{w}-{i}')"),
            1 => format!(
                "UPDATE crashy SET note = 'u{w}-{i}' WHERE w = {w} AND i = {}",
                i - 1
            ),
            2 => format!("SELECT count(*) FROM crashy WHERE w = {w} AND i <= {i}"),
            3 => format!("INSERT INTO crashy VALUES ({w}, {i}, 'm'); SELECT {i} AS n{w}"),
            _ => format!("SELEC {w} {i} FROM crashy"),
        };
        if !run(&mut s, &q) {
            return;
        }
        done.fetch_add(1, Ordering::Relaxed);
    }
}

/// Sends a Query and reads to ReadyForQuery; false once the connection is
/// gone (Vigil was killed). Errors (the refused statement) are fine.
fn run(s: &mut Raw, sql: &str) -> bool {
    let Ok(q) = vigil_pgwire::frontend::encode_query(sql) else {
        return false;
    };
    if s.stream.write_all(q.raw()).is_err() {
        return false;
    }
    while let Some(f) = s.read_frame() {
        if f.tag() == b'Z' {
            return true;
        }
    }
    false
}

fn login(port: u16, token: &str) -> Raw {
    let params = [("user", USER), ("database", CONNECTION)];
    match Raw::login(port, &params, token) {
        Login::Ok(s) => s,
        Login::Refused(e) => panic!("login refused: {:?}", e.message()),
    }
}

/// The server's log lists every statement it received; each of ours must
/// have an intent recorded with exactly that text.
fn every_logged_statement_has_an_intent(stack: &Stack, db: &Path) {
    let log = stack.cluster.log_contents();
    let logged: Vec<&str> = log
        .lines()
        .filter_map(|l| l.split_once("statement: ").map(|(_, sql)| sql))
        .filter(|sql| sql.contains("crashy"))
        .collect();
    assert!(logged.len() as u64 > BEFORE_KILL / 2, "{}", logged.len());
    let intents: HashSet<String> = records_in(db)
        .into_iter()
        .filter_map(|(_, e)| match e {
            Event::StatementIntent(i) => Some(i.sql),
            _ => None,
        })
        .collect();
    let missing: Vec<_> = logged.iter().filter(|q| !intents.contains(**q)).collect();
    assert!(missing.is_empty(), "ran without an intent: {missing:?}");
    assert!(
        !log.contains("SELEC "),
        "a refused statement reached the server"
    );
}

fn last_seq(db: &Path) -> u64 {
    records_in(db).iter().map(|(r, _)| r.seq).max().unwrap_or(0)
}

/// `vigil audit verify --json`; panics unless it exits 0.
fn verify(config: &Path) -> serde_json::Value {
    let out = vigil(&[
        "audit",
        "--config",
        &config.display().to_string(),
        "verify",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "verify failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("verify --json")
}

fn vigil(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(args)
        .output()
        .expect("run vigil")
}

/// A config like the harness's, on fixed free ports, with its own store
/// and frequent checkpoints.
fn write_config(stack: &Stack) -> PathBuf {
    let text = format!(
        r#"[proxy]
listen = "127.0.0.1:{proxy}"

[http]
listen = "127.0.0.1:{http}"

[store]
url = "sqlite://crash.db"

[audit]
chain_id = "crash"
checkpoint_every_records = 25

[identity.builtin]
key_file = "vigil-signing.key"

[[connections]]
name = "{CONNECTION}"
host = "127.0.0.1"
port = {pg}
database = "app"
user = "app_owner"
password_file = "app.password"
environment = "dev"
"#,
        proxy = free_port(),
        http = free_port(),
        pg = stack.cluster.port(),
    );
    let path = stack.dir.path().join("crash.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// `vigil serve` as a child process.
struct Served {
    child: Child,
    port: u16,
}

impl Served {
    fn start(config: &Path) -> Served {
        let text = std::fs::read_to_string(config).unwrap();
        let port = text
            .lines()
            .find_map(|l| l.strip_prefix("listen = \"127.0.0.1:"))
            .and_then(|p| p.trim_end_matches('"').parse().ok())
            .expect("proxy port in the config");
        let log = std::fs::File::create(config.with_extension("log")).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_vigil"))
            .args(["serve", "--config"])
            .arg(config)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn vigil serve");
        let mut served = Served { child, port };
        served.wait_ready(config);
        served
    }

    fn wait_ready(&mut self, config: &Path) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            let exited = self.child.try_wait().expect("child status");
            let log = std::fs::read_to_string(config.with_extension("log")).unwrap_or_default();
            assert!(exited.is_none(), "vigil serve exited: {log}");
            assert!(
                Instant::now() < deadline,
                "vigil serve never listened: {log}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn login(&self, token: &str) -> Raw {
        login(self.port, token)
    }

    /// SIGKILL: no shutdown, no final checkpoint, nothing flushed.
    fn kill(&mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reap");
    }

    /// SIGTERM, then wait for the clean exit (final checkpoint signed).
    fn stop(&mut self) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(sent.is_ok_and(|s| s.success()), "kill -TERM {pid}");
        let status = self.child.wait().expect("wait");
        assert!(status.success(), "vigil serve exited with {status}");
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
