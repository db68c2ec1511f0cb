//! Turning an empty temp dir into a configured data directory: initdb with
//! the bootstrap superuser, our pg_hba.conf and settings include, TLS files.

use std::io::Write;

use crate::conf::{hba_conf, INCLUDE_FILE};
use crate::options::AuthMethod;
use crate::process::{describe, run};
use crate::tls::{write_private, write_server_cert};
use crate::{PgTempError, TempCluster};

impl TempCluster {
    pub(crate) fn initdb(&self) -> Result<(), PgTempError> {
        let mut cmd = self.pg_command("initdb");
        cmd.arg("-D").arg(&self.data_dir);
        cmd.args([
            "-U",
            &self.opts.superuser,
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        ]);
        cmd.arg("--auth-local=trust")
            .arg(format!("--auth-host={}", self.opts.auth.hba_name()));
        let pwfile = self.root.join("pwfile");
        if let Some(pw) = &self.opts.superuser_password {
            write_private(&pwfile, pw, &self.run_as)?;
            cmd.arg(format!("--pwfile={}", pwfile.display()));
        }
        let out = run(&mut cmd);
        // The password must not outlive initdb on disk.
        let _ = std::fs::remove_file(&pwfile);
        let out = out?;
        if !out.status.success() {
            return Err(PgTempError::Initdb(describe(&out)));
        }
        Ok(())
    }

    pub(crate) fn configure(&mut self) -> Result<(), PgTempError> {
        self.write_owned("pg_hba.conf", &hba_conf(self.opts.auth))?;
        let main_conf = self.data_dir.join("postgresql.conf");
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&main_conf)
            .map_err(|e| PgTempError::io("open postgresql.conf", &main_conf, e))?;
        writeln!(file, "\ninclude '{INCLUDE_FILE}'")
            .map_err(|e| PgTempError::io("append to postgresql.conf", &main_conf, e))?;
        if self.opts.ssl {
            self.cert_pem = Some(write_server_cert(&self.data_dir, &self.run_as)?);
        }
        Ok(())
    }

    /// md5 auth against a SCRAM verifier silently becomes a SCRAM exchange, so
    /// an md5 cluster must store an md5 hash. initdb 15 does so for
    /// `--auth-host=md5`, but that is version-dependent; re-storing makes it certain.
    pub(crate) fn store_md5_password(&self) -> Result<(), PgTempError> {
        let (AuthMethod::Md5, Some(pw)) = (self.opts.auth, &self.opts.superuser_password) else {
            return Ok(());
        };
        let sql = format!(
            "SET password_encryption = 'md5';\nALTER ROLE {} PASSWORD {};\n",
            crate::client::quote_ident(&self.opts.superuser),
            crate::client::quote_literal(pw)
        );
        self.psql_socket(&sql).map(|_| ())
    }

    pub(crate) fn write_owned(&self, name: &str, contents: &str) -> Result<(), PgTempError> {
        let path = self.data_dir.join(name);
        std::fs::write(&path, contents).map_err(|e| PgTempError::io("write config", &path, e))?;
        self.run_as.chown(&path)
    }
}
