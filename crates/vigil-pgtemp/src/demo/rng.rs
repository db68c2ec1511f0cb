//! A tiny seeded PRNG (SplitMix64) so the demo dataset is byte-for-byte the
//! same on every machine and run, without pulling in `rand`.

/// Deterministic generator; the same seed gives the same dataset forever.
#[derive(Debug, Clone)]
pub(crate) struct Rng {
    state: u64,
}

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        Rng { state: seed }
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform-enough integer in `lo..=hi` (modulo bias is irrelevant for fake data).
    pub(crate) fn range(&mut self, lo: u64, hi: u64) -> u64 {
        let span = hi.saturating_sub(lo).saturating_add(1);
        lo.saturating_add(self.next_u64() % span.max(1))
    }

    /// One element of a non-empty slice; `fallback` for an empty one.
    pub(crate) fn pick<'a>(&mut self, items: &[&'a str], fallback: &'a str) -> &'a str {
        let len = items.len() as u64;
        if len == 0 {
            return fallback;
        }
        let i = usize::try_from(self.next_u64() % len).unwrap_or(0);
        items.get(i).copied().unwrap_or(fallback)
    }

    /// `n` decimal digits as text (leading zeros allowed).
    pub(crate) fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + (self.next_u64() % 10) as u8))
            .collect()
    }

    /// `n` characters drawn from `alphabet` (ASCII).
    pub(crate) fn chars_from(&mut self, alphabet: &[u8], n: usize) -> String {
        let len = alphabet.len() as u64;
        (0..n)
            .map(|_| {
                let i = usize::try_from(self.next_u64() % len.max(1)).unwrap_or(0);
                char::from(alphabet.get(i).copied().unwrap_or(b'x'))
            })
            .collect()
    }

    /// True with probability `percent`/100.
    pub(crate) fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream_and_ranges_hold() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        assert_eq!(a.next_u64(), b.next_u64());
        for _ in 0..1000 {
            let v = a.range(3, 5);
            assert!((3..=5).contains(&v));
        }
        assert_eq!(a.digits(12).len(), 12);
        assert!(a.digits(12).chars().all(|c| c.is_ascii_digit()));
    }
}
