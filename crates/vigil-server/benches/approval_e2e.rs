//! The time from a reviewer's approve call to the held statement's result
//! at the client, through a real Vigil in front of a real PostgreSQL:
//! one replica on the SQLite store, and two replicas sharing a PostgreSQL
//! store (held on A, approved through B's API).
//!
//! `cargo bench -p vigil-server --bench approval_e2e` prints p50/p95/max
//! over `VIGIL_BENCH_ROUNDS` (default 40) statements per setup.

use std::path::Path;
use std::time::{Duration, Instant};
use vigil_core::PrincipalKind;
use vigil_identity::{BuiltinIssuer, BuiltinSettings, TokenRequest};
use vigil_pgtemp::{AuthMethod, ClusterOptions, TempCluster};
use vigil_server::BackgroundProxy;

const PASSWORD: &str = "bench-owner-secret";

fn config(dir: &Path, db_port: u16, store: &str, chain: &str) -> String {
    format!(
        r#"[proxy]
listen = "127.0.0.1:0"
[http]
listen = "127.0.0.1:0"
[identity.builtin]
key_file = "{dir}/signing.key"
[audit]
key_file = "{dir}/audit.key"
chain_id = "{chain}"
[store]
url = "{store}"
[[connections]]
name = "app"
host = "127.0.0.1"
port = {db_port}
database = "app"
user = "app_owner"
password_file = "{dir}/app.password"
environment = "production"
"#,
        dir = dir.display()
    )
}

fn start(dir: &Path, name: &str, text: &str) -> BackgroundProxy {
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).expect("write config");
    let cfg = vigil_config::load_file(&path).expect("config");
    BackgroundProxy::start_configured(cfg, Some(&path)).expect("start vigil")
}

fn token(dir: &Path, sub: &str, groups: &[&str]) -> String {
    let issuer = BuiltinIssuer::load_or_create(&BuiltinSettings {
        issuer: "vigil".into(),
        audience: "vigil".into(),
        key_file: dir.join("signing.key"),
    })
    .expect("issuer");
    issuer
        .issue(&TokenRequest {
            subject: sub.into(),
            email: Some(sub.into()),
            groups: groups.iter().map(|g| g.to_string()).collect(),
            kind: PrincipalKind::Human,
            ttl: Duration::from_secs(3600),
        })
        .expect("token")
}

/// Approve-call → result latencies for `rounds` held INSERTs.
fn measure(
    held_on: &BackgroundProxy,
    approve_on: &BackgroundProxy,
    dir: &Path,
    rounds: usize,
) -> Vec<Duration> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let user = token(dir, "alice@example.com", &["dev"]);
    let reviewer = token(dir, "bob@example.com", &["dba"]);
    let approvals = held_on.approvals().expect("approvals").clone();
    let api = format!("http://{}", approve_on.http_addr().expect("http"));
    let dsn = format!(
        "host=127.0.0.1 port={} dbname=app user=alice@example.com password={user} sslmode=disable",
        held_on.addr().port()
    );
    rt.block_on(async move {
        let (client, conn) = tokio_postgres::connect(&dsn, tokio_postgres::NoTls)
            .await
            .expect("connect through vigil");
        tokio::spawn(conn);
        let client = std::sync::Arc::new(client);
        let http = reqwest::Client::new();
        let mut out = Vec::with_capacity(rounds);
        for i in 0..rounds {
            let c = client.clone();
            let run = tokio::spawn(async move {
                c.simple_query(&format!("INSERT INTO marks VALUES ({i})"))
                    .await
                    .map(|_| Instant::now())
            });
            let id = loop {
                let pending = approvals
                    .list(&vigil_approvals::RequestFilter::pending())
                    .await
                    .expect("list");
                if let Some(r) = pending.first() {
                    break r.id.clone();
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            };
            let t0 = Instant::now();
            let status = http
                .post(format!("{api}/api/requests/{id}/approve"))
                .bearer_auth(&reviewer)
                .json(&serde_json::json!({"comment": "bench"}))
                .send()
                .await
                .expect("approve")
                .status();
            assert!(status.is_success(), "approve: {status}");
            let done = run.await.expect("join").expect("held insert ran");
            out.push(done.saturating_duration_since(t0));
        }
        out
    })
}

fn report(name: &str, mut d: Vec<Duration>) {
    d.sort();
    let at = |q: f64| d[((d.len() as f64 - 1.0) * q).round() as usize];
    println!(
        "{name}: n={} p50={:.1} ms p95={:.1} ms max={:.1} ms",
        d.len(),
        at(0.5).as_secs_f64() * 1e3,
        at(0.95).as_secs_f64() * 1e3,
        at(1.0).as_secs_f64() * 1e3
    );
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let rounds: usize = std::env::var("VIGIL_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40);
    let cluster = TempCluster::start(ClusterOptions::with_password(
        AuthMethod::Scram,
        "su-secret",
    ))
    .expect("cluster");
    cluster.create_database("app").expect("db");
    cluster.create_database("vigil_store").expect("store db");
    cluster
        .psql(
            "app",
            &format!(
                "SET password_encryption = 'scram-sha-256';
                 CREATE ROLE app_owner LOGIN PASSWORD '{PASSWORD}';
                 CREATE TABLE marks (n int);
                 GRANT ALL ON marks TO app_owner;"
            ),
        )
        .expect("setup");
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("app.password"), PASSWORD).expect("password");

    let sqlite = format!("sqlite://{}", dir.path().join("vigil.db").display());
    let one = start(
        dir.path(),
        "one",
        &config(dir.path(), cluster.port(), &sqlite, "one"),
    );
    report(
        "one replica, SQLite store",
        measure(&one, &one, dir.path(), rounds),
    );
    drop(one);

    let pg = cluster.url("vigil_store");
    let a = start(
        dir.path(),
        "a",
        &config(dir.path(), cluster.port(), &pg, "a"),
    );
    let b = start(
        dir.path(),
        "b",
        &config(dir.path(), cluster.port(), &pg, "b"),
    );
    report(
        "one replica, PostgreSQL store",
        measure(&a, &a, dir.path(), rounds),
    );
    report(
        "held on A, approved on B (PostgreSQL store)",
        measure(&a, &b, dir.path(), rounds),
    );
}
