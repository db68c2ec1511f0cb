//! Hostile input: random and mutated bodies through every entry point must
//! return Ok or Err, never panic; and masked output never contains the
//! planted PII.

mod common;
use bytes::BytesMut;
use common::*;
use vigil_mask::{
    mask_data_row, mask_error_or_notice, mask_notification, mask_parameter_status, CopyFormat,
    CopyMasker, Detectors, MaskStats, Outcome, RowPlan,
};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        const ALPHABET: &[u8] = b"0123456789 -.@:$()+/_=,\"\\\tabcxyzAKIAeyJ\n\x00\xff\xc3";
        (0..n)
            .map(|_| {
                if self.below(4) == 0 {
                    self.next() as u8
                } else {
                    ALPHABET[self.below(ALPHABET.len())]
                }
            })
            .collect()
    }
    fn some(&mut self, max: usize) -> Vec<u8> {
        let n = self.below(max);
        self.bytes(n)
    }
    fn mutate(&mut self, mut v: Vec<u8>) -> Vec<u8> {
        for _ in 0..1 + self.below(4) {
            match self.below(4) {
                0 if !v.is_empty() => {
                    let i = self.below(v.len());
                    v[i] = self.next() as u8;
                }
                1 if !v.is_empty() => v.truncate(self.below(v.len())),
                2 => {
                    let i = self.below(v.len() + 1);
                    let mut extra = self.some(8);
                    extra.push(b'x');
                    v.splice(i..i, extra);
                }
                _ => v.extend(self.some(6)),
            }
        }
        v
    }
}

#[test]
fn random_and_mutated_inputs_never_panic() {
    let mut rng = Rng(0x9e3779b97f4a7c15);
    let r = rules(&[]);
    let cat = catalog();
    let rd = row_description(&[
        ("a", CUSTOMERS, 3, 25, 0),
        ("b", 0, 0, 3802, 1),
        ("c", 0, 0, 1009, 1),
    ]);
    let plan = RowPlan::from_row_description(&rd, &cat, None, &r, true).unwrap();
    let row = data_row(&[
        Some(b"alice@example.com"),
        Some(b"\x01{\"k\":\"4111111111111111\"}"),
        None,
    ]);
    let err = b"SERROR\0C23505\0DKey (email)=(a@b.co) exists.\0tcustomers\0\0".to_vec();
    for i in 0..4000 {
        let mut out = BytesMut::new();
        let mut st = MaskStats::default();
        let body = if i % 2 == 0 {
            rng.mutate(row.clone())
        } else {
            rng.some(64)
        };
        let _ = mask_data_row(&plan, &body, &mut st, &mut out);
        let _ = RowPlan::from_row_description(&rng.mutate(rd.clone()), &cat, None, &r, false);
        let _ = mask_error_or_notice(b'E', &rng.mutate(err.clone()), &cat, &r, &mut st, &mut out);
        let _ = mask_notification(&rng.some(40), &r, &mut st, &mut out);
        let _ = mask_parameter_status(&rng.mutate(b"a\0b@c.de\0".to_vec()), &r, &mut st, &mut out);
        let text = rng.some(200);
        let spans = Detectors::global().unwrap().find(&text);
        assert!(
            spans.windows(2).all(|w| w[0].end <= w[1].start),
            "sorted, disjoint"
        );
        assert!(spans.iter().all(|s| s.start < s.end && s.end <= text.len()));
        for format in [CopyFormat::TEXT, CopyFormat::CSV] {
            let mut m = CopyMasker::new(b"\x00\x00\x00", format, vec![], &r).unwrap();
            let _ = m.mask_copy_data(&text, &mut st, &mut out);
            let _ = m.finish();
        }
        let mut m = CopyMasker::new(b"\x01\x00\x00", CopyFormat::TEXT, vec![], &r).unwrap();
        let mut bin = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0".to_vec();
        bin.extend(rng.mutate(b"\x00\x01\x00\x00\x00\x05a@b.c\xff\xff".to_vec()));
        let _ = m.mask_copy_data(&bin, &mut st, &mut out);
    }
}

#[test]
fn planted_pii_never_survives_in_random_context() {
    let mut rng = Rng(42);
    let plan = RowPlan::from_row_description(
        &row_description(&[("v", 0, 0, 25, 0)]),
        &catalog(),
        None,
        &rules(&[]),
        false,
    )
    .unwrap();
    let planted: [&[u8]; 5] = [
        b"alice@example.com",
        b"4111 1111 1111 1111",
        b"123-45-6789",
        b"AKIAIOSFODNN7EXAMPLE",
        b"DE89370400440532013000",
    ];
    for _ in 0..3000 {
        let pii = planted[rng.below(planted.len())];
        let mut v = rng.some(30);
        // Separate the planted value from random neighbours by a space.
        v.push(b' ');
        v.extend_from_slice(pii);
        v.push(b' ');
        v.extend(rng.some(30));
        let mut out = BytesMut::new();
        let o = mask_data_row(
            &plan,
            &data_row(&[Some(&v)]),
            &mut MaskStats::default(),
            &mut out,
        );
        let Ok(Outcome::Rewritten) = o else {
            panic!("not masked: {:?} in {:?}", o, String::from_utf8_lossy(&v))
        };
        let (_, body) = one_frame(&mut out);
        let got = values(&body)[0].clone().unwrap_or_default();
        assert!(
            !got.windows(pii.len()).any(|w| w == pii),
            "{:?}",
            String::from_utf8_lossy(&got)
        );
    }
}
