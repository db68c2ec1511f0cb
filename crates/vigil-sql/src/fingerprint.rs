//! Statement fingerprints: a 16-hex-digit name for "the same statement up to
//! literal values and whitespace", for grouping in audit and logs.
//!
//! The fingerprint hashes the normalized text (literals already replaced by
//! `$n`, which the classifier computes anyway for `redacted_sql`) with runs
//! of whitespace collapsed to one space. That costs a hash instead of a
//! second parse. It is a grouping key, never a cache key: two statements
//! with one fingerprint may still differ in literal-dependent facts (an
//! always-true WHERE, say), so decisions must come from classifying the text.
//!
//! SHA-256 rather than a fast non-cryptographic hash: statement text is
//! client-controlled, and nobody should be able to craft a different
//! statement that shares a fingerprint with one already reviewed.

use sha2::{Digest, Sha256};

/// Where the collapsing scanner is in the text.
#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Code,
    /// Inside `'…'` or `"…"`: whitespace is part of a value or a name.
    Quoted(u8),
    /// Inside `-- …`: the newline that ends it is significant.
    LineComment,
}

/// The fingerprint of normalized statement text, as 16 lowercase hex digits.
pub(crate) fn fingerprint(normalized: &str) -> String {
    let digest = Sha256::digest(collapse_whitespace(normalized.trim()));
    let mut hex = String::with_capacity(16);
    for &byte in digest.iter().take(8) {
        // `format!` costs as much as the hash on these short inputs.
        for nibble in [byte >> 4, byte & 0x0f] {
            hex.push(char::from_digit(u32::from(nibble), 16).unwrap_or('0'));
        }
    }
    hex
}

/// `text` with each run of whitespace outside quotes replaced by one space,
/// except that a line comment's ending newline stays a newline (so text
/// after it is not folded into the comment).
fn collapse_whitespace(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut state = State::Code;
    let mut pending_space = false;
    let mut prev = 0u8;
    for &b in text.as_bytes() {
        if state != State::Code || !b.is_ascii_whitespace() {
            if pending_space {
                out.push(b' ');
                pending_space = false;
            }
            state = next_state(state, prev, b);
            out.push(b);
        } else {
            pending_space = true;
        }
        prev = b;
    }
    out
}

/// The scanner state after byte `b` (preceded by `prev`). Every byte goes
/// through here, including the newline ending a line comment.
fn next_state(state: State, prev: u8, b: u8) -> State {
    match state {
        State::Code if b == b'\'' || b == b'"' => State::Quoted(b),
        State::Code if prev == b'-' && b == b'-' => State::LineComment,
        State::Quoted(q) if b == q => State::Code,
        State::LineComment if b == b'\n' => State::Code,
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collapsed(text: &str) -> String {
        String::from_utf8(collapse_whitespace(text)).unwrap()
    }

    #[test]
    fn whitespace_runs_become_one_space() {
        assert_eq!(
            collapsed("SELECT  *\n\tFROM t\r\n WHERE a = $1"),
            "SELECT * FROM t WHERE a = $1"
        );
        assert_eq!(
            fingerprint("SELECT *   FROM t"),
            fingerprint("SELECT * FROM t\n")
        );
    }

    #[test]
    fn whitespace_inside_quotes_is_kept() {
        assert_eq!(
            collapsed(r#"SELECT "a  b", 'x  y'"#),
            r#"SELECT "a  b", 'x  y'"#
        );
        assert_eq!(
            collapsed("SELECT 'it''s  ok'  FROM t"),
            "SELECT 'it''s  ok' FROM t"
        );
        assert_ne!(
            fingerprint(r#"SELECT "a  b""#),
            fingerprint(r#"SELECT "a b""#)
        );
    }

    #[test]
    fn a_line_comment_cannot_swallow_the_next_line() {
        assert_eq!(collapsed("SELECT a -- c\n  , b"), "SELECT a -- c\n , b");
        assert_ne!(
            fingerprint("SELECT a -- c\n, b"),
            fingerprint("SELECT a -- c , b")
        );
    }

    #[test]
    fn fingerprints_are_16_stable_hex_digits() {
        let f = fingerprint("SELECT $1");
        assert_eq!(f.len(), 16);
        assert!(f
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        // Pinned (first 8 bytes of SHA-256("SELECT $1")): audit records from
        // different versions must stay comparable.
        assert_eq!(f, "165a22d8eabe300a");
        assert_ne!(f, fingerprint("SELECT $2"));
    }
}
