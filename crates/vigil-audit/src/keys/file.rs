//! The private key on disk: PKCS#8 PEM, mode 0600, created once and
//! atomically — the same scheme as every Vigil key (see `vigil-keyfile`).

use super::KeyError;
use ed25519_dalek::SigningKey;
use std::path::Path;
use vigil_keyfile::KeyFileError;

pub(super) fn load_or_create(path: &Path) -> Result<SigningKey, KeyError> {
    vigil_keyfile::ed25519::load_or_create(path, "the audit signing key").map_err(from)
}

/// `Ok(None)` when there is no file.
pub(super) fn load(path: &Path) -> Result<Option<SigningKey>, KeyError> {
    vigil_keyfile::ed25519::load(path).map_err(from)
}

fn from(e: KeyFileError) -> KeyError {
    match e {
        KeyFileError::Io { path, source } => KeyError::Io { path, source },
        KeyFileError::Corrupt { path, reason } => KeyError::Corrupt { path, reason },
        KeyFileError::Encode(why) => KeyError::Encode(why),
    }
}
