//! `vigil classify --connection NAME`: scan a connection's database and
//! write the masking catalog (table.column → classification, with a
//! confidence) that `[masking] catalog` loads. Re-run it after schema
//! changes: entries carry table OIDs, which change when a table is
//! recreated.

use anyhow::{Context, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use vigil_server::masking::classify::{
    classify_connection, merge_into_file, ClassifyOptions, TableReport,
};

#[derive(clap::Args)]
pub struct ClassifyArgs {
    #[arg(long, default_value = "vigil.toml")]
    pub config: PathBuf,
    /// Connection name from the config; Vigil's own credentials are used.
    #[arg(long)]
    pub connection: String,
    /// Catalog file to write (`.json` or `.toml`). Default: `[masking]
    /// catalog`, else `catalog.toml` next to the config. Entries of other
    /// connections already in the file are kept.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Rows sampled per table (0: names, types and comments only).
    #[arg(long, default_value_t = 200)]
    pub sample: usize,
}

pub fn run(args: ClassifyArgs) -> Result<()> {
    let cfg = vigil_config::load_file(&args.config)?;
    let out = args
        .out
        .clone()
        .or_else(|| cfg.masking.catalog.clone())
        .unwrap_or_else(|| config_dir(&args.config).join("catalog.toml"));
    let opts = ClassifyOptions {
        sample: args.sample,
    };
    let mut tables = 0usize;
    let mut progress = |t: &TableReport| {
        tables += 1;
        eprintln!("{}", progress_line(t));
    };
    let found = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(classify_connection(
            &cfg,
            &args.connection,
            &opts,
            &mut progress,
        ))
        .with_context(|| format!("classifying connection {}", args.connection))?;
    merge_into_file(&out, &args.connection, &found)?;
    println!("{}", summary(&found, tables, &out));
    if cfg.masking.catalog.as_deref() != Some(out.as_path()) {
        println!(
            "Vigil loads it once the config says:\n  [masking]\n  catalog = {:?}",
            out.display().to_string()
        );
    }
    Ok(())
}

fn config_dir(config: &Path) -> PathBuf {
    config
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

fn progress_line(t: &TableReport) -> String {
    let sampled = match t.sampled {
        Some(n) => format!("{n} rows sampled"),
        None => "not sampled (no access)".to_owned(),
    };
    let found: Vec<String> = t
        .classified
        .iter()
        .map(|e| format!("{} {} ({:.2})", e.column, e.classification, e.confidence))
        .collect();
    let found = if found.is_empty() {
        "nothing sensitive".to_owned()
    } else {
        found.join(", ")
    };
    format!(
        "  {}.{}: {} columns, {sampled}: {found}",
        t.schema, t.table, t.columns
    )
}

fn summary(found: &vigil_mask::Catalog, tables: usize, out: &Path) -> String {
    let mut by_class: BTreeMap<String, usize> = BTreeMap::new();
    for e in found.entries() {
        *by_class.entry(e.classification.to_string()).or_default() += 1;
    }
    let classes: Vec<String> = by_class.iter().map(|(c, n)| format!("{c} {n}")).collect();
    format!(
        "{} classified column(s) in {tables} table(s){}; wrote {}",
        found.entries().len(),
        if classes.is_empty() {
            String::new()
        } else {
            format!(" ({})", classes.join(", "))
        },
        out.display()
    )
}
