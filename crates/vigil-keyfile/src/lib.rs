//! Vigil's secrets on disk, in one place: the built-in issuer's signing
//! key, the audit trail's checkpoint key, the masking HMAC key.
//!
//! A key file is private (mode 0600, its directory 0700 when created) and
//! created **once, atomically**: written to a private temporary file, then
//! hard-linked into place, so two processes starting together agree on one
//! key and a reader never sees half a file. An existing file that does not
//! parse is an error, never replaced: replacing it would silently
//! invalidate every token, signature or hash made with the old key.
//! A key readable by group or others still loads (orchestrators often
//! mount secrets 0644), with a warning.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

pub mod ed25519;

/// Why a key file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The file exists but does not hold a key of the expected form.
    #[error("{path}: {reason}")]
    Corrupt { path: PathBuf, reason: String },
    /// A new key could not be encoded.
    #[error("cannot encode a new key: {0}")]
    Encode(String),
}

/// The file's bytes; `Ok(None)` when there is no file.
pub fn read(path: &Path) -> Result<Option<Vec<u8>>, KeyFileError> {
    match fs::read(path) {
        Ok(bytes) => {
            warn_if_shared(path);
            Ok(Some(bytes))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_error(path, e)),
    }
}

/// The file's bytes, creating it with `make()`'s bytes first if it does
/// not exist. When another process creates it at the same time, both get
/// the winner's bytes. `what` names the key in the log line on creation.
pub fn read_or_create(
    path: &Path,
    what: &str,
    make: impl FnOnce() -> Result<Vec<u8>, KeyFileError>,
) -> Result<Vec<u8>, KeyFileError> {
    if let Some(bytes) = read(path)? {
        return Ok(bytes);
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        create_private_dir(dir).map_err(|e| io_error(dir, e))?;
    }
    let tmp = temp_path(path);
    let written = write_private(&tmp, &make()?);
    let linked = written.and_then(|()| fs::hard_link(&tmp, path));
    let _ = fs::remove_file(&tmp);
    match linked {
        Ok(()) => tracing::info!(path = %path.display(), "created {what}"),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(io_error(path, e)),
    }
    read(path)?.ok_or_else(|| io_error(path, io::ErrorKind::NotFound.into()))
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

#[cfg(unix)]
fn warn_if_shared(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = fs::metadata(path) {
        if meta.permissions().mode() & 0o077 != 0 {
            tracing::warn!(path = %path.display(), "key file is readable by group or others; chmod 600 it");
        }
    }
}

#[cfg(not(unix))]
fn warn_if_shared(_path: &Path) {}

fn io_error(path: &Path, source: io::Error) -> KeyFileError {
    KeyFileError::Io {
        path: path.to_owned(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_once_private_and_never_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/key");
        let a = read_or_create(&path, "a test key", || Ok(b"first".to_vec())).unwrap();
        assert_eq!(a, b"first");
        let b = read_or_create(&path, "a test key", || Ok(b"second".to_vec())).unwrap();
        assert_eq!(b, b"first", "an existing key is kept");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let leftovers = fs::read_dir(path.parent().unwrap()).unwrap().count();
        assert_eq!(leftovers, 1, "no temporary file left behind");
    }

    #[test]
    fn concurrent_creators_agree_on_one_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let path = path.clone();
                std::thread::spawn(move || {
                    read_or_create(&path, "a test key", || Ok(vec![i; 16])).unwrap()
                })
            })
            .collect();
        let keys: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        assert!(keys.windows(2).all(|w| w[0] == w[1]));
    }
}
