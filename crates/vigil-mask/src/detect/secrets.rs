//! Credentials with a recognisable prefix: API tokens, AWS key ids, JWTs,
//! PEM private keys and password hashes. One Aho-Corasick pass finds the
//! prefixes; each hit is then checked by its own rule.

use super::prefilter::Run;
use super::{Kind, Span};
use crate::MaskError;
use aho_corasick::{AhoCorasick, AhoCorasickKind, Input, MatchKind};
use base64::Engine;
use regex::bytes::Regex;

/// How a prefix hit is confirmed.
#[derive(Debug, Clone, Copy)]
enum Rule {
    /// A body of `min..=max` characters from `set` after the prefix.
    Token {
        min: usize,
        max: usize,
        set: Set,
        kind: Kind,
    },
    /// One of the anchored regexes, by index.
    Pattern(usize, Kind),
    Jwt,
    Pem,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Set {
    Alnum,
    Word,
    WordDash,
    WordDashDot,
    UpperDigit,
    LowerHex,
}

impl Set {
    fn has(self, b: u8) -> bool {
        match self {
            Set::Alnum => b.is_ascii_alphanumeric(),
            Set::Word => b.is_ascii_alphanumeric() || b == b'_',
            Set::WordDash => b.is_ascii_alphanumeric() || b == b'_' || b == b'-',
            Set::WordDashDot => b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'),
            Set::UpperDigit => b.is_ascii_uppercase() || b.is_ascii_digit(),
            Set::LowerHex => b.is_ascii_digit() || (b'a'..=b'f').contains(&b),
        }
    }
}

const fn tok(min: usize, max: usize, set: Set) -> Rule {
    Rule::Token {
        min,
        max,
        set,
        kind: Kind::ApiKey,
    }
}

#[rustfmt::skip]
const PREFIXES: &[(&str, Rule)] = &[
    ("sk_live_", tok(16, 255, Set::Alnum)), ("sk_test_", tok(16, 255, Set::Alnum)),
    ("rk_live_", tok(16, 255, Set::Alnum)), ("rk_test_", tok(16, 255, Set::Alnum)),
    ("whsec_", tok(24, 255, Set::Alnum)),
    ("ghp_", tok(30, 255, Set::Alnum)), ("gho_", tok(30, 255, Set::Alnum)),
    ("ghs_", tok(30, 255, Set::Alnum)), ("ghu_", tok(30, 255, Set::Alnum)),
    ("ghr_", tok(30, 255, Set::Alnum)), ("github_pat_", tok(22, 255, Set::Word)),
    ("xoxb-", tok(10, 255, Set::WordDash)), ("xoxa-", tok(10, 255, Set::WordDash)),
    ("xoxp-", tok(10, 255, Set::WordDash)), ("xoxr-", tok(10, 255, Set::WordDash)),
    ("xoxs-", tok(10, 255, Set::WordDash)), ("xapp-", tok(10, 255, Set::WordDash)),
    ("AIza", tok(30, 40, Set::WordDash)), ("glpat-", tok(20, 255, Set::WordDash)),
    ("npm_", tok(36, 36, Set::Alnum)), ("hf_", tok(30, 255, Set::Alnum)),
    ("sk-ant-", tok(32, 255, Set::WordDash)), ("sk-proj-", tok(32, 255, Set::WordDash)),
    ("sk-", tok(32, 255, Set::WordDash)), ("SG.", tok(60, 255, Set::WordDashDot)),
    ("dop_v1_", tok(64, 64, Set::LowerHex)), ("shpat_", tok(32, 32, Set::LowerHex)),
    ("shpss_", tok(32, 32, Set::LowerHex)), ("pypi-", tok(50, 255, Set::WordDash)),
    ("sq0atp-", tok(22, 255, Set::WordDash)), ("sq0csp-", tok(40, 255, Set::WordDash)),
    ("AKIA", Rule::Token { min: 16, max: 16, set: Set::UpperDigit, kind: Kind::AwsAccessKey }),
    ("ASIA", Rule::Token { min: 16, max: 16, set: Set::UpperDigit, kind: Kind::AwsAccessKey }),
    ("md5", Rule::Token { min: 32, max: 32, set: Set::LowerHex, kind: Kind::PasswordHash }),
    ("eyJ", Rule::Jwt),
    ("-----BEGIN ", Rule::Pem),
    ("$2a$", Rule::Pattern(0, Kind::PasswordHash)), ("$2b$", Rule::Pattern(0, Kind::PasswordHash)),
    ("$2y$", Rule::Pattern(0, Kind::PasswordHash)), ("$2x$", Rule::Pattern(0, Kind::PasswordHash)),
    ("$argon2", Rule::Pattern(1, Kind::PasswordHash)),
    ("$1$", Rule::Pattern(2, Kind::PasswordHash)), ("$5$", Rule::Pattern(2, Kind::PasswordHash)),
    ("$6$", Rule::Pattern(2, Kind::PasswordHash)),
    ("SCRAM-SHA-256$", Rule::Pattern(3, Kind::PasswordHash)),
];

const PATTERNS: &[&str] = &[
    r"^\$2[abxy]\$[0-9]{2}\$[./A-Za-z0-9]{53}",
    r"^\$argon2(?:id|i|d)\$v=[0-9]+\$m=[0-9]+,t=[0-9]+,p=[0-9]+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+",
    r"^\$[156]\$(?:rounds=[0-9]+\$)?[./A-Za-z0-9]{1,16}\$[./A-Za-z0-9]{22,86}",
    r"^SCRAM-SHA-256\$[0-9]+:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+",
];

/// What one pass over a value has learnt, to stay linear.
#[derive(Debug)]
struct Memo {
    /// End of the last span found.
    covered: usize,
    /// No JWT can start before this (a failed scan of the same run).
    no_jwt_before: usize,
    /// No `-----END ` exists after this offset.
    no_pem_end_after: usize,
    /// The last token run scanned: its alphabet, start and end. A later
    /// prefix inside the same run ends where it ends (`sk-sk-sk-…`).
    run: Option<(Set, usize, usize)>,
}

impl Memo {
    fn run_end(&mut self, text: &[u8], body: usize, set: Set) -> usize {
        if let Some((s, from, end)) = self.run {
            if s == set && from <= body && body <= end {
                return end;
            }
        }
        let n = text
            .get(body..)
            .map_or(0, |r| r.iter().take_while(|&&b| set.has(b)).count());
        self.run = Some((set, body, body + n));
        body + n
    }
}

impl Default for Memo {
    fn default() -> Memo {
        Memo {
            covered: 0,
            no_jwt_before: 0,
            no_pem_end_after: usize::MAX,
            run: None,
        }
    }
}

/// The compiled prefix automaton and confirmation regexes.
#[derive(Debug)]
pub(crate) struct Secrets {
    prefixes: AhoCorasick,
    patterns: Vec<Regex>,
    jwt: Regex,
    pem: Regex,
}

impl Secrets {
    pub(crate) fn new() -> Result<Secrets, MaskError> {
        let bad = |e: &dyn std::fmt::Display| MaskError::Detectors(e.to_string());
        let prefixes = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            // ~40 short prefixes: a full DFA is small and the fastest to run.
            .kind(Some(AhoCorasickKind::DFA))
            .build(PREFIXES.iter().map(|(p, _)| p))
            .map_err(|e| bad(&e))?;
        let compile = |p: &str| Regex::new(&format!("(?-u){p}")).map_err(|e| bad(&e));
        Ok(Secrets {
            prefixes,
            patterns: PATTERNS
                .iter()
                .map(|p| compile(p))
                .collect::<Result<_, _>>()?,
            jwt: compile(r"^eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")?,
            pem: compile(r"^-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")?,
        })
    }

