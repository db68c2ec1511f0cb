//! The byte classes the prefilter follows, as bit masks: one bit per byte,
//! 64 bytes per [`Block`], plus counts of the classes only counted. With
//! masks the prefilter's shape questions (digit stretches, the IBAN shape,
//! long token runs) cost a few word operations per 64 bytes instead of a
//! dependency chain per byte.
//!
//! On x86_64 the classes come from SSE2 (always present there) 16 bytes at
//! a time; elsewhere from a table, byte by byte. Both give the same masks
//! and counts (tested below over every byte value and many lengths).

/// Classes of 64 consecutive bytes: bit `i` is byte `64 * block + i`.
/// Bits past the end of the value are clear.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Block {
    /// `0-9`.
    pub(crate) digit: u64,
    /// Digits and what joins digit groups: ` -./()+`.
    pub(crate) num: u64,
    /// `A-Z`.
    pub(crate) upper: u64,
    /// The credential alphabets: `A-Za-z0-9_-+/=.`.
    pub(crate) token: u64,
    /// `g-z`, `G-Z`, `_`.
    pub(crate) wordy: u64,
    /// Token bytes outside base64: `_-=.`.
    pub(crate) not_b64: u64,
}

/// Counts of the classes the prefilter only counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Tally {
    pub(crate) lower: u32,
    pub(crate) dot: u32,
    pub(crate) colon: u32,
    pub(crate) dash: u32,
    /// `_`, `+`, `/`.
    pub(crate) word_punct: u32,
    pub(crate) at: u32,
    pub(crate) dollar: u32,
    pub(crate) equals: u32,
}

/// Calls `f` with the classes of each 64-byte block of `text` in order (the
/// last one partial) and returns the counts.
#[inline]
pub(crate) fn for_each_block(text: &[u8], f: impl FnMut(&Block)) -> Tally {
    #[cfg(target_arch = "x86_64")]
    {
        sse2::for_each_block(text, f)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        scalar::for_each_block(text, f)
    }
}

/// The portable version: one table lookup per byte.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
mod scalar {
    use super::{Block, Tally};

    const DIGIT: u16 = 1;
    const NUM: u16 = 1 << 1;
    const UPPER: u16 = 1 << 2;
    const TOKEN: u16 = 1 << 3;
    const WORDY: u16 = 1 << 4;
    const NOT_B64: u16 = 1 << 5;
    const LOWER: u16 = 1 << 6;
    const DOT: u16 = 1 << 7;
    const COLON: u16 = 1 << 8;
    const DASH: u16 = 1 << 9;
    const WORD_PUNCT: u16 = 1 << 10;
    const AT: u16 = 1 << 11;
    const DOLLAR: u16 = 1 << 12;
    const EQUALS: u16 = 1 << 13;

    static CLASS: [u16; 256] = build();

