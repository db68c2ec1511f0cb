//! Ed25519 signing keys in PKCS#8 PEM (the issuer's and the audit key).

use crate::{read, read_or_create, KeyFileError};
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use ed25519_dalek::SigningKey;
use std::path::Path;

/// The key at `path`, generated first if there is no file.
pub fn load_or_create(path: &Path, what: &str) -> Result<SigningKey, KeyFileError> {
    let pem = read_or_create(path, what, || {
        let key = SigningKey::generate(&mut rand::rngs::OsRng);
        key.to_pkcs8_pem(LineEnding::LF)
            .map(|pem| pem.as_bytes().to_vec())
            .map_err(|e| KeyFileError::Encode(e.to_string()))
    })?;
    parse(path, &pem)
}

/// The key at `path`; `Ok(None)` when there is no file.
pub fn load(path: &Path) -> Result<Option<SigningKey>, KeyFileError> {
    read(path)?.map(|pem| parse(path, &pem)).transpose()
}

fn parse(path: &Path, bytes: &[u8]) -> Result<SigningKey, KeyFileError> {
    let corrupt = |reason: String| KeyFileError::Corrupt {
        path: path.to_owned(),
        reason: format!("not an Ed25519 key in PKCS#8 PEM: {reason}"),
    };
    let text = std::str::from_utf8(bytes).map_err(|_| corrupt("not UTF-8 text".to_owned()))?;
    SigningKey::from_pkcs8_pem(text).map_err(|e| corrupt(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_round_trip_and_garbage_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.pem");
        assert!(load(&path).unwrap().is_none());
        let a = load_or_create(&path, "a test key").unwrap();
        let b = load(&path).unwrap().unwrap();
        assert_eq!(a.to_bytes(), b.to_bytes());
        std::fs::write(dir.path().join("bad.pem"), "nope").unwrap();
        let e = load_or_create(&dir.path().join("bad.pem"), "a test key").unwrap_err();
        assert!(matches!(e, KeyFileError::Corrupt { .. }), "{e}");
    }
}
