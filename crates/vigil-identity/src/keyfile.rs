//! The built-in issuer's private key on disk: Ed25519, PKCS#8 PEM, mode
//! 0600. Created atomically on first use (written to a private temporary
//! file, then hard-linked into place, so two processes starting together
//! agree on one key and a reader never sees half a file). An existing file
//! that does not parse is an error: replacing it would silently invalidate
//! every token already issued.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use ed25519_dalek::SigningKey;
use rand::rngs::OsRng;

use crate::IdentityError;

/// Reads the key at `path`, creating it first if it does not exist.
pub(crate) fn load_or_create(path: &Path) -> Result<SigningKey, IdentityError> {
    if let Some(key) = load(path)? {
        return Ok(key);
    }
    create(path)?;
    load(path)?.ok_or_else(|| io_error(path, io::ErrorKind::NotFound.into()))
}

/// `Ok(None)` when there is no file; an error naming the path when there is
/// one we cannot read or parse.
fn load(path: &Path) -> Result<Option<SigningKey>, IdentityError> {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_error(path, e)),
    };
    warn_if_shared(path);
    let corrupt = |reason: String| IdentityError::CorruptKeyFile {
        path: path.to_owned(),
        reason,
    };
    let text = std::str::from_utf8(&bytes).map_err(|_| corrupt("not UTF-8 text".to_owned()))?;
    SigningKey::from_pkcs8_pem(text)
        .map(Some)
        .map_err(|e| corrupt(e.to_string()))
}

/// Generates a key and links it into place unless another process won.
fn create(path: &Path) -> Result<(), IdentityError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        create_private_dir(dir).map_err(|e| io_error(dir, e))?;
    }
    let key = SigningKey::generate(&mut OsRng);
    let pem = key
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| IdentityError::Signing(format!("encoding the new key: {e}")))?;
    let tmp = temp_path(path);
    let written = write_private(&tmp, pem.as_bytes());
    let linked = written.and_then(|()| fs::hard_link(&tmp, path));
    let _ = fs::remove_file(&tmp);
    match linked {
        Ok(()) => {
            tracing::info!(path = %path.display(), "created the built-in issuer's signing key");
            Ok(())
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(io_error(path, e)),
    }
}

fn temp_path(path: &Path) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(format!(".tmp-{}", uuid::Uuid::new_v4()));
    path.with_file_name(name)
}

fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = open_private(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(unix)]
fn open_private(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn open_private(path: &Path) -> io::Result<File> {
    OpenOptions::new().write(true).create_new(true).open(path)
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    fs::create_dir_all(dir)
}

/// A key readable by group or others still works (secrets mounted by an
/// orchestrator are often 0644), but the operator should know.
#[cfg(unix)]
fn warn_if_shared(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = fs::metadata(path) {
        if meta.permissions().mode() & 0o077 != 0 {
            tracing::warn!(path = %path.display(), "signing key is readable by group or others; chmod 600 it");
        }
    }
}

#[cfg(not(unix))]
fn warn_if_shared(_path: &Path) {}

fn io_error(path: &Path, source: io::Error) -> IdentityError {
    IdentityError::Io {
        path: path.to_owned(),
        source,
    }
}
