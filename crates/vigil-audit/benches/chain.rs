//! Cost of the pure parts per record: building a record (serialize,
//! canonical encode, SHA-256), signing a checkpoint, and verifying.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use vigil_audit::*;
use vigil_core::{FlagId, PrincipalKind, StatementKind, TableAccess, Verdict};

fn intent() -> Event {
    Event::StatementIntent(StatementIntent {
        session_id: 1,
        principal: AuditPrincipal {
            sub: "alice".into(),
            email: Some("alice@example.com".into()),
            groups: vec!["dev".into(), "dba".into()],
            kind: PrincipalKind::Human,
            issuer: "https://idp.example.com".into(),
        },
        connection: "prod".into(),
        environment: "production".into(),
        sql: "SELECT id, email, name FROM customers WHERE id = $1".into(),
        sql_redacted: true,
        fingerprint: "5f2a9c01d3b4e6f7".into(),
        kind: StatementKind::Read,
        tables: vec![AuditTable {
            name: "customers".into(),
            access: vec![TableAccess::Read],
        }],
        flags: vec![FlagId::MultiStatement],
        protocol: Protocol::Simple,
        param_count: 0,
        decision: AuditDecision {
            verdict: Verdict::Allow,
            rules: vec![],
            reasons: vec![],
            policy_version: Some("e3b0c442".into()),
        },
        approval_id: None,
    })
}

fn bench(c: &mut Criterion) {
    let ev = intent();
    let key = AuditKey::generate();
    let keys = PublicKeys::from(&key);
    let mut g = c.benchmark_group("audit");
    g.throughput(Throughput::Elements(1));
    g.bench_function("append_intent", |b| {
        let mut head = ChainHead::genesis("bench");
        b.iter(|| head.append(1_700_000_000_000, &ev))
    });
    g.bench_function("sign_checkpoint", |b| {
        b.iter(|| Checkpoint::sign(&key, "bench", 1, GENESIS_HASH, 1))
    });
    let mut head = ChainHead::genesis("bench");
    let records: Vec<Record> = (0..1000).filter_map(|i| head.append(i, &ev).ok()).collect();
    let cps = vec![Checkpoint::sign(&key, "bench", 1000, head.hash(), 2000)];
    g.throughput(Throughput::Elements(1000));
    g.bench_function("verify_1000", |b| {
        b.iter(|| verify(records.iter().cloned(), cps.clone(), &keys))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