    /// Appends every confirmed credential in `text`. `runs`: the value's
    /// token runs of `MIN_RUN`+ bytes when no prefix outside the token
    /// alphabet (`$…`, `-----BEGIN `) can occur; `None` scans everything.
    ///
    /// Every other prefix and its confirmed body are token characters, so
    /// a match lies inside one run, and a run boundary (a byte no prefix
    /// holds) restarts the automaton: scanning the runs that can hold a
    /// confirmed match (long enough, and with a byte only prefixes have)
    /// finds exactly what scanning the whole value finds.
    ///
    /// Hostile values (a database column anyone can write) must not make
    /// this quadratic, so prefixes inside a span already found are skipped
    /// and failed searches are remembered (`Memo`).
    pub(crate) fn find(&self, text: &[u8], runs: Option<&[Run]>, out: &mut Vec<Span>) {
        let mut memo = Memo::default();
        let Some(runs) = runs else {
            return self.find_in(text, Input::new(text), &mut memo, out);
        };
        for r in runs.iter().filter(|r| r.wordy) {
            if text.get(r.start..r.end).is_some() {
                let input = Input::new(text).range(r.start..r.end);
                self.find_in(text, input, &mut memo, out);
            }
        }
    }

    fn find_in(&self, text: &[u8], input: Input<'_>, memo: &mut Memo, out: &mut Vec<Span>) {
        for m in self.prefixes.find_iter(input) {
            let Some((_, rule)) = PREFIXES.get(m.pattern().as_usize()) else {
                continue;
            };
            if m.start() < memo.covered
                || (matches!(rule, Rule::Jwt) && m.start() < memo.no_jwt_before)
            {
                continue;
            }
            if let Some(s) = self.confirm(text, m.start(), m.end(), *rule, memo) {
                memo.covered = s.end;
                out.push(s);
            }
        }
    }

