//! The prefilter as it was written first: a table-driven count pass and a
//! byte-by-byte shape pass. Kept as the reference the mask-based
//! [`super::scan_runs`] is tested against.

use super::stretch::MIN_DIGITS;
use super::{count, Run, Runs, Scan, Stretches, Triggers, MIN_RUN, NARROW_FROM};

/// Scans `text`: the families that could match, and its long token runs.
/// The byte counts take one pass; values that could hold a number, an
/// IBAN or a credential take a second one ([`shapes`]).
pub(super) fn scan_runs(text: &[u8]) -> Scan {
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
            stretches: Stretches::default(),
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
    let digit_run = c.digits >= 7 && sh.digit_stretch >= 7;
    set(c.at > 0, Triggers::EMAIL);
    set(c.digits >= 7, Triggers::NUMERIC);
    set(digit_run, Triggers::DIGIT_RUN);
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
    let stretches = match digit_run {
        true => sh.stretches,
        false => Stretches::default(),
    };
    Scan {
        triggers: Triggers(t),
        runs,
        stretches,
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
    /// The stretches of 7+ digits (values of `NARROW_FROM`+ bytes).
    stretches: Stretches,
    /// Two capitals then two digits somewhere: where an IBAN starts.
    iban_shape: bool,
    /// The longest token run that is not a canonical UUID (counted only
    /// from `MIN_RUN` bytes up: the thresholds are 20 and 40).
    longest_run: usize,
}

/// The longest token run that is not a canonical UUID. One pass; work
/// happens only where a run ends.
fn longest_token_run(text: &[u8]) -> usize {
    let mut best = 0;
    let mut start = 0;
    let mut consider = |from: usize, to: usize| {
        let run = to - from;
        if run > best
            && !(run == 36
                && text
                    .get(from..to)
                    .is_some_and(crate::detect::shape::is_uuid))
        {
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
    let mut sh = Shapes {
        stretches: Stretches::new(),
        ..Shapes::default()
    };
    let mut stretch = 0u32;
    let mut stretch_start = 0;
    // The classes of the last four bytes, two bits each (1 capital, 2 digit).
    let mut window = 0u32;
    let mut iban = false;
    let (mut run, mut wordy, mut not_b64) = (0usize, 0u8, 0u8);
    for (i, &b) in text.iter().enumerate() {
        let k = KIND.get(usize::from(b)).copied().unwrap_or(0);
        let digit = u32::from(k & K_DIGIT);
        let num = k & (K_DIGIT | K_NUM_PUNCT) != 0;
        if !num {
            if stretch >= MIN_DIGITS {
                sh.stretches.push(stretch_start, i);
            }
            stretch_start = i + 1;
        }
        stretch = (stretch + digit) * u32::from(num);
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
    if stretch >= MIN_DIGITS {
        sh.stretches.push(stretch_start, text.len());
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
    if len > *longest
        && !(len == 36
            && text
                .get(start..end)
                .is_some_and(crate::detect::shape::is_uuid))
    {
        *longest = len;
    }
}
