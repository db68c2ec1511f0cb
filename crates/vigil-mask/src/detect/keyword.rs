//! Secrets known by their context rather than their shape: a value after
//! `password=` / `"api_key": …`, and AWS secret access keys (40 base64
//! characters, which alone could be anything).

use super::numeric::keyword_before;
use super::{Kind, Span};
use crate::MaskError;
use aho_corasick::{AhoCorasick, MatchKind};

const KEYWORDS: &[(&str, Kind)] = &[
    ("password", Kind::Password),
    ("passwd", Kind::Password),
    ("secret", Kind::ApiKey),
    ("api_key", Kind::ApiKey),
    ("apikey", Kind::ApiKey),
    ("api-key", Kind::ApiKey),
    ("access_key", Kind::ApiKey),
    ("private_key", Kind::ApiKey),
    ("token", Kind::ApiKey),
];

/// Values that are clearly not secrets however they are labelled.
const NOT_SECRETS: &[&[u8]] = &[b"null", b"true", b"false", b"none"];

/// The keyword automaton (ASCII case-insensitive).
#[derive(Debug)]
pub(crate) struct Keywords {
    words: AhoCorasick,
}

impl Keywords {
    pub(crate) fn new() -> Result<Keywords, MaskError> {
        let words = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostLongest)
            .build(KEYWORDS.iter().map(|(w, _)| w))
            .map_err(|e| MaskError::Detectors(e.to_string()))?;
        Ok(Keywords { words })
    }

    /// Appends values assigned to a secret-sounding key.
    pub(crate) fn find(&self, text: &[u8], out: &mut Vec<Span>) {
        let mut covered = 0;
        for m in self.words.find_iter(text) {
            // A keyword inside a value already masked (`password=password=…`).
            if m.start() < covered {
                continue;
            }
            let kind = KEYWORDS
                .get(m.pattern().as_usize())
                .map_or(Kind::ApiKey, |(_, k)| *k);
            if let Some((start, end)) = assigned_value(text, m.end()) {
                covered = end;
                out.push(Span { start, end, kind });
            }
        }
    }
}

/// After a key: the rest of the identifier, an optional quote, `:` or `=`,
/// an optional quote, then a value of at least four characters.
fn assigned_value(text: &[u8], mut i: usize) -> Option<(usize, usize)> {
    let at = |i: usize| text.get(i).copied().unwrap_or(0);
    // The rest of the key, bounded so `passwordpassword…` stays linear.
    let key_end = i + 64;
    while i < key_end && (at(i).is_ascii_alphanumeric() || at(i) == b'_' || at(i) == b'-') {
        i += 1;
    }
    while matches!(at(i), b'"' | b'\'' | b' ') {
        i += 1;
    }
    if !matches!(at(i), b':' | b'=') {
        return None;
    }
    i += 1;
    while matches!(at(i), b'"' | b'\'' | b' ') {
        i += 1;
    }
    let start = i;
    while !matches!(
        at(i),
        0 | b'"' | b'\'' | b',' | b';' | b'&' | b'}' | b'<' | b'>'
    ) && !at(i).is_ascii_whitespace()
    {
        i += 1;
    }
    let value = text.get(start..i)?;
    let boring = NOT_SECRETS.iter().any(|w| w.eq_ignore_ascii_case(value));
    (value.len() >= 4 && !boring).then_some((start, i))
}

fn b64_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'+' || b == b'/'
}

/// AWS secret access keys: exactly 40 base64 characters. Next to an
/// `aws`/`secret` keyword any such run counts; standalone it must mix upper,
/// lower and digits and contain `/` or `+`, which hex digests, words and
/// ids never do (so a standalone key without `/` or `+`, about 28% of them,
/// is only caught in context or by column classification).
pub(crate) fn find_aws_secrets(text: &[u8], out: &mut Vec<Span>) {
    let mut start = 0;
    for run in text.split(|&b| !b64_byte(b)) {
        let end = start + run.len();
        if run.len() == 40 && text.get(end) != Some(&b'=') && aws_like(text, start, run) {
            out.push(Span {
                start,
                end,
                kind: Kind::AwsSecretKey,
            });
        }
        start = end + 1;
    }
}

fn aws_like(text: &[u8], start: usize, run: &[u8]) -> bool {
    if keyword_before(text, start, &[b"aws", b"secret"]) {
        return true;
    }
    let has = |f: fn(&u8) -> bool| run.iter().any(f);
    has(u8::is_ascii_uppercase)
        && has(u8::is_ascii_lowercase)
        && has(u8::is_ascii_digit)
        && has(|b| *b == b'/' || *b == b'+')
        && run.first() != Some(&b'/')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(s: &str) -> Vec<String> {
        let mut out = Vec::new();
        Keywords::new().unwrap().find(s.as_bytes(), &mut out);
        find_aws_secrets(s.as_bytes(), &mut out);
        out.iter()
            .map(|sp| s[sp.start..sp.end].to_string())
            .collect()
    }

    #[test]
    fn assigned_secrets() {
        assert_eq!(found(r#"{"password": "hunter22"}"#), vec!["hunter22"]);
        assert_eq!(
            found("host=db user=app PASSWORD=s3cr3t!x"),
            vec!["s3cr3t!x"]
        );
        assert!(found("password authentication failed; tokens: 5; secret: null").is_empty());
    }

    #[test]
    fn aws_secrets() {
        let k = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
        assert_eq!(found(&format!("key {k}")), vec![k]);
        let hexish = "0123456789abcdef0123456789abcdef01234567";
        assert!(found(hexish).is_empty());
        assert_eq!(found(&format!("aws_secret {hexish}")), vec![hexish]);
    }
}
