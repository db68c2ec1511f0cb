//! Value detectors: find every span of PII or secret in a whole value (a
//! JSON document, a composite row's text, an error message).
//!
//! A one-pass [`prefilter`] decides which families can match at all, so a
//! value without digits runs, `@`, `$`, `:` or long words costs a few
//! nanoseconds per byte. Families then confirm shapes with checksums.

mod bytemask;
mod email;
mod iban;
mod ipv6;
mod keyword;
mod numeric;
mod prefilter;
mod secrets;
mod shape;
mod token;

use crate::{Classification, MaskError};
use prefilter::Triggers;
use std::sync::OnceLock;

/// What a detector found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Email,
    Phone,
    Ssn,
    Card,
    Iban,
    Ip,
    Jwt,
    AwsAccessKey,
    AwsSecretKey,
    PrivateKey,
    ApiKey,
    PasswordHash,
    Password,
}

impl Kind {
    /// Every kind, in declaration order (`kind as usize` indexes it).
    pub(crate) const ALL: [Kind; 13] = [
        Kind::Email,
        Kind::Phone,
        Kind::Ssn,
        Kind::Card,
        Kind::Iban,
        Kind::Ip,
        Kind::Jwt,
        Kind::AwsAccessKey,
        Kind::AwsSecretKey,
        Kind::PrivateKey,
        Kind::ApiKey,
        Kind::PasswordHash,
        Kind::Password,
    ];

    /// The classification the detection is reported and masked under.
    pub fn classification(self) -> Classification {
        match self {
            Kind::Email => Classification::EMAIL_ADDRESS,
            Kind::Phone => Classification::PHONE_NUMBER,
            Kind::Ssn => Classification::US_SSN,
            Kind::Card => Classification::CREDIT_CARD,
            Kind::Iban => Classification::IBAN_CODE,
            Kind::Ip => Classification::IP_ADDRESS,
            Kind::Jwt => Classification::JWT,
            Kind::AwsAccessKey => Classification::AWS_ACCESS_KEY,
            Kind::AwsSecretKey => Classification::AWS_SECRET_KEY,
            Kind::PrivateKey => Classification::PRIVATE_KEY,
            Kind::ApiKey => Classification::API_KEY,
            Kind::PasswordHash => Classification::PASSWORD_HASH,
            Kind::Password => Classification::PASSWORD,
        }
    }
}

/// A detected byte range `[start, end)` of the scanned text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
    pub kind: Kind,
}

/// The compiled detectors. Building them compiles automata; do it once
/// ([`Detectors::global`]) and share.
#[derive(Debug)]
pub struct Detectors {
    secrets: secrets::Secrets,
    keywords: keyword::Keywords,
}

static GLOBAL: OnceLock<Result<Detectors, MaskError>> = OnceLock::new();

impl Detectors {
    pub fn new() -> Result<Detectors, MaskError> {
        Ok(Detectors {
            secrets: secrets::Secrets::new()?,
            keywords: keyword::Keywords::new()?,
        })
    }

    /// The process-wide instance, built on first use.
    pub fn global() -> Result<&'static Detectors, MaskError> {
        GLOBAL
            .get_or_init(Detectors::new)
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Every detected span in `text`, sorted and non-overlapping
    /// (overlapping detections are merged so no detected byte escapes).
    pub fn find(&self, text: &[u8]) -> Vec<Span> {
        let mut out = Vec::new();
        self.find_into(text, &mut out);
        out
    }

    /// Like [`Detectors::find`], reusing `out` (cleared first).
    pub fn find_into(&self, text: &[u8], out: &mut Vec<Span>) {
        self.find_with(text, false, out);
    }

