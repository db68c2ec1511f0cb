//! IBANs, compact or in groups of four: country code, check digits, the
//! country's exact length and mod 97. Unknown countries are not matched.

use super::{Kind, Span};
use crate::validate;

/// Longest IBAN (34) plus room for the spaces between groups of four.
const MAX_SPAN: usize = 34 + 9;

/// Appends every valid IBAN in `text`.
pub(crate) fn find(text: &[u8], out: &mut Vec<Span>) {
    let shape = |w: &[u8]| {
        matches!(w, [a, b, c, d] if a.is_ascii_uppercase() && b.is_ascii_uppercase()
            && c.is_ascii_digit() && d.is_ascii_digit())
    };
    let mut i = 0;
    // Cheap shape test first: two capitals then two digits.
    while let Some(p) = text.get(i..).and_then(|r| r.windows(4).position(shape)) {
        let at = i + p;
        match candidate_at(text, at) {
            Some(end) => {
                out.push(Span {
                    start: at,
                    end,
                    kind: Kind::Iban,
                });
                i = end;
            }
            None => i = at + 1,
        }
    }
}

fn candidate_at(text: &[u8], i: usize) -> Option<usize> {
    let [a, b, c, d] = <[u8; 4]>::try_from(text.get(i..i + 4)?).ok()?;
    if !(a.is_ascii_uppercase()
        && b.is_ascii_uppercase()
        && c.is_ascii_digit()
        && d.is_ascii_digit())
    {
        return None;
    }
    if i > 0 && text.get(i - 1).is_some_and(u8::is_ascii_alphanumeric) {
        return None;
    }
    let want = validate::iban_length(&[a, b])?;
    let mut compact = [0u8; 34];
    let mut n = 0;
    let mut pos = i;
    while n < want && pos < text.len() && pos - i < MAX_SPAN {
        let ch = text.get(pos).copied().unwrap_or(0);
        if ch.is_ascii_alphanumeric() {
            *compact.get_mut(n)? = ch.to_ascii_uppercase();
            n += 1;
        } else if !(ch == b' ' && n % 4 == 0 && n > 0) {
            return None;
        }
        pos += 1;
    }
    let whole = n == want && !text.get(pos).is_some_and(u8::is_ascii_alphanumeric);
    (whole && validate::iban_ok(compact.get(..n)?)).then_some(pos)
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
    fn compact_and_grouped() {
        assert_eq!(
            found("iban DE89370400440532013000."),
            vec!["DE89370400440532013000"]
        );
        assert_eq!(
            found("GB29 NWBK 6016 1331 9268 19 EUR"),
            vec!["GB29 NWBK 6016 1331 9268 19"]
        );
        assert!(found("DE89370400440532013001 XDE89370400440532013000").is_empty());
    }
}
