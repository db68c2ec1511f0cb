use bytes::{BufMut, BytesMut};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use vigil_core::{ConnectionInfo, Principal, PrincipalKind, SessionId};
use vigil_proxy::denials::Denials;
use vigil_proxy::filter::ResponseFilter;
use vigil_proxy::relay::ServerPump;
use vigil_proxy::track::{Request, RequestKind, Requests};
use vigil_proxy::{ResponseHook, SessionContext};

type MakeHook = fn() -> Option<Box<dyn ResponseHook>>;

/// The default response hook: every phase forwards unchanged.
struct Noop {
    layouts: bool,
}

impl ResponseHook for Noop {
    fn wants_layouts(&self) -> bool {
        self.layouts
    }
}

fn frame(out: &mut BytesMut, tag: u8, body: &[u8]) {
    out.put_u8(tag);
    out.put_i32(body.len() as i32 + 4);
    out.extend_from_slice(body);
}

fn row_description(cols: usize) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&(cols as i16).to_be_bytes());
    for i in 0..cols {
        b.extend_from_slice(format!("col{i}\0").as_bytes());
        b.extend_from_slice(&16384u32.to_be_bytes());
        b.extend_from_slice(&((i + 1) as i16).to_be_bytes());
        b.extend_from_slice(&25u32.to_be_bytes());
        b.extend_from_slice(&(-1i16).to_be_bytes());
        b.extend_from_slice(&(-1i32).to_be_bytes());
        b.extend_from_slice(&0i16.to_be_bytes());
    }
    b
}

fn data_row(values: &[&[u8]]) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&(values.len() as i16).to_be_bytes());
    for v in values {
        b.extend_from_slice(&(v.len() as i32).to_be_bytes());
        b.extend_from_slice(v);
    }
    b
}

/// 1000 pgbench -S answers: T D C Z.
fn select_only() -> (BytesMut, usize) {
    let mut out = BytesMut::new();
    let t = row_description(1);
    let d = data_row(&[b"-4321"]);
    for _ in 0..1000 {
        frame(&mut out, b'T', &t);
        frame(&mut out, b'D', &d);
        frame(&mut out, b'C', b"SELECT 1\0");
        frame(&mut out, b'Z', b"I");
    }
    (out, 1000)
}

/// One query streaming 10 000 rows of 5 text columns.
fn stream() -> (BytesMut, usize) {
    let mut out = BytesMut::new();
    frame(&mut out, b'T', &row_description(5));
    let d = data_row(&[
        b"12345",
        b"alice@example.com",
        b"some longer text value here",
        b"2024-01-01",
        b"t",
    ]);
    for _ in 0..10_000 {
        frame(&mut out, b'D', &d);
    }
    frame(&mut out, b'C', b"SELECT 10000\0");
    frame(&mut out, b'Z', b"I");
    (out, 1)
}

fn ctx() -> SessionContext {
    SessionContext::new(
        SessionId(1),
        Principal {
            subject: "bench".into(),
            email: None,
            groups: vec![],
            issuer: "bench".into(),
            token_id: None,
            expires_at: 0,
            kind: PrincipalKind::Human,
        },
        ConnectionInfo::default(),
        None,
        "127.0.0.1:1".parse().unwrap(),
        false,
    )
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("server_pump");
    let inputs = [
        ("select_only_1000", select_only()),
        ("stream_10000_rows", stream()),
    ];
    let hooks: [(&str, MakeHook); 3] = [
        ("no_hook", || None),
        ("noop_hook", || Some(Box::new(Noop { layouts: false }))),
        ("noop_hook_layouts", || {
            Some(Box::new(Noop { layouts: true }))
        }),
    ];
    for (name, (input, queries)) in &inputs {
        for (hook_name, hook) in &hooks {
            let ctx = ctx();
            let denials = Denials::new(1);
            let requests = Requests::default();
            let batch: Vec<Request> = (0..*queries)
                .map(|_| Request::new(RequestKind::Query))
                .collect();
            g.throughput(Throughput::Bytes(input.len() as u64));
            g.bench_function(format!("{name}/{hook_name}"), |b| {
                let filter = ResponseFilter::new(hook());
                let mut pump = ServerPump::new(&ctx, &denials, &requests, filter, 1 << 26);
                b.iter(|| {
                    requests.push_all(&mut batch.clone());
                    let mut buf = input.clone();
                    let out = pump.process(&mut buf).unwrap();
                    assert_eq!(out.len(), input.len());
                })
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
