//! Numeric tokens: digit groups joined by single separators, as people
//! write card numbers, phones, SSNs and IPv4 addresses. Cutting the text
//! into these once lets every numeric detector check a shape instead of
//! running its own regex over the value.

/// Most groups one token holds; a longer run is cut into several tokens.
pub(crate) const MAX_GROUPS: usize = 16;

/// What joins two digit groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sep {
    Space,
    Dash,
    Dot,
    Slash,
    /// `)`, `) ` or `)-` after an area code.
    Close,
    /// `(` or ` (` before an area code.
    Open,
}

/// One token: digit groups `[start, end)` and the separators between them.
#[derive(Debug, Clone)]
pub(crate) struct Token {
    /// Offset of a leading `+`.
    pub(crate) plus: Option<usize>,
    /// Offset of a leading `(`.
    pub(crate) open: Option<usize>,
    pub(crate) groups: [(usize, usize); MAX_GROUPS],
    pub(crate) seps: [Sep; MAX_GROUPS],
    pub(crate) len: usize,
}

impl Token {
    fn new() -> Token {
        Token {
            plus: None,
            open: None,
            groups: [(0, 0); MAX_GROUPS],
            seps: [Sep::Space; MAX_GROUPS],
            len: 0,
        }
    }

    pub(crate) fn group(&self, i: usize) -> Option<(usize, usize)> {
        self.groups.get(..self.len)?.get(i).copied()
    }

    pub(crate) fn group_len(&self, i: usize) -> usize {
        self.group(i).map_or(0, |(s, e)| e - s)
    }

    /// The separator after group `i`.
    pub(crate) fn sep(&self, i: usize) -> Option<Sep> {
        (i + 1 < self.len)
            .then(|| self.seps.get(i).copied())
            .flatten()
    }

    /// Whether group `i` is preceded by an opening parenthesis.
    pub(crate) fn opens(&self, i: usize) -> bool {
        if i == 0 {
            self.open.is_some()
        } else {
            self.sep(i - 1) == Some(Sep::Open)
        }
    }
}

/// Per byte: bit 0 a word byte (`A-Za-z0-9_`), bit 1 a possible token
/// start (`0-9+(`). One load instead of a chain of compares.
static BYTES: [u8; 256] = build_bytes();
const WORD: u8 = 1;
const START: u8 = 2;

const fn build_bytes() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut b = 0usize;
    while b < 256 {
        let c = b as u8;
        if c.is_ascii_alphanumeric() || c == b'_' {
            t[b] |= WORD;
        }
        if c.is_ascii_digit() || c == b'+' || c == b'(' {
            t[b] |= START;
        }
        b += 1;
    }
    t
}

fn is_word(b: u8) -> bool {
    BYTES.get(usize::from(b)).copied().unwrap_or(0) & WORD != 0
}

fn at(text: &[u8], i: usize) -> u8 {
    text.get(i).copied().unwrap_or(0)
}

fn digit_at(text: &[u8], i: usize) -> bool {
    at(text, i).is_ascii_digit()
}

/// May a token start at `i` (a digit, `+digit` or `(digit`)? Not inside a
/// word (`ORD4111…`, `v1.2.3.4`) or a longer number.
fn starts_at(text: &[u8], i: usize) -> bool {
    let b = at(text, i);
    let first_digit = match b {
        b'0'..=b'9' => true,
        b'+' | b'(' => digit_at(text, i + 1),
        _ => false,
    };
    if !first_digit || i == 0 {
        return first_digit;
    }
    let prev = at(text, i - 1);
    let prev2 = if i >= 2 { at(text, i - 2) } else { 0 };
    !(is_word(prev)
        || (prev == b'.' && is_word(prev2))
        || (prev == b'-' && prev2.is_ascii_digit())
        || (b != b'+' && prev == b'+'))
}

/// Reads the separator at `i` if a digit follows it: (kind, width).
fn sep_at(text: &[u8], i: usize) -> Option<(Sep, usize)> {
    let (sep, width) = match (at(text, i), at(text, i + 1)) {
        (b' ', b'(') => (Sep::Open, 2),
        (b'(', _) => (Sep::Open, 1),
        (b')', b' ' | b'-') => (Sep::Close, 2),
        (b')', _) => (Sep::Close, 1),
        (b' ', _) => (Sep::Space, 1),
        (b'-', _) => (Sep::Dash, 1),
        (b'.', _) => (Sep::Dot, 1),
        (b'/', _) => (Sep::Slash, 1),
        _ => return None,
    };
    digit_at(text, i + width).then_some((sep, width))
}

/// Calls `f` with every numeric token in `text`.
pub(crate) fn for_each_token(text: &[u8], f: impl FnMut(&Token)) {
    for_each_token_in(text, [(0, text.len())], f);
}

