//! Hostile values a database column can hold: repeated prefixes and
//! separators that would make a naive scanner quadratic, and rows that
//! arrive one byte per CopyData. These complete (the suite would hang
//! otherwise) and still mask what they must.

mod common;
use bytes::BytesMut;
use common::rules;
use vigil_mask::{CopyFormat, CopyMasker, Detectors, Kind, MaskStats, Outcome};

const N: usize = 200_000;

fn repeat(unit: &str) -> Vec<u8> {
    unit.repeat(N / unit.len()).into_bytes()
}

#[test]
fn repeated_prefixes_stay_linear() {
    let det = Detectors::global().unwrap();
    for unit in [
        "sk-",
        "eyJ",
        "eyJa.",
        "-----BEGIN PRIVATE KEY-----\"",
        "-----BEGIN PRIVATE KEY-----",
        "passwordpassword",
        "password=",
        "$argon2id$",
        "a@",
        "@b.",
        "1.",
        "1-",
        "+1 ",
        "AKIA",
        "md5",
        "DE89",
        "::",
        "ffff:",
        "(415) ",
        "4111 ",
        "ssn ",
    ] {
        let v = repeat(unit);
        let spans = det.find(&v);
        assert!(spans.windows(2).all(|w| w[0].end <= w[1].start), "{unit}");
    }
    // One PEM header without an END masks to the end of the value.
    let pem = repeat("-----BEGIN PRIVATE KEY-----");
    let spans = det.find(&pem);
    assert_eq!(
        (spans.len(), spans[0].kind, spans[0].end),
        (1, Kind::PrivateKey, pem.len())
    );
}

#[test]
fn a_row_arriving_byte_by_byte_is_masked_once_complete() {
    for format in [CopyFormat::TEXT, CopyFormat::CSV] {
        let mut row = "x".repeat(20_000).into_bytes();
        row.extend_from_slice(b" alice@example.com\n");
        let mut m = CopyMasker::new(b"\x00\x00\x01\x00\x00", format, vec![], &rules(&[])).unwrap();
        let mut stats = MaskStats::default();
        let mut client = Vec::new();
        for b in &row {
            let mut out = BytesMut::new();
            match m
                .mask_copy_data(std::slice::from_ref(b), &mut stats, &mut out)
                .unwrap()
            {
                Outcome::Unchanged => client.push(*b),
                Outcome::Rewritten => {
                    while let Some(f) = vigil_pgwire::decode_frame(&mut out, 1 << 26).unwrap() {
                        client.extend_from_slice(f.body());
                    }
                }
            }
        }
        m.finish().unwrap();
        assert!(client.ends_with(b" ****@example.com\n"));
        assert_eq!(client.len(), 20_000 + 18);
    }
}
