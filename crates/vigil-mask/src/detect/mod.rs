//! Value detectors: find every span of PII or secret in a whole value (a
//! JSON document, a composite row's text, an error message).
//!
//! A one-pass [`prefilter`] decides which families can match at all, so a
//! value without digits runs, `@`, `$`, `:` or long words costs a few
//! nanoseconds per byte. Families then confirm shapes with checksums.

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
        out.clear();
        if shape::known_clean(text) {
            return;
        }
        let t = prefilter::scan(text);
        if !t.any() {
            return;
        }
        if t.has(Triggers::EMAIL) {
            email::find(text, out);
        }
        let numbers = t.has(Triggers::NUMERIC);
        if numbers || t.has(Triggers::DOTTED) {
            numeric::find(text, t.has(Triggers::DOTTED), numbers, out);
        }
        if t.has(Triggers::NUMERIC | Triggers::UPPER) {
            iban::find(text, out);
        }
        if t.has(Triggers::IPV6) {
            ipv6::find(text, out);
        }
        if t.has(Triggers::SECRET) {
            self.secrets.find(text, out);
        }
        if t.has(Triggers::B64_40) {
            keyword::find_aws_secrets(text, out);
        }
        if t.has(Triggers::ASSIGN) {
            self.keywords.find(text, out);
        }
        merge(out);
    }
}

/// Sorts spans and folds overlapping ones into the earliest.
fn merge(spans: &mut Vec<Span>) {
    if spans.len() < 2 {
        return;
    }
    spans.sort_by(|a, b| a.start.cmp(&b.start).then(b.end.cmp(&a.end)));
    let mut kept: Vec<Span> = Vec::with_capacity(spans.len());
    for s in spans.drain(..) {
        match kept.last_mut() {
            Some(last) if s.start < last.end => last.end = last.end.max(s.end),
            _ => kept.push(s),
        }
    }
    *spans = kept;
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
