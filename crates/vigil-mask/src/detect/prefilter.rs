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
    /// Seven digits in one stretch of digits and number punctuation: a
    /// card, phone or SSN token could be present.
    pub(crate) const DIGIT_RUN: u16 = 1 << 8;
    /// `UPPER`, and two capitals followed by two digits somewhere.
    pub(crate) const IBAN_SHAPE: u16 = 1 << 9;

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

/// Token runs long enough to hold a prefixed credential: the shortest
/// confirmable one, a JWT (`eyJ` + 5, `.`, 1, `.`), is 11 bytes.
pub(crate) const MIN_RUN: usize = 11;
/// Runs remembered per value; a value with more is scanned whole.
const MAX_RUNS: usize = 4;

/// One maximal run of credential characters (`TOKEN`), `[start, end)`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Run {
    pub(crate) start: usize,
    pub(crate) end: usize,
    /// Holds a byte of `g-z`, `G-Z` or `_`. Every prefix the secret
    /// automaton knows has one, so a run of hex digits, dashes and dots
    /// (a digest, a UUID, a version) cannot hold a prefixed credential.
    pub(crate) wordy: bool,
    /// Only base64 bytes: the run is one base64 run.
    pub(crate) base64: bool,
}

impl Run {
    pub(crate) fn len(&self) -> usize {
        self.end - self.start
    }
}

/// The token runs of at least [`MIN_RUN`] bytes, when they were all
/// recorded.
#[derive(Debug, Clone, Default)]
pub(crate) struct Runs {
    runs: [Run; MAX_RUNS],
    len: usize,
    /// All runs of `MIN_RUN`+ bytes are in `runs` (false when the value
    /// was not run-scanned or had more than `MAX_RUNS`).
    complete: bool,
}

impl Runs {
    /// Every run of `MIN_RUN`+ bytes, or `None`: scan the whole value.
    pub(crate) fn all(&self) -> Option<&[Run]> {
        self.complete.then(|| self.runs.get(..self.len)).flatten()
    }

    fn push(&mut self, run: Run) {
        match self.runs.get_mut(self.len) {
            Some(slot) => {
                *slot = run;
                self.len += 1;
            }
            None => self.complete = false,
        }
    }
}

/// What one pass over a value learnt: the families to run, and where the
/// token-run families have to look.
#[derive(Debug, Clone, Default)]
pub(crate) struct Scan {
    pub(crate) triggers: Triggers,
    pub(crate) runs: Runs,
    /// A `$` or five dashes: a prefix outside the token alphabet (crypt
    /// hashes, `SCRAM-SHA-256$`, `-----BEGIN `) may be present, so the
    /// prefix automaton scans the whole value.
    pub(crate) odd_prefix: bool,
}

impl Scan {
    /// Where the prefix automaton must look (`None`: everywhere).
    pub(crate) fn prefix_runs(&self) -> Option<&[Run]> {
        if self.odd_prefix {
            return None;
        }
        self.runs.all()
    }
}

/// Scans `text` once and reports the families that could match.
#[cfg(test)]
pub(crate) fn scan(text: &[u8]) -> Triggers {
    scan_runs(text).triggers
}

/// Scans `text`: the families that could match, and its long token runs.
/// The byte counts take one pass; values that could hold a number, an
/// IBAN or a credential take a second one ([`shapes`]).
pub(crate) fn scan_runs(text: &[u8]) -> Scan {
    let c = count(text);
    let letters = c.upper + c.lower;
    let alnum = letters + c.digits + c.word_punct;
    let mut t = 0;
    let mut set = |cond: bool, bit: u16| {
        if cond {
            t |= bit;
        }
    };
    // Every prefixed credential is 20+ characters, mostly letters and
    // digits; PEM armour has ten dashes; crypt hashes start with `$`.
    let candidate = alnum >= 16 && text.len() >= 20 && letters > 0 && (c.digits + c.dash) > 0;
    let upper = c.upper >= 2 && c.digits >= 10;
    let mut runs = Runs::default();
    // The second pass does only what the counts leave open. A short value
    // costs the families little wherever they look: only the longest
    // token run is measured, and they scan it whole.
    let sh = match (c.digits >= 7 || candidate, candidate, upper) {
        (false, _, _) => Shapes::default(),
        _ if text.len() < NARROW_FROM => Shapes {
            digit_stretch: if c.digits >= 7 { c.digits } else { 0 },
            iban_shape: true,
            longest_run: if candidate {
                longest_token_run(text)
            } else {
                0
            },
        },
        (true, true, true) => shapes::<true, true>(text, &mut runs),
        (true, true, false) => shapes::<true, false>(text, &mut runs),
        (true, false, true) => shapes::<false, true>(text, &mut runs),
        (true, false, false) => shapes::<false, false>(text, &mut runs),
    };
    set(c.at > 0, Triggers::EMAIL);
    set(c.digits >= 7, Triggers::NUMERIC);
    set(c.digits >= 7 && sh.digit_stretch >= 7, Triggers::DIGIT_RUN);
    set(c.digits >= 4 && c.dot >= 3, Triggers::DOTTED);
    set(upper, Triggers::UPPER);
    set(upper && sh.iban_shape, Triggers::IBAN_SHAPE);
    let double_colon = c.colon >= 2 && text.windows(2).any(|w| w == b"::");
    set(c.colon >= 7 || double_colon, Triggers::IPV6);
    let run = if candidate { sh.longest_run } else { 0 };
    let tokenish = run >= 20;
    set(c.dollar || c.dash >= 10 || tokenish, Triggers::SECRET);
    // 40 random base64 characters hold a few of each class.
    let b64 = run >= 40 && c.upper >= 4 && c.lower >= 4 && c.digits >= 1;
    set(b64, Triggers::B64_40);
    set((c.colon > 0 || c.equals) && letters >= 5, Triggers::ASSIGN);
    Scan {
        triggers: Triggers(t),
        runs,
        odd_prefix: c.dollar || c.dash >= 5,
    }
}

