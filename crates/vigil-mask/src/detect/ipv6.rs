//! IPv6 addresses, validated by the standard library's parser. Only forms
//! with three or more groups count, so `1::int` casts and `std::io` paths
//! in error texts are not taken for addresses.

use super::{Kind, Span};
use std::net::Ipv6Addr;

fn addr_byte(b: u8) -> bool {
    b.is_ascii_hexdigit() || b == b':' || b == b'.'
}

/// Appends every IPv6 address in `text`.
pub(crate) fn find(text: &[u8], out: &mut Vec<Span>) {
    let mut i = 0;
    while i < text.len() {
        if !text.get(i).copied().is_some_and(addr_byte) {
            i += 1;
            continue;
        }
        let start = i;
        while text.get(i).copied().is_some_and(addr_byte) {
            i += 1;
        }
        let glued = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_');
        if glued(start.checked_sub(1).and_then(|p| text.get(p))) || glued(text.get(i)) {
            continue;
        }
        if let Some(end) = valid(text, start, i) {
            out.push(Span {
                start,
                end,
                kind: Kind::Ip,
            });
        }
    }
}

fn valid(text: &[u8], start: usize, mut end: usize) -> Option<usize> {
    // A sentence may end right after the address.
    while end > start && text.get(end - 1) == Some(&b'.') {
        end -= 1;
    }
    let run = std::str::from_utf8(text.get(start..end)?).ok()?;
    let groups = run.split([':', '.']).filter(|g| !g.is_empty()).count();
    (groups >= 3 && run.parse::<Ipv6Addr>().is_ok()).then_some(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(s: &str) -> Vec<String> {
        let mut out = Vec::new();
        find(s.as_bytes(), &mut out);
        out.iter()
            .map(|sp| s[sp.start..sp.end].to_string())
            .collect()
    }

    #[test]
    fn addresses_and_non_addresses() {
        assert_eq!(
            found("from 2001:db8::8a2e:370:7334."),
            vec!["2001:db8::8a2e:370:7334"]
        );
        assert_eq!(found("[::ffff:192.0.2.1]"), vec!["::ffff:192.0.2.1"]);
        assert!(found("select 1::int, x::text, 12:34:56, de:ad:be:ef:00:01").is_empty());
    }
}
