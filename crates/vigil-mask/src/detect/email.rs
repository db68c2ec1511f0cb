//! Email addresses and passwords in URL userinfo (`scheme://user:pw@host`),
//! found from each `@` outwards: no regex, so a value without `@` costs one
//! `memchr`.

use super::{Kind, Span};

/// Local-part bytes: RFC 5322 atoms as people use them, plus UTF-8 (SMTPUTF8).
fn local_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'%' | b'+' | b'-' | b'\'') || b >= 0x80
}

fn domain_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b >= 0x80
}

/// Appends every email address and URL password in `text`.
pub(crate) fn find(text: &[u8], out: &mut Vec<Span>) {
    // Building a substring searcher per value costs more than this scan.
    let urls = memchr::memchr(b':', text).is_some() && text.windows(3).any(|w| w == b"://");
    for at in memchr::memchr_iter(b'@', text) {
        if let Some(s) = email_at(text, at) {
            out.push(s);
        } else if let Some(s) = urls.then(|| url_password(text, at)).flatten() {
            out.push(s);
        }
    }
}

fn email_at(text: &[u8], at: usize) -> Option<Span> {
    let before = text.get(..at)?;
    let mut start = before
        .iter()
        .rposition(|&b| !local_byte(b))
        .map_or(0, |p| p + 1);
    // A local part does not start with a dot or a quote.
    while matches!(text.get(start), Some(b'.' | b'\'')) && start < at {
        start += 1;
    }
    let after = text.get(at + 1..)?;
    let mut end = at
        + 1
        + after
            .iter()
            .position(|&b| !domain_byte(b))
            .unwrap_or(after.len());
    while end > at + 1 && matches!(text.get(end - 1), Some(b'.' | b'-')) {
        end -= 1;
    }
    let local = text.get(start..at)?;
    let domain = text.get(at + 1..end)?;
    (!local.is_empty() && local.len() <= 64 && domain_ok(domain)).then_some(Span {
        start,
        end,
        kind: Kind::Email,
    })
}

/// At least two labels, none empty, and a top-level label of two or more
/// letters (`user@localhost` and `a@1.2` are not addresses).
fn domain_ok(domain: &[u8]) -> bool {
    let Some(dot) = domain.iter().rposition(|&b| b == b'.') else {
        return false;
    };
    let tld = domain.get(dot + 1..).unwrap_or_default();
    tld.len() >= 2
        && tld.iter().all(|&b| b.is_ascii_alphabetic() || b >= 0x80)
        && !domain.starts_with(b".")
        && !domain.windows(2).any(|w| w == b"..")
}

/// `postgres://alice:s3cret@db:5432`: the password between the last `:`
/// of the userinfo and the `@`.
fn url_password(text: &[u8], at: usize) -> Option<Span> {
    let window = text.get(at.saturating_sub(256)..at)?;
    let base = at.saturating_sub(256);
    let scheme_end = memchr::memmem::rfind(window, b"://")? + 3;
    let userinfo = window.get(scheme_end..)?;
    if userinfo
        .iter()
        .any(|&b| b == b'/' || b.is_ascii_whitespace())
    {
        return None;
    }
    let colon = userinfo.iter().position(|&b| b == b':')?;
    let start = base + scheme_end + colon + 1;
    (start < at).then_some(Span {
        start,
        end: at,
        kind: Kind::Password,
    })
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
    fn emails() {
        assert_eq!(found("(1,alice@example.com,x)"), vec!["alice@example.com"]);
        assert_eq!(
            found("\"maria.o'connor+tag@mail.example.org.\""),
            vec!["maria.o'connor+tag@mail.example.org"]
        );
        assert_eq!(found("jürgen@münchen.de"), vec!["jürgen@münchen.de"]);
        assert!(found("@alice user@localhost a@1.2 @2x.png").is_empty());
    }

    #[test]
    fn url_passwords() {
        assert_eq!(found("postgres://app:hunter2@db:5432/x"), vec!["hunter2"]);
        assert!(found("see https://example.com/@alice").is_empty());
    }
}
