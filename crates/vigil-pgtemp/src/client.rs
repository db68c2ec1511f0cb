//! Talking to a cluster the way a person would: the real `psql` client over
//! TCP (so pg_hba auth is exercised), plus connection URLs for other clients.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::bins::psql_path;
use crate::cluster::{clean_pg_env, HOST};
use crate::process::describe;
use crate::{PgTempError, TempCluster};

impl TempCluster {
    /// `postgresql://user[:password]@127.0.0.1:port/db` for the superuser,
    /// percent-encoded.
    pub fn url(&self, db: &str) -> String {
        let user = percent_encode(&self.opts.superuser);
        let auth = match &self.opts.superuser_password {
            Some(pw) => format!("{user}:{}", percent_encode(pw)),
            None => user,
        };
        format!(
            "postgresql://{auth}@{HOST}:{}/{}",
            self.port,
            percent_encode(db)
        )
    }

    /// Runs `sql` (one or many statements) as the superuser over TCP with
    /// `psql -X -A -t -q -v ON_ERROR_STOP=1`; returns stdout trimmed.
    pub fn psql(&self, db: &str, sql: &str) -> Result<String, PgTempError> {
        let password = self.opts.superuser_password.as_deref();
        self.psql_as(db, &self.opts.superuser, password, sql)
    }

    /// Like [`TempCluster::psql`] but as any role, with or without a password
    /// (never prompts). Used to prove that auth accepts and rejects.
    pub fn psql_as(
        &self,
        db: &str,
        user: &str,
        password: Option<&str>,
        sql: &str,
    ) -> Result<String, PgTempError> {
        let mut cmd = self.psql_command(db, user);
        cmd.args(["-h", HOST, "-p", &self.port.to_string()]);
        if let Some(pw) = password {
            cmd.env("PGPASSWORD", pw);
        }
        run_with_stdin(cmd, sql)
    }

    /// `CREATE DATABASE "name"` (the name is quoted, so any name works).
    pub fn create_database(&self, name: &str) -> Result<(), PgTempError> {
        self.psql(
            "postgres",
            &format!("CREATE DATABASE {};", quote_ident(name)),
        )
        .map(|_| ())
    }

    /// Superuser over the Unix socket (always trust), for setup steps that
    /// must not depend on TCP auth.
    pub(crate) fn psql_socket(&self, sql: &str) -> Result<String, PgTempError> {
        let mut cmd = self.psql_command("postgres", &self.opts.superuser);
        cmd.arg("-h")
            .arg(&self.root)
            .args(["-p", &self.port.to_string()]);
        run_with_stdin(cmd, sql)
    }

    fn psql_command(&self, db: &str, user: &str) -> Command {
        let mut cmd = Command::new(psql_path(&self.bin_dir));
        clean_pg_env(&mut cmd);
        // -w: fail instead of prompting; PGPASSFILE: ignore the caller's ~/.pgpass.
        cmd.args(["-X", "-A", "-t", "-q", "-w", "-v", "ON_ERROR_STOP=1"]);
        cmd.args(["-U", user, "-d", db, "-f", "-"]);
        cmd.env("PGPASSFILE", self.root.join("no-pgpass"));
        cmd.env("PGCONNECT_TIMEOUT", "10").env("LC_ALL", "C");
        cmd
    }
}

/// Feeds `sql` on stdin from a thread: psql may fill its stdout pipe before
/// it has read all of a large script, and a single thread would deadlock.
fn run_with_stdin(mut cmd: Command, sql: &str) -> Result<String, PgTempError> {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|source| PgTempError::Spawn {
        program: cmd.get_program().to_string_lossy().into_owned(),
        source,
    })?;
    let stdin = child.stdin.take();
    let script = sql.to_string();
    let writer = std::thread::spawn(move || {
        if let Some(mut stdin) = stdin {
            // psql exits early on errors; a broken pipe then is expected.
            let _ = stdin.write_all(script.as_bytes());
        }
    });
    let out = child.wait_with_output();
    let _ = writer.join();
    let out = out.map_err(|source| PgTempError::Spawn {
        program: "psql".to_string(),
        source,
    })?;
    if !out.status.success() {
        return Err(PgTempError::Psql(describe(&out)));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// SQL identifier quoting: `"` doubled.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// SQL string literal quoting (standard_conforming_strings): `'` doubled.
pub fn quote_literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// RFC 3986 percent-encoding of everything but unreserved characters.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_doubles_delimiters() {
        assert_eq!(quote_ident(r#"a"b"#), r#""a""b""#);
        assert_eq!(quote_literal("O'Brien"), "'O''Brien'");
    }

    #[test]
    fn url_parts_are_percent_encoded() {
        assert_eq!(percent_encode("p@ss:w/rd é"), "p%40ss%3Aw%2Frd%20%C3%A9");
        assert_eq!(percent_encode("plain-name_1.x~"), "plain-name_1.x~");
    }
}
