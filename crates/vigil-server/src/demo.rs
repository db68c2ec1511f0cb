//! `vigil demo`: a throw-away PostgreSQL with fake PII, Vigil in front of
//! it, and ready-to-paste commands for a developer and an AI agent.

use crate::{load_issuer, BackgroundProxy, ServerError};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use vigil_core::PrincipalKind;
use vigil_identity::TokenRequest;
use vigil_pgtemp::{demo, AuthMethod, ClusterOptions, TempCluster};
use vigil_proxy::StatementHook;

/// What the demo needs from the caller.
pub struct DemoOptions {
    /// Port for Vigil's listener; `None` picks 7432, or a free port if taken.
    pub port: Option<u16>,
    /// Number of fake customers.
    pub rows: usize,
}

/// A running demo. Dropping it stops Vigil and deletes the database.
pub struct Demo {
    pub proxy: BackgroundProxy,
    pub cluster: TempCluster,
    pub dir: std::path::PathBuf,
    pub developer_token: String,
    pub agent_token: String,
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

const SERVICE_USER: &str = "vigil_svc";

fn err(e: impl std::fmt::Display) -> ServerError {
    ServerError::Demo(e.to_string())
}

fn random_password() -> String {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    (0..4)
        .map(|_| format!("{:016x}", RandomState::new().build_hasher().finish()))
        .collect()
}

fn config_text(dir: &Path, port: u16, db_port: u16) -> String {
    format!(
        r#"# Written by `vigil demo`. Throw-away: deleted on exit.
[proxy]
listen = "127.0.0.1:{port}"

[identity.builtin]
issuer = "vigil"
audience = "vigil"
key_file = "{dir}/vigil-signing.key"

[store]
url = "sqlite://{dir}/vigil.db"

[[connections]]
name = "shop-prod"
host = "127.0.0.1"
port = {db_port}
database = "shop"
user = "{SERVICE_USER}"
password_file = "{dir}/shop.password"
environment = "production"
labels = {{ team = "payments", sensitive = "true" }}

[[connections]]
name = "shop-dev"
host = "127.0.0.1"
port = {db_port}
database = "shop"
user = "{SERVICE_USER}"
password_file = "{dir}/shop.password"
environment = "dev"
"#,
        dir = dir.display()
    )
}

fn pick_port(wanted: Option<u16>) -> Result<u16, ServerError> {
    let p = wanted.unwrap_or(7432);
    if wanted.is_some() || std::net::TcpListener::bind(("127.0.0.1", p)).is_ok() {
        return Ok(p);
    }
    vigil_pgtemp::free_port().map_err(err)
}

/// Starts the database, loads the data, starts Vigil and mints tokens.
pub fn start(opts: DemoOptions, hook: Arc<dyn StatementHook>) -> Result<Demo, ServerError> {
    // The backend demands SCRAM, as a production server would: Vigil holds
    // the only credentials.
    let superuser = ClusterOptions::with_password(AuthMethod::Scram, &random_password());
    let cluster = TempCluster::start(superuser).map_err(err)?;
    let password = random_password();
    cluster.create_database("shop").map_err(err)?;
    cluster
        .psql("shop", &demo::demo_schema_sql(opts.rows))
        .map_err(err)?;
    cluster
        .psql(
            "shop",
            &format!(
                "SET password_encryption = 'scram-sha-256';
                 CREATE ROLE {SERVICE_USER} LOGIN PASSWORD '{password}';
                 GRANT ALL ON ALL TABLES IN SCHEMA public TO {SERVICE_USER};
                 GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {SERVICE_USER};
                 GRANT CREATE ON SCHEMA public TO {SERVICE_USER};"
            ),
        )
        .map_err(err)?;
    let dir = std::env::temp_dir().join(format!("vigil-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(err)?;
    std::fs::write(dir.join("shop.password"), &password).map_err(err)?;
    let port = pick_port(opts.port)?;
    let cfg_path = dir.join("vigil.toml");
    std::fs::write(&cfg_path, config_text(&dir, port, cluster.port())).map_err(err)?;
    let cfg = vigil_config::load_file(&cfg_path)?;
    let issuer = load_issuer(&cfg)?.ok_or_else(|| err("demo config has no built-in issuer"))?;
    let token = |subject: &str, email: Option<&str>, groups: &[&str], kind| {
        issuer.issue(&TokenRequest {
            subject: subject.to_owned(),
            email: email.map(str::to_owned),
            groups: groups.iter().map(|g| g.to_string()).collect(),
            kind,
            ttl: Duration::from_secs(8 * 3600),
        })
    };
    let developer_token = token(
        "alice@example.com",
        Some("alice@example.com"),
        &["dev"],
        PrincipalKind::Human,
    )?;
    let agent_token = token("sql-agent", None, &["agents"], PrincipalKind::Agent)?;
    let proxy = BackgroundProxy::start(cfg, hook)?;
    Ok(Demo {
        proxy,
        cluster,
        dir,
        developer_token,
        agent_token,
    })
}

impl Demo {
    /// The text printed once the demo is up.
    pub fn instructions(&self) -> String {
        let port = self.proxy.addr().port();
        let cfg = self.dir.join("vigil.toml");
        format!(
            "Vigil demo is running.\n\
             \n  database   PostgreSQL on 127.0.0.1:{db} (throw-away, fake PII: customers, orders, payments, api_keys)\
             \n  proxy      Vigil on 127.0.0.1:{port}\
             \n  config     {cfg}\
             \n\nConnect as a developer (alice@example.com, group dev):\n\
             \n  psql \"host=127.0.0.1 port={port} dbname=shop-prod user=alice@example.com password={dev} sslmode=disable\"\n\
             \nConnect as an AI agent (sql-agent, kind agent):\n\
             \n  psql \"host=127.0.0.1 port={port} dbname=shop-dev user=sql-agent password={agent} sslmode=disable\"\n\
             \nTry:  SELECT full_name, email FROM customers LIMIT 5;\
             \n      DELETE FROM orders;          -- blocked on shop-prod by the guardrails\
             \n      SELECT pg_read_file('/etc/passwd');\
             \n\nMint more tokens: vigil token issue --config {cfg} --sub bob@example.com --groups dev --ttl 1h\
             \nPress Ctrl-C to stop; everything is deleted.\n",
            db = self.cluster.port(),
            dev = self.developer_token,
            agent = self.agent_token,
            cfg = cfg.display(),
        )
    }
}
