//! `vigil demo`: a throw-away PostgreSQL with fake PII, Vigil in front of
//! it (configured as `vigil serve` runs it: Rego policy, audit trail,
//! masking), and ready-to-paste commands for a developer and an AI agent.
//! The demo database is classified (`vigil classify`) before Vigil starts,
//! so masking knows its columns from the first query.

use crate::{load_issuer, BackgroundProxy, ServerError};
use std::path::Path;
use std::time::Duration;
use vigil_core::PrincipalKind;
use vigil_identity::TokenRequest;
use vigil_pgtemp::{demo, AuthMethod, ClusterOptions, TempCluster};

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
    /// A `dba` reviewer (bob@example.com) for the approvals web UI.
    pub reviewer_token: String,
    /// Classified columns in the masking catalog (per connection).
    pub classified: usize,
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

fn config_text(dir: &Path, port: u16, http_port: u16, db_port: u16) -> String {
    format!(
        r#"# Written by `vigil demo`. Throw-away: deleted on exit.
[proxy]
listen = "127.0.0.1:{port}"

[http]
listen = "127.0.0.1:{http_port}"

[audit]
key_file = "{dir}/vigil-audit.key"

[identity.builtin]
issuer = "vigil"
audience = "vigil"
key_file = "{dir}/vigil-signing.key"

[store]
url = "sqlite://{dir}/vigil.db"

[masking]
catalog = "{dir}/catalog.toml"

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

fn pick_port(wanted: Option<u16>, default: u16) -> Result<u16, ServerError> {
    let p = wanted.unwrap_or(default);
    if wanted.is_some() || std::net::TcpListener::bind(("127.0.0.1", p)).is_ok() {
        return Ok(p);
    }
    vigil_pgtemp::free_port().map_err(err)
}

/// Starts the database, loads the data, classifies it, starts Vigil and
/// mints tokens. Vigil is built from the demo's config as `vigil serve`
/// builds it (the default policy bundle, audit trail, approvals and the
/// web UI, masking).
pub fn start(opts: DemoOptions) -> Result<Demo, ServerError> {
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
    let port = pick_port(opts.port, 7432)?;
    let http_port = pick_port(None, 7480)?;
    let cfg_path = dir.join("vigil.toml");
    std::fs::write(
        &cfg_path,
        config_text(&dir, port, http_port, cluster.port()),
    )
    .map_err(err)?;
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
    let reviewer_token = token(
        "bob@example.com",
        Some("bob@example.com"),
        &["dba"],
        PrincipalKind::Human,
    )?;
    let classified = classify(&cfg, &dir.join("catalog.toml"))?;
    let proxy = BackgroundProxy::start_configured(cfg, Some(&cfg_path))?;
    Ok(Demo {
        proxy,
        cluster,
        dir,
        developer_token,
        agent_token,
        reviewer_token,
        classified,
    })
}

/// Runs `vigil classify` on every demo connection into `catalog`.
fn classify(cfg: &vigil_config::Config, catalog: &Path) -> Result<usize, ServerError> {
    use crate::masking::classify::{classify_connection, merge_into_file, ClassifyOptions};
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(err)?;
    let mut total = 0;
    for c in &cfg.connections {
        let found = rt.block_on(classify_connection(
            cfg,
            &c.name,
            &ClassifyOptions::default(),
            &mut |_| {},
        ))?;
        total += merge_into_file(catalog, &c.name, &found)?
            .for_connection(&c.name)
            .entries()
            .len();
    }
    Ok(total)
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
             \n  web UI     {web}/requests (approvals; sign in with the reviewer token below)\
             \n  masking    {classified} classified column(s) in {catalog} (`vigil classify`); other values by detectors\
             \n\nConnect as a developer (alice@example.com, group dev):\n\
             \n  psql \"host=127.0.0.1 port={port} dbname=shop-prod user=alice@example.com password={dev} sslmode=disable\"\n\
             \nConnect as an AI agent (sql-agent, kind agent):\n\
             \n  psql \"host=127.0.0.1 port={port} dbname=shop-dev user=sql-agent password={agent} sslmode=disable\"\n\
             \nTry:  SELECT full_name, email FROM customers LIMIT 5;   -- PII comes back masked\
             \n      DELETE FROM orders;          -- denied on shop-prod: no WHERE clause\
             \n      UPDATE orders SET status = 'refunded' WHERE id = 1;   -- on shop-prod: held until a DBA approves\
             \n      SELECT pg_read_file('/etc/passwd');   -- denied: reads server files\
             \n\nReview held statements as bob@example.com (group dba): open {web}/signin and paste\
             \n  {reviewer}\
             \nor: VIGIL_URL={web} VIGIL_TOKEN=<that token> vigil requests --pending; vigil approve ID\
             \nAudit trail: vigil audit --config {cfg} tail   (verify, search, summary, export)\
             \nMetrics (masked values by class, …): {web}/metrics\
             \n\nMint more tokens: vigil token issue --config {cfg} --sub bob@example.com --groups dev --ttl 1h\
             \nPress Ctrl-C to stop; everything is deleted.\n",
            db = self.cluster.port(),
            dev = self.developer_token,
            agent = self.agent_token,
            reviewer = self.reviewer_token,
            web = self
                .proxy
                .http_addr()
                .map_or_else(|| "http://127.0.0.1:7480".to_owned(), |a| format!("http://{a}")),
            cfg = cfg.display(),
            classified = self.classified,
            catalog = self.dir.join("catalog.toml").display(),
        )
    }
}