/// Per byte, the classes the second pass follows (bits).
static KIND: [u8; 256] = build_kind();
const K_DIGIT: u8 = 1;
/// What joins digit groups in a numeric token (and a leading `+`, `(`).
const K_NUM_PUNCT: u8 = 2;
/// The credential alphabets: base64, base64url, JWT dots, padding.
const K_TOKEN: u8 = 4;
/// `g-z`, `G-Z`, `_`: every prefix the secret automaton knows holds one.
const K_WORDY: u8 = 8;
const K_UPPER: u8 = 16;
/// Token bytes outside base64 (`_`, `-`, `=`, `.`).
const K_NOT_B64: u8 = 32;

const fn build_kind() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut b = 0usize;
    while b < 256 {
        let c = b as u8;
        let mut k = 0;
        if c.is_ascii_digit() {
            k |= K_DIGIT;
        }
        if matches!(c, b' ' | b'-' | b'.' | b'/' | b'(' | b')' | b'+') {
            k |= K_NUM_PUNCT;
        }
        if c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'+' | b'/' | b'=' | b'.') {
            k |= K_TOKEN;
        }
        if matches!(c, b'g'..=b'z' | b'G'..=b'Z' | b'_') {
            k |= K_WORDY;
        }
        if c.is_ascii_uppercase() {
            k |= K_UPPER;
        }
        if matches!(c, b'_' | b'-' | b'=' | b'.') {
            k |= K_NOT_B64;
        }
        t[b] = k;
        b += 1;
    }
    t
}

/// What the second pass learnt.
#[derive(Debug, Default)]
struct Shapes {
    /// The most digits in one stretch of digits and number punctuation.
    /// A numeric token (digit groups joined by single separators) lies
    /// inside one stretch, so a card, phone or SSN needs 7+ here; digits
    /// scattered among letters (hex digests) never add up.
    digit_stretch: u32,
    /// Two capitals then two digits somewhere: where an IBAN starts.
    iban_shape: bool,
    /// The longest token run that is not a canonical UUID (counted only
    /// from `MIN_RUN` bytes up: the thresholds are 20 and 40).
    longest_run: usize,
}

/// Values shorter than this are not narrowed (see [`scan_runs`]).
const NARROW_FROM: usize = 96;

/// The longest token run that is not a canonical UUID. One pass; work
/// happens only where a run ends.
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
        if KIND.get(usize::from(b)).copied().unwrap_or(0) & K_TOKEN == 0 {
            consider(start, i);
            start = i + 1;
        }
    }
    consider(start.min(text.len()), text.len());
    best
}

