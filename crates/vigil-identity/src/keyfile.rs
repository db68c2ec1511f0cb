//! The built-in issuer's private key on disk: Ed25519, PKCS#8 PEM, mode
//! 0600, created once and atomically (see `vigil-keyfile`). An existing file
//! that does not parse is an error: replacing it would silently invalidate
//! every token already issued.

use std::path::Path;

use ed25519_dalek::SigningKey;
use vigil_keyfile::KeyFileError;

use crate::IdentityError;

/// Reads the key at `path`, creating it first if it does not exist.
pub(crate) fn load_or_create(path: &Path) -> Result<SigningKey, IdentityError> {
    vigil_keyfile::ed25519::load_or_create(path, "the built-in issuer's signing key").map_err(|e| {
        match e {
            KeyFileError::Io { path, source } => IdentityError::Io { path, source },
            KeyFileError::Corrupt { path, reason } => {
                IdentityError::CorruptKeyFile { path, reason }
            }
            KeyFileError::Encode(why) => {
                IdentityError::Signing(format!("encoding the new key: {why}"))
            }
        }
    })
}
