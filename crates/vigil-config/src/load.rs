//! Reading and validating a config file. `load_file` fails fast, naming
//! the key at fault; `vigil check-config` is a thin wrapper around it.

use crate::model::{BackendTls, Config, ConnectionConfig};
use crate::ConfigError;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use vigil_core::ConnectionInfo;

/// Reads, parses and validates a config file; relative paths in it are
/// resolved against the file's directory.
pub fn load_file(path: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    let base = path.parent().unwrap_or(Path::new("."));
    let mut cfg = parse_str(&text).map_err(|e| match e {
        ConfigError::Syntax { message, .. } => ConfigError::Syntax {
            path: path.to_owned(),
            message,
        },
        other => other,
    })?;
    cfg.resolve_paths(base);
    Ok(cfg)
}

/// Parses and validates config text (paths stay as written).
pub fn parse_str(text: &str) -> Result<Config, ConfigError> {
    let cfg: Config = toml::from_str(text).map_err(|e| ConfigError::Syntax {
        path: PathBuf::from("<config>"),
        message: e.to_string(),
    })?;
    cfg.validate()?;
    Ok(cfg)
}

fn resolve(base: &Path, p: &mut PathBuf) {
    if p.is_relative() {
        *p = base.join(&*p);
    }
}

impl Config {
    fn resolve_paths(&mut self, base: &Path) {
        for p in [
            &mut self.proxy.tls_cert,
            &mut self.proxy.tls_key,
            &mut self.policy.path,
        ]
        .into_iter()
        .flatten()
        {
            resolve(base, p);
        }
        if let Some(b) = &mut self.identity.builtin {
            resolve(base, &mut b.key_file);
        }
        resolve(base, &mut self.audit.key_file);
        resolve(base, &mut self.masking.key_file);
        if let Some(c) = &mut self.masking.catalog {
            resolve(base, c);
        }
        for k in &mut self.audit.public_keys {
            resolve(base, k);
        }
        for i in &mut self.identity.issuers {
            if let Some(p) = &mut i.jwks_file {
                resolve(base, p);
            }
        }
        for c in &mut self.connections {
            for p in [&mut c.password_file, &mut c.tls_ca_file]
                .into_iter()
                .flatten()
            {
                resolve(base, p);
            }
        }
        if let Some(rest) = self.store.url.strip_prefix("sqlite://") {
            if !rest.starts_with('/') && !rest.starts_with(':') {
                self.store.url = format!("sqlite://{}", base.join(rest).display());
            }
        }
    }

