//! `TempCluster`: one initdb'd PostgreSQL server in its own temp dir, started
//! with `pg_ctl -w`, stopped (fast, then SIGKILL) and deleted on drop. Blocking
//! on purpose: tests and `vigil demo` call it before any runtime exists.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::bins::find_bin_dir;
use crate::options::{AuthMethod, ClusterOptions};
use crate::user::RunAs;
use crate::{workdir, PgTempError};

/// Environment variable: `1` keeps every cluster's temp dir after drop.
pub const KEEP_ENV: &str = "VIGIL_PGTEMP_KEEP";
/// The only address clusters listen on.
pub(crate) const HOST: &str = "127.0.0.1";

/// A running (or deliberately stopped) throw-away cluster. Dropping it stops
/// the server and removes its directory unless `keep` was asked for.
#[derive(Debug)]
pub struct TempCluster {
    pub(crate) root: PathBuf,
    pub(crate) data_dir: PathBuf,
    pub(crate) log_file: PathBuf,
    pub(crate) bin_dir: PathBuf,
    pub(crate) port: u16,
    pub(crate) opts: ClusterOptions,
    pub(crate) run_as: RunAs,
    pub(crate) cert_pem: Option<String>,
    pub(crate) keep: bool,
}

impl TempCluster {
    /// initdb, configure, start on a free 127.0.0.1 port and wait until TCP
    /// connections are accepted. Safe to call from several threads at once.
    pub fn start(opts: ClusterOptions) -> Result<TempCluster, PgTempError> {
        opts.validate().map_err(PgTempError::InvalidOptions)?;
        let bin_dir = find_bin_dir()?;
        let run_as = RunAs::detect()?;
        let root = workdir::create_root(&run_as)?;
        let keep = opts.keep || std::env::var(KEEP_ENV).is_ok_and(|v| v == "1");
        // From here on, Drop cleans up whatever a failing step leaves behind.
        let mut cluster = TempCluster {
            data_dir: root.join("data"),
            log_file: root.join("postgres.log"),
            root,
            bin_dir,
            port: 0,
            opts,
            run_as,
            cert_pem: None,
            keep,
        };
        cluster.initdb()?;
        cluster.configure()?;
        cluster.start_on_free_port()?;
        cluster.store_md5_password()?;
        Ok(cluster)
    }

    /// The TCP port the server listens on (stable across `stop`/`start_again`).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Always `"127.0.0.1"`.
    pub fn host(&self) -> &str {
        HOST
    }

    /// The data directory (owned by the server user).
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The directory `initdb`, `pg_ctl` and `postgres` came from.
    pub fn bin_dir(&self) -> &Path {
        &self.bin_dir
    }

    /// The directory holding the Unix socket (`.s.PGSQL.<port>`).
    pub fn socket_dir(&self) -> &Path {
        &self.root
    }

    /// The bootstrap superuser's name.
    pub fn superuser(&self) -> &str {
        &self.opts.superuser
    }

    /// The superuser password, if the cluster has one.
    pub fn superuser_password(&self) -> Option<&str> {
        self.opts.superuser_password.as_deref()
    }

    /// The auth method of TCP connections.
    pub fn auth(&self) -> AuthMethod {
        self.opts.auth
    }

    /// PEM of the self-signed server certificate when started with `ssl: true`.
    pub fn server_cert_pem(&self) -> Option<&str> {
        self.cert_pem.as_deref()
    }

    /// The server log (everything since the first start); empty if unreadable.
    pub fn log_contents(&self) -> String {
        std::fs::read(&self.log_file)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }

    /// A command for a server program, run as the server user with a clean environment.
    pub(crate) fn pg_command(&self, program: &str) -> Command {
        let mut cmd = Command::new(self.bin_dir.join(program));
        clean_pg_env(&mut cmd);
        cmd.current_dir(&self.root)
            .env("LC_ALL", "C")
            .stdin(Stdio::null());
        self.run_as.apply(&mut cmd);
        cmd
    }
}

impl Drop for TempCluster {
    fn drop(&mut self) {
        if self.running_pid().is_some() && self.stop().is_err() {
            let _ = self.kill_hard();
        }
        if self.keep {
            eprintln!("vigil-pgtemp: keeping {}", self.root.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.root);
        }
    }
}

/// Ambient PG* variables (PGHOST, PGDATA, PGPASSWORD, ...) must not steer our tools.
pub(crate) fn clean_pg_env(cmd: &mut Command) {
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("PG") {
            cmd.env_remove(key);
        }
    }
}
