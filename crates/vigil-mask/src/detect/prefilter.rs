//! One cheap pass over a value that says which detector families could
//! possibly match. The pass only ORs byte classes and counts a few of them
//! (no branches per byte), so most outbound values — ids, names, prices,
//! statuses — trip no family and no detector runs at all.

/// Families worth running on a value (a bit set).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Triggers(u16);

impl Triggers {
    pub(crate) const EMAIL: u16 = 1;
    /// At least 7 digits: cards, phones, SSNs.
    pub(crate) const NUMERIC: u16 = 1 << 1;
    /// At least 4 digits and 3 dots: IPv4.
    pub(crate) const DOTTED: u16 = 1 << 2;
    pub(crate) const UPPER: u16 = 1 << 3;
    /// `::` or seven colons: IPv6.
    pub(crate) const IPV6: u16 = 1 << 4;
    /// Long enough and word-like enough for a prefixed credential, or a `$`.
    pub(crate) const SECRET: u16 = 1 << 5;
    /// 40 base64 characters could be present: AWS secret keys.
    pub(crate) const B64_40: u16 = 1 << 6;
    /// `=` or `:` and a 5-letter key could be present: `password=…`.
    pub(crate) const ASSIGN: u16 = 1 << 7;

    pub(crate) fn has(self, bits: u16) -> bool {
        self.0 & bits == bits
    }

    pub(crate) fn any(self) -> bool {
        self.0 != 0
    }
}

/// Byte counts of one value.
#[derive(Default)]
struct Counts {
    digits: u32,
    upper: u32,
    lower: u32,
    dot: u32,
    colon: u32,
    dash: u32,
    /// `_`, `+` and `/`: the rest of base64 and token alphabets.
    word_punct: u32,
    at: u32,
    dollar: bool,
    equals: bool,
}

// Lanes of the packed per-byte increments (8 bits each).
const L_DIGIT: u32 = 0;
const L_UPPER: u32 = 1;
const L_LOWER: u32 = 2;
const L_DOT: u32 = 3;
const L_COLON: u32 = 4;
const L_DASH: u32 = 5;
const L_PUNCT: u32 = 6;
const L_AT: u32 = 7;

/// Per byte, a `u64` adding one to the lane of its class: counting is one
/// load and one add per byte, with no branches.
static LANES: [u64; 256] = build_lanes();
/// Per byte, presence bits for `$` (1) and `=` (2).
static FLAGS: [u8; 256] = build_flags();

const fn build_lanes() -> [u64; 256] {
    let mut t = [0u64; 256];
    let mut b = 0usize;
    while b < 256 {
        let lane = match b as u8 {
            b'0'..=b'9' => Some(L_DIGIT),
            b'A'..=b'Z' => Some(L_UPPER),
            b'a'..=b'z' => Some(L_LOWER),
            b'.' => Some(L_DOT),
            b':' => Some(L_COLON),
            b'-' => Some(L_DASH),
            b'_' | b'+' | b'/' => Some(L_PUNCT),
            b'@' => Some(L_AT),
            _ => None,
        };
        if let Some(l) = lane {
            t[b] = 1u64 << (8 * l);
        }
        b += 1;
    }
    t
}

const fn build_flags() -> [u8; 256] {
    let mut t = [0u8; 256];
    t[b'$' as usize] = 1;
    t[b'=' as usize] = 2;
    t
}

fn count(text: &[u8]) -> Counts {
    let mut c = Counts::default();
    let mut flags = 0u8;
    // 255 bytes per chunk: no lane can overflow into the next.
    for chunk in text.chunks(255) {
        let mut packed = 0u64;
        for &b in chunk {
            let i = usize::from(b);
            packed += LANES.get(i).copied().unwrap_or(0);
            flags |= FLAGS.get(i).copied().unwrap_or(0);
        }
        let lane = |l: u32| ((packed >> (8 * l)) & 0xff) as u32;
        c.digits += lane(L_DIGIT);
        c.upper += lane(L_UPPER);
        c.lower += lane(L_LOWER);
        c.dot += lane(L_DOT);
        c.colon += lane(L_COLON);
        c.dash += lane(L_DASH);
        c.word_punct += lane(L_PUNCT);
        c.at += lane(L_AT);
    }
    c.dollar = flags & 1 != 0;
    c.equals = flags & 2 != 0;
    c
}

