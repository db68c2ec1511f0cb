//! The statement hash that binds an approval to exact bytes.

use sha2::{Digest, Sha256};

/// Lowercase hex sha256 of `parts` in order, each prefixed by its length
/// so that moving bytes between parts (SQL text vs. a parameter) changes
/// the hash. The proxy passes the bytes it will forward, e.g. the Query
/// text, or the Parse text followed by each Bind parameter.
pub fn statement_hash<'a>(parts: impl IntoIterator<Item = &'a [u8]>) -> String {
    let mut h = Sha256::new();
    for part in parts {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_binds_bytes_and_their_split() {
        let a = statement_hash([b"select 1".as_slice()]);
        assert_eq!(a.len(), 64);
        assert!(a
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        assert_eq!(a, statement_hash([b"select 1".as_slice()]));
        assert_ne!(a, statement_hash([b"select 2".as_slice()]));
        let split1 = statement_hash([b"ab".as_slice(), b"c".as_slice()]);
        let split2 = statement_hash([b"a".as_slice(), b"bc".as_slice()]);
        assert_ne!(split1, split2);
    }
}
