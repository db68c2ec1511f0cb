//! The one error type of this crate. Every variant says which step failed and
//! carries what the PostgreSQL tool printed, because a failed cluster start in CI
//! is only debuggable from its message.

use std::path::PathBuf;

/// Why a throw-away cluster could not be created, driven or torn down.
#[derive(Debug, thiserror::Error)]
pub enum PgTempError {
    /// No directory with `initdb`, `pg_ctl` and `postgres` was found.
    #[error(
        "PostgreSQL binaries not found; install postgresql (apt-get install postgresql) \
         or set VIGIL_PG_BIN (looked in: {searched})"
    )]
    BinariesNotFound {
        /// The places that were looked at, for the message.
        searched: String,
    },
    /// The options asked for something impossible (e.g. md5 auth without a password).
    #[error("invalid cluster options: {0}")]
    InvalidOptions(String),
    /// We run as root but could not find or create an unprivileged user for the server.
    #[error("cannot run PostgreSQL as an unprivileged user: {0}")]
    User(String),
    /// A filesystem step (temp dir, config file, chown) failed.
    #[error("{what} ({path}): {source}")]
    Io {
        /// What we were doing.
        what: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A helper program could not be spawned at all.
    #[error("could not run {program}: {source}")]
    Spawn {
        /// The program's path.
        program: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// `initdb` exited unsuccessfully.
    #[error("initdb failed: {0}")]
    Initdb(String),
    /// The server did not start; carries pg_ctl output and the tail of the server log.
    #[error("PostgreSQL failed to start: {0}")]
    Start(String),
    /// The server did not stop.
    #[error("PostgreSQL failed to stop: {0}")]
    Stop(String),
    /// `psql` reported an error (stderr included).
    #[error("psql failed: {0}")]
    Psql(String),
    /// No free TCP port could be obtained on 127.0.0.1.
    #[error("no free TCP port on 127.0.0.1: {0}")]
    Port(std::io::Error),
    /// The self-signed certificate could not be generated.
    #[error("TLS certificate generation failed: {0}")]
    Tls(String),
}

impl PgTempError {
    /// Wraps an I/O error with the step and path it happened at.
    pub(crate) fn io(what: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        PgTempError::Io {
            what,
            path: path.into(),
            source,
        }
    }
}
