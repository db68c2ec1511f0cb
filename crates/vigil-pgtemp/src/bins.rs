//! Finding the PostgreSQL server binaries: `VIGIL_PG_BIN` wins, then the
//! highest `/usr/lib/postgresql/<major>/bin` (Debian layout), then `initdb` on PATH.

use std::path::{Path, PathBuf};

use crate::PgTempError;

/// Environment variable naming a directory that holds `initdb`, `pg_ctl`, `postgres`.
pub const PG_BIN_ENV: &str = "VIGIL_PG_BIN";

const DEBIAN_ROOT: &str = "/usr/lib/postgresql";

/// Locates the directory holding `initdb`, `pg_ctl` and `postgres`.
pub fn find_bin_dir() -> Result<PathBuf, PgTempError> {
    let mut searched = Vec::new();
    if let Some(dir) = std::env::var_os(PG_BIN_ENV) {
        let dir = PathBuf::from(dir);
        searched.push(format!("{PG_BIN_ENV}={}", dir.display()));
        if has_server_binaries(&dir) {
            return Ok(dir);
        }
        // An explicit override that is wrong must not silently fall back.
        return Err(PgTempError::BinariesNotFound {
            searched: searched.join(", "),
        });
    }
    searched.push(format!("{DEBIAN_ROOT}/*/bin"));
    if let Some(dir) = highest_debian_version(Path::new(DEBIAN_ROOT)) {
        return Ok(dir);
    }
    searched.push("PATH".to_string());
    if let Some(dir) = from_path() {
        return Ok(dir);
    }
    Err(PgTempError::BinariesNotFound {
        searched: searched.join(", "),
    })
}

/// The client to use: `psql` next to the server if present, else from PATH.
pub(crate) fn psql_path(bin_dir: &Path) -> PathBuf {
    let beside = bin_dir.join("psql");
    if beside.is_file() {
        beside
    } else {
        PathBuf::from("psql")
    }
}

fn has_server_binaries(dir: &Path) -> bool {
    ["initdb", "pg_ctl", "postgres"]
        .iter()
        .all(|b| dir.join(b).is_file())
}

/// Picks the numerically highest major version (so 16 beats 9.6).
fn highest_debian_version(root: &Path) -> Option<PathBuf> {
    let entries = std::fs::read_dir(root).ok()?;
    entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let version = parse_version(&name)?;
            let bin = e.path().join("bin");
            has_server_binaries(&bin).then_some((version, bin))
        })
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, bin)| bin)
}

fn parse_version(name: &str) -> Option<(u32, u32)> {
    let mut parts = name.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = match parts.next() {
        Some(m) => m.parse().ok()?,
        None => 0,
    };
    Some((major, minor))
}

/// `initdb` on PATH is often a symlink (e.g. /usr/local/bin/initdb); resolve it
/// so `pg_ctl` and `postgres` are taken from the same installation.
fn from_path() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).find_map(|dir| {
        let initdb = dir.join("initdb");
        let real = std::fs::canonicalize(&initdb).ok()?;
        let real_dir = real.parent()?.to_path_buf();
        has_server_binaries(&real_dir).then_some(real_dir)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_numerically() {
        assert!(parse_version("16") > parse_version("9.6"));
        assert_eq!(parse_version("15"), Some((15, 0)));
        assert_eq!(parse_version("main"), None);
    }

    #[test]
    fn finds_the_installed_server() {
        let dir = find_bin_dir().expect("postgres installed on this machine");
        assert!(dir.join("initdb").is_file());
    }
}
