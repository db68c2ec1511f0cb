//! Digit stretches: maximal runs of digits and number punctuation
//! (` -./()+`, the `num` class of [`bytemask`]) holding 7+ digits.
//!
//! A numeric token (a leading `+` or `(`, digit groups joined by single
//! separators) is made of these bytes only, so it lies inside one stretch
//! and has at most that stretch's digits: a card, phone or SSN can only be
//! found in a stretch of 7+ digits. Knowing where those are lets the
//! numeric walk skip the rest of a long value (a hex digest's digits are
//! split by its letters and never add up).

use super::super::bytemask;
use super::{below, inner_runs};

/// Digits a stretch needs to hold a card, phone or SSN token.
pub(crate) const MIN_DIGITS: u32 = 7;
/// Stretches remembered per value; a value with more is walked whole.
const MAX_STRETCHES: usize = 4;

/// One stretch, `[start, end)`: the byte before `start` (if any) and the
/// byte at `end` (if any) are outside the class. Offsets are `u32` to keep
/// [`super::Scan`] small, which every value returns (a value past 4 GiB
/// is walked whole).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Stretch {
    start: u32,
    end: u32,
}

impl Stretch {
    /// `(start, end)`.
    pub(crate) fn range(self) -> (usize, usize) {
        (self.start as usize, self.end as usize)
    }
}

/// The stretches of 7+ digits, in order, when they were all recorded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Stretches {
    list: [Stretch; MAX_STRETCHES],
    len: u8,
    /// Every stretch of 7+ digits is in `list` (false when the value was
    /// not narrowed or had more than `MAX_STRETCHES`).
    complete: bool,
}

impl Stretches {
    /// None recorded yet, complete so far.
    pub(super) fn new() -> Stretches {
        Stretches {
            complete: true,
            ..Stretches::default()
        }
    }

    /// Every stretch of 7+ digits, or `None`: walk the whole value.
    pub(crate) fn all(&self) -> Option<&[Stretch]> {
        self.complete
            .then(|| self.list.get(..usize::from(self.len)))
            .flatten()
    }

    /// Records `[start, end)`.
    pub(super) fn push(&mut self, start: usize, end: usize) {
        let slot = self.list.get_mut(usize::from(self.len));
        match (slot, u32::try_from(start), u32::try_from(end)) {
            (Some(slot), Ok(start), Ok(end)) => {
                *slot = Stretch { start, end };
                self.len += 1;
            }
            _ => self.complete = false,
        }
    }
}

/// Follows the stretches across a value's blocks.
pub(super) struct Tracker {
    /// Where the stretch still open at the end of the last block starts,
    /// and the digits it holds so far.
    open_start: usize,
    open_digits: u32,
    /// Some stretch holds 7+ digits (recorded or not).
    pub(super) found: bool,
    pub(super) stretches: Stretches,
}

impl Tracker {
    pub(super) fn new() -> Tracker {
        Tracker {
            open_start: 0,
            open_digits: 0,
            found: false,
            stretches: Stretches::new(),
        }
    }

    /// The block at offset `base`.
    #[inline(always)]
    pub(super) fn block(&mut self, base: usize, b: &bytemask::Block) {
        let (digit, breaks) = (b.digit, !b.num);
        if breaks == 0 {
            self.open_digits += digit.count_ones();
            return;
        }
        let last = 63 - breaks.leading_zeros();
        // Only with 7 digits in sight can a stretch ending here hold 7.
        if self.open_digits + digit.count_ones() >= MIN_DIGITS {
            self.ending_in(base, digit, breaks, last);
        }
        self.open_start = base + last as usize + 1;
        self.open_digits = digit.checked_shr(last + 1).unwrap_or(0).count_ones();
    }

    /// The stretches that end in this block (at one of its `breaks`).
    #[inline(always)]
    fn ending_in(&mut self, base: usize, digit: u64, breaks: u64, last: u32) {
        // The open stretch ends at the first break.
        let first = breaks.trailing_zeros();
        let head = self.open_digits + (digit & below(first)).count_ones();
        self.close(self.open_start, base + first as usize, head);
        // Stretches between the first and the last break (a stretch of
        // fewer than 7 bytes cannot hold 7 digits).
        for (start, end) in inner_runs::<MIN_DIGITS>(breaks, first, last) {
            let digits = (digit & !below(start) & below(end)).count_ones();
            self.close(base + start as usize, base + end as usize, digits);
        }
    }

    /// Closes the stretch still open where the value ends.
    pub(super) fn finish(&mut self, len: usize) {
        self.close(self.open_start, len, self.open_digits);
    }

    fn close(&mut self, start: usize, end: usize, digits: u32) {
        if digits >= MIN_DIGITS {
            self.found = true;
            self.stretches.push(start, end);
        }
    }
}
