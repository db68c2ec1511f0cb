//! Secrets known by their context rather than their shape: a value after
//! `password=` / `"api_key": …`, and AWS secret access keys (40 base64
//! characters, which alone could be anything).

use super::numeric::keyword_before;
use super::prefilter::Run;
use super::{Kind, Span};
use crate::MaskError;
use aho_corasick::{AhoCorasick, Input, MatchKind};

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
    ///
    /// A keyword yields a value only when identifier bytes, then quotes or
    /// spaces, then `:` or `=` follow it, so the automaton runs only over
    /// the stretch before each `:`/`=` back to a byte that is neither.
    /// Keywords are identifier bytes, so no match crosses that byte and
    /// the matches found there are exactly those a scan of the whole value
    /// finds (the others could not yield a value).
    pub(crate) fn find(&self, text: &[u8], out: &mut Vec<Span>) {
        let mut covered = 0;
        // Bytes before `from` were looked at already: linear overall.
        let mut from = 0;
        for p in memchr::memchr2_iter(b':', b'=', text) {
            let mut w = p;
            while w > from && text.get(w - 1).is_some_and(|&b| quote_or_space(b)) {
                w -= 1;
            }
            while w > from && text.get(w - 1).is_some_and(|&b| key_byte(b)) {
                w -= 1;
            }
            if w < p {
                self.find_in(text, w, p, &mut covered, out);
            }
            from = p + 1;
        }
    }

    fn find_in(
        &self,
        text: &[u8],
        from: usize,
        to: usize,
        covered: &mut usize,
        out: &mut Vec<Span>,
    ) {
        if text.get(from..to).is_none() {
            return;
        }
        for m in self.words.find_iter(Input::new(text).range(from..to)) {
            // A keyword inside a value already masked (`password=password=…`).
            if m.start() < *covered {
                continue;
            }
            let kind = KEYWORDS
                .get(m.pattern().as_usize())
                .map_or(Kind::ApiKey, |(_, k)| *k);
            if let Some((start, end)) = assigned_value(text, m.end()) {
                *covered = end;
                out.push(Span { start, end, kind });
            }
        }
    }

    /// The whole-value scan [`Keywords::find`] must agree with.
    pub(crate) fn find_everywhere(&self, text: &[u8], out: &mut Vec<Span>) {
        let mut covered = 0;
        self.find_in(text, 0, text.len(), &mut covered, out);
    }
}

fn key_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

fn quote_or_space(b: u8) -> bool {
    matches!(b, b'"' | b'\'' | b' ')
}

/// After a key: the rest of the identifier, an optional quote, `:` or `=`,
/// an optional quote, then a value of at least four characters.
fn assigned_value(text: &[u8], mut i: usize) -> Option<(usize, usize)> {
    let at = |i: usize| text.get(i).copied().unwrap_or(0);
    // The rest of the key, bounded so `passwordpassword…` stays linear.
    let key_end = i + 64;
    while i < key_end && key_byte(at(i)) {
        i += 1;
    }
    while quote_or_space(at(i)) {
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
///
/// `runs`: the value's token runs of `MIN_RUN`+ bytes (a base64 run is
/// inside one), or `None` to scan everything.
pub(crate) fn find_aws_secrets(text: &[u8], runs: Option<&[Run]>, out: &mut Vec<Span>) {
    match runs {
        None => aws_in(text, 0, text.len(), out),
        Some(runs) => {
            // A run of base64 bytes only is one base64 run: 40 or nothing.
            let could = |r: &&Run| r.len() == 40 || (r.len() > 40 && !r.base64);
            for r in runs.iter().filter(could) {
                aws_in(text, r.start, r.end, out);
            }
        }
    }
}

/// AWS secrets among the base64 runs of `text[from..to]`; `from` and
/// `to` are base64 boundaries.
fn aws_in(text: &[u8], from: usize, to: usize, out: &mut Vec<Span>) {
    let Some(part) = text.get(from..to) else {
        return;
    };
    let mut start = from;
    for run in part.split(|&b| !b64_byte(b)) {
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
        find_aws_secrets(s.as_bytes(), None, &mut out);
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
