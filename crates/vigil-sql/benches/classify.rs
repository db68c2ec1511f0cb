//! Classification cost per statement, uncached (`classify`: parse +
//! walk + normalize + a hash of the normalized text for the fingerprint)
//! and cached (`Classifier::classify`: a hash lookup and an `Arc` clone).
//! The `*_only` rows time pg_query's own entry points for reference.
//!
//! On a loaded shared machine wall time mostly measures the scheduler; run
//! with `VIGIL_BENCH_CLOCK=cpu` to time the benchmark thread's own CPU time
//! instead (Linux `CLOCK_THREAD_CPUTIME_ID`).

use criterion::{black_box, criterion_group, criterion_main, Bencher, Criterion};
use std::time::{Duration, Instant};
use vigil_sql::{classify, Classifier};

const PGBENCH: &[(&str, &str)] = &[
    ("pgbench_select", "SELECT abalance FROM pgbench_accounts WHERE aid = $1;"),
    ("pgbench_update_accounts", "UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2;"),
    ("pgbench_update_tellers", "UPDATE pgbench_tellers SET tbalance = tbalance + $1 WHERE tid = $2;"),
    ("pgbench_update_branches", "UPDATE pgbench_branches SET bbalance = bbalance + $1 WHERE bid = $2;"),
    (
        "pgbench_insert_history",
        "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES ($1, $2, $3, $4, CURRENT_TIMESTAMP);",
    ),
];

/// A ~5 KB analytic query: CTEs, joins, window functions, subqueries.
fn analytic_query() -> String {
    let mut ctes = Vec::new();
    for i in 0..12 {
        ctes.push(format!(
            "region_{i} AS (SELECT r.id, r.name, sum(o.total) AS revenue, count(DISTINCT o.customer_id) AS buyers, \
             avg(o.total) FILTER (WHERE o.status = 'paid') AS avg_paid \
             FROM sales.regions r JOIN sales.orders o ON o.region_id = r.id \
             LEFT JOIN sales.customers c ON c.id = o.customer_id AND c.segment = 'smb' \
             WHERE o.created_at >= date '2026-01-01' AND r.zone = {i} GROUP BY r.id, r.name)"
        ));
    }
    let unions: Vec<String> = (0..12)
        .map(|i| format!("SELECT * FROM region_{i}"))
        .collect();
    format!(
        "WITH {}, all_regions AS ({}) \
         SELECT id, name, revenue, buyers, \
         rank() OVER (ORDER BY revenue DESC) AS revenue_rank, \
         sum(revenue) OVER (PARTITION BY name ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS running, \
         lag(revenue) OVER w AS prev_revenue \
         FROM all_regions a WHERE buyers > (SELECT avg(buyers) FROM all_regions) \
         WINDOW w AS (ORDER BY id) ORDER BY revenue_rank LIMIT 100",
        ctes.join(", "),
        unions.join(" UNION ALL ")
    )
}

/// Whether to time thread CPU time rather than wall time.
fn cpu_clock() -> bool {
    std::env::var("VIGIL_BENCH_CLOCK").is_ok_and(|v| v == "cpu")
}

/// CPU time consumed so far by the calling thread.
fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the duration of the call.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Times `f` with the clock chosen by `VIGIL_BENCH_CLOCK`.
fn run<R>(b: &mut Bencher<'_>, cpu: bool, mut f: impl FnMut() -> R) {
    b.iter_custom(|iters| {
        let cpu_start = if cpu {
            thread_cpu_time()
        } else {
            Duration::ZERO
        };
        let wall = Instant::now();
        for _ in 0..iters {
            black_box(f());
        }
        if cpu {
            thread_cpu_time().saturating_sub(cpu_start)
        } else {
            wall.elapsed()
        }
    })
}

fn bench(c: &mut Criterion) {
    let cpu = cpu_clock();
    let analytic = analytic_query();
    let mut inputs: Vec<(&str, String)> = vec![("simple_select", "SELECT 1".to_string())];
    inputs.extend(PGBENCH.iter().map(|(n, s)| (*n, s.to_string())));
    inputs.push(("analytic_5kb", analytic));
    let cached = Classifier::default();
    for (name, sql) in &inputs {
        c.bench_function(&format!("uncached/{name}"), |b| {
            run(b, cpu, || classify(black_box(sql)))
        });
        cached.classify(sql);
        c.bench_function(&format!("cached/{name}"), |b| {
            run(b, cpu, || cached.classify(black_box(sql)))
        });
    }
    c.bench_function("parse_only/pgbench_update_accounts", |b| {
        run(b, cpu, || pg_query::parse(black_box(PGBENCH[1].1), 0))
    });
    c.bench_function("fingerprint_only/pgbench_update_accounts", |b| {
        run(b, cpu, || {
            pg_query::fingerprint(black_box(PGBENCH[1].1), 0, 0)
        })
    });
    c.bench_function("normalize_only/pgbench_update_accounts", |b| {
        run(b, cpu, || pg_query::normalize(black_box(PGBENCH[1].1)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