    /// `everywhere`: no narrowing to digit stretches, token runs or the
    /// text before a `:`/`=` (the reference the narrowed scans are tested
    /// against).
    fn find_with(&self, text: &[u8], everywhere: bool, out: &mut Vec<Span>) {
        out.clear();
        if shape::known_clean(text) {
            return;
        }
        let scan = prefilter::scan_runs(text);
        let t = scan.triggers;
        if !t.any() {
            return;
        }
        if t.has(Triggers::EMAIL) {
            email::find(text, out);
        }
        let (numbers, stretches) = match everywhere {
            false => (t.has(Triggers::DIGIT_RUN), scan.stretches.all()),
            true => (t.has(Triggers::NUMERIC), None),
        };
        if numbers || t.has(Triggers::DOTTED) {
            numeric::find(text, t.has(Triggers::DOTTED), numbers, stretches, out);
        }
        let iban = match everywhere {
            false => t.has(Triggers::IBAN_SHAPE),
            true => t.has(Triggers::NUMERIC | Triggers::UPPER),
        };
        if iban {
            iban::find(text, out);
        }
        if t.has(Triggers::IPV6) {
            ipv6::find(text, out);
        }
        let (prefix_runs, runs) = match everywhere {
            false => (scan.prefix_runs(), scan.runs.all()),
            true => (None, None),
        };
        if t.has(Triggers::SECRET) {
            self.secrets.find(text, prefix_runs, out);
        }
        if t.has(Triggers::B64_40) {
            keyword::find_aws_secrets(text, runs, out);
        }
        if t.has(Triggers::ASSIGN) {
            match everywhere {
                false => self.keywords.find(text, out),
                true => self.keywords.find_everywhere(text, out),
            }
        }
        merge(out);
    }
}

/// A xorshift64 generator for the generated-value tests (deterministic).
#[cfg(test)]
pub(crate) fn xorshift(seed: u64) -> impl FnMut() -> u64 {
    let mut rng = seed;
    move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    }
}

