//! Starting, stopping and crashing a cluster's server. The postmaster is
//! daemonised by `pg_ctl`, so it is tracked through `postmaster.pid` and /proc
//! rather than as a child process.

use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::time::Duration;

use crate::conf::{server_conf, INCLUDE_FILE};
use crate::process::{self, describe, postmaster_pid, run};
use crate::{free_port, PgTempError, TempCluster};

/// Start attempts with a fresh port when another process grabbed ours.
const PORT_ATTEMPTS: u32 = 5;
/// How much of the server log goes into a start error.
const LOG_TAIL_BYTES: usize = 4000;

impl TempCluster {
    /// Fast shutdown, waiting for it. Stopping a stopped cluster is a no-op.
    pub fn stop(&mut self) -> Result<(), PgTempError> {
        if self.running_pid().is_none() {
            return Ok(());
        }
        let mut cmd = self.pg_command("pg_ctl");
        cmd.arg("-D")
            .arg(&self.data_dir)
            .args(["-m", "fast", "-w", "-t", "30", "stop"]);
        let out = run(&mut cmd)?;
        if !out.status.success() {
            return Err(PgTempError::Stop(describe(&out)));
        }
        Ok(())
    }

    /// Starts the stopped (or killed) server again: same port, same data.
    /// Running already is a no-op.
    pub fn start_again(&mut self) -> Result<(), PgTempError> {
        if self.running_pid().is_some() {
            return Ok(());
        }
        self.clear_zombie_lock();
        self.pg_ctl_start()
    }

    /// SIGKILLs the postmaster and its backends, like a crashed or OOM-killed
    /// server: clients see their connections drop at once. The next
    /// `start_again` goes through crash recovery.
    pub fn kill_hard(&mut self) -> Result<(), PgTempError> {
        let Some(pid) = self.running_pid() else {
            return Err(PgTempError::Stop(
                "kill_hard: server is not running".to_string(),
            ));
        };
        // A stopped postmaster cannot fork, so the child list below is complete.
        // SAFETY: kill(2) with a positive pid and a valid signal number.
        unsafe {
            libc::kill(pid, libc::SIGSTOP);
        }
        let mut victims = process::children_of(pid);
        victims.push(pid);
        for victim in &victims {
            process::sigkill(*victim);
        }
        if process::wait_until_gone(&victims) {
            Ok(())
        } else {
            Err(PgTempError::Stop(format!(
                "processes {victims:?} survived SIGKILL"
            )))
        }
    }

    pub(crate) fn start_on_free_port(&mut self) -> Result<(), PgTempError> {
        let mut attempt = 1;
        loop {
            self.port = free_port()?;
            let conf = server_conf(self.port, &self.root, &self.opts);
            self.write_owned(INCLUDE_FILE, &conf)?;
            match self.pg_ctl_start() {
                Err(PgTempError::Start(msg))
                    if attempt < PORT_ATTEMPTS && msg.contains("already in use") =>
                {
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    fn pg_ctl_start(&mut self) -> Result<(), PgTempError> {
        let log_offset = std::fs::metadata(&self.log_file)
            .map(|m| m.len())
            .unwrap_or(0);
        let mut cmd = self.pg_command("pg_ctl");
        cmd.arg("-D")
            .arg(&self.data_dir)
            .arg("-l")
            .arg(&self.log_file);
        cmd.args(["-w", "-t", "60", "start"]);
        let out = run(&mut cmd)?;
        if !out.status.success() {
            let log = self.log_since(log_offset);
            return Err(PgTempError::Start(format!(
                "{}; server log: {log}",
                describe(&out)
            )));
        }
        self.wait_for_tcp()
    }

    /// pg_ctl -w already waited for "ready"; this confirms the TCP listener
    /// itself answers, bounded at 5 s.
    fn wait_for_tcp(&self) -> Result<(), PgTempError> {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        for _ in 0..50 {
            if TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(PgTempError::Start(format!(
            "server started but {addr} refuses connections"
        )))
    }

    /// The postmaster's pid if it is alive.
    pub(crate) fn running_pid(&self) -> Option<i32> {
        postmaster_pid(&self.data_dir).filter(|pid| process::is_running(*pid))
    }

    /// After kill_hard the postmaster may stay a zombie (PID 1 in a container
    /// need not reap), and postgres refuses lock files (data dir and socket)
    /// whose pid still "exists". A zombie holds nothing, so they are stale.
    fn clear_zombie_lock(&self) {
        if postmaster_pid(&self.data_dir).is_some_and(process::is_zombie) {
            let socket_lock = self.root.join(format!(".s.PGSQL.{}.lock", self.port));
            let _ = std::fs::remove_file(socket_lock);
            let _ = std::fs::remove_file(self.data_dir.join("postmaster.pid"));
        }
    }

    pub(crate) fn log_since(&self, offset: u64) -> String {
        let bytes = std::fs::read(&self.log_file).unwrap_or_default();
        let start = usize::try_from(offset).unwrap_or(0);
        let new = bytes.get(start..).unwrap_or(&[]);
        let tail_start = new.len().saturating_sub(LOG_TAIL_BYTES);
        String::from_utf8_lossy(new.get(tail_start..).unwrap_or(&[]))
            .trim()
            .to_string()
    }
}
