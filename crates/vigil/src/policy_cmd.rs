//! `vigil policy check | test | eval`: the policy bundle's tooling.

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use std::path::{Path, PathBuf};
use vigil_core::{ConnectionInfo, Principal, PrincipalKind};
use vigil_policy::{PolicyDecision, PolicyEngine};
use vigil_server::policy::dry_run::DryRun;
use vigil_server::{LivePolicy, PolicyClock};

#[derive(Subcommand)]
pub enum PolicyCommand {
    /// Parse and validate a bundle; fails on any error.
    Check {
        /// Directory of .rego files (and optional data.json / data.yaml).
        dir: PathBuf,
    },
    /// Run the bundle's `test_*` rules, OPA style.
    Test { dir: PathBuf },
    /// Dry-run one statement: print the full decision with its reasons.
    Eval {
        /// Config with the connection (and `[policy] path`, unless --policy).
        #[arg(long, default_value = "vigil.toml")]
        config: PathBuf,
        /// Bundle directory; default: the config's `[policy] path`, else the built-in bundle.
        #[arg(long)]
        policy: Option<PathBuf>,
        /// Who asks: a subject or an email.
        #[arg(long = "as")]
        who: String,
        /// Comma-separated groups.
        #[arg(long, value_delimiter = ',')]
        groups: Vec<String>,
        /// human, service or agent.
        #[arg(long, default_value = "human")]
        kind: String,
        /// Connection name from the config.
        #[arg(long)]
        connection: String,
        /// Use this environment instead of the config's (or when there is no config).
        #[arg(long)]
        environment: Option<String>,
        #[arg(long)]
        json: bool,
        sql: String,
    },
}

/// Runs the subcommand; the exit code says pass (0) or fail (1).
pub fn run(cmd: PolicyCommand) -> Result<i32> {
    match cmd {
        PolicyCommand::Check { dir } => check(&dir),
        PolicyCommand::Test { dir } => test(&dir),
        PolicyCommand::Eval {
            config,
            policy,
            who,
            groups,
            kind,
            connection,
            environment,
            json,
            sql,
        } => {
            let (engine, conn) = eval_setup(&config, policy, &connection, environment)?;
            let principal = principal(&who, groups, &kind)?;
            eval(engine, &principal, &conn, json, &sql)
        }
    }
}

fn check(dir: &Path) -> Result<i32> {
    match PolicyEngine::load_dir(dir) {
        Ok(e) => {
            println!(
                "{}: OK (version {}, {} test(s), decisions {}, evaluator {})",
                dir.display(),
                e.version(),
                e.run_tests().len(),
                if e.cacheable() {
                    "cacheable"
                } else {
                    "not cached"
                },
                if e.compiled() {
                    "compiled"
                } else {
                    "interpreter"
                }
            );
            Ok(0)
        }
        Err(e) => {
            eprintln!("{}: INVALID\n  {e}", dir.display());
            Ok(1)
        }
    }
}

fn test(dir: &Path) -> Result<i32> {
    let engine =
        PolicyEngine::load_dir(dir).with_context(|| format!("loading {}", dir.display()))?;
    let results = engine.run_tests();
    let failed = results.iter().filter(|t| !t.passed).count();
    for t in &results {
        match (&t.passed, &t.message) {
            (true, _) => println!("PASS {}", t.name),
            (false, m) => println!("FAIL {}: {}", t.name, m.as_deref().unwrap_or("failed")),
        }
    }
    println!("{} passed, {failed} failed", results.len() - failed);
    if results.is_empty() {
        eprintln!("no test_* rules found in {}", dir.display());
        return Ok(1);
    }
    Ok(i32::from(failed > 0))
}

fn eval_setup(
    config: &Path,
    policy: Option<PathBuf>,
    connection: &str,
    environment: Option<String>,
) -> Result<(PolicyEngine, ConnectionInfo)> {
    let cfg = if config.exists() {
        Some(vigil_config::load_file(config)?)
    } else {
        None
    };
    let mut conn = match cfg.as_ref().and_then(|c| c.connection(connection)) {
        Some(c) => c.info(),
        None if environment.is_some() => ConnectionInfo {
            name: connection.to_owned(),
            engine: "postgres".into(),
            ..ConnectionInfo::default()
        },
        None => bail!(
            "no connection {connection:?} in {}; pass --environment to evaluate an ad-hoc connection",
            config.display()
        ),
    };
    if let Some(env) = environment {
        conn.environment = env;
    }
    let dir = policy.or_else(|| cfg.and_then(|c| c.policy.path));
    let engine = match dir {
        Some(d) => {
            PolicyEngine::load_dir(&d).with_context(|| format!("loading {}", d.display()))?
        }
        None => PolicyEngine::default_bundle()?,
    };
    Ok((engine, conn))
}

fn principal(who: &str, groups: Vec<String>, kind: &str) -> Result<Principal> {
    let Some(kind) = PrincipalKind::parse(kind) else {
        bail!("--kind must be human, service or agent, not {kind:?}");
    };
    Ok(Principal {
        subject: who.to_owned(),
        email: who.contains('@').then(|| who.to_owned()),
        groups: groups.into_iter().filter(|g| !g.is_empty()).collect(),
        issuer: "vigil-cli".into(),
        token_id: None,
        expires_at: 0,
        kind,
    })
}

fn eval(
    engine: PolicyEngine,
    who: &Principal,
    conn: &ConnectionInfo,
    json: bool,
    sql: &str,
) -> Result<i32> {
    let dry_run = DryRun::new(LivePolicy::fixed(engine), PolicyClock::utc(), []);
    let report = dry_run.report(who, conn, sql);
    if json {
        println!("{}", serde_json::to_string_pretty(&report.json())?);
    } else {
        print!("{}", vigil_sql::render_text(&report.statement));
        print_decision(&report.decision, conn);
    }
    Ok(0)
}

fn print_decision(d: &PolicyDecision, conn: &ConnectionInfo) {
    println!(
        "\ndecision on {} ({}): {}   [policy {}]",
        conn.name, conn.environment, d.decision.verdict, d.policy_version
    );
    for (rule, reason) in d.decision.rules.iter().zip(&d.decision.reasons) {
        println!("  rule {rule}: {reason}");
    }
    if let Some(h) = &d.decision.hint {
        println!("  hint: {h}");
    }
    if let Some(a) = &d.approvers {
        println!(
            "  approvers: {} of group(s) {}",
            a.count,
            a.groups.join(", ")
        );
    }
    if let Some(t) = d.review_timeout_secs {
        println!("  review timeout: {t}s");
    }
    if d.approval_nowait {
        println!(
            "  approval mode: nowait (refused at once; one identical retry runs after approval)"
        );
    }
    if let Some(n) = d.max_rows {
        println!("  max rows: {n}");
    }
    for (what, how) in &d.mask {
        println!("  mask {what}: {how}");
    }
}
