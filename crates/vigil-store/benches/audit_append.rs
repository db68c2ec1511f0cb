//! Audit append throughput on a SQLite store (WAL): one appender (every
//! append waits for its own commit: the latency a statement pays) and 8, 64
//! and 256 concurrent appenders (group commit: one transaction and one fsync
//! per batch). Run with the store's `synchronous = FULL` (fsync per commit,
//! durable across power loss) and, for comparison, `NORMAL` (no fsync per
//! commit in WAL mode: durable across a process crash or SIGKILL, not
//! across power loss).
//!
//! `cargo bench -p vigil-store --bench audit_append` (set
//! `AUDIT_BENCH_RECORDS` to change the record count per run).

use std::sync::Arc;
use std::time::Instant;
use vigil_audit::{
    AuditDecision, AuditKey, AuditPrincipal, AuditTable, Event, Protocol, StatementIntent,
};
use vigil_core::{PrincipalKind, StatementKind, TableAccess, Verdict};
use vigil_store::audit::{verify_store, AuditLog, AuditRange, AuditSettings};
use vigil_store::Store;

fn intent(i: u64) -> Event {
    Event::StatementIntent(StatementIntent {
        session_id: i % 64,
        principal: AuditPrincipal {
            sub: format!("user{}", i % 16),
            email: Some(format!("user{}@example.com", i % 16)),
            groups: vec!["dev".into()],
            kind: PrincipalKind::Human,
            issuer: "https://idp.example.com".into(),
        },
        connection: "prod".into(),
        environment: "production".into(),
        sql: format!("SELECT id, email FROM customers WHERE id = {i}"),
        sql_redacted: false,
        fingerprint: "5f2a9c01d3b4e6f7".into(),
        kind: StatementKind::Read,
        tables: vec![AuditTable {
            name: "customers".into(),
            access: vec![TableAccess::Read],
        }],
        flags: vec![],
        protocol: Protocol::Simple,
        param_count: 0,
        decision: AuditDecision {
            verdict: Verdict::Allow,
            rules: vec![],
            reasons: vec![],
            policy_version: None,
        },
        approval_id: None,
    })
}

/// Applies `PRAGMA synchronous` to every pooled connection (the pool has at
/// most 4; holding 4 at once reaches them all).
async fn set_synchronous(store: &Store, mode: &str) {
    let mut held = Vec::new();
    for _ in 0..4 {
        let mut conn = store.pool().acquire().await.expect("acquire");
        sqlx::query(&format!("PRAGMA synchronous = {mode}"))
            .execute(&mut *conn)
            .await
            .expect("pragma");
        held.push(conn);
    }
}

/// Appends per second and the mean batch size.
async fn run(appenders: u64, total: u64, sync: &str) -> (f64, f64) {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let store = Store::open(&url).await.expect("open");
    set_synchronous(&store, sync).await;
    let key = AuditKey::generate();
    let keys = vigil_audit::PublicKeys::from(&key);
    let log = AuditLog::start(store.clone(), "bench", key, AuditSettings::default())
        .await
        .expect("start");
    let per = total / appenders;
    let started = Instant::now();
    let mut tasks = Vec::new();
    let log = Arc::new(log);
    for a in 0..appenders {
        let log = log.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..per {
                log.append(&intent(a * per + i)).await.expect("append");
            }
        }));
    }
    for t in tasks {
        t.await.expect("appender");
    }
    let secs = started.elapsed().as_secs_f64();
    let stats = log.stats();
    log.close().await.expect("close");
    let report = verify_store(&store, &AuditRange::default(), &keys)
        .await
        .expect("verify");
    assert!(report.is_ok(), "{report}");
    let batch = stats.records as f64 / stats.batches.max(1) as f64;
    ((per * appenders) as f64 / secs, batch)
}

fn main() {
    let total: u64 = std::env::var("AUDIT_BENCH_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    for sync in ["FULL", "NORMAL"] {
        for appenders in [1, 8, 64, 256] {
            let n = if appenders == 1 { total / 10 } else { total };
            let (rate, batch) = rt.block_on(run(appenders, n, sync));
            println!(
                "audit append, SQLite synchronous={sync:<6} {appenders:>3} appender(s): \
                 {rate:>7.0} appends/s, {:>6.0} µs per append per appender, {batch:>5.1} per batch",
                appenders as f64 * 1e6 / rate
            );
        }
    }
}
