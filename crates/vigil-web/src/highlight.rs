//! Server-side SQL highlighting for the request page: the text is split
//! into tokens with a CSS class each, and the template escapes every
//! token, so hostile SQL is shown, never interpreted. The lexer is
//! deliberately simple (it only colours); it never panics and never drops
//! or reorders a byte: the tokens concatenate back to the input.

/// One highlighted piece of the SQL text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// `kw`, `str`, `num`, `com`, `ident`, `param` or `` (plain).
    pub class: &'static str,
    pub text: String,
}

const KEYWORDS: &[&str] = &[
    "ALL",
    "ALTER",
    "AND",
    "AS",
    "ASC",
    "BEGIN",
    "BETWEEN",
    "BY",
    "CALL",
    "CASCADE",
    "CASE",
    "COMMIT",
    "COPY",
    "CREATE",
    "CROSS",
    "DATABASE",
    "DEFAULT",
    "DELETE",
    "DESC",
    "DISTINCT",
    "DO",
    "DROP",
    "ELSE",
    "END",
    "EXCEPT",
    "EXECUTE",
    "EXISTS",
    "FALSE",
    "FOR",
    "FOREIGN",
    "FROM",
    "FULL",
    "FUNCTION",
    "GRANT",
    "GROUP",
    "HAVING",
    "IF",
    "ILIKE",
    "IN",
    "INDEX",
    "INNER",
    "INSERT",
    "INTERSECT",
    "INTO",
    "IS",
    "JOIN",
    "KEY",
    "LEFT",
    "LIKE",
    "LIMIT",
    "NOT",
    "NULL",
    "OFFSET",
    "ON",
    "OR",
    "ORDER",
    "OUTER",
    "PRIMARY",
    "PROGRAM",
    "REFERENCES",
    "RETURNING",
    "REVOKE",
    "RIGHT",
    "ROLE",
    "ROLLBACK",
    "SCHEMA",
    "SELECT",
    "SET",
    "TABLE",
    "THEN",
    "TO",
    "TRUE",
    "TRUNCATE",
    "UNION",
    "UNIQUE",
    "UPDATE",
    "USING",
    "VALUES",
    "VIEW",
    "WHEN",
    "WHERE",
    "WITH",
];

/// Splits `sql` into highlighted tokens.
pub fn highlight(sql: &str) -> Vec<Token> {
    let mut out: Vec<Token> = Vec::new();
    let mut rest = sql;
    while let Some(first) = rest.chars().next() {
        let (class, len) = next_token(rest, first);
        // Every rule ends on a char boundary past the first character; the
        // fallback (one character) keeps the loop going if one did not.
        let split = rest.split_at_checked(len).filter(|_| len > 0);
        let (text, tail) = split
            .or_else(|| rest.split_at_checked(first.len_utf8()))
            .unwrap_or((rest, ""));
        push(&mut out, class, text);
        rest = tail;
    }
    out
}

/// Merges runs of plain text so the page has fewer spans.
fn push(out: &mut Vec<Token>, class: &'static str, text: &str) {
    if let Some(last) = out.last_mut() {
        if last.class.is_empty() && class.is_empty() {
            last.text.push_str(text);
            return;
        }
    }
    out.push(Token {
        class,
        text: text.to_owned(),
    });
}

/// The class and byte length of the token at the start of `s`.
fn next_token(s: &str, first: char) -> (&'static str, usize) {
    let bytes = s.as_bytes();
    match first {
        '-' if s.starts_with("--") => ("com", s.find('\n').unwrap_or(s.len())),
        '/' if s.starts_with("/*") => (
            "com",
            s.get(2..)
                .and_then(|t| t.find("*/"))
                .map_or(s.len(), |i| i + 4),
        ),
        '\'' => ("str", quoted(bytes, b'\'')),
        'E' | 'e' if bytes.get(1) == Some(&b'\'') => (
            "str",
            1 + quoted_escaped(bytes.get(1..).unwrap_or_default()),
        ),
        '"' => ("ident", quoted(bytes, b'"')),
        '$' => dollar(s),
        c if c.is_ascii_digit() => (
            "num",
            s.find(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '_'))
                .unwrap_or(s.len()),
        ),
        c if c.is_alphabetic() || c == '_' => {
            let len = s
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$'))
                .unwrap_or(s.len());
            let word = s.get(..len).unwrap_or_default();
            let kw = KEYWORDS
                .binary_search(&word.to_ascii_uppercase().as_str())
                .is_ok();
            (if kw { "kw" } else { "" }, len)
        }
        c => ("", c.len_utf8()),
    }
}

/// Length of a `q`-quoted token where a doubled quote is an escaped one.
fn quoted(b: &[u8], q: u8) -> usize {
    let mut i = 1;
    while i < b.len() {
        if b.get(i) == Some(&q) {
            if b.get(i + 1) == Some(&q) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    b.len()
}

/// Like [`quoted`] with `'`, where a backslash also escapes (E'…' strings).
fn quoted_escaped(b: &[u8]) -> usize {
    let mut i = 1;
    while i < b.len() {
        match b.get(i) {
            Some(b'\\') => i += 2,
            Some(b'\'') if b.get(i + 1) == Some(&b'\'') => i += 2,
            Some(b'\'') => return i + 1,
            _ => i += 1,
        }
    }
    b.len()
}

/// `$1` parameters and `$tag$ … $tag$` dollar-quoted strings.
fn dollar(s: &str) -> (&'static str, usize) {
    let tail = s.get(1..).unwrap_or_default();
    let digits = tail
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(tail.len());
    if digits > 0 {
        return ("param", 1 + digits);
    }
    let tag_len = tail
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(tail.len());
    if tail.get(tag_len..tag_len + 1) != Some("$") {
        return ("", 1);
    }
    let delim = s.get(..tag_len + 2).unwrap_or("$$");
    let body = s.get(delim.len()..).unwrap_or_default();
    let len = body
        .find(delim)
        .map_or(s.len(), |i| delim.len() + i + delim.len());
    ("str", len)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classes(sql: &str) -> Vec<(&'static str, String)> {
        highlight(sql)
            .into_iter()
            .filter(|t| !t.class.is_empty())
            .map(|t| (t.class, t.text))
            .collect()
    }

    #[test]
    fn keywords_are_sorted_for_binary_search() {
        assert!(KEYWORDS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn tokens_concatenate_back_to_the_input() {
        for sql in [
            "SELECT 'it''s', E'a\\'b', $1, $$x$$, $f$ body $f$ FROM \"T\" -- c\n/* d */ WHERE x = 1.5e3",
            "'unterminated", "E'", "$", "$tag", "/* open", "é'ü'\"ö", "\u{0}\u{7f}", "",
        ] {
            let back: String = highlight(sql).into_iter().map(|t| t.text).collect();
            assert_eq!(back, sql);
        }
    }

    #[test]
    fn classes_are_assigned() {
        let got = classes("delete from t where note = 'a''b' and id = $1 and n > 42 -- why");
        assert_eq!(
            got,
            vec![
                ("kw", "delete".into()),
                ("kw", "from".into()),
                ("kw", "where".into()),
                ("str", "'a''b'".into()),
                ("kw", "and".into()),
                ("param", "$1".into()),
                ("kw", "and".into()),
                ("num", "42".into()),
                ("com", "-- why".into()),
            ]
        );
        assert_eq!(
            classes("select $q$ it's $q$"),
            vec![("kw", "select".into()), ("str", "$q$ it's $q$".into())]
        );
    }
}
