//! µs per decision with the default bundle, uncached: input encoding,
//! engine clone and evaluation. Also the clone alone, which is the price of
//! lock-free concurrency.

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use std::path::PathBuf;
use vigil_core::{ConnectionInfo, Principal, PrincipalKind};
use vigil_policy::{PolicyEngine, PolicyInput};

fn engine() -> PolicyEngine {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../policies/default");
    PolicyEngine::load_dir(&dir).expect("default bundle loads")
}

fn input(env: &str, sql: &str) -> PolicyInput {
    let principal = Principal {
        subject: "alice".into(),
        email: None,
        groups: vec!["eng".into()],
        issuer: "idp".into(),
        token_id: None,
        expires_at: 0,
        kind: PrincipalKind::Human,
    };
    let conn = ConnectionInfo {
        name: "db".into(),
        engine: "postgres".into(),
        environment: env.into(),
        ..ConnectionInfo::default()
    };
    PolicyInput::new(&principal, &conn, &vigil_sql::classify(sql))
}

fn bench(c: &mut Criterion) {
    let e = engine();
    let read = input(
        "production",
        "SELECT id, email FROM public.users WHERE id = 1",
    );
    let write = input("production", "DELETE FROM orders WHERE id = 1");
    let drop = input("production", "DROP TABLE orders");
    c.bench_function("decide/prod_read", |b| {
        b.iter(|| e.decide(black_box(&read)))
    });
    c.bench_function("decide/prod_write_review", |b| {
        b.iter(|| e.decide(black_box(&write)))
    });
    c.bench_function("decide/prod_drop_deny", |b| {
        b.iter(|| e.decide(black_box(&drop)))
    });
    c.bench_function("engine_clone", |b| b.iter(|| black_box(e.clone())));
}

criterion_group!(benches, bench);
criterion_main!(benches);
