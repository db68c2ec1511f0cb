//! Approve call → wait resolves: how long a held statement waits after a
//! reviewer's click, measured (not asserted) on
//! - SQLite, one service (decision and wait in one process);
//! - PostgreSQL, one service;
//! - PostgreSQL, two services on one store (approve through A, wait on B:
//!   B sees it at its next poll).
//!
//! `cargo bench -p vigil-approvals --bench approval_latency`
//! (`-- N` for N rounds per case, default 60). Prints p50/p95/max in ms.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use vigil_approvals::{
    statement_hash, ApprovalService, ApprovalSettings, NewRequest, Requester, RequiredApprovers,
    Resolution,
};
use vigil_core::{Principal, PrincipalKind};
use vigil_pgtemp::{ClusterOptions, TempCluster};
use vigil_store::Store;

fn principal(sub: &str, groups: &[&str]) -> Principal {
    Principal {
        subject: sub.to_owned(),
        email: None,
        groups: groups.iter().map(|g| (*g).to_owned()).collect(),
        issuer: "bench".to_owned(),
        token_id: None,
        expires_at: i64::MAX,
        kind: PrincipalKind::Human,
    }
}

fn request() -> NewRequest {
    let sql = "DELETE FROM orders WHERE id = 42";
    NewRequest {
        requester: Requester::from(&principal("alice", &["dev"])),
        connection: "prod".to_owned(),
        environment: "production".to_owned(),
        labels: BTreeMap::new(),
        sql: sql.to_owned(),
        params: Vec::new(),
        statement_hash: statement_hash([sql.as_bytes()]),
        statement: serde_json::json!({"kind": "write"}),
        reasons: vec!["bench".to_owned()],
        rules: vec!["bench".to_owned()],
        policy_version: None,
        approvers: RequiredApprovers {
            groups: vec!["dba".to_owned()],
            count: 1,
        },
        client_application: None,
        client_address: None,
        timeout: None,
        non_blocking: false,
    }
}

/// Latency of `rounds` approvals made through `decider` while `holder` waits.
async fn measure(holder: &ApprovalService, decider: &ApprovalService, rounds: usize) -> Vec<f64> {
    let bob = principal("bob", &["dba"]);
    let mut out = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let req = holder.create(request()).await.expect("create");
        let (svc, id) = (holder.clone(), req.id.clone());
        let wait = tokio::spawn(async move {
            let r = svc.wait(&id).await;
            (r, Instant::now())
        });
        // Let the wait register and read the pending request first.
        tokio::time::sleep(Duration::from_millis(10)).await;
        let start = Instant::now();
        decider.approve(&req.id, &bob, "").await.expect("approve");
        let (resolution, at) = wait.await.expect("join");
        assert_eq!(resolution.expect("wait"), Resolution::Approved);
        out.push(at.duration_since(start).as_secs_f64() * 1000.0);
    }
    out
}

fn report(name: &str, mut ms: Vec<f64>) {
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| {
        let i = ((ms.len() as f64 - 1.0) * q).round() as usize;
        ms.get(i).copied().unwrap_or(f64::NAN)
    };
    println!(
        "{name:<48} n={:<4} p50={:>7.2} ms  p95={:>7.2} ms  max={:>7.2} ms",
        ms.len(),
        at(0.5),
        at(0.95),
        at(1.0)
    );
}

fn settings() -> ApprovalSettings {
    ApprovalSettings {
        poll_interval: Duration::from_millis(25),
        ..ApprovalSettings::default()
    }
}

async fn run(rounds: usize) {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let sqlite = ApprovalService::start(&Store::open(&url).await.expect("sqlite"), settings())
        .expect("start");
    report(
        "sqlite, one service",
        measure(&sqlite, &sqlite, rounds).await,
    );

    let pg = TempCluster::start(ClusterOptions::default()).expect("postgres");
    let open = || async { Store::open(&pg.url("postgres")).await.expect("pg store") };
    let a = ApprovalService::start(&open().await, settings()).expect("start a");
    let b = ApprovalService::start(&open().await, settings()).expect("start b");
    report("postgres, one service", measure(&a, &a, rounds).await);
    report(
        "postgres, approve on A, wait on B (poll 25 ms)",
        measure(&b, &a, rounds).await,
    );
}

fn main() {
    // `cargo bench` passes `--bench`; a bare number sets the rounds.
    let rounds = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(60);
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(run(rounds));
}