/// Calls `f` with the numeric tokens of `text` that start in each range
/// `from..to` (in order), as the walk over the whole of `text` finds
/// them, provided each `from` is 0 or the byte before it is neither a
/// digit nor one of ` -./()+` (a token holds only those bytes, so none
/// spans `from`).
///
/// Why that is enough: the whole walk reaches `from` either standing at
/// or before it with no possible token start in between (then it goes on
/// exactly as this walk does), or skipping a word that runs through
/// `from - 1` and `from`. Then `from` holds a digit after a word byte,
/// which is no token start, so this walk skips the same word. Boundaries
/// (`+`, `(`, glued words, keywords) are read from the whole `text`; a
/// word running on past `to` is skipped only up to `to`, where this walk
/// ends anyway.
pub(crate) fn for_each_token_in(
    text: &[u8],
    ranges: impl IntoIterator<Item = (usize, usize)>,
    mut f: impl FnMut(&Token),
) {
    let mut token = Token::new();
    for (from, to) in ranges {
        walk(text, from, to, &mut token, &mut f);
    }
}

/// The walk over `from..to` (see [`for_each_token_in`]).
fn walk(text: &[u8], from: usize, to: usize, token: &mut Token, f: &mut impl FnMut(&Token)) {
    // A range lies within `text`; clamped, `to` also bounds every read.
    let to = to.min(text.len());
    let mut i = from;
    while i < to {
        // Jump to the next byte that can start a token.
        match text.get(i..to).and_then(|rest| {
            rest.iter()
                .position(|&b| BYTES.get(usize::from(b)).copied().unwrap_or(0) & START != 0)
        }) {
            Some(p) => i += p,
            None => return,
        }
        if !starts_at(text, i) {
            i += 1;
            // Skip the rest of a word so no token starts in its middle.
            if is_word(at(text, i - 1)) {
                i = word_end(text, i, to);
            }
            continue;
        }
        i = read_token(text, i, to, token);
        if token.len > 0 {
            f(token);
        }
    }
}

/// Fills `token` from `start`; returns where scanning resumes (a word
/// glued to the token is skipped, but not past `stop`).
fn read_token(text: &[u8], start: usize, stop: usize, token: &mut Token) -> usize {
    token.plus = (at(text, start) == b'+').then_some(start);
    token.open = (at(text, start) == b'(').then_some(start);
    token.len = 0;
    let mut pos = start + usize::from(token.plus.is_some() || token.open.is_some());
    loop {
        let g = pos;
        while digit_at(text, pos) {
            pos += 1;
        }
        if let Some(slot) = token.groups.get_mut(token.len) {
            *slot = (g, pos);
            token.len += 1;
        }
        if token.len == MAX_GROUPS {
            return pos;
        }
        match sep_at(text, pos) {
            Some((sep, width)) => {
                if let Some(slot) = token.seps.get_mut(token.len - 1) {
                    *slot = sep;
                }
                pos += width;
            }
            None => break,
        }
    }
    // Digits glued to a word (`1234abc`) are an identifier, not a number.
    if is_word(at(text, pos)) {
        token.len -= 1;
        pos = word_end(text, pos, stop);
    }
    pos
}

/// Where the word bytes from `i` end, looking no further than `stop`
/// (within `text`).
fn word_end(text: &[u8], i: usize, stop: usize) -> usize {
    let rest = text.get(i..stop).unwrap_or_default();
    i + rest.iter().position(|&b| !is_word(b)).unwrap_or(rest.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(s: &str) -> Vec<Vec<String>> {
        let mut out = Vec::new();
        for_each_token(s.as_bytes(), |t| {
            out.push(
                (0..t.len)
                    .map(|i| {
                        let (a, b) = t.group(i).unwrap();
                        s[a..b].to_string()
                    })
                    .collect(),
            )
        });
        out
    }

    #[test]
    fn groups_and_boundaries() {
        assert_eq!(tokens("(415) 555-1234"), vec![vec!["415", "555", "1234"]]);
        assert_eq!(
            tokens("x 4111 1111 1111 1111,"),
            vec![vec!["4111", "1111", "1111", "1111"]]
        );
        assert_eq!(
            tokens("ORD4111111111111111 v1.2.3.4"),
            Vec::<Vec<String>>::new()
        );
        assert_eq!(tokens("ORD-2024-000123"), vec![vec!["2024", "000123"]]);
        assert_eq!(tokens("12:34:56"), vec![vec!["12"], vec!["34"], vec!["56"]]);
        assert_eq!(tokens("1234abc 7"), vec![vec!["7"]]);
    }
}