/// One branch-free pass (but at the end of a long token run): digit
/// stretches, and if asked the IBAN shape and the token runs of
/// `MIN_RUN`+ bytes (recorded into `runs`).
fn shapes<const RUNS: bool, const IBAN: bool>(text: &[u8], runs: &mut Runs) -> Shapes {
    runs.complete = RUNS;
    let mut sh = Shapes::default();
    let mut stretch = 0u32;
    // The classes of the last four bytes, two bits each (1 capital, 2 digit).
    let mut window = 0u32;
    let mut iban = false;
    let (mut run, mut wordy, mut not_b64) = (0usize, 0u8, 0u8);
    for (i, &b) in text.iter().enumerate() {
        let k = KIND.get(usize::from(b)).copied().unwrap_or(0);
        let digit = u32::from(k & K_DIGIT);
        stretch = (stretch + digit) * u32::from(k & (K_DIGIT | K_NUM_PUNCT) != 0);
        sh.digit_stretch = sh.digit_stretch.max(stretch);
        if IBAN {
            window = ((window << 2) | u32::from((k & K_UPPER) >> 4) | (digit << 1)) & 0xff;
            iban |= window == 0b01_01_10_10;
        }
        if RUNS {
            let token = k & K_TOKEN != 0;
            if !token && run >= MIN_RUN {
                end_run(text, i - run, i, wordy, not_b64, runs, &mut sh.longest_run);
            }
            let keep = 0u8.wrapping_sub(u8::from(token));
            run = (run + 1) * usize::from(token);
            wordy = (wordy | (k & K_WORDY)) & keep;
            not_b64 = (not_b64 | (k & K_NOT_B64)) & keep;
        }
    }
    if RUNS && run >= MIN_RUN {
        let end = text.len();
        end_run(
            text,
            end - run,
            end,
            wordy,
            not_b64,
            runs,
            &mut sh.longest_run,
        );
    }
    sh.iban_shape = iban;
    sh
}

fn end_run(
    text: &[u8],
    start: usize,
    end: usize,
    wordy: u8,
    not_b64: u8,
    runs: &mut Runs,
    longest: &mut usize,
) {
    runs.push(Run {
        start,
        end,
        wordy: wordy != 0,
        base64: not_b64 == 0,
    });
    let len = end - start;
    if len > *longest && !(len == 36 && text.get(start..end).is_some_and(super::shape::is_uuid)) {
        *longest = len;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Triggers {
        scan(s.as_bytes())
    }

    /// Long enough to be narrowed (spaces change no count that matters).
    fn long(s: &str) -> String {
        format!("{s}{}", " ".repeat(NARROW_FROM))
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
        assert!(t("(415) 555-1234").has(Triggers::DIGIT_RUN));
        assert!(t("4111 1111 1111 1111").has(Triggers::DIGIT_RUN));
    }

    #[test]
    fn digits_glued_to_letters_are_no_number() {
        let hex = t(&long(
            "Notes: 3f2a9c81d4e5b6a79c8d1e2f3a4b5c6d and 12 34 56",
        ));
        assert!(
            hex.has(Triggers::NUMERIC) && !hex.has(Triggers::DIGIT_RUN),
            "{hex:?}"
        );
        assert!(!t(&long("key a1b2c3d4e5f6g7h8i9")).has(Triggers::DIGIT_RUN));
        // Short values are not narrowed: 7 digits anywhere will do.
        assert!(t("key a1b2c3d4e5f6g7h8i9").has(Triggers::DIGIT_RUN));
    }

    #[test]
    fn iban_shape_needs_two_capitals_then_two_digits() {
        assert!(t(&long("iban DE89 3704 0044 0532 0130 00")).has(Triggers::IBAN_SHAPE));
        let note = t(&long(
            "Customer 12 of Example Street. Notes: 3f2a9c81d4e5b6a79c8d1e2f3a4b",
        ));
        assert!(
            note.has(Triggers::UPPER) && !note.has(Triggers::IBAN_SHAPE),
            "{note:?}"
        );
    }

    #[test]
    fn long_token_runs_are_recorded_with_their_letters() {
        let v = long("see ghp_abcdefghijklmnopqrstuvwxyz0123456789 and 0123456789abcdef0123 x");
        let v = v.as_bytes();
        let s = scan_runs(v);
        let runs = s.runs.all().unwrap();
        assert_eq!(runs.len(), 2, "{runs:?}");
        assert!(runs[0].wordy && !runs[1].wordy);
        assert!(!runs[0].base64 && runs[1].base64);
        assert_eq!(&v[runs[1].start..runs[1].end], b"0123456789abcdef0123");
        assert!(s.prefix_runs().is_some());
        // A `$` may start a crypt hash anywhere: scan everything.
        let crypt = long("$2b$12$ghp_abcdefghijklmnopqrstuvwxyz");
        assert!(scan_runs(crypt.as_bytes()).prefix_runs().is_none());
        // More long runs than remembered: scan everything.
        let many = long(&"abcdefghijkl0 ".repeat(MAX_RUNS + 1));
        assert!(scan_runs(many.as_bytes()).runs.all().is_none());
        // A short value is scanned whole.
        assert!(scan_runs(b"ghp_abcdefghijklmnopqrstuvwxyz0123456789")
            .runs
            .all()
            .is_none());
    }
}
