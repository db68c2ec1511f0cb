//! Masking cost on realistic rows: detector throughput, DataRow masking and
//! COPY text masking. Report MB/s per core (one thread).
use bytes::BytesMut;
use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::collections::BTreeMap;
use std::time::Duration;
use vigil_mask::{
    mask_data_row, Catalog, CatalogEntry, Classification, CopyFormat, CopyMasker, Detectors,
    HashKey, MaskRules, MaskStats, RowPlan,
};
use vigil_pgwire::text::ClientEncoding;

const ROWS: usize = 1000;

/// This thread's CPU time. The benches report per-core throughput from it,
/// so other processes on a shared machine do not skew the numbers.
fn cpu_now() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the call's duration.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Runs `f` `iters` times and returns the CPU time it took.
fn cpu_time<R>(iters: u64, mut f: impl FnMut() -> R) -> Duration {
    let start = cpu_now();
    for _ in 0..iters {
        black_box(f());
    }
    cpu_now().saturating_sub(start)
}

/// Deterministic pseudo-random numbers, no dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn n(&mut self, m: u64) -> u64 {
        self.next() % m
    }
}

const NAMES: &[&str] = &[
    "Maria Gonzalez",
    "James Smith",
    "Aisha Okafor",
    "Wei Zhang",
    "Jürgen Müller",
    "Sean O'Connor",
];
const STATUS: &[&str] = &["shipped", "pending", "delivered", "cancelled"];

/// An orders-style row without PII: id, uuid, status, amount, timestamp, note.
fn clean_row(r: &mut Rng, i: usize) -> Vec<String> {
    vec![
        i.to_string(),
        format!(
            "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
            r.next() as u32,
            r.n(65536),
            r.n(4096),
            r.n(4096),
            r.next() & 0xffff_ffff_ffff
        ),
        STATUS[r.n(4) as usize].to_string(),
        format!("{}.{:02}", r.n(100_000), r.n(100)),
        format!(
            "2025-{:02}-{:02} {:02}:{:02}:{:02}+00",
            1 + r.n(12),
            1 + r.n(28),
            r.n(24),
            r.n(60),
            r.n(60)
        ),
        format!(
            "Order for {} items, ref ORD-2025-{:06}, thank you for shopping",
            r.n(9),
            r.n(1_000_000)
        ),
    ]
}

/// A customers-style row full of PII.
fn pii_row(r: &mut Rng, i: usize) -> Vec<String> {
    let name = NAMES[r.n(NAMES.len() as u64) as usize];
    vec![
        i.to_string(),
        name.to_string(),
        format!(
            "{}{}@example.com",
            name.split(' ').next().unwrap_or("x").to_lowercase(),
            r.n(99)
        ),
        format!("({}) {}-{:04}", 200 + r.n(700), 200 + r.n(700), r.n(10000)),
        format!(
            "{:03}-{:02}-{:04}",
            1 + r.n(600),
            1 + r.n(98),
            1 + r.n(9998)
        ),
        "4111 1111 1111 1111".to_string(),
        format!(
            "{} Oak Street, Springfield, IL 627{:02}",
            r.n(9000),
            r.n(100)
        ),
    ]
}

/// A row of `bench/run`'s streaming table `t` (the end-to-end masking
/// measurement in BENCHMARKS.md): id, email, phone, card-like number, note
/// with a 64-hex-digit tail.
fn stream_row(r: &mut Rng, i: usize) -> Vec<String> {
    let md5 = format!("{:016x}{:016x}", r.next(), r.next());
    vec![
        i.to_string(),
        format!("user{i}@example.com"),
        format!("+1-555-{:07}", i % 10_000_000),
        format!("4{:015}", (i as u64 * 7919) % 1_000_000_000_000_000),
        format!(
            "Customer {i} of the benchmark; lives at {} Example Street, Springfield. Notes: {md5}{md5}",
            i % 9999
        ),
    ]
}

fn dataset(kind: &str) -> Vec<Vec<String>> {
    let mut r = Rng(0x1234_5678_9abc_def1);
    (0..ROWS)
        .map(|i| match kind {
            "no_pii" => clean_row(&mut r, i),
            "all_pii" => pii_row(&mut r, i),
            "stream_table" => stream_row(&mut r, i),
            _ if i % 4 == 0 => pii_row(&mut r, i),
            _ => clean_row(&mut r, i),
        })
        .collect()
}

fn data_row(values: &[String]) -> Vec<u8> {
    let mut b = (values.len() as i16).to_be_bytes().to_vec();
    for v in values {
        b.extend_from_slice(&(v.len() as i32).to_be_bytes());
        b.extend_from_slice(v.as_bytes());
    }
    b
}

