//! Card numbers, phones, SSNs and IPv4 addresses, checked on the numeric
//! tokens of a value. Each accepts a shape and then a checksum or range,
//! so timestamps, prices and order ids are left alone.

use super::prefilter::Stretch;
use super::token::{for_each_token, for_each_token_in, Sep, Token};
use super::{Kind, Span};
use crate::validate;

/// Appends every numeric match in `text` to `out`. `stretches`, if known:
/// every stretch of digits and number punctuation holding 7+ digits.
pub(crate) fn find(
    text: &[u8],
    ipv4: bool,
    numbers: bool,
    stretches: Option<&[Stretch]>,
    out: &mut Vec<Span>,
) {
    let check = |t: &Token| check_token(text, t, ipv4, numbers, out);
    // Without IPv4 only tokens of 7+ digits count, and each lies inside a
    // stretch of 7+ digits: walk those alone. An IPv4 token needs only 4.
    match stretches.filter(|_| !ipv4) {
        Some(list) => for_each_token_in(text, list.iter().map(|s| s.range()), check),
        None => for_each_token(text, check),
    }
}

/// Appends the matches in one token to `out`.
fn check_token(text: &[u8], t: &Token, ipv4: bool, numbers: bool, out: &mut Vec<Span>) {
    let digits = total_digits(t, 0, t.len.saturating_sub(1));
    if digits < 7 && !(ipv4 && t.len >= 4) {
        return;
    }
    if ipv4 {
        find_ipv4(text, t, out);
    }
    // Each shape needs a minimum of digits: skip what cannot match.
    if numbers && digits >= 13 {
        find_cards(text, t, out);
    }
    if numbers && digits >= 9 {
        find_ssn(text, t, out);
    }
    if numbers && (digits >= 10 || (t.plus.is_some() && digits >= 8)) {
        find_phones(text, t, out);
    }
}

fn digits_of<'a>(
    text: &[u8],
    t: &Token,
    from: usize,
    to: usize,
    buf: &'a mut [u8; 24],
) -> &'a [u8] {
    let mut n = 0;
    for i in from..=to {
        let Some((s, e)) = t.group(i) else { break };
        for &b in text.get(s..e).unwrap_or_default() {
            if let Some(slot) = buf.get_mut(n) {
                *slot = b;
                n += 1;
            }
        }
    }
    buf.get(..n).unwrap_or_default()
}

fn span(t: &Token, from: usize, to: usize, kind: Kind) -> Option<Span> {
    let (start, _) = t.group(from)?;
    let (_, end) = t.group(to)?;
    Some(Span { start, end, kind })
}

/// Groups `from..=to` joined by one kind of separator from `allowed`.
fn uniform(t: &Token, from: usize, to: usize, allowed: &[Sep]) -> bool {
    let Some(first) = t.sep(from) else {
        return from == to;
    };
    allowed.contains(&first) && (from..to).all(|i| t.sep(i) == Some(first))
}

fn total_digits(t: &Token, from: usize, to: usize) -> usize {
    (from..=to).map(|i| t.group_len(i)).sum()
}

/// 13–19 digits, bare or in groups of 3–6 split by one kind of space or
/// dash, issuer prefix and Luhn.
fn find_cards(text: &[u8], t: &Token, out: &mut Vec<Span>) {
    let mut i = usize::from(t.plus.is_some());
    while i < t.len {
        match (i..t.len.min(i + 7))
            .rev()
            .find(|&j| is_card(text, t, i, j))
        {
            Some(j) => {
                out.extend(span(t, i, j, Kind::Card));
                i = j + 1;
            }
            None => i += 1,
        }
    }
}

fn is_card(text: &[u8], t: &Token, i: usize, j: usize) -> bool {
    let n = total_digits(t, i, j);
    if !(13..=19).contains(&n) {
        return false;
    }
    if j > i
        && !(uniform(t, i, j, &[Sep::Space, Sep::Dash])
            && (i..=j).all(|g| (3..=6).contains(&t.group_len(g))))
    {
        return false;
    }
    let mut buf = [0u8; 24];
    let digits = digits_of(text, t, i, j, &mut buf);
    validate::card_issuer_ok(digits) && validate::luhn(digits)
}

/// `AAA-GG-SSSS` or `AAA GG SSSS` in the SSA's ranges; nine bare digits
/// only right after an `ssn`/`social` keyword (bare nine-digit numbers are
/// far more often ids and ZIP+4 codes than SSNs).
fn find_ssn(text: &[u8], t: &Token, out: &mut Vec<Span>) {
    let mut buf = [0u8; 24];
    for i in 0..t.len {
        if lens_are(t, i, 3, 2, 4)
            && i + 2 < t.len
            && uniform(t, i, i + 2, &[Sep::Dash, Sep::Space])
            && validate::ssn_ok(digits_of(text, t, i, i + 2, &mut buf))
        {
            out.extend(span(t, i, i + 2, Kind::Ssn));
        }
    }
    if t.len == 1 && t.group_len(0) == 9 && t.plus.is_none() {
        let (start, _) = t.group(0).unwrap_or_default();
        if keyword_before(text, start, &[b"ssn", b"social"])
            && validate::ssn_ok(digits_of(text, t, 0, 0, &mut buf))
        {
            out.extend(span(t, 0, 0, Kind::Ssn));
        }
    }
}

