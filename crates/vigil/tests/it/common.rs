//! The harness: a throw-away cluster with an `app` database, Vigil in
//! front of it (in-process, on 127.0.0.1:0), and tokens from a built-in
//! issuer whose key lives in a temp dir.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::Arc;
use std::time::Duration;
use vigil_core::PrincipalKind;
use vigil_identity::{BuiltinIssuer, BuiltinSettings, TokenRequest};
use vigil_pgtemp::{AuthMethod, ClusterOptions, TempCluster};
use vigil_proxy::StatementHook;
use vigil_server::BackgroundProxy;

pub const USER: &str = "alice@example.com";
pub const APP_PASSWORD: &str = "app-owner-secret";
pub const CONNECTION: &str = "app";

/// Options for [`Stack::start_with`].
pub struct StackOptions {
    pub hook: Arc<dyn StatementHook>,
    pub environment: &'static str,
    /// Extra postgresql.conf settings.
    pub settings: Vec<(&'static str, &'static str)>,
    /// Backend authentication Vigil must perform.
    pub auth: AuthMethod,
    /// Extra lines appended to `[proxy]`.
    pub proxy_extra: String,
    /// Extra lines appended to the `[[connections]]` entry.
    pub connection_extra: String,
    /// Whether the server offers TLS.
    pub backend_ssl: bool,
    /// Build everything from the config (store, audit, policy hook) as
    /// `vigil serve` does, ignoring `hook`.
    pub configured: bool,
}

impl Default for StackOptions {
    fn default() -> Self {
        StackOptions {
            // The real default pipeline (classify → guardrails), so every
            // client test also proves the guardrails let ordinary work through.
            hook: Arc::new(vigil_server::GuardrailHook::new(1024)),
            environment: "dev",
            settings: Vec::new(),
            auth: AuthMethod::Scram,
            proxy_extra: String::new(),
            connection_extra: String::new(),
            backend_ssl: false,
            configured: false,
        }
    }
}

/// A cluster, Vigil in front of it, and a way to mint tokens.
pub struct Stack {
    pub proxy: Option<BackgroundProxy>,
    pub cluster: TempCluster,
    pub issuer: BuiltinIssuer,
    pub dir: tempfile::TempDir,
    pub config_path: PathBuf,
}

impl Stack {
    /// The default pipeline on a `dev` connection that allows opaque code
    /// (functions, DO blocks), as the client-fidelity tests need.
    pub fn start() -> Stack {
        Stack::start_with(StackOptions {
            connection_extra: "allow_opaque_code = true\n".into(),
            ..StackOptions::default()
        })
    }

    pub fn start_with(opts: StackOptions) -> Stack {
        let mut cluster_opts = ClusterOptions::with_password(opts.auth, "superuser-secret");
        for (k, v) in &opts.settings {
            cluster_opts = cluster_opts.setting(k, v);
        }
        cluster_opts.ssl = opts.backend_ssl;
        let cluster = TempCluster::start(cluster_opts).expect("start cluster");
        cluster.create_database("app").expect("create db");
        let encryption = if opts.auth == AuthMethod::Md5 {
            "md5"
        } else {
            "scram-sha-256"
        };
        cluster
            .psql(
                "app",
                &format!(
                    "SET password_encryption = '{encryption}';
                     CREATE ROLE app_owner LOGIN PASSWORD '{APP_PASSWORD}';
                     ALTER DATABASE app OWNER TO app_owner;
                     GRANT ALL ON SCHEMA public TO app_owner;"
                ),
            )
            .expect("create role");
        let dir = tempfile::tempdir().expect("tempdir");
        let mut proxy_extra = opts
            .proxy_extra
            .replace("$DIR", &dir.path().display().to_string());
        // `$PGSTORE`: Vigil's store in a database of this same cluster (the
        // PostgreSQL store that several replicas share).
        if proxy_extra.contains("$PGSTORE") {
            cluster
                .create_database("vigil_store")
                .expect("create store db");
            proxy_extra = proxy_extra.replace("$PGSTORE", &cluster.url("vigil_store"));
        }
        let opts = StackOptions {
            proxy_extra,
            ..opts
        };
        let config_path = dir.path().join("vigil.toml");
        std::fs::write(dir.path().join("app.password"), APP_PASSWORD).unwrap();
        let mut connection_extra = opts.connection_extra.clone();
        if let Some(pem) = cluster.server_cert_pem() {
            let ca = dir.path().join("server-ca.pem");
            std::fs::write(&ca, pem).unwrap();
            connection_extra = connection_extra.replace("$CA", &ca.display().to_string());
        }
        let text = config_text(&cluster, opts.environment, &opts.proxy_extra) + &connection_extra;
        std::fs::write(&config_path, text).unwrap();
        let cfg = vigil_config::load_file(&config_path).expect("config");
        let issuer = BuiltinIssuer::load_or_create(&BuiltinSettings {
            issuer: "vigil".into(),
            audience: "vigil".into(),
            key_file: dir.path().join("vigil-signing.key"),
        })
        .expect("issuer");
        let proxy = if opts.configured {
            BackgroundProxy::start_configured(cfg, Some(&config_path)).expect("start vigil")
        } else {
            BackgroundProxy::start(cfg, opts.hook).expect("start proxy")
        };
        Stack {
            proxy: Some(proxy),
            cluster,
            issuer,
            dir,
            config_path,
        }
    }