    /// Checks what serde cannot: cross-field rules and value ranges.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.proxy.tls_cert.is_some() != self.proxy.tls_key.is_some() {
            return Err(ConfigError::invalid(
                "proxy.tls_cert",
                "tls_cert and tls_key must be set together",
            ));
        }
        if self.proxy.require_tls && self.proxy.tls_cert.is_none() {
            return Err(ConfigError::invalid(
                "proxy.require_tls",
                "require_tls needs proxy.tls_cert and proxy.tls_key",
            ));
        }
        if self.proxy.max_message_bytes < 8 * 1024 {
            return Err(ConfigError::invalid(
                "proxy.max_message_bytes",
                "must be at least 8192",
            ));
        }
        if !self.policy.guardrails && self.audit.enabled {
            // Nothing would be classified, decided or recorded: an audit
            // trail that silently misses every statement is worse than none.
            return Err(ConfigError::invalid(
                "policy.guardrails",
                "guardrails = false checks no statement, so the audit trail could record none; \
                 set [audit] enabled = false as well (a pure relay, for benchmarks only)",
            ));
        }
        self.validate_identity()?;
        self.validate_masking()?;
        for (i, w) in self.approvals.webhooks.iter().enumerate() {
            if !matches!(w.format.as_str(), "generic" | "slack") {
                return Err(ConfigError::invalid(
                    format!("approvals.webhooks[{i}].format"),
                    "must be \"generic\" or \"slack\"",
                ));
            }
            if !(w.url.starts_with("http://") || w.url.starts_with("https://")) {
                return Err(ConfigError::invalid(
                    format!("approvals.webhooks[{i}].url"),
                    "must be an http:// or https:// URL",
                ));
            }
        }
        let mut names = HashSet::new();
        for (i, c) in self.connections.iter().enumerate() {
            validate_connection(i, c)?;
            if !names.insert(c.name.as_str()) {
                return Err(ConfigError::invalid(
                    format!("connections[{i}].name"),
                    format!("duplicate connection name {:?}", c.name),
                ));
            }
        }
        Ok(())
    }

    fn validate_identity(&self) -> Result<(), ConfigError> {
        let mut seen = HashSet::new();
        if let Some(b) = &self.identity.builtin {
            seen.insert(b.issuer.as_str());
        }
        for (i, iss) in self.identity.issuers.iter().enumerate() {
            let key = format!("identity.issuers[{i}]");
            if iss.issuer.is_empty() || iss.audience.is_empty() {
                return Err(ConfigError::invalid(
                    key,
                    "issuer and audience must not be empty",
                ));
            }
            if iss.jwks_url.is_some() == iss.jwks_file.is_some() {
                return Err(ConfigError::invalid(
                    format!("{key}.jwks_url"),
                    "set exactly one of jwks_url and jwks_file",
                ));
            }
            if !seen.insert(iss.issuer.as_str()) {
                return Err(ConfigError::invalid(
                    format!("{key}.issuer"),
                    format!("issuer {:?} is configured twice", iss.issuer),
                ));
            }
        }
        Ok(())
    }

    fn validate_masking(&self) -> Result<(), ConfigError> {
        const STRATEGIES: &[&str] = &["redact", "partial", "hash", "null", "reveal", "refuse"];
        for (key, strategy) in &self.masking.default {
            if !STRATEGIES.contains(&strategy.trim().to_ascii_lowercase().as_str()) {
                return Err(ConfigError::invalid(
                    format!("masking.default.{key}"),
                    format!(
                        "unknown strategy {strategy:?}; use one of {}",
                        STRATEGIES.join("|")
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The connection named `name`, if configured.
    pub fn connection(&self, name: &str) -> Option<&ConnectionConfig> {
        self.connections.iter().find(|c| c.name == name)
    }
}

fn validate_connection(i: usize, c: &ConnectionConfig) -> Result<(), ConfigError> {
    let key = |f: &str| format!("connections[{i}].{f}");
    if c.name.is_empty() || c.name.contains('\0') {
        return Err(ConfigError::invalid(
            key("name"),
            "must be a non-empty name",
        ));
    }
    if c.audit_fail_open && c.info().is_production() {
        return Err(ConfigError::invalid(
            key("audit_fail_open"),
            "fail-open auditing is only allowed on non-production connections",
        ));
    }
    if c.engine != "postgres" {
        return Err(ConfigError::invalid(
            key("engine"),
            format!("unsupported engine {:?}; supported: \"postgres\"", c.engine),
        ));
    }
    if c.host.is_empty() || c.port == 0 {
        return Err(ConfigError::invalid(
            key("host"),
            "host and port are required",
        ));
    }
    if c.password_env.is_some() && c.password_file.is_some() {
        return Err(ConfigError::invalid(
            key("password_env"),
            "set at most one of password_env and password_file",
        ));
    }
    if c.tls == BackendTls::VerifyFull && c.tls_ca_file.is_none() {
        return Err(ConfigError::invalid(
            key("tls_ca_file"),
            "tls = \"verify-full\" needs tls_ca_file",
        ));
    }
    Ok(())
}

impl ConnectionConfig {
    /// The backend password from `password_env` or `password_file`, read
    /// now so a missing secret is reported when Vigil starts.
    pub fn resolve_password(&self) -> Result<Option<String>, ConfigError> {
        if let Some(var) = &self.password_env {
            return std::env::var(var).map(Some).map_err(|_| {
                ConfigError::invalid(
                    format!("connections.{}.password_env", self.name),
                    format!("environment variable {var} is not set"),
                )
            });
        }
        if let Some(file) = &self.password_file {
            let text = std::fs::read_to_string(file).map_err(|e| {
                ConfigError::invalid(
                    format!("connections.{}.password_file", self.name),
                    format!("cannot read {}: {e}", file.display()),
                )
            })?;
            return Ok(Some(text.trim_end_matches(['\r', '\n']).to_owned()));
        }
        Ok(None)
    }

    /// The facts policy and audit see about this connection.
    pub fn info(&self) -> ConnectionInfo {
        ConnectionInfo {
            name: self.name.clone(),
            engine: self.engine.clone(),
            environment: self.environment.clone(),
            labels: self.labels.clone(),
            allow_opaque_code: self.allow_opaque_code,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[proxy]
listen = "127.0.0.1:7432"
[identity.builtin]
key_file = "k.pem"
[[connections]]
name = "shop-prod"
host = "127.0.0.1"
database = "shop"
user = "svc"
password_env = "SHOP_PW"
environment = "production"
labels = { team = "payments" }
"#;

    #[test]
    fn parses_example() {
        let c = parse_str(GOOD).unwrap();
        assert_eq!(c.connections[0].port, 5432);
        assert_eq!(
            c.connection("shop-prod").unwrap().info().environment,
            "production"
        );
    }

    #[test]
    fn unknown_key_is_named() {
        let err = parse_str(&GOOD.replace("user = \"svc\"", "user = \"svc\"\nusr = 1"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("usr"), "{err}");
    }

    #[test]
    fn wrong_type_names_key() {
        let err = parse_str(&GOOD.replace("listen = \"127.0.0.1:7432\"", "listen = 5"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("listen"), "{err}");
    }

    #[test]
    fn an_unchecked_relay_cannot_claim_an_audit_trail() {
        let relay = format!("{GOOD}\n[policy]\nguardrails = false\n");
        let err = parse_str(&relay).unwrap_err().to_string();
        assert!(err.contains("policy.guardrails"), "{err}");
        assert!(err.contains("[audit] enabled = false"), "{err}");
        let c = parse_str(&format!("{relay}[audit]\nenabled = false\n")).unwrap();
        assert!(!c.policy.guardrails && !c.audit.enabled);
    }

    #[test]
    fn duplicate_connections_refused() {
        let twice = format!("{GOOD}\n{}", &GOOD[GOOD.find("[[connections]]").unwrap()..]);
        let err = parse_str(&twice).unwrap_err().to_string();
        assert!(err.contains("connections[1].name"), "{err}");
    }

    #[test]
    fn both_password_sources_refused() {
        let t = GOOD.replace("password_env", "password_file = \"x\"\npassword_env");
        assert!(parse_str(&t)
            .unwrap_err()
            .to_string()
            .contains("password_env"));
    }

    #[test]
    fn paths_resolve_against_config_dir() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("vigil.toml");
        std::fs::write(&p, GOOD).unwrap();
        let c = load_file(&p).unwrap();
        assert_eq!(
            c.identity.builtin.unwrap().key_file,
            dir.path().join("k.pem")
        );
        assert!(c
            .store
            .url
            .starts_with(&format!("sqlite://{}", dir.path().display())));
    }

    #[test]
    fn masking_defaults_and_bad_strategy_named() {
        let c = parse_str(GOOD).unwrap();
        assert!(c.masking.enabled && c.masking.catalog.is_none());
        let ok = parse_str(&format!(
            "{GOOD}\n[masking]\ndefault = {{ pii = \"hash\" }}\n"
        ))
        .unwrap();
        assert_eq!(ok.masking.default["pii"], "hash");
        let bad = format!("{GOOD}\n[masking]\ndefault = {{ pii = \"scramble\" }}\n");
        let err = parse_str(&bad).unwrap_err().to_string();
        assert!(err.contains("masking.default.pii"), "{err}");
    }

    #[test]
    fn missing_password_env_is_named() {
        let c = parse_str(&GOOD.replace("SHOP_PW", "VIGIL_TEST_SURELY_UNSET")).unwrap();
        let err = c.connections[0].resolve_password().unwrap_err().to_string();
        assert!(err.contains("VIGIL_TEST_SURELY_UNSET"), "{err}");
    }
}
