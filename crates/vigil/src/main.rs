//! The `vigil` command: parse arguments, load config, call the library.

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use vigil_core::PrincipalKind;
use vigil_identity::{parse_ttl, TokenRequest};

mod audit_cmd;
mod classify_cmd;
mod policy_cmd;
mod requests_cmd;

#[derive(Parser)]
#[command(
    name = "vigil",
    version,
    about = "Identity-aware access proxy for PostgreSQL"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the proxy.
    Serve {
        #[arg(long, default_value = "vigil.toml")]
        config: PathBuf,
    },
    /// Validate a config file without starting anything.
    CheckConfig {
        #[arg(long, default_value = "vigil.toml")]
        config: PathBuf,
    },
    /// Vigil's own tokens (service accounts, agents, demos).
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Show how Vigil classifies and decides a statement on a connection.
    Explain {
        #[arg(long, default_value = "vigil.toml")]
        config: PathBuf,
        /// Connection name from the config.
        #[arg(long)]
        connection: String,
        /// Who asks (the Rego policy decides per principal).
        #[arg(long = "as", default_value = "anonymous")]
        who: String,
        /// Comma-separated groups of the asking principal.
        #[arg(long, value_delimiter = ',')]
        groups: Vec<String>,
        /// human, service or agent.
        #[arg(long, default_value = "human")]
        kind: String,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
        /// The SQL text (one message; may hold several statements).
        sql: String,
    },
    /// The audit trail: verify, tail, search, export, summary.
    Audit {
        #[arg(long, default_value = "vigil.toml")]
        config: PathBuf,
        #[command(subcommand)]
        command: audit_cmd::AuditCommand,
    },
    /// List approval requests (talks to Vigil's HTTP API).
    Requests(requests_cmd::RequestsArgs),
    /// Approve a held statement.
    Approve(requests_cmd::ApproveArgs),
    /// Deny a held statement (the comment is required; the client sees it).
    Deny(requests_cmd::DenyArgs),
    /// Policy bundles: check, test, dry-run a decision.
    Policy {
        #[command(subcommand)]
        command: policy_cmd::PolicyCommand,
    },
    /// Scan a connection's database and write the masking catalog.
    Classify(classify_cmd::ClassifyArgs),
    /// Start a throw-away PostgreSQL with fake PII behind Vigil.
    Demo {
        /// Port for Vigil (default 7432, or a free one if taken).
        #[arg(long)]
        port: Option<u16>,
        /// Number of fake customers.
        #[arg(long, default_value_t = 200)]
        rows: usize,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Print a signed token on stdout.
    Issue {
        #[arg(long, default_value = "vigil.toml")]
        config: PathBuf,
        /// Subject (`sub`).
        #[arg(long)]
        sub: String,
        #[arg(long)]
        email: Option<String>,
        /// Comma-separated groups.
        #[arg(long, value_delimiter = ',')]
        groups: Vec<String>,
        /// human, service or agent.
        #[arg(long, default_value = "human")]
        kind: String,
        /// Lifetime, e.g. 15m, 1h, 7d.
        #[arg(long, default_value = "1h")]
        ttl: String,
    },
}

fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("VIGIL_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Command::Serve { config } => serve(&config),
        Command::CheckConfig { config } => check_config(&config),
        Command::Token { command } => token(command),
        Command::Explain {
            config,
            connection,
            json,
            sql,
            who,
            groups,
            kind,
        } => {
            let cfg = load(&config)?;
            if cfg.policy.guardrails && cfg.policy.engine == vigil_config::PolicyEngineKind::Rego {
                // What `vigil serve` does: the configured Rego bundle.
                let code = policy_cmd::run(policy_cmd::PolicyCommand::Eval {
                    config,
                    policy: None,
                    who,
                    groups,
                    kind,
                    connection,
                    environment: None,
                    json,
                    sql,
                })?;
                std::process::exit(code);
            }
            explain(&config, &connection, json, &sql)
        }
        Command::Demo { port, rows } => demo(port, rows),
        Command::Classify(args) => classify_cmd::run(args),
        Command::Audit { config, command } => {
            // `verify --file` must work for a third party without a config file.
            let ctx = match load(&config) {
                Ok(cfg) => audit_cmd::AuditContext {
                    store_url: cfg.store.url.clone(),
                    key_file: Some(cfg.audit.key_file.clone()),
                    public_keys: cfg.audit.public_keys.clone(),
                },
                Err(_) if !config.exists() => audit_cmd::AuditContext::default(),
                Err(e) => return Err(e),
            };
            let code = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?
                .block_on(audit_cmd::run(command, &ctx))?;
            std::process::exit(code)
        }
        Command::Requests(a) => review_cli(requests_cmd::ReviewCommand::Requests(a)),
        Command::Approve(a) => review_cli(requests_cmd::ReviewCommand::Approve(a)),
        Command::Deny(a) => review_cli(requests_cmd::ReviewCommand::Deny(a)),
        Command::Policy { command } => {
            let code = policy_cmd::run(command)?;
            std::process::exit(code)
        }
    }
}