/// Group lengths from `i`, compared one by one (array comparisons here
/// cost a store-forwarding stall on every token).
fn lens_are(t: &Token, i: usize, a: usize, b: usize, c: usize) -> bool {
    t.group_len(i) == a && t.group_len(i + 1) == b && t.group_len(i + 2) == c
}

/// Case-insensitive: does one of `words` occur in the 24 bytes before `at`?
pub(crate) fn keyword_before(text: &[u8], at: usize, words: &[&[u8]]) -> bool {
    let window = text.get(at.saturating_sub(24)..at).unwrap_or_default();
    words
        .iter()
        .any(|w| window.windows(w.len()).any(|x| x.eq_ignore_ascii_case(w)))
}

/// E.164 (`+` then 8–15 digits, any grouping) or NANP national formats:
/// `(415) 555-1234`, `415-555-1234`, `415.555.1234`, `415 555 1234`.
fn find_phones(text: &[u8], t: &Token, out: &mut Vec<Span>) {
    if let Some(plus) = t.plus {
        let first_ok = t.group(0).and_then(|(s, _)| text.get(s)) != Some(&b'0');
        let end = (0..t.len)
            .rev()
            .find(|&j| (8..=15).contains(&total_digits(t, 0, j)));
        if let (true, Some(j), Some((_, e))) = (first_ok, end, end.and_then(|j| t.group(j))) {
            out.push(Span {
                start: plus,
                end: e,
                kind: Kind::Phone,
            });
            if j + 1 == t.len {
                return;
            }
        }
    }
    for i in 0..t.len.saturating_sub(2) {
        if let Some(s) = nanp_at(text, t, i) {
            out.push(s);
        }
    }
}

fn nanp_at(text: &[u8], t: &Token, i: usize) -> Option<Span> {
    if !lens_are(t, i, 3, 3, 4) {
        return None;
    }
    let (area_s, area_e) = t.group(i)?;
    if !validate::nanp_area_ok(text.get(area_s..area_e)?) {
        return None;
    }
    let tail = [Sep::Dash, Sep::Space, Sep::Dot];
    let paren = t.opens(i) && t.sep(i) == Some(Sep::Close) && tail.contains(&t.sep(i + 1)?);
    if !paren && !uniform(t, i, i + 2, &tail) {
        return None;
    }
    let mut s = span(t, i, i + 2, Kind::Phone)?;
    if paren {
        // Include the `(` so no digit of the area code is left outside.
        s.start = s.start.saturating_sub(1);
    }
    Some(s)
}

/// Exactly four dot-joined octets (a fifth makes it a version or an OID).
fn find_ipv4(text: &[u8], t: &Token, out: &mut Vec<Span>) {
    let mut i = 0;
    while i < t.len {
        let mut j = i;
        while t.sep(j) == Some(Sep::Dot) {
            j += 1;
        }
        if j == i + 3 && (i..=j).all(|g| octet(text, t, g)) {
            out.extend(span(t, i, j, Kind::Ip));
        }
        i = j + 1;
    }
}

fn octet(text: &[u8], t: &Token, g: usize) -> bool {
    t.group(g)
        .and_then(|(s, e)| text.get(s..e))
        .is_some_and(validate::octet_ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Vec<(Kind, String)> {
        let mut out = Vec::new();
        find(s.as_bytes(), true, true, None, &mut out);
        out.into_iter()
            .map(|sp| (sp.kind, s[sp.start..sp.end].to_string()))
            .collect()
    }

    #[test]
    fn finds_each_shape() {
        assert_eq!(
            kinds("4111 1111 1111 1111"),
            vec![(Kind::Card, "4111 1111 1111 1111".into())]
        );
        assert_eq!(
            kinds("(415) 555-1234"),
            vec![(Kind::Phone, "(415) 555-1234".into())]
        );
        assert_eq!(
            kinds("+44 20 7946 0958"),
            vec![(Kind::Phone, "+44 20 7946 0958".into())]
        );
        assert_eq!(
            kinds("ssn 123-45-6789"),
            vec![(Kind::Ssn, "123-45-6789".into())]
        );
        assert_eq!(
            kinds("from 10.1.2.3:5432"),
            vec![(Kind::Ip, "10.1.2.3".into())]
        );
        assert_eq!(
            kinds("{\"ssn\":\"123456789\"}"),
            vec![(Kind::Ssn, "123456789".into())]
        );
    }

    #[test]
    fn rejects_near_misses() {
        for s in [
            "4111 1111 1111 1112",
            "123-45-0000",
            "1.2.3.4.5",
            "2024-05-01 12:34:56",
            "123456789",
        ] {
            assert!(kinds(s).is_empty(), "{s}: {:?}", kinds(s));
        }
    }
}