    fn confirm(
        &self,
        text: &[u8],
        start: usize,
        body: usize,
        rule: Rule,
        memo: &mut Memo,
    ) -> Option<Span> {
        let rest = text.get(start..)?;
        let (end, kind) = match rule {
            Rule::Token {
                min,
                max,
                set,
                kind,
            } => {
                let word_before = start
                    .checked_sub(1)
                    .and_then(|p| text.get(p))
                    .is_some_and(|b| b.is_ascii_alphanumeric());
                let n = memo.run_end(text, body, set) - body;
                if word_before || n < min || n > max {
                    return None;
                }
                (body + n, kind)
            }
            Rule::Pattern(i, kind) => (start + self.patterns.get(i)?.find(rest)?.end(), kind),
            Rule::Jwt => (start + self.jwt_len(rest, start, memo)?, Kind::Jwt),
            Rule::Pem => (start + self.pem_len(rest, start, memo)?, Kind::PrivateKey),
        };
        Some(Span { start, end, kind })
    }

    /// A JWT's header must decode to a JSON object naming an `alg`.
    fn jwt_len(&self, rest: &[u8], start: usize, memo: &mut Memo) -> Option<usize> {
        let Some(m) = self.jwt.find(rest) else {
            // Every later `eyJ` in this run would scan to the same end and fail.
            let run = rest.iter().take_while(|&&b| Set::WordDash.has(b)).count();
            memo.no_jwt_before = start + run;
            return None;
        };
        let header = rest.get(..rest.iter().position(|&b| b == b'.')?)?;
        let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(header)
            .ok()?;
        let v: serde_json::Value = serde_json::from_slice(&json).ok()?;
        v.get("alg")?;
        Some(m.end())
    }

    /// The whole block through its END line; without one, everything up to
    /// a closing quote or the end of the value (a truncated key is still a key).
    fn pem_len(&self, rest: &[u8], start: usize, memo: &mut Memo) -> Option<usize> {
        let head = self.pem.find(rest)?.end();
        let tail = rest.get(head..)?;
        if start + head < memo.no_pem_end_after {
            if let Some(e) = memchr::memmem::find(tail, b"-----END ") {
                let after = tail.get(e + 9..)?;
                if let Some(close) = memchr::memmem::find(after, b"-----") {
                    return Some(head + e + 9 + close + 5);
                }
            }
            memo.no_pem_end_after = start + head;
        }
        Some(head + memchr::memchr(b'"', tail).unwrap_or(tail.len()))
    }
}