fn explain(config: &Path, connection: &str, json: bool, sql: &str) -> Result<()> {
    let cfg = load(config)?;
    let Some(conn) = cfg.connection(connection) else {
        let names: Vec<&str> = cfg.connections.iter().map(|c| c.name.as_str()).collect();
        bail!(
            "no connection {connection:?} in {}; configured: {}",
            config.display(),
            names.join(", ")
        );
    };
    let hook = vigil_server::GuardrailHook::new(16);
    let (msg, decision) = hook.explain(sql, &conn.info());
    if json {
        let out = serde_json::json!({ "connection": connection, "statement": &*msg, "decision": decision });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        print!("{}", vigil_sql::render_text(&msg));
        println!(
            "\ndecision on {connection} ({}): {}",
            conn.environment, decision.verdict
        );
        if decision.verdict != vigil_core::Verdict::Allow {
            println!("  {}", vigil_server::guard::denial(&decision).message);
            for (rule, reason) in decision.rules.iter().zip(&decision.reasons) {
                println!("  rule {rule}: {reason}");
            }
            if let Some(h) = &decision.hint {
                println!("  hint: {h}");
            }
        }
    }
    Ok(())
}

fn review_cli(cmd: requests_cmd::ReviewCommand) -> Result<()> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(requests_cmd::run(cmd))
}

fn load(config: &Path) -> Result<vigil_config::Config> {
    Ok(vigil_config::load_file(config)?)
}

fn serve(config: &Path) -> Result<()> {
    let cfg = load(config)?;
    let mut rt = tokio::runtime::Builder::new_multi_thread();
    if cfg.proxy.worker_threads > 0 {
        rt.worker_threads(cfg.proxy.worker_threads);
    }
    let rt = rt.enable_all().build()?;
    rt.block_on(async {
        let (proxy, services) = vigil_server::app::build(&cfg, Some(config)).await?;
        tracing::info!(addr = %proxy.local_addr()?, connections = cfg.connections.len(), "vigil listening");
        proxy
            .run(async {
                shutdown_signal().await;
                tracing::info!("shutting down");
            })
            .await;
        services.close().await;
        Ok(())
    })
}

/// Resolves on Ctrl-C (SIGINT) or SIGTERM, so service managers and
/// `timeout` stop Vigil as cleanly as a person does.
async fn shutdown_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term => {}
    }
}

fn check_config(config: &Path) -> Result<()> {
    let cfg = load(config)?;
    for c in &cfg.connections {
        c.resolve_password()?;
    }
    vigil_server::proxy_settings(&cfg)?;
    println!(
        "{}: OK ({} connection(s), {} external issuer(s){})",
        config.display(),
        cfg.connections.len(),
        cfg.identity.issuers.len(),
        if cfg.identity.builtin.is_some() {
            ", built-in issuer"
        } else {
            ""
        }
    );
    Ok(())
}

fn token(cmd: TokenCommand) -> Result<()> {
    let TokenCommand::Issue {
        config,
        sub,
        email,
        groups,
        kind,
        ttl,
    } = cmd;
    let cfg = load(&config)?;
    let Some(kind) = PrincipalKind::parse(&kind) else {
        bail!("--kind must be human, service or agent, not {kind:?}");
    };
    let issuer = vigil_server::load_issuer(&cfg)?
        .context("the config has no [identity.builtin] section; add one to issue tokens")?;
    let token = issuer.issue(&TokenRequest {
        subject: sub,
        email,
        groups: groups.into_iter().filter(|g| !g.is_empty()).collect(),
        kind,
        ttl: parse_ttl(&ttl)?,
    })?;
    println!("{token}");
    Ok(())
}

fn demo(port: Option<u16>, rows: usize) -> Result<()> {
    eprintln!("Starting a throw-away PostgreSQL with {rows} fake customers…");
    let demo = vigil_server::demo::start(vigil_server::demo::DemoOptions { port, rows })?;
    println!("{}", demo.instructions());
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(shutdown_signal());
    eprintln!("Stopping Vigil and deleting the demo database…");
    drop(demo);
    Ok(())
}
