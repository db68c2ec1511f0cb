//! Process plumbing: running a helper program and collecting its output, and
//! looking at server processes through /proc. The postmaster is not our child
//! (pg_ctl daemonises it), and PID 1 in a container may never reap it, so
//! "dead" means gone from /proc *or* a zombie.

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use crate::PgTempError;

/// How often, and how many times, we look for processes to disappear (10 s total).
const POLL_INTERVAL: Duration = Duration::from_millis(20);
const POLL_LIMIT: u32 = 500;

/// Runs `cmd` to completion, capturing stdout and stderr.
pub(crate) fn run(cmd: &mut Command) -> Result<Output, PgTempError> {
    cmd.output().map_err(|source| PgTempError::Spawn {
        program: cmd.get_program().to_string_lossy().into_owned(),
        source,
    })
}

/// stderr then stdout, trimmed: what a human needs to see when a step failed.
pub(crate) fn describe(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let text = format!("{} {}", stderr.trim(), stdout.trim());
    format!("{} ({})", text.trim(), out.status)
}

/// The postmaster's pid from the first line of `postmaster.pid`, if the file exists.
pub(crate) fn postmaster_pid(data_dir: &Path) -> Option<i32> {
    let text = std::fs::read_to_string(data_dir.join("postmaster.pid")).ok()?;
    text.lines()
        .next()?
        .trim()
        .parse()
        .ok()
        .filter(|pid| *pid > 0)
}

/// State letter and parent pid from /proc/<pid>/stat; `None` if the process is gone.
fn stat(pid: i32) -> Option<(char, i32)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may itself contain ')' or spaces.
    let after = text.get(text.rfind(')')?.checked_add(1)?..)?;
    let mut fields = after.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    Some((state, ppid))
}

/// True while `pid` exists and is not a zombie.
pub(crate) fn is_running(pid: i32) -> bool {
    matches!(stat(pid), Some((state, _)) if state != 'Z' && state != 'X')
}

/// True if `pid` is a zombie (dead but unreaped).
pub(crate) fn is_zombie(pid: i32) -> bool {
    matches!(stat(pid), Some(('Z', _)))
}

/// Direct children of `pid` (the postmaster's backends and auxiliary processes).
pub(crate) fn children_of(pid: i32) -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|child| matches!(stat(*child), Some((_, ppid)) if ppid == pid))
        .collect()
}

/// Sends SIGKILL; a process that is already gone is not an error.
pub(crate) fn sigkill(pid: i32) {
    // SAFETY: kill(2) has no memory-safety preconditions; pid > 0 targets one process.
    unsafe {
        libc::kill(pid, libc::SIGKILL);
    }
}

/// Waits (bounded) until none of `pids` is running; returns whether that happened.
pub(crate) fn wait_until_gone(pids: &[i32]) -> bool {
    for _ in 0..POLL_LIMIT {
        if !pids.iter().any(|pid| is_running(*pid)) {
            return true;
        }
        std::thread::sleep(POLL_INTERVAL);
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sees_itself_and_not_a_bogus_pid() {
        let me = std::process::id() as i32;
        assert!(is_running(me));
        assert!(!is_running(i32::MAX));
        let child = Command::new("sleep").arg("5").spawn().unwrap();
        assert!(children_of(me).contains(&(child.id() as i32)));
        sigkill(child.id() as i32);
        let mut child = child;
        child.wait().unwrap();
    }
}