/// Scans `text` once and reports the families that could match.
pub(crate) fn scan(text: &[u8]) -> Triggers {
    let c = count(text);
    let letters = c.upper + c.lower;
    let alnum = letters + c.digits + c.word_punct;
    let mut t = 0;
    let mut set = |cond: bool, bit: u16| {
        if cond {
            t |= bit;
        }
    };
    set(c.at > 0, Triggers::EMAIL);
    set(c.digits >= 7, Triggers::NUMERIC);
    set(c.digits >= 4 && c.dot >= 3, Triggers::DOTTED);
    set(c.upper >= 2 && c.digits >= 10, Triggers::UPPER);
    let double_colon = c.colon >= 2 && text.windows(2).any(|w| w == b"::");
    set(c.colon >= 7 || double_colon, Triggers::IPV6);
    // Every prefixed credential is 20+ characters, mostly letters and
    // digits; PEM armour has ten dashes; crypt hashes start with `$`.
    let candidate = alnum >= 16 && text.len() >= 20 && letters > 0 && (c.digits + c.dash) > 0;
    let run = if candidate {
        longest_token_run(text)
    } else {
        0
    };
    let tokenish = run >= 20;
    set(c.dollar || c.dash >= 10 || tokenish, Triggers::SECRET);
    // 40 random base64 characters hold a few of each class.
    let b64 = run >= 40 && c.upper >= 4 && c.lower >= 4 && c.digits >= 1;
    set(b64, Triggers::B64_40);
    set((c.colon > 0 || c.equals) && letters >= 5, Triggers::ASSIGN);
    Triggers(t)
}

/// Bytes of credential alphabets (base64, base64url, JWT dots, padding).
static TOKEN: [bool; 256] = build_token();

const fn build_token() -> [bool; 256] {
    let mut t = [false; 256];
    let mut b = 0usize;
    while b < 256 {
        t[b] = matches!(b as u8, b'0'..=b'9' | b'A'..=b'Z' | b'a'..=b'z' | b'_' | b'-' | b'+' | b'/' | b'=' | b'.');
        b += 1;
    }
    t
}

/// The longest run of credential characters that is not a canonical UUID
/// (the shortest prefixed credential, an AWS key id, is 20 long). One
/// pass; work happens only where a run ends.
fn longest_token_run(text: &[u8]) -> usize {
    let mut best = 0;
    let mut start = 0;
    let mut consider = |from: usize, to: usize| {
        let run = to - from;
        if run > best && !(run == 36 && text.get(from..to).is_some_and(super::shape::is_uuid)) {
            best = run;
        }
    };
    for (i, &b) in text.iter().enumerate() {
        if !TOKEN.get(usize::from(b)).copied().unwrap_or(false) {
            consider(start, i);
            start = i + 1;
        }
    }
    consider(start.min(text.len()), text.len());
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Triggers {
        scan(s.as_bytes())
    }

    #[test]
    fn plain_values_trip_nothing() {
        for v in [
            "Maria Gonzalez",
            "42",
            "1234.56",
            "shipped",
            "12:30",
            "delivered to the front door",
        ] {
            assert!(!t(v).any(), "{v}: {:?}", t(v));
        }
        assert!(!t("12:34:56").has(Triggers::IPV6));
        let uuid = t("550e8400-e29b-41d4-a716-446655440000");
        assert!(!uuid.has(Triggers::SECRET), "{uuid:?}");
    }

    #[test]
    fn shapes_trip_their_family() {
        assert!(t("a@b.co").has(Triggers::EMAIL));
        assert!(t("(415) 555-1234").has(Triggers::NUMERIC));
        assert!(t("+44 20 7946 0958").has(Triggers::NUMERIC));
        assert!(t("10.0.0.1").has(Triggers::DOTTED));
        assert!(t("fe80::1").has(Triggers::IPV6));
        assert!(t("$2b$12$abc").has(Triggers::SECRET));
        assert!(t("-----BEGIN PRIVATE KEY-----").has(Triggers::SECRET));
        assert!(t("ghp_abcdefghijklmnop1234").has(Triggers::SECRET));
        assert!(t("password=x").has(Triggers::ASSIGN));
    }
}
