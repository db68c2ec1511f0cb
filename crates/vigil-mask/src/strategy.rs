//! How a sensitive value is replaced, and the keyed hash behind `hash`.
//!
//! Every replacement is printable ASCII without quotes, commas or
//! backslashes, so it can sit inside JSON, CSV, COPY text or a composite
//! row's text without changing how that text parses.

use crate::Classification;
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;
use std::fmt;

/// A masking strategy, as named in policy output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    /// A fixed `****`: nothing of the value, not even its length, survives.
    Redact,
    /// Keep what people need to recognise a value: the last four of a
    /// number, the domain of an email. Falls back to redact otherwise.
    Partial,
    /// `h:` + 16 hex chars of HMAC-SHA256 under the deployment's key: equal
    /// values stay equal (joins, group-bys) across sessions, nothing else leaks.
    Hash,
    /// The whole column value becomes SQL NULL; a span inside a larger
    /// value is redacted instead.
    Null,
    /// No masking: policy unmasked this classification for the caller.
    Reveal,
    /// Fail the statement rather than return the value.
    Refuse,
}

impl Strategy {
    /// From a policy string; `None` for anything unknown (callers fail closed).
    pub fn parse(name: &str) -> Option<Strategy> {
        Some(match name.trim().to_ascii_lowercase().as_str() {
            "redact" => Strategy::Redact,
            "partial" => Strategy::Partial,
            "hash" => Strategy::Hash,
            "null" => Strategy::Null,
            "reveal" | "none" | "unmask" => Strategy::Reveal,
            "refuse" | "deny" => Strategy::Refuse,
            _ => return None,
        })
    }

    /// Whether the value is changed or stopped (everything but Reveal).
    pub fn masks(self) -> bool {
        !matches!(self, Strategy::Reveal)
    }
}

/// The fixed redaction.
pub const REDACTED: &[u8] = b"****";

/// The deployment's 32-byte hashing key, prepared once. `Debug` never
/// prints it.
#[derive(Clone)]
pub struct HashKey {
    mac: Hmac<Sha256>,
}

impl HashKey {
    pub fn new(key: [u8; 32]) -> HashKey {
        // HMAC accepts keys of any length, so this arm never fails; the
        // fallback keeps the function total without a panic.
        let mac = <Hmac<Sha256> as Mac>::new_from_slice(&key)
            .unwrap_or_else(|_| <Hmac<Sha256> as Mac>::new(&Default::default()));
        HashKey { mac }
    }

    /// `h:` and the first 8 bytes of HMAC-SHA256(key, value), in hex.
    pub fn tag(&self, value: &[u8], out: &mut Vec<u8>) {
        let mut mac = self.mac.clone();
        mac.update(value);
        let digest = mac.finalize().into_bytes();
        out.extend_from_slice(b"h:");
        for b in digest.iter().take(8) {
            out.push(hex_digit(b >> 4));
            out.push(hex_digit(b & 0x0f));
        }
    }
}

fn hex_digit(n: u8) -> u8 {
    b"0123456789abcdef"
        .get(usize::from(n))
        .copied()
        .unwrap_or(b'0')
}

impl fmt::Debug for HashKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HashKey(..)")
    }
}

/// Appends the replacement for `value` under `strategy` (Null, Reveal and
/// Refuse are decided by the caller; here Null redacts).
pub(crate) fn render(
    strategy: Strategy,
    class: &Classification,
    value: &[u8],
    key: &HashKey,
    out: &mut Vec<u8>,
) {
    match strategy {
        Strategy::Hash => key.tag(value, out),
        Strategy::Partial => partial(class, value, out),
        _ => out.extend_from_slice(REDACTED),
    }
}

fn partial(class: &Classification, value: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(REDACTED);
    if *class == Classification::EMAIL_ADDRESS {
        if let Some(at) = memchr::memrchr(b'@', value) {
            let domain = value.get(at + 1..).unwrap_or_default();
            let clean = domain
                .iter()
                .all(|&b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b >= 0x80);
            if clean && !domain.is_empty() {
                out.push(b'@');
                out.extend_from_slice(domain);
            }
        }
    } else if class.keeps_last4() {
        let count = value.iter().filter(|b| b.is_ascii_alphanumeric()).count();
        // Short values would be mostly revealed by their last four.
        if count >= 8 {
            let mut last4 = [0u8; 4];
            let mut n = 0;
            for &b in value
                .iter()
                .rev()
                .filter(|b| b.is_ascii_alphanumeric())
                .take(4)
            {
                n += 1;
                if let Some(slot) = last4.get_mut(4 - n) {
                    *slot = b;
                }
            }
            out.extend_from_slice(&last4);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: Strategy, c: Classification, v: &str) -> String {
        let mut out = Vec::new();
        render(s, &c, v.as_bytes(), &HashKey::new([7; 32]), &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn renders() {
        assert_eq!(
            r(
                Strategy::Redact,
                Classification::CREDIT_CARD,
                "4111 1111 1111 1111"
            ),
            "****"
        );
        assert_eq!(
            r(
                Strategy::Partial,
                Classification::CREDIT_CARD,
                "4111 1111 1111 1111"
            ),
            "****1111"
        );
        assert_eq!(
            r(
                Strategy::Partial,
                Classification::EMAIL_ADDRESS,
                "a.b@ex.com"
            ),
            "****@ex.com"
        );
        assert_eq!(
            r(Strategy::Partial, Classification::PERSON, "Maria"),
            "****"
        );
        assert_eq!(r(Strategy::Partial, Classification::US_SSN, "123"), "****");
        let h = r(Strategy::Hash, Classification::EMAIL_ADDRESS, "a@ex.com");
        assert_eq!(h.len(), 18);
        assert_eq!(h, r(Strategy::Hash, Classification::PERSON, "a@ex.com"));
        assert_ne!(h, r(Strategy::Hash, Classification::PERSON, "b@ex.com"));
        let mut other = Vec::new();
        HashKey::new([8; 32]).tag(b"a@ex.com", &mut other);
        assert_ne!(h.as_bytes(), &other[..]);
    }

    #[test]
    fn parses_names() {
        assert_eq!(Strategy::parse("Redact"), Some(Strategy::Redact));
        assert_eq!(Strategy::parse("reveal"), Some(Strategy::Reveal));
        assert_eq!(Strategy::parse("scramble"), None);
    }
}
