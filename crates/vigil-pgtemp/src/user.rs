//! Which OS user the server runs as. initdb and postgres refuse to run as root,
//! so as root we drop to `postgres` (or a `vigil-pg` system user we create once);
//! otherwise everything runs as the current user.

use std::ffi::CString;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;
use std::sync::Mutex;

use crate::PgTempError;

const PREFERRED_USER: &str = "postgres";
const FALLBACK_USER: &str = "vigil-pg";

/// Serialises `useradd` between test threads; the first creates the user, the rest find it.
static CREATE_USER: Mutex<()> = Mutex::new(());

/// The identity PostgreSQL processes run under.
#[derive(Debug, Clone)]
pub(crate) struct RunAs {
    uid: u32,
    gid: u32,
    /// True when we are root and must switch to `uid`/`gid` for every server command.
    switch: bool,
}

impl RunAs {
    /// Decides the identity once per cluster: root drops privileges, others run as themselves.
    pub(crate) fn detect() -> Result<RunAs, PgTempError> {
        // SAFETY: geteuid/getegid have no preconditions and cannot fail.
        let (euid, egid) = unsafe { (libc::geteuid(), libc::getegid()) };
        if euid != 0 {
            return Ok(RunAs {
                uid: euid,
                gid: egid,
                switch: false,
            });
        }
        let (uid, gid) = match lookup_user(PREFERRED_USER)? {
            Some(ids) => ids,
            None => ensure_fallback_user()?,
        };
        Ok(RunAs {
            uid,
            gid,
            switch: true,
        })
    }

    /// Makes `cmd` run as this identity.
    pub(crate) fn apply(&self, cmd: &mut Command) {
        if self.switch {
            cmd.uid(self.uid).gid(self.gid);
        }
    }

    /// Hands `path` to this identity (no-op when not switching: we already own it).
    pub(crate) fn chown(&self, path: &Path) -> Result<(), PgTempError> {
        if !self.switch {
            return Ok(());
        }
        std::os::unix::fs::chown(path, Some(self.uid), Some(self.gid))
            .map_err(|e| PgTempError::io("chown to the server user", path, e))
    }

    /// True when the server runs as another user than this process.
    pub(crate) fn switches(&self) -> bool {
        self.switch
    }
}

fn ensure_fallback_user() -> Result<(u32, u32), PgTempError> {
    let _guard = CREATE_USER
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(ids) = lookup_user(FALLBACK_USER)? {
        return Ok(ids);
    }
    let out = Command::new("useradd")
        .args(["--system", "--no-create-home", "--user-group"])
        .args(["--shell", "/usr/sbin/nologin", FALLBACK_USER])
        .output()
        .map_err(|source| PgTempError::Spawn {
            program: "useradd".to_string(),
            source,
        })?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        return Err(PgTempError::User(format!(
            "useradd {FALLBACK_USER} failed: {}",
            stderr.trim()
        )));
    }
    lookup_user(FALLBACK_USER)?
        .ok_or_else(|| PgTempError::User(format!("user {FALLBACK_USER} missing after useradd")))
}

/// Reentrant passwd lookup (`getpwnam` uses a static buffer and tests run in threads).
fn lookup_user(name: &str) -> Result<Option<(u32, u32)>, PgTempError> {
    let cname =
        CString::new(name).map_err(|_| PgTempError::User(format!("bad user name {name:?}")))?;
    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    // SAFETY: an all-zero passwd is a valid value for a plain C struct of ints and pointers.
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: every pointer refers to live, correctly sized storage owned by this frame.
    let rc = unsafe {
        libc::getpwnam_r(
            cname.as_ptr(),
            &mut pwd,
            buf.as_mut_ptr(),
            buf.len(),
            &mut result,
        )
    };
    if rc != 0 {
        let err = std::io::Error::from_raw_os_error(rc);
        return Err(PgTempError::User(format!("getpwnam_r({name}): {err}")));
    }
    if result.is_null() {
        return Ok(None);
    }
    Ok(Some((pwd.pw_uid, pwd.pw_gid)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_exists_and_nonsense_does_not() {
        assert_eq!(lookup_user("root").unwrap().map(|(u, _)| u), Some(0));
        assert_eq!(lookup_user("no-such-user-vigil-xyz").unwrap(), None);
    }
}
