//! The deployment's HMAC key behind the `hash` strategy: 32 random bytes,
//! stored as 64 hex digits in `[masking] key_file` (created 0600 on first
//! start, like the audit key), or given in `VIGIL_MASK_KEY`. The same key
//! gives the same hashes across sessions, restarts and replicas; it never
//! leaves Vigil.

use crate::ServerError;
use rand::RngCore;
use std::path::Path;
use vigil_mask::HashKey;

/// The environment variable that overrides the key file.
pub const ENV: &str = "VIGIL_MASK_KEY";

/// The key from `VIGIL_MASK_KEY`, else from `path` (created if missing).
pub fn load(path: &Path) -> Result<HashKey, ServerError> {
    if let Ok(v) = std::env::var(ENV) {
        return parse_hex(v.trim()).map(HashKey::new).ok_or_else(|| {
            ServerError::Runtime(format!(
                "{ENV} must be 64 hex digits (e.g. the output of `openssl rand -hex 32`)"
            ))
        });
    }
    load_or_create(path).map(HashKey::new)
}

/// Reads the key file, creating it (0600, atomically, via
/// [`vigil_keyfile`]) if missing. A file that does not parse is an error,
/// never replaced: every hash made so far would change.
pub fn load_or_create(path: &Path) -> Result<[u8; 32], ServerError> {
    let bad = |why: String| ServerError::Runtime(format!("masking.key_file {why}"));
    let bytes = vigil_keyfile::read_or_create(path, "masking hash key", || {
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        Ok(format!("{}\n", hex(&key)).into_bytes())
    })
    .map_err(|e| bad(e.to_string()))?;
    std::str::from_utf8(&bytes)
        .ok()
        .and_then(|t| parse_hex(t.trim()))
        .ok_or_else(|| {
            bad(format!(
                "{}: not 64 hex digits; restore the key (hashes depend on it) or remove the file to make a new one",
                path.display()
            ))
        })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn parse_hex(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    let mut key = [0u8; 32];
    for (i, slot) in key.iter_mut().enumerate() {
        let pair = text.get(2 * i..2 * i + 2)?;
        *slot = u8::from_str_radix(pair, 16).ok()?;
    }
    Some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_once_with_0600_and_reread() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vigil-mask.key");
        let first = load_or_create(&path).unwrap();
        assert_eq!(load_or_create(&path).unwrap(), first);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let other = dir.path().join("other.key");
        assert_ne!(load_or_create(&other).unwrap(), first);
    }

    #[test]
    fn a_corrupt_key_is_refused_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        std::fs::write(&path, "not a key\n").unwrap();
        let err = load_or_create(&path).unwrap_err().to_string();
        assert!(err.contains("masking.key_file"), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "not a key\n");
    }

    #[test]
    fn hex_round_trip() {
        let key = [0xab; 32];
        assert_eq!(parse_hex(&hex(&key)), Some(key));
        assert_eq!(parse_hex("ab"), None);
        assert_eq!(parse_hex(&"zz".repeat(32)), None);
    }
}