/// Sorts spans and folds overlapping ones into the earliest.
fn merge(spans: &mut Vec<Span>) {
    if spans.len() < 2 {
        return;
    }
    // Stable: of two spans with the same bounds, the detector that ran
    // first names the kind.
    spans.sort_by(|a, b| a.start.cmp(&b.start).then(b.end.cmp(&a.end)));
    // In place, so the caller's buffer keeps its allocation: a span that
    // starts inside the one kept before it widens that one and goes.
    spans.dedup_by(|s, last| {
        let overlaps = s.start < last.end;
        if overlaps {
            last.end = last.end.max(s.end);
        }
        overlaps
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values built from the pieces the narrowed scans reason about
    /// (prefixes, keywords, run boundaries, `$`, dashes, quotes, `:`/`=`,
    /// hex and base64 bodies): the narrowed and the whole-value scans
    /// must find the same spans.
    #[test]
    fn narrowed_scans_find_what_whole_scans_find() {
        const PIECES: &[&str] = &[
            "sk_live_",
            "ghp_",
            "xoxb-",
            "AKIA",
            "ASIA",
            "eyJ",
            "md5",
            "SG.",
            "AIza",
            "npm_",
            "sk-",
            "hf_",
            "dop_v1_",
            "glpat-",
            "-----BEGIN ",
            "PRIVATE KEY-----",
            "-----END ",
            "$2b$12$",
            "$argon2id$v=19$m=65536,t=3,p=4$",
            "SCRAM-SHA-256$4096:",
            "password",
            "passwd",
            "secret",
            "api_key",
            "token",
            "access_key",
            "aws",
            "=",
            ":",
            "\"",
            "'",
            " ",
            "  ",
            ",",
            ";",
            ".",
            "-",
            "_",
            "/",
            "+",
            "\n",
            "0123456789abcdef",
            "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
            "abcdefghijklmnopqrstuvwxyz",
            "wJalrXUtnFEMI/K7MDENG",
            "/bPxRfiCYEXAMPLEKEY",
            "4111111111111111",
            "alice@example.com",
            "0000",
            "QQ",
            "eyJhbGciOiJIUzI1NiJ9",
            "eyJzdWIiOiIxIn0",
            "xyz",
            "Zz09",
            "(415) 555-1234",
            "123-45-6789",
            "+44 20 7946 0958",
            "1",
            "42",
            "(",
            ")",
            "ssn ",
            "4111 1111 ",
            "DE89370400440532013000",
            "10.0.0.1",
        ];
        let det = Detectors::new().unwrap();
        let mut next = crate::detect::xorshift(0x9e37_79b9_7f4a_7c15u64);
        let (mut narrowed, mut whole) = (Vec::new(), Vec::new());
        let (mut found, mut narrowed_values) = (0, 0);
        for _ in 0..40_000 {
            let n = 1 + next() % 24;
            let mut v = String::new();
            for _ in 0..n {
                let piece = PIECES[(next() % PIECES.len() as u64) as usize];
                // Repeat a piece now and then: long runs and long keys.
                for _ in 0..(1 + u64::from(next().is_multiple_of(8)) * (next() % 6)) {
                    v.push_str(piece);
                }
            }
            det.find_with(v.as_bytes(), false, &mut narrowed);
            det.find_with(v.as_bytes(), true, &mut whole);
            assert_eq!(narrowed, whole, "{v:?}");
            found += whole.len();
            narrowed_values += usize::from(v.len() >= 96);
        }
        // The generator must reach the detectors, not only clean text, and
        // values long enough to be narrowed.
        assert!(found > 10_000, "{found}");
        assert!(narrowed_values > 10_000, "{narrowed_values}");
    }

    /// Digits of `len` random decimal digits, Luhn-valid when `luhn`
    /// (with a Visa prefix, so 13, 16 and 19 digits make a card).
    fn digits(next: &mut impl FnMut() -> u64, len: usize, luhn: bool) -> String {
        let mut d: Vec<u64> = (0..len).map(|_| next() % 10).collect();
        if luhn {
            d[0] = 4;
            let sum: u64 = d[..len - 1]
                .iter()
                .rev()
                .enumerate()
                .map(|(i, &x)| match i % 2 {
                    0 => (2 * x) % 10 + (2 * x) / 10,
                    _ => x,
                })
                .sum();
            d[len - 1] = (10 - sum % 10) % 10;
        }
        d.iter().map(|x| char::from(b'0' + *x as u8)).collect()
    }

    /// Groups `s` by `every` digits joined by `sep`.
    fn grouped(s: &str, every: usize, sep: &str) -> String {
        let parts: Vec<&str> = (0..s.len())
            .step_by(every)
            .map(|i| &s[i..(i + every).min(s.len())])
            .collect();
        parts.join(sep)
    }

    /// Values built around digit stretches: groups of 1 to 19 digits,
    /// Luhn-valid cards (bare and grouped), SSNs, phones, hex digests,
    /// digits glued to words on either side, `+`, `(`, `)`, separators,
    /// filler so most values are narrowed and stretches cross 64-byte
    /// blocks, and sometimes more stretches than are recorded. Walking
    /// only the stretches finds what walking the whole value finds.
    #[test]
    fn numeric_walk_over_stretches_finds_what_whole_walk_finds() {
        const PIECES: &[&str] = &[
            " ",
            " ",
            " ",
            "-",
            "-",
            ".",
            "/",
            "(",
            ")",
            "+",
            ") ",
            " (",
            ")-",
            "--",
            "  ",
            "a",
            "x",
            "Z9",
            "_",
            "ORD",
            "ssn ",
            "social ",
            "SSN:",
            ",",
            ";",
            ":",
            "#",
            "\"",
            "é",
            "\n",
            "=",
            "v1.",
            "10.0.0.1",
            "ref ",
            "lorem ipsum dolor sit amet, ",
            "Customer 12 of the benchmark; lives at 4567 Example Street. Notes: ",
        ];
        const LENS: &[usize] = &[1, 2, 3, 4, 7, 8, 9, 10, 13, 16, 19];
        let det = Detectors::new().unwrap();
        let mut next = crate::detect::xorshift(0x2545_f491_4f6c_dd1du64);
        let (mut narrowed, mut whole) = (Vec::new(), Vec::new());
        // Cards, SSNs and phones found by narrowed walks; narrowed walks;
        // fallbacks to the whole walk (too many stretches).
        let mut seen = [0usize; 3];
        for _ in 0..40_000 {
            let mut v = String::new();
            for _ in 0..1 + next() % 32 {
                let r = next();
                let piece = match r % 16 {
                    0 | 1 => digits(&mut next, LENS[(r >> 8) as usize % LENS.len()], false),
                    2 => digits(&mut next, [13, 16, 19][(r >> 8) as usize % 3], true),
                    3 => grouped(
                        &digits(&mut next, 16, true),
                        4,
                        [" ", "-"][(r >> 8) as usize % 2],
                    ),
                    4 => format!(
                        "{:03}-{:02}-{:04}",
                        1 + next() % 665,
                        1 + next() % 99,
                        1 + next() % 9999
                    ),
                    5 => format!(
                        "({}) {}-{:04}",
                        200 + next() % 800,
                        200 + next() % 800,
                        next() % 10_000
                    ),
                    6 => format!("+{} {}", 1 + next() % 99, digits(&mut next, 9, false)),
                    7 => format!("{:016x}{:016x}", next(), next()),
                    _ => PIECES[(r >> 8) as usize % PIECES.len()].to_string(),
                };
                v.push_str(&piece);
            }
            let v = v.as_bytes();
            det.find_with(v, false, &mut narrowed);
            det.find_with(v, true, &mut whole);
            assert_eq!(narrowed, whole, "{:?}", String::from_utf8_lossy(v));
            let scan = prefilter::scan_runs(v);
            let t = scan.triggers;
            if v.len() >= 96 && t.has(Triggers::DIGIT_RUN) && !t.has(Triggers::DOTTED) {
                let numeric = [Kind::Card, Kind::Ssn, Kind::Phone];
                match scan.stretches.all() {
                    Some(_) => {
                        seen[0] += whole.iter().filter(|s| numeric.contains(&s.kind)).count();
                        seen[1] += 1;
                    }
                    None => seen[2] += 1,
                }
            }
        }
        // The generator reaches the detectors, the narrowed walk and the
        // fallback to the whole walk.
        assert!(seen.iter().all(|&n| n > 1_000), "{seen:?}");
    }

    #[test]
    fn all_kinds_are_listed_in_order() {
        for (i, k) in Kind::ALL.iter().enumerate() {
            assert_eq!(*k as usize, i, "{k:?}");
        }
        assert_eq!(Kind::ALL.len(), Kind::Password as usize + 1);
    }

    #[test]
    fn merges_overlaps() {
        let mut v = vec![
            Span {
                start: 5,
                end: 9,
                kind: Kind::Phone,
            },
            Span {
                start: 0,
                end: 6,
                kind: Kind::Card,
            },
            Span {
                start: 20,
                end: 22,
                kind: Kind::Ip,
            },
        ];
        merge(&mut v);
        assert_eq!(v.len(), 2);
        assert_eq!((v[0].start, v[0].end, v[0].kind), (0, 9, Kind::Card));
    }

    #[test]
    fn merging_chains_overlaps_and_keeps_the_first_kind_of_equal_spans() {
        let span = |start, end, kind| Span { start, end, kind };
        let mut v = vec![
            span(10, 14, Kind::Email),
            span(0, 4, Kind::Phone),
            span(0, 4, Kind::Card),
            span(3, 8, Kind::Ip),
            span(7, 11, Kind::Iban),
            span(20, 25, Kind::Jwt),
            span(25, 30, Kind::Ssn),
        ];
        merge(&mut v);
        let got: Vec<_> = v.iter().map(|s| (s.start, s.end, s.kind)).collect();
        // 0..4 (Phone, found first) swallows 3..8, which reaches 7..11 and
        // then 10..14; spans that only touch stay apart.
        assert_eq!(
            got,
            vec![
                (0, 14, Kind::Phone),
                (20, 25, Kind::Jwt),
                (25, 30, Kind::Ssn)
            ]
        );
    }
}
