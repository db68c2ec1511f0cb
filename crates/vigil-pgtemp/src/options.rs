//! What a caller may ask of a throw-away cluster: auth method, superuser,
//! extra settings, TLS. Validation happens here so a bad option fails before
//! anything touches the disk.

/// How TCP connections from 127.0.0.1 authenticate (the `host` lines of pg_hba.conf).
/// Unix-socket connections are always `trust`: only this process's temp dir can reach them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuthMethod {
    /// No password needed.
    #[default]
    Trust,
    /// MD5 challenge; passwords are stored as md5 hashes (`password_encryption = md5`).
    Md5,
    /// SCRAM-SHA-256; passwords are stored as SCRAM verifiers.
    Scram,
}

impl AuthMethod {
    /// The method's name in pg_hba.conf.
    pub fn hba_name(self) -> &'static str {
        match self {
            AuthMethod::Trust => "trust",
            AuthMethod::Md5 => "md5",
            AuthMethod::Scram => "scram-sha-256",
        }
    }

    /// The `password_encryption` setting that makes stored hashes match the method.
    pub(crate) fn password_encryption(self) -> &'static str {
        match self {
            AuthMethod::Md5 => "md5",
            AuthMethod::Trust | AuthMethod::Scram => "scram-sha-256",
        }
    }
}

/// Options for [`crate::TempCluster::start`]. `ClusterOptions::default()` is a
/// trust-auth cluster with superuser `postgres`, no TLS.
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// Auth for TCP connections from 127.0.0.1; default `Trust`.
    pub auth: AuthMethod,
    /// Name of the bootstrap superuser; default `postgres`.
    pub superuser: String,
    /// Superuser password, set via `initdb --pwfile`. Required for `Md5`/`Scram`.
    pub superuser_password: Option<String>,
    /// Extra postgresql.conf settings, e.g. `("log_statement", "all")`.
    pub settings: Vec<(String, String)>,
    /// Generate a self-signed certificate and set `ssl = on`.
    pub ssl: bool,
    /// Keep the temp dir after drop (the server is still stopped). Also on when
    /// the environment has `VIGIL_PGTEMP_KEEP=1`.
    pub keep: bool,
}

impl Default for ClusterOptions {
    fn default() -> Self {
        ClusterOptions {
            auth: AuthMethod::Trust,
            superuser: "postgres".to_string(),
            superuser_password: None,
            settings: Vec::new(),
            ssl: false,
            keep: false,
        }
    }
}

impl ClusterOptions {
    /// Options for a password-protected cluster with the given method.
    pub fn with_password(auth: AuthMethod, password: &str) -> Self {
        ClusterOptions {
            auth,
            superuser_password: Some(password.to_string()),
            ..ClusterOptions::default()
        }
    }

    /// Adds one postgresql.conf setting (builder style).
    pub fn setting(mut self, name: &str, value: &str) -> Self {
        self.settings.push((name.to_string(), value.to_string()));
        self
    }

    /// Rejects options that would give a cluster nobody can log into, or
    /// config text that could inject extra lines.
    pub(crate) fn validate(&self) -> Result<(), String> {
        if !is_identifier(&self.superuser) {
            return Err(format!(
                "superuser name {:?} must be [A-Za-z_][A-Za-z0-9_]*",
                self.superuser
            ));
        }
        if self.auth != AuthMethod::Trust && self.superuser_password.is_none() {
            return Err(format!(
                "auth {} needs superuser_password",
                self.auth.hba_name()
            ));
        }
        if let Some(pw) = &self.superuser_password {
            if pw.is_empty() || pw.contains(['\n', '\r', '\0']) {
                return Err("superuser_password must be non-empty and single-line".to_string());
            }
        }
        for (name, value) in &self.settings {
            if !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
                || name.is_empty()
            {
                return Err(format!("setting name {name:?} is not a GUC name"));
            }
            if value.contains(['\n', '\r', '\0']) {
                return Err(format!("setting {name} has a multi-line value"));
            }
        }
        Ok(())
    }
}

/// True for names we can put into SQL and config files without quoting.
pub(crate) fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' => {}
        _ => return false,
    }
    s.len() <= 63 && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_methods_need_a_password() {
        let opts = ClusterOptions {
            auth: AuthMethod::Scram,
            ..ClusterOptions::default()
        };
        assert!(opts.validate().is_err());
        assert!(ClusterOptions::with_password(AuthMethod::Md5, "pw")
            .validate()
            .is_ok());
    }

    #[test]
    fn config_injection_is_rejected() {
        let bad = ClusterOptions::default().setting("log_statement", "all'\nfsync = on");
        assert!(bad.validate().is_err());
        let bad_name = ClusterOptions::default().setting("a = b #", "x");
        assert!(bad_name.validate().is_err());
        let bad_user = ClusterOptions {
            superuser: "robert'); drop".to_string(),
            ..ClusterOptions::default()
        };
        assert!(bad_user.validate().is_err());
    }
}
