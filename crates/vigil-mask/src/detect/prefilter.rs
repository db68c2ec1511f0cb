//! One cheap pass over a value that says which detector families could
//! possibly match, and where: the bytes are classified into bit masks and
//! counts ([`bytemask`], SSE2 on x86_64), so most outbound values — ids,
//! names, prices, statuses — trip no family and no detector runs at all.

use super::bytemask;

#[cfg(test)]
mod reference;
mod stretch;

pub(crate) use stretch::{Stretch, Stretches};

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
#[derive(Debug, Clone, Default, PartialEq, Eq)]
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
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Scan {
    pub(crate) triggers: Triggers,
    pub(crate) runs: Runs,
    /// Where the numeric tokens of 7+ digits can be (recorded when the
    /// value is narrowed and `DIGIT_RUN` is set).
    pub(crate) stretches: Stretches,
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

/// Every prefixed credential is this long or longer.
const CANDIDATE_LEN: usize = 20;

/// Values shorter than this are not narrowed (see [`scan_runs`]).
const NARROW_FROM: usize = 96;

/// Scans `text`: the families that could match, and its long token runs.
/// One pass classifies the bytes into bit masks ([`bytemask`]); the
/// counts come from them, and so do the shapes (digit stretches, the IBAN
/// shape, token runs), a few word operations per 64 bytes.
pub(crate) fn scan_runs(text: &[u8]) -> Scan {
    let (c, sh) = match text.len() < CANDIDATE_LEN {
        // Too short for a credential candidate and for narrowing: only
        // the counts matter, and one table pass is cheapest. (No empty
        // `Shapes` either: these are most values, and filling one in and
        // moving its runs and stretches costs about as much as counting.)
        true => (count(text), None),
        false => {
            let (c, sh) = masked(text);
            (c, Some(sh))
        }
    };
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
    let candidate =
        alnum >= 16 && text.len() >= CANDIDATE_LEN && letters > 0 && (c.digits + c.dash) > 0;
    let upper = c.upper >= 2 && c.digits >= 10;
    let longest = sh.as_ref().map_or(0, |sh| sh.longest);
    // A short value costs the families little wherever they look: it is
    // not narrowed (any 7 digits are a digit run, any capitals an IBAN
    // shape) and its runs and stretches are not handed on; the families
    // scan it whole.
    let narrowed = sh.filter(|_| text.len() >= NARROW_FROM);
    let digit_run = c.digits >= 7 && narrowed.as_ref().is_none_or(|sh| sh.digits.found);
    let iban_shape = narrowed.as_ref().is_none_or(|sh| sh.iban);
    let (runs, stretches) = match narrowed {
        Some(sh) => (
            if candidate { sh.runs } else { Runs::default() },
            if digit_run {
                sh.digits.stretches
            } else {
                Stretches::default()
            },
        ),
        None => (Runs::default(), Stretches::default()),
    };
    set(c.at > 0, Triggers::EMAIL);
    set(c.digits >= 7, Triggers::NUMERIC);
    set(digit_run, Triggers::DIGIT_RUN);
    set(c.digits >= 4 && c.dot >= 3, Triggers::DOTTED);
    set(upper, Triggers::UPPER);
    set(upper && iban_shape, Triggers::IBAN_SHAPE);
    let double_colon = c.colon >= 2 && text.windows(2).any(|w| w == b"::");
    set(c.colon >= 7 || double_colon, Triggers::IPV6);
    let run = if candidate { longest } else { 0 };
    let tokenish = run >= 20;
    set(c.dollar || c.dash >= 10 || tokenish, Triggers::SECRET);
    // 40 random base64 characters hold a few of each class.
    let b64 = run >= 40 && c.upper >= 4 && c.lower >= 4 && c.digits >= 1;
    set(b64, Triggers::B64_40);
    set((c.colon > 0 || c.equals) && letters >= 5, Triggers::ASSIGN);
    Scan {
        triggers: Triggers(t),
        runs,
        stretches,
        odd_prefix: c.dollar || c.dash >= 5,
    }
}

/// The counts and the shapes of `text`, from its byte masks.
fn masked(text: &[u8]) -> (Counts, Shapes) {
    let mut sh = Shapes::new();
    let (mut digits, mut upper) = (0u32, 0u32);
    let tally = bytemask::for_each_block(
        text,
        #[inline(always)]
        |b| {
            digits += b.digit.count_ones();
            upper += b.upper.count_ones();
            sh.block(text, b);
        },
    );
    sh.finish(text);
    let c = Counts {
        digits,
        upper,
        lower: tally.lower,
        dot: tally.dot,
        colon: tally.colon,
        dash: tally.dash,
        word_punct: tally.word_punct,
        at: tally.at,
        dollar: tally.dollar > 0,
        equals: tally.equals > 0,
    };
    (c, sh)
}

/// The shapes, followed block by block across the value.
struct Shapes {
    /// Offset of the next block.
    base: usize,
    /// The stretches of digits and number punctuation holding 7+ digits
    /// (see [`stretch`]).
    digits: stretch::Tracker,
    /// Two capitals then two digits somewhere: where an IBAN starts.
    iban: bool,
    prev_upper: u64,
    prev_digit: u64,
    /// The token run still open at the end of the last block: its length
    /// and whether it holds a wordy or a non-base64 byte.
    open: usize,
    open_wordy: bool,
    open_not_b64: bool,
    /// The token runs of `MIN_RUN`+ bytes.
    runs: Runs,
    /// The longest of them that is not a canonical UUID (the thresholds
    /// are 20 and 40, so shorter runs need not be measured).
    longest: usize,
}

/// Bits `0..n` (`n` < 64).
fn below(n: u32) -> u64 {
    (1u64 << (n & 63)) - 1
}

/// The runs of `MIN`+ bytes lying wholly inside one block: the runs of
/// `!breaks` between its first break `first` and its last `last`, as bit
/// ranges `[start, end)` (each ends at a break). Used for the token runs
/// and the digit stretches alike.
#[inline(always)]
fn inner_runs<const MIN: u32>(
    breaks: u64,
    first: u32,
    last: u32,
) -> impl Iterator<Item = (u32, u32)> {
    let mid = !breaks & !below(first) & below(last);
    // Bit i of `long` says bytes i..i+MIN are all in a run, so the lowest
    // one of each run of `MIN`+ bytes is where that run starts. (A
    // constant trip count: the loop unrolls to a few shifts.)
    let (mut long, mut covered) = (mid, 1);
    while covered < MIN {
        let k = covered.min(MIN - covered);
        long &= long >> k;
        covered += k;
    }
    std::iter::from_fn(move || {
        if long == 0 {
            return None;
        }
        let start = long.trailing_zeros();
        // A break follows: `last` lies past every bit of `mid`.
        let end = (breaks & !below(start)).trailing_zeros();
        long &= !below(end);
        Some((start, end))
    })
}

impl Shapes {
    fn new() -> Shapes {
        Shapes {
            base: 0,
            digits: stretch::Tracker::new(),
            iban: false,
            prev_upper: 0,
            prev_digit: 0,
            open: 0,
            open_wordy: false,
            open_not_b64: false,
            runs: Runs {
                complete: true,
                ..Runs::default()
            },
            longest: 0,
        }
    }

    #[inline(always)]
    fn block(&mut self, text: &[u8], b: &bytemask::Block) {
        self.digits.block(self.base, b);
        if !self.iban {
            // Ending at bit j: capitals at j-3 and j-2, digits at j-1 and j.
            let back = |cur: u64, prev: u64, k: u32| (cur << k) | (prev >> (64 - k));
            let (u, pu, d, pd) = (b.upper, self.prev_upper, b.digit, self.prev_digit);
            self.iban = back(u, pu, 3) & back(u, pu, 2) & back(d, pd, 1) & d != 0;
        }
        self.prev_upper = b.upper;
        self.prev_digit = b.digit;
        self.token_runs(text, b);
        self.base += 64;
    }

    #[inline(always)]
    fn token_runs(&mut self, text: &[u8], b: &bytemask::Block) {
        let t = b.token;
        if t == !0 {
            self.open += 64;
            self.open_wordy |= b.wordy != 0;
            self.open_not_b64 |= b.not_b64 != 0;
            return;
        }
        let breaks = !t;
        // The run that started before this block (or at its start).
        let first = breaks.trailing_zeros();
        let len = self.open + first as usize;
        if len >= MIN_RUN {
            let m = below(first);
            let end = self.base + first as usize;
            let wordy = self.open_wordy || b.wordy & m != 0;
            let not_b64 = self.open_not_b64 || b.not_b64 & m != 0;
            self.end_run(text, end.saturating_sub(len), end, wordy, not_b64);
        }
        // Runs between the first and the last break.
        let last = 63 - breaks.leading_zeros();
        for (start, end) in inner_runs::<{ MIN_RUN as u32 }>(breaks, first, last) {
            let m = !below(start) & below(end);
            let at = self.base;
            self.end_run(
                text,
                at + start as usize,
                at + end as usize,
                b.wordy & m != 0,
                b.not_b64 & m != 0,
            );
        }
        // The run open at the end of this block.
        let tail = (!0u64).checked_shl(last + 1).unwrap_or(0);
        self.open = (63 - last) as usize;
        self.open_wordy = b.wordy & tail != 0;
        self.open_not_b64 = b.not_b64 & tail != 0;
    }

    /// Closes the run still open where the value ends.
    fn finish(&mut self, text: &[u8]) {
        self.digits.finish(text.len());
        if self.open >= MIN_RUN {
            let end = text.len();
            let (w, n) = (self.open_wordy, self.open_not_b64);
            self.end_run(text, end.saturating_sub(self.open), end, w, n);
        }
    }

    fn end_run(&mut self, text: &[u8], start: usize, end: usize, wordy: bool, not_b64: bool) {
        self.runs.push(Run {
            start,
            end,
            wordy,
            base64: !not_b64,
        });
        let len = end.saturating_sub(start);
        if len > self.longest
            && !(len == 36 && text.get(start..end).is_some_and(super::shape::is_uuid))
        {
            self.longest = len;
        }
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

    #[test]
    fn stretches_of_seven_digits_are_recorded() {
        // 7 digits across a block boundary, a phone, a hex digest's
        // scattered digits and a stretch ending the value.
        let v = format!(
            "{}12 3456 7x call (415) 555-1234, ref 3f2a9c81d4e5b6a7f +1 555 0100 200",
            "n".repeat(60)
        );
        let s = scan_runs(v.as_bytes());
        assert!(s.triggers.has(Triggers::DIGIT_RUN));
        let found: Vec<&str> = s
            .stretches
            .all()
            .unwrap()
            .iter()
            .map(|r| {
                let (start, end) = r.range();
                &v[start..end]
            })
            .collect();
        assert_eq!(found, ["12 3456 7", " (415) 555-1234", " +1 555 0100 200"]);
        // More stretches than remembered: walk everything.
        let many = long(&"x 555-1234 ".repeat(5));
        let s = scan_runs(many.as_bytes());
        assert!(s.triggers.has(Triggers::DIGIT_RUN) && s.stretches.all().is_none());
        // Short values are walked whole.
        assert!(scan_runs(b"call (415) 555-1234").stretches.all().is_none());
    }

    /// The mask-based scan and the byte-by-byte reference agree on every
    /// byte value and on generated values of many lengths and shapes
    /// (runs across block boundaries, digit stretches, IBAN shapes).
    #[test]
    fn masks_agree_with_the_reference() {
        let same = |v: &[u8]| assert_eq!(scan_runs(v), reference::scan_runs(v), "{v:?}");
        let all: Vec<u8> = (0..=255u8).collect();
        same(&all);
        for b in 0..=255u8 {
            for len in [1, 7, 11, 20, 40, 63, 64, 65, 96, 128, 200] {
                same(&vec![b; len]);
            }
        }
        const PIECES: &[&str] = &[
            "ghp_",
            "AKIA",
            "eyJ",
            "0123456789abcdef",
            "ABCDEFGHIJKLM",
            "abcdefghijklmnopqrstu",
            "4111 1111 1111 1111",
            "(415) 555-1234",
            "+44 20 7946 0958",
            "DE89",
            "QQ12",
            "550e8400-e29b-41d4-a716-446655440000",
            "a@b.co",
            "::",
            ":",
            "=",
            "$",
            "-----",
            "-",
            ".",
            "_",
            "/",
            "+",
            " ",
            "  ",
            ",",
            "\n",
            "1",
            "12",
            "1234567",
            "x",
            "Zz09",
            "é",
            "\u{0}",
            "\u{7f}",
            "(",
            ")",
        ];
        let mut next = crate::detect::xorshift(0x9e37_79b9_7f4a_7c15u64);
        let mut buf = Vec::new();
        let mut seen = [0usize; 8];
        for round in 0..60_000 {
            buf.clear();
            let target = (next() % 300) as usize;
            while buf.len() < target {
                match next() % 4 {
                    0 => buf.push(next() as u8),
                    _ => {
                        let piece = PIECES[(next() % PIECES.len() as u64) as usize];
                        for _ in 0..(1 + u64::from(next().is_multiple_of(6)) * (next() % 12)) {
                            buf.extend_from_slice(piece.as_bytes());
                        }
                    }
                }
            }
            // Every length up to the target, now and then: unaligned tails.
            if round % 50 == 0 {
                for n in 0..buf.len() {
                    same(&buf[..n]);
                    same(&buf[n..]);
                }
            }
            same(&buf);
            let s = scan_runs(&buf);
            let t = s.triggers;
            let runs = s.runs.all().map_or(0, <[Run]>::len);
            seen[0] += usize::from(runs > 0);
            seen[1] += usize::from(t.has(Triggers::NUMERIC) && !t.has(Triggers::DIGIT_RUN));
            seen[2] += usize::from(buf.len() >= NARROW_FROM && t.has(Triggers::DIGIT_RUN));
            seen[3] += usize::from(buf.len() >= NARROW_FROM && t.has(Triggers::IBAN_SHAPE));
            seen[4] += usize::from(t.has(Triggers::UPPER) && !t.has(Triggers::IBAN_SHAPE));
            seen[5] += usize::from(t.has(Triggers::B64_40));
            let stretches = s.stretches.all().map(<[Stretch]>::len);
            let digit_run = buf.len() >= NARROW_FROM && t.has(Triggers::DIGIT_RUN);
            seen[6] += usize::from(digit_run && stretches.is_some_and(|n| n > 1));
            seen[7] += usize::from(digit_run && stretches.is_none());
        }
        // The generator reaches every narrowed decision both ways.
        assert!(seen.iter().all(|&n| n > 100), "{seen:?}");
    }
}