    const fn build() -> [u16; 256] {
        let mut t = [0u16; 256];
        let mut b = 0usize;
        while b < 256 {
            let c = b as u8;
            let mut k = 0;
            if c.is_ascii_digit() {
                k |= DIGIT | NUM;
            }
            if matches!(c, b' ' | b'-' | b'.' | b'/' | b'(' | b')' | b'+') {
                k |= NUM;
            }
            if c.is_ascii_uppercase() {
                k |= UPPER;
            }
            if c.is_ascii_lowercase() {
                k |= LOWER;
            }
            if c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'+' | b'/' | b'=' | b'.') {
                k |= TOKEN;
            }
            if matches!(c, b'g'..=b'z' | b'G'..=b'Z' | b'_') {
                k |= WORDY;
            }
            if matches!(c, b'_' | b'-' | b'=' | b'.') {
                k |= NOT_B64;
            }
            if matches!(c, b'_' | b'+' | b'/') {
                k |= WORD_PUNCT;
            }
            k |= match c {
                b'.' => DOT,
                b':' => COLON,
                b'-' => DASH,
                b'@' => AT,
                b'$' => DOLLAR,
                b'=' => EQUALS,
                _ => 0,
            };
            t[b] = k;
            b += 1;
        }
        t
    }

    pub(crate) fn for_each_block(text: &[u8], mut f: impl FnMut(&Block)) -> Tally {
        let mut tally = Tally::default();
        for chunk in text.chunks(64) {
            let mut blk = Block::default();
            for (i, &b) in chunk.iter().enumerate() {
                let k = CLASS.get(usize::from(b)).copied().unwrap_or(0);
                let bit = |class: u16| u64::from(k & class != 0) << i;
                let count = |class: u16| u32::from(k & class != 0);
                blk.digit |= bit(DIGIT);
                blk.num |= bit(NUM);
                blk.upper |= bit(UPPER);
                blk.token |= bit(TOKEN);
                blk.wordy |= bit(WORDY);
                blk.not_b64 |= bit(NOT_B64);
                tally.lower += count(LOWER);
                tally.dot += count(DOT);
                tally.colon += count(COLON);
                tally.dash += count(DASH);
                tally.word_punct += count(WORD_PUNCT);
                tally.at += count(AT);
                tally.dollar += count(DOLLAR);
                tally.equals += count(EQUALS);
            }
            f(&blk);
        }
        tally
    }
}

/// SSE2 (part of x86_64 itself, so no run-time detection): 16 bytes per
/// step, compared against each class at once.
#[cfg(target_arch = "x86_64")]
mod sse2 {
    use super::{Block, Tally};
    use std::arch::x86_64::{
        __m128i, _mm_add_epi64, _mm_cmpeq_epi8, _mm_cvtsi128_si64, _mm_loadu_si128, _mm_min_epu8,
        _mm_movemask_epi8, _mm_or_si128, _mm_sad_epu8, _mm_set1_epi8, _mm_setzero_si128,
        _mm_sub_epi8, _mm_unpackhi_epi64,
    };

    /// Blocks between flushes of the byte-wide counters: each lane grows
    /// by at most 4 per block, so 60 blocks stay below 256.
    const FLUSH_BLOCKS: usize = 60;

    /// The byte-wide counters of the counted classes (subtracting a
    /// compare result, -1 for a match, counts up).
    #[derive(Clone, Copy)]
    struct Acc([__m128i; 8]);

    impl Acc {
        #[target_feature(enable = "sse2")]
        fn new() -> Acc {
            Acc([_mm_setzero_si128(); 8])
        }

        #[target_feature(enable = "sse2")]
        fn flush(&mut self, t: &mut Tally) {
            let [lower, dot, colon, dash, word_punct, at, dollar, equals] = self.0;
            t.lower += sum(lower);
            t.dot += sum(dot);
            t.colon += sum(colon);
            t.dash += sum(dash);
            t.word_punct += sum(word_punct);
            t.at += sum(at);
            t.dollar += sum(dollar);
            t.equals += sum(equals);
            *self = Acc::new();
        }
    }

    /// The count in the byte-wide counters of `v`.
    #[target_feature(enable = "sse2")]
    #[inline]
    fn sum(v: __m128i) -> u32 {
        let s = _mm_sad_epu8(v, _mm_setzero_si128());
        let s = _mm_add_epi64(s, _mm_unpackhi_epi64(s, s));
        // At most 16 * 255 per flush: fits.
        _mm_cvtsi128_si64(s) as u32
    }

    #[target_feature(enable = "sse2")]
    #[inline]
    fn load(bytes: &[u8; 16]) -> __m128i {
        // SAFETY: `bytes` is 16 readable bytes, and the unaligned load has
        // no alignment requirement.
        unsafe { _mm_loadu_si128(bytes.as_ptr().cast()) }
    }

    /// Bytes in `lo..=hi` (-1) or not (0).
    #[target_feature(enable = "sse2")]
    #[inline]
    fn in_range(x: __m128i, lo: u8, hi: u8) -> __m128i {
        let y = _mm_sub_epi8(x, _mm_set1_epi8(lo as i8));
        _mm_cmpeq_epi8(_mm_min_epu8(y, _mm_set1_epi8((hi - lo) as i8)), y)
    }

