//! SHA-256 for the chain: record hashes, canonical-value digests, key ids.
//!
//! Backed by `ring`, already in the tree for TLS: its assembly routines
//! (SSSE3/AVX/SHA extensions, chosen at run time) hash a 1 KiB record about
//! 1.8× faster than the `sha2` crate's portable code on CPUs without the
//! SHA extensions (BENCHMARKS.md, "Audit", session 8). Hashing two records
//! per statement is on the write-ahead path.

/// An incremental SHA-256; `Clone` to hash several endings of one prefix.
#[derive(Clone)]
pub(crate) struct Sha256(ring::digest::Context);

impl Sha256 {
    pub(crate) fn new() -> Sha256 {
        Sha256(ring::digest::Context::new(&ring::digest::SHA256))
    }

    pub(crate) fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    /// The digest as 64 lowercase hex digits.
    pub(crate) fn finish_hex(self) -> String {
        hex::encode(self.0.finish())
    }

    /// Lowercase hex SHA-256 of `bytes`.
    pub(crate) fn hex_of(bytes: &[u8]) -> String {
        let mut h = Sha256::new();
        h.update(bytes);
        h.finish_hex()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_published_vectors() {
        // FIPS 180-2 examples.
        assert_eq!(
            Sha256::hex_of(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            Sha256::hex_of(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        let mut split = Sha256::new();
        split.update(b"abcdbcdecdefdefgefghfghighij");
        split.update(b"hijkijkljklmklmnlmnomnopnopq");
        assert_eq!(
            split.finish_hex(),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        );
    }
}