fn row_description(n: usize, table_oid: u32) -> Vec<u8> {
    let mut b = (n as i16).to_be_bytes().to_vec();
    for i in 0..n {
        b.extend_from_slice(format!("c{i}\0").as_bytes());
        b.extend_from_slice(&table_oid.to_be_bytes());
        b.extend_from_slice(&(i as i16 + 1).to_be_bytes());
        b.extend_from_slice(&25u32.to_be_bytes());
        b.extend_from_slice(&(-1i16).to_be_bytes());
        b.extend_from_slice(&(-1i32).to_be_bytes());
        b.extend_from_slice(&0i16.to_be_bytes());
    }
    b
}

fn rules() -> MaskRules {
    MaskRules::new(
        &BTreeMap::new(),
        HashKey::new([1; 32]),
        ClientEncoding::Utf8,
    )
    .unwrap()
}

fn bench_detectors(c: &mut Criterion) {
    let det = Detectors::global().unwrap();
    let mut g = c.benchmark_group("detectors");
    for kind in ["no_pii", "some_pii", "all_pii"] {
        let values: Vec<String> = dataset(kind).into_iter().flatten().collect();
        let bytes: usize = values.iter().map(String::len).sum();
        g.throughput(Throughput::Bytes(bytes as u64));
        g.bench_function(BenchmarkId::new("find", kind), |b| {
            let mut spans = Vec::new();
            b.iter_custom(|iters| {
                cpu_time(iters, || {
                    let mut n = 0;
                    for v in &values {
                        det.find_into(v.as_bytes(), &mut spans);
                        n += spans.len();
                    }
                    n
                })
            })
        });
    }
    g.finish();
}

fn bench_data_rows(c: &mut Criterion) {
    let mut g = c.benchmark_group("data_row");
    let catalog = Catalog::new(
        [
            (2, Classification::PERSON),
            (3, Classification::EMAIL_ADDRESS),
            (5, Classification::US_SSN),
        ]
        .into_iter()
        .map(|(attnum, classification)| {
            let column = format!("c{attnum}");
            CatalogEntry::new(
                "public",
                "customers",
                &column,
                (16400, attnum),
                classification,
            )
        })
        .collect(),
    );
    for (kind, oid) in [
        ("no_pii", 0),
        ("some_pii", 0),
        ("all_pii", 0),
        ("all_pii_catalogued", 16400),
        ("stream_table", 0),
    ] {
        let data = dataset(kind.trim_end_matches("_catalogued"));
        let bodies: Vec<Vec<u8>> = data.iter().map(|r| data_row(r)).collect();
        let bytes: usize = bodies.iter().map(Vec::len).sum();
        g.throughput(Throughput::Bytes(bytes as u64));
        g.bench_function(BenchmarkId::new("mask 1000 rows", kind), |b| {
            let mut plans = Vec::new();
            for cols in [5, 6, 7] {
                plans.push(
                    RowPlan::from_row_description(
                        &row_description(cols, oid),
                        &catalog,
                        None,
                        &rules(),
                        false,
                    )
                    .unwrap(),
                );
            }
            let mut out = BytesMut::with_capacity(1 << 20);
            let mut stats = MaskStats::default();
            b.iter_custom(|iters| {
                cpu_time(iters, || {
                    out.clear();
                    for body in &bodies {
                        let plan = match body.get(1) {
                            Some(&5) => &plans[0],
                            Some(&6) => &plans[1],
                            _ => &plans[2],
                        };
                        mask_data_row(plan, body, &mut stats, &mut out).unwrap();
                    }
                    out.len()
                })
            })
        });
    }
    g.finish();
}

fn bench_copy(c: &mut Criterion) {
    let mut g = c.benchmark_group("copy_text");
    for kind in ["no_pii", "some_pii", "all_pii", "stream_table"] {
        let lines: Vec<Vec<u8>> = dataset(kind)
            .iter()
            .map(|r| format!("{}\n", r.join("\t")).into_bytes())
            .collect();
        let bytes: usize = lines.iter().map(Vec::len).sum();
        g.throughput(Throughput::Bytes(bytes as u64));
        g.bench_function(BenchmarkId::new("mask 1000 CopyData", kind), |b| {
            let mut out = BytesMut::with_capacity(1 << 20);
            let mut stats = MaskStats::default();
            b.iter_custom(|iters| {
                cpu_time(iters, || {
                    let mut m =
                        CopyMasker::new(b"\x00\x00\x00", CopyFormat::TEXT, vec![], &rules())
                            .unwrap();
                    out.clear();
                    for l in &lines {
                        m.mask_copy_data(l, &mut stats, &mut out).unwrap();
                    }
                    m.finish().unwrap();
                    out.len()
                })
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench_detectors, bench_data_rows, bench_copy);
criterion_main!(benches);