    /// Six masks (16 bits each) of one 16-byte chunk; counts into `acc`.
    #[target_feature(enable = "sse2")]
    #[inline]
    fn chunk(bytes: &[u8; 16], acc: &mut Acc) -> [u64; 6] {
        let x = load(bytes);
        let eq = |b: u8| _mm_cmpeq_epi8(x, _mm_set1_epi8(b as i8));
        let or = |a, b| _mm_or_si128(a, b);
        let digit = in_range(x, b'0', b'9');
        let upper = in_range(x, b'A', b'Z');
        let lower = in_range(x, b'a', b'z');
        // `| 0x20` folds `G-Z` onto `g-z` and nothing else into it.
        let g_z = in_range(_mm_or_si128(x, _mm_set1_epi8(0x20)), b'g', b'z');
        let (dot, colon, dash, under) = (eq(b'.'), eq(b':'), eq(b'-'), eq(b'_'));
        let (plus, slash, at, dollar) = (eq(b'+'), eq(b'/'), eq(b'@'), eq(b'$'));
        let (equals, space, open, close) = (eq(b'='), eq(b' '), eq(b'('), eq(b')'));
        let word_punct = or(or(under, plus), slash);
        let not_b64 = or(or(under, dash), or(equals, dot));
        let token = or(or(or(digit, upper), or(lower, word_punct)), not_b64);
        let num = or(
            or(or(digit, space), or(dash, dot)),
            or(or(slash, plus), or(open, close)),
        );
        let wordy = or(g_z, under);
        let counted = [lower, dot, colon, dash, word_punct, at, dollar, equals];
        for (a, c) in acc.0.iter_mut().zip(counted) {
            *a = _mm_sub_epi8(*a, c);
        }
        // movemask's 16 bits, as a u64 to shift into a block.
        let bits = |v: __m128i| u64::from(_mm_movemask_epi8(v) as u16);
        [
            bits(digit),
            bits(num),
            bits(upper),
            bits(token),
            bits(wordy),
            bits(not_b64),
        ]
    }

    #[inline(always)]
    fn put(blk: &mut Block, m: [u64; 6], shift: u32) {
        let [digit, num, upper, token, wordy, not_b64] = m;
        blk.digit |= digit << shift;
        blk.num |= num << shift;
        blk.upper |= upper << shift;
        blk.token |= token << shift;
        blk.wordy |= wordy << shift;
        blk.not_b64 |= not_b64 << shift;
    }

    /// `f` is compiled into the loop: it should be `#[inline(always)]`,
    /// so it gets `popcnt` where the CPU has it.
    #[inline(always)]
    pub(crate) fn for_each_block(text: &[u8], f: impl FnMut(&Block)) -> Tally {
        if std::arch::is_x86_feature_detected!("popcnt") {
            // SAFETY: the CPU has POPCNT (checked just above), and SSE2
            // is part of the x86_64 baseline.
            unsafe { blocks_popcnt(text, f) }
        } else {
            // SAFETY: SSE2 is part of the x86_64 baseline: every x86_64
            // CPU has it.
            unsafe { blocks_sse2(text, f) }
        }
    }

