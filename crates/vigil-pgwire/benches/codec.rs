//! Frame decode/encode cost: the per-message tax every relayed byte pays.
use bytes::BytesMut;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use vigil_pgwire::{decode_frame, frame::complete_prefix, frontend, Frame};

fn data_rows(n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..n {
        let v = format!("row-{i}-alice@example.com");
        let mut body = Vec::new();
        body.extend_from_slice(&1i16.to_be_bytes());
        body.extend_from_slice(&(v.len() as i32).to_be_bytes());
        body.extend_from_slice(v.as_bytes());
        out.extend_from_slice(Frame::new(b'D', &body).unwrap().raw());
    }
    out
}

fn bench(c: &mut Criterion) {
    let rows = data_rows(1000);
    let mut g = c.benchmark_group("pgwire");
    g.throughput(Throughput::Bytes(rows.len() as u64));
    g.bench_function("decode_frame x1000 DataRow", |b| {
        b.iter(|| {
            let mut buf = BytesMut::from(&rows[..]);
            let mut n = 0;
            while let Ok(Some(_)) = decode_frame(&mut buf, 1 << 20) {
                n += 1;
            }
            n
        })
    });
    g.bench_function("complete_prefix x1000 DataRow", |b| {
        b.iter(|| complete_prefix(&rows, 1 << 20))
    });
    g.finish();
    let q = frontend::encode_query("SELECT abalance FROM pgbench_accounts WHERE aid = 1").unwrap();
    c.bench_function("parse Query", |b| {
        b.iter(|| frontend::Query::parse(q.body()))
    });
    c.bench_function("encode Query", |b| {
        b.iter(|| frontend::encode_query("SELECT abalance FROM pgbench_accounts WHERE aid = 1"))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