    pub fn proxy_port(&self) -> u16 {
        self.proxy.as_ref().expect("proxy running").addr().port()
    }

    /// A token for `sub` with the given groups and kind, valid for `ttl`.
    pub fn token_for(
        &self,
        sub: &str,
        groups: &[&str],
        kind: PrincipalKind,
        ttl: Duration,
    ) -> String {
        self.issuer
            .issue(&TokenRequest {
                subject: sub.into(),
                email: Some(sub.into()).filter(|s: &String| s.contains('@')),
                groups: groups.iter().map(|g| g.to_string()).collect(),
                kind,
                ttl,
            })
            .expect("issue token")
    }

    /// A one-hour token for [`USER`] in group `dev`.
    pub fn token(&self) -> String {
        self.token_for(
            USER,
            &["dev"],
            PrincipalKind::Human,
            Duration::from_secs(3600),
        )
    }

    /// libpq keyword DSN through Vigil as [`USER`].
    pub fn proxy_dsn(&self) -> String {
        self.proxy_dsn_with(USER, &self.token(), CONNECTION)
    }

    pub fn proxy_dsn_with(&self, user: &str, token: &str, connection: &str) -> String {
        format!(
            "host=127.0.0.1 port={} dbname={connection} user={user} password={token} sslmode=disable",
            self.proxy_port()
        )
    }

    /// libpq keyword DSN straight to the server as the app owner.
    pub fn direct_dsn(&self) -> String {
        format!(
            "host=127.0.0.1 port={} dbname=app user=app_owner password={APP_PASSWORD} sslmode=disable",
            self.cluster.port()
        )
    }

    /// postgresql:// URL forms, for drivers that want one.
    pub fn proxy_url(&self) -> String {
        format!(
            "postgresql://{}:{}@127.0.0.1:{}/{CONNECTION}?sslmode=disable",
            USER.replace('@', "%40"),
            self.token(),
            self.proxy_port()
        )
    }

    pub fn direct_url(&self) -> String {
        format!(
            "postgresql://app_owner:{APP_PASSWORD}@127.0.0.1:{}/app?sslmode=disable",
            self.cluster.port()
        )
    }

    /// Runs SQL directly on the server as the superuser (checks, set-up).
    pub fn admin(&self, sql: &str) -> String {
        self.cluster.psql("app", sql).expect("admin sql")
    }

    /// A raw-protocol session through Vigil as [`USER`].
    pub fn session(&self) -> crate::raw::Raw {
        self.session_as(USER, &self.token())
    }

    /// A raw-protocol session through Vigil as `user` with `token`.
    pub fn session_as(&self, user: &str, token: &str) -> crate::raw::Raw {
        let params = [("user", user), ("database", CONNECTION)];
        match crate::raw::Raw::login(self.proxy_port(), &params, token) {
            crate::raw::Login::Ok(r) => r,
            crate::raw::Login::Refused(e) => panic!("login refused: {:?}", e.message()),
        }
    }

    /// A tokio-postgres client through Vigil as [`USER`] (a real driver that
    /// pipelines concurrent queries); call inside a multi-thread runtime.
    pub async fn driver(&self) -> tokio_postgres::Client {
        let (client, conn) = tokio_postgres::connect(&self.proxy_dsn(), tokio_postgres::NoTls)
            .await
            .expect("driver connects through Vigil");
        tokio::spawn(conn);
        client
    }

    /// Stops Vigil (its sessions end).
    pub fn stop_proxy(&mut self) {
        self.proxy.take();
    }
}

fn config_text(cluster: &TempCluster, environment: &str, proxy_extra: &str) -> String {
    format!(
        r#"[proxy]
listen = "127.0.0.1:0"
{proxy_extra}
[http]
listen = "127.0.0.1:0"

[identity.builtin]
key_file = "vigil-signing.key"

[[connections]]
name = "{CONNECTION}"
host = "127.0.0.1"
port = {port}
database = "app"
user = "app_owner"
password_file = "app.password"
environment = "{environment}"
"#,
        port = cluster.port()
    )
}

/// Runs psql with a DSN and a script on stdin; never reads ~/.psqlrc.
pub fn psql(dsn: &str, script: &str, extra: &[&str]) -> Output {
    use std::io::Write;
    let mut child = Command::new("psql")
        .arg(dsn)
        .args(["-X", "-v", "ON_ERROR_STOP=0", "-f", "-"])
        .args(extra)
        .env_remove("PGPASSWORD")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn psql");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    child.wait_with_output().expect("psql output")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Python 3 with psycopg and asyncpg, or None when they are missing and
/// `VIGIL_REQUIRE_ALL_CLIENTS` is not set. CI sets it: a missing client
/// library there is a failure, not a skip.
pub fn python_with(modules: &[&str]) -> Option<String> {
    let check = modules
        .iter()
        .map(|m| format!("import {m}"))
        .collect::<Vec<_>>()
        .join(";");
    let ok = Command::new("python3")
        .args(["-c", &check])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if ok {
        return Some("python3".into());
    }
    if std::env::var_os("VIGIL_REQUIRE_ALL_CLIENTS").is_some() {
        panic!("python3 with {modules:?} is required (run ./dev/test to install it)");
    }
    eprintln!("SKIP: python3 with {modules:?} not installed");
    None
}

/// Directory of this test binary's helper scripts.
pub fn scripts_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/it/scripts")
}