    /// The loop, expanded into each entry point so that it (and `f`)
    /// compile with that entry point's features.
    macro_rules! blocks {
        ($text:expr, $f:expr) => {{
            let (text, mut f) = ($text, $f);
            let mut tally = Tally::default();
            let mut acc = Acc::new();
            let mut blocks = text.chunks_exact(64);
            let mut since_flush = 0;
            for b64 in blocks.by_ref() {
                let mut blk = Block::default();
                let (c16, _) = b64.as_chunks::<16>();
                for (k, c) in c16.iter().enumerate() {
                    put(&mut blk, chunk(c, &mut acc), 16 * k as u32);
                }
                f(&blk);
                since_flush += 1;
                if since_flush == FLUSH_BLOCKS {
                    acc.flush(&mut tally);
                    since_flush = 0;
                }
            }
            let rest = blocks.remainder();
            if !rest.is_empty() {
                let mut blk = Block::default();
                let (c16, tail) = rest.as_chunks::<16>();
                let mut shift = 0;
                for c in c16 {
                    put(&mut blk, chunk(c, &mut acc), shift);
                    shift += 16;
                }
                if !tail.is_empty() {
                    // Zero bytes belong to no class: the padding sets no bit.
                    let mut pad = [0u8; 16];
                    if let Some(dst) = pad.get_mut(..tail.len()) {
                        dst.copy_from_slice(tail);
                    }
                    put(&mut blk, chunk(&pad, &mut acc), shift);
                }
                f(&blk);
            }
            acc.flush(&mut tally);
            tally
        }};
    }

    #[target_feature(enable = "sse2,popcnt")]
    fn blocks_popcnt(text: &[u8], f: impl FnMut(&Block)) -> Tally {
        blocks!(text, f)
    }

    #[target_feature(enable = "sse2")]
    fn blocks_sse2(text: &[u8], f: impl FnMut(&Block)) -> Tally {
        blocks!(text, f)
    }

    /// The entry point without POPCNT, whatever the CPU has.
    #[cfg(test)]
    pub(crate) fn for_each_block_baseline(text: &[u8], f: impl FnMut(&Block)) -> Tally {
        // SAFETY: SSE2 is part of the x86_64 baseline.
        unsafe { blocks_sse2(text, f) }
    }
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;

    /// One implementation of [`for_each_block`].
    type Entry = fn(&[u8], &mut dyn FnMut(&Block)) -> Tally;

    fn collect(text: &[u8], run: Entry) -> (Vec<Block>, Tally) {
        let mut blocks = Vec::new();
        let tally = run(text, &mut |b: &Block| blocks.push(*b));
        (blocks, tally)
    }

    fn simd(text: &[u8], f: &mut dyn FnMut(&Block)) -> Tally {
        sse2::for_each_block(text, f)
    }

    fn baseline(text: &[u8], f: &mut dyn FnMut(&Block)) -> Tally {
        sse2::for_each_block_baseline(text, f)
    }

    fn table(text: &[u8], f: &mut dyn FnMut(&Block)) -> Tally {
        scalar::for_each_block(text, f)
    }

    fn same(text: &[u8]) {
        let expected = collect(text, table);
        assert_eq!(collect(text, simd), expected, "{text:?}");
        assert_eq!(collect(text, baseline), expected, "{text:?}");
    }

    #[test]
    fn simd_and_table_agree_on_every_byte() {
        let all: Vec<u8> = (0..=255u8).collect();
        same(&all);
        for b in 0..=255u8 {
            for len in [1, 15, 16, 17, 63, 64, 65] {
                same(&vec![b; len]);
            }
        }
    }

    #[test]
    fn simd_and_table_agree_on_generated_values() {
        let mut next = crate::detect::xorshift(0x2545_f491_4f6c_dd1du64);
        const INTERESTING: &[u8] = b"09AZaz_-+/=.:@$ ()gGfF\0\x7f\x80\xff";
        let mut buf = vec![0u8; 400];
        for round in 0..20_000 {
            let len = (next() % 300) as usize;
            for b in buf.iter_mut() {
                let r = next();
                *b = match r % 3 {
                    0 => r as u8 >> 3,
                    _ => INTERESTING[((r >> 8) % INTERESTING.len() as u64) as usize],
                };
            }
            // Unaligned starts: the slice need not start on any boundary.
            let start = round % 17;
            same(&buf[start..start + len]);
        }
        // Long enough to flush the byte counters more than once.
        let long: Vec<u8> = (0..20_000u32).map(|i| (i * 7 % 256) as u8).collect();
        same(&long);
        same(&vec![b'.'; 64 * 61 + 5]);
    }
}
