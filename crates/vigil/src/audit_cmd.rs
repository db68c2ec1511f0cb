//! `vigil audit …`: verify, tail, search, export and summarize the audit
//! trail kept in the store. Arguments are parsed here; the work is done by
//! `vigil_store::audit` and `vigil_audit`.

mod render;
mod time;

use anyhow::{Context, Result};
use clap::{Subcommand, ValueEnum};
use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;
use vigil_audit::{read_lines, AuditKey, ExportLine, PublicKeys, Scope, Verifier, VerifyReport};
use vigil_store::audit::{self as store_audit, AuditRange, Bound, Follower, Page, SearchFilter};
use vigil_store::Store;

/// What `run` needs from the config.
#[derive(Debug, Clone, Default)]
pub struct AuditContext {
    /// `[store] url`.
    pub store_url: String,
    /// `[audit] key_file`: the private key; its public half verifies by default.
    pub key_file: Option<PathBuf>,
    /// `[audit] public_keys`: more keys verify accepts (e.g. before a rotation).
    pub public_keys: Vec<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Check the hash chains and signed checkpoints. Prints OK with counts,
    /// or the first broken record and exits 1.
    Verify {
        /// Start: a seq (per chain) or a time (2025-01-02, …T03:04:05Z, 2h, @ms).
        #[arg(long)]
        from: Option<String>,
        /// End (inclusive): a seq or a time.
        #[arg(long)]
        to: Option<String>,
        /// Only this chain (one per replica).
        #[arg(long)]
        chain: Option<String>,
        /// A public key PEM to trust (repeatable). Default: the configured keys.
        #[arg(long = "public-key")]
        public_key: Vec<PathBuf>,
        /// Verify a JSONL export instead of the store.
        #[arg(long)]
        file: Option<PathBuf>,
        /// With --file: the export is a range, trust each chain's first record.
        #[arg(long, requires = "file")]
        partial: bool,
        #[arg(long)]
        json: bool,
    },
    /// Show the newest records.
    Tail {
        /// Keep printing new records as they are written.
        #[arg(short = 'f', long)]
        follow: bool,
        #[arg(short = 'n', long, default_value_t = 20)]
        lines: u32,
        /// JSONL (the export format) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Find records, newest first.
    Search {
        /// Subject or email.
        #[arg(long)]
        user: Option<String>,
        #[arg(long)]
        connection: Option<String>,
        /// `orders` or `public.orders`.
        #[arg(long)]
        table: Option<String>,
        /// allow, review or deny.
        #[arg(long)]
        verdict: Option<String>,
        /// e.g. statement.intent, auth.failure.
        #[arg(long = "type")]
        event_type: Option<String>,
        #[arg(long)]
        session: Option<u64>,
        #[arg(long)]
        chain: Option<String>,
        #[arg(long)]
        since: Option<String>,
        #[arg(long)]
        until: Option<String>,
        /// Case-insensitive text in the SQL or the event.
        #[arg(long)]
        text: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: u32,
        #[arg(long)]
        json: bool,
    },
    /// Write records and checkpoints for SIEMs or third-party verification.
    Export {
        #[arg(long, value_enum, default_value_t = ExportFormat::Jsonl)]
        format: ExportFormat,
        #[arg(long)]
        from: Option<String>,
        #[arg(long)]
        to: Option<String>,
        #[arg(long)]
        chain: Option<String>,
        /// File to write (default: stdout).
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Top users, held and blocked statements, masked values by class.
    Summary {
        #[arg(long)]
        since: Option<String>,
        #[arg(long)]
        until: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Print the audit public key (PEM), for auditors verifying exports.
    PublicKey,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    Jsonl,
}

/// Runs one subcommand; returns the process exit code (1: verify failed).
/// A closed stdout (`| head`) ends the command quietly.
pub async fn run(cmd: AuditCommand, ctx: &AuditContext) -> Result<i32> {
    match run_inner(cmd, ctx).await {
        Err(e) if is_broken_pipe(&e) => Ok(0),
        other => other,
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

async fn run_inner(cmd: AuditCommand, ctx: &AuditContext) -> Result<i32> {
    let now = now_ms();
    match cmd {
        AuditCommand::Verify {
            from,
            to,
            chain,
            public_key,
            file,
            partial,
            json,
        } => {
            let keys = trusted_keys(ctx, &public_key)?;
            let report = match file {
                Some(path) => verify_file(&path, &keys, partial)?,
                None => {
                    let range = range(chain, from.as_deref(), to.as_deref(), now)?;
                    store_audit::verify_store(&open(ctx).await?, &range, &keys).await?
                }
            };
            print_report(&report, json)?;
            Ok(if report.is_ok() { 0 } else { 1 })
        }
        AuditCommand::Tail {
            follow,
            lines,
            json,
        } => tail(ctx, follow, lines, json).await,
        AuditCommand::Search {
            user,
            connection,
            table,
            verdict,
            event_type,
            session,
            chain,
            since,
            until,
            text,
            limit,
            json,
        } => {
            let filter = SearchFilter {
                user,
                connection,
                table,
                verdict,
                event_type,
                session,
                chain,
                text,
                since_ms: since.map(|s| time::parse_time(&s, now)).transpose()?,
                until_ms: until.map(|s| time::parse_time(&s, now)).transpose()?,
            };
            let page = Page {
                limit,
                ..Page::default()
            };
            let found = store_audit::search(&open(ctx).await?, &filter, &page).await?;
            print_records(&found, json)?;
            Ok(0)
        }
        AuditCommand::Export {
            format: ExportFormat::Jsonl,
            from,
            to,
            chain,
            output,
        } => {
            let range = range(chain, from.as_deref(), to.as_deref(), now)?;
            let store = open(ctx).await?;
            let mut out: Box<dyn Write + Send> = match &output {
                Some(path) => Box::new(BufWriter::new(
                    File::create(path).with_context(|| format!("creating {}", path.display()))?,
                )),
                None => Box::new(BufWriter::new(std::io::stdout())),
            };
            let stats = store_audit::export_jsonl(&store, &mut *out, &range).await?;
            eprintln!(
                "exported {} record(s) and {} checkpoint(s)",
                stats.records, stats.checkpoints
            );
            Ok(0)
        }
        AuditCommand::Summary { since, until, json } => {
            let since = since.map(|s| time::parse_time(&s, now)).transpose()?;
            let until = until.map(|s| time::parse_time(&s, now)).transpose()?;
            let s = store_audit::summary(&open(ctx).await?, since, until).await?;
            let text = if json {
                serde_json::to_string_pretty(&s)? + "\n"
            } else {
                render::summary_text(&s)
            };
            emit(&text)?;
            Ok(0)
        }
        AuditCommand::PublicKey => {
            let path = ctx
                .key_file
                .as_deref()
                .context("no [audit] key_file configured")?;
            emit(&AuditKey::load(path)?.public_key_pem()?)?;
            Ok(0)
        }
    }
}

/// Opens the store, first copying into it what a SQLite store's audit
/// journals hold beyond it (records a stopped or killed Vigil made durable
/// that its ingester had not copied yet), so every command reads them.
async fn open(ctx: &AuditContext) -> Result<Store> {
    let store = Store::open(&ctx.store_url)
        .await
        .with_context(|| "opening the store (see [store] url)".to_owned())?;
    if let Err(e) = vigil_store::audit::recover_journals(&store).await {
        eprintln!("vigil: warning: {e}; reading what the store holds");
    }
    Ok(store)
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// `--from/--to`: digits are a seq, anything else a time.
fn bound(arg: Option<&str>, now: i64) -> Result<Option<Bound>> {
    let Some(arg) = arg else { return Ok(None) };
    if !arg.is_empty() && arg.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(Some(Bound::Seq(arg.parse().context("seq too large")?)));
    }
    Ok(Some(Bound::Time(time::parse_time(arg, now)?)))
}

fn range(
    chain: Option<String>,
    from: Option<&str>,
    to: Option<&str>,
    now: i64,
) -> Result<AuditRange> {
    Ok(AuditRange {
        chain,
        from: bound(from, now)?,
        to: bound(to, now)?,
    })
}

/// Keys from `--public-key`, else the configured ones, else the public
/// half of the configured private key (when readable).
fn trusted_keys(ctx: &AuditContext, given: &[PathBuf]) -> Result<PublicKeys> {
    let mut keys = PublicKeys::new();
    let paths = if given.is_empty() {
        &ctx.public_keys
    } else {
        given
    };
    for path in paths {
        keys.load_file(path)?;
    }
    if given.is_empty() {
        if let Some(path) = ctx.key_file.as_deref().filter(|p| p.exists()) {
            keys.load_file(path)?;
        }
    }
    if keys.is_empty() {
        eprintln!("warning: no public key given or configured: signatures will NOT be checked");
    }
    Ok(keys)
}

/// Verifies an export file: checkpoints first (one pass), then records
/// streamed through the verifier (a second pass).
fn verify_file(path: &Path, keys: &PublicKeys, partial: bool) -> Result<VerifyReport> {
    let open = || -> Result<BufReader<File>> {
        Ok(BufReader::new(
            File::open(path).with_context(|| format!("opening {}", path.display()))?,
        ))
    };
    let mut checkpoints = Vec::new();
    for line in read_lines(open()?) {
        if let ExportLine::Checkpoint(c) = line? {
            checkpoints.push(c);
        }
    }
    let scope = if partial { Scope::Range } else { Scope::Full };
    let mut verifier = Verifier::new(keys, checkpoints, scope);
    for line in read_lines(open()?) {
        if let ExportLine::Record(r) = line? {
            if !verifier.feed(&r) {
                break;
            }
        }
    }
    Ok(verifier.finish())
}

fn print_report(report: &VerifyReport, json: bool) -> Result<()> {
    if json {
        emit(&(serde_json::to_string_pretty(report)? + "\n"))
    } else {
        emit(&report.to_string())
    }
}

/// Writes to stdout, returning (not panicking on) a closed pipe.
fn emit(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

fn print_records(records: &[vigil_audit::Record], json: bool) -> Result<()> {
    let mut out = std::io::stdout().lock();
    for r in records {
        if json {
            writeln!(out, "{}", ExportLine::Record(r.clone()).to_json()?)?;
        } else {
            writeln!(out, "{}", render::record_line(r))?;
        }
    }
    out.flush()?;
    Ok(())
}

/// How often `tail -f` looks for new records.
const FOLLOW_EVERY: Duration = Duration::from_millis(500);

async fn tail(ctx: &AuditContext, follow: bool, lines: u32, json: bool) -> Result<i32> {
    let store = open(ctx).await?;
    let last = store_audit::tail(&store, lines).await?;
    print_records(&last, json)?;
    if !follow {
        return Ok(0);
    }
    let mut follower = if last.is_empty() {
        Follower::from_now(&store).await?
    } else {
        Follower::after(&last)
    };
    loop {
        tokio::time::sleep(FOLLOW_EVERY).await;
        let new = follower.poll(&store, 1000).await?;
        print_records(&new, json)?;
    }
}

#[cfg(test)]
mod tests;
