//! µs per decision through the policy hook with the default bundle:
//! uncached (classify from cache + policy input + Rego) and cached (the
//! decision cache hit). Set `VIGIL_BENCH_CLOCK=cpu` on a shared machine
//! to time the benchmark thread's own CPU time instead of wall time.

use criterion::{criterion_group, criterion_main, Bencher, Criterion};
use std::hint::black_box;
use std::time::{Duration, Instant};
use vigil_core::{ConnectionInfo, Principal, PrincipalKind};
use vigil_server::{Asker, LivePolicy, PolicyClock, PolicyHook};

fn principal() -> Principal {
    Principal {
        subject: "alice".into(),
        email: Some("alice@example.com".into()),
        groups: vec!["dev".into(), "eng".into()],
        issuer: "idp".into(),
        token_id: None,
        expires_at: 0,
        kind: PrincipalKind::Human,
    }
}

fn conn() -> ConnectionInfo {
    ConnectionInfo {
        name: "shop-prod".into(),
        engine: "postgres".into(),
        environment: "production".into(),
        ..ConnectionInfo::default()
    }
}

fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the duration of the call.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0);
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

fn run<R>(b: &mut Bencher<'_>, mut f: impl FnMut() -> R) {
    let cpu = std::env::var("VIGIL_BENCH_CLOCK").is_ok_and(|v| v == "cpu");
    b.iter_custom(|iters| {
        let (c0, w0) = (thread_cpu_time(), Instant::now());
        for _ in 0..iters {
            black_box(f());
        }
        if cpu {
            thread_cpu_time().saturating_sub(c0)
        } else {
            w0.elapsed()
        }
    })
}

fn bench(c: &mut Criterion) {
    let engine = vigil_policy::PolicyEngine::default_bundle().expect("default bundle");
    let live = LivePolicy::fixed(engine);
    let uncached = PolicyHook::new(live.clone(), 1024, 0, PolicyClock::utc());
    let cached = PolicyHook::new(live, 1024, 1024, PolicyClock::utc());
    let (p, conn) = (principal(), conn());
    let ask = || Asker {
        principal: &p,
        connection: &conn,
        client: Default::default(),
        session: Default::default(),
    };
    for (name, sql) in [
        (
            "pgbench_select",
            "SELECT abalance FROM pgbench_accounts WHERE aid = 4711",
        ),
        (
            "prod_write_review",
            "UPDATE orders SET total = 0 WHERE id = 7",
        ),
        ("prod_drop_deny", "DROP TABLE orders"),
    ] {
        c.bench_function(&format!("hook_uncached/{name}"), |b| {
            run(b, || uncached.decide(black_box(sql), ask()))
        });
        c.bench_function(&format!("hook_cached/{name}"), |b| {
            run(b, || cached.decide(black_box(sql), ask()))
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
