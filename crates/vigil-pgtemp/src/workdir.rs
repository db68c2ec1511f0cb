//! The per-cluster temp directory (data dir, Unix socket, server log). It must
//! be reachable by the server user, so when we drop privileges we only use a
//! base directory whose every ancestor is world-traversable, and we chown the
//! 0700 directory we create to that user.

use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::user::RunAs;
use crate::PgTempError;

/// Environment variable overriding the base directory for cluster temp dirs.
pub const DIR_ENV: &str = "VIGIL_PGTEMP_DIR";

/// Distinguishes clusters created by concurrent threads of one process.
static NEXT_ID: AtomicU64 = AtomicU64::new(0);

/// Creates a fresh 0700 directory owned by the server user.
pub(crate) fn create_root(run_as: &RunAs) -> Result<PathBuf, PgTempError> {
    let base = base_dir(run_as);
    let pid = std::process::id();
    // A dead process with our pid may have left a dir behind: skip names that exist.
    for _ in 0..1000 {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let path = base.join(format!("vigil-pgtemp-{pid}-{id}"));
        match std::fs::DirBuilder::new().mode(0o700).create(&path) {
            Ok(()) => {
                if let Err(e) = run_as.chown(&path) {
                    let _ = std::fs::remove_dir(&path);
                    return Err(e);
                }
                return Ok(path);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(PgTempError::io("create cluster temp dir", path, e)),
        }
    }
    Err(PgTempError::io(
        "create cluster temp dir",
        base,
        std::io::Error::new(std::io::ErrorKind::AlreadyExists, "no unused name"),
    ))
}

/// `VIGIL_PGTEMP_DIR`, else the system temp dir; `/tmp` if the server user could
/// not traverse that (e.g. TMPDIR under root's 0700 home).
fn base_dir(run_as: &RunAs) -> PathBuf {
    let base = std::env::var_os(DIR_ENV)
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    if run_as.switches() && !world_traversable(&base) {
        return PathBuf::from("/tmp");
    }
    base
}

fn world_traversable(dir: &Path) -> bool {
    let Ok(real) = std::fs::canonicalize(dir) else {
        return false;
    };
    real.ancestors().all(|p| {
        std::fs::metadata(p)
            .map(|m| m.permissions().mode() & 0o001 != 0)
            .unwrap_or(false)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tmp_is_traversable_and_a_private_dir_is_not() {
        assert!(world_traversable(Path::new("/tmp")));
        let private =
            std::env::temp_dir().join(format!("vigil-pgtemp-test-{}", std::process::id()));
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&private)
            .unwrap();
        assert!(!world_traversable(&private));
        std::fs::remove_dir(&private).unwrap();
    }
}
