//! `vigil classify`: connect to a connection's database exactly as Vigil
//! does (its host, port, user, password and TLS settings), read every
//! table's and view's columns — names, types, comments — from the system
//! catalogs, sample rows, and let [`vigil_mask::classify::suggest`] turn
//! that into catalog entries with a confidence.
//!
//! The entries carry the table OIDs RowDescription reports *and* the
//! schema, table and column names: the proxy never queries the database,
//! so when a table is dropped and recreated (new OID) its entries stop
//! matching until `vigil classify` runs again. This runs outside the data
//! path (the CLI, `vigil demo`).

use crate::ServerError;
use bytes::BytesMut;
use std::path::Path;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use vigil_config::Config;
use vigil_mask::classify::{suggest, ColumnFacts};
use vigil_mask::{Catalog, CatalogEntry, Detectors, TableColumns};
use vigil_pgwire::cursor::Cursor;
use vigil_pgwire::{decode_frame, Frame};
use vigil_proxy::upstream::Upstream;

/// What to scan.
#[derive(Debug, Clone)]
pub struct ClassifyOptions {
    /// Rows sampled per table (0: names, types and comments only).
    pub sample: usize,
}

impl Default for ClassifyOptions {
    fn default() -> Self {
        ClassifyOptions { sample: 200 }
    }
}

/// One scanned table (or view), as reported to the progress callback.
#[derive(Debug, Clone)]
pub struct TableReport {
    pub schema: String,
    pub table: String,
    pub columns: usize,
    /// Rows sampled; `None` when sampling failed (e.g. no SELECT grant).
    pub sampled: Option<usize>,
    pub classified: Vec<CatalogEntry>,
    /// Every column of the table, in position order.
    pub all_columns: Vec<String>,
}

const COLUMNS_SQL: &str = "\
SELECT n.nspname, c.relname, c.oid::text, a.attname, a.attnum::text,
       row_number() OVER (PARTITION BY c.oid ORDER BY a.attnum)::text,
       format_type(a.atttypid, a.atttypmod), col_description(c.oid, a.attnum)
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'
ORDER BY n.nspname, c.relname, a.attnum";

/// Scans connection `name` of `cfg`; calls `progress` after each table.
/// The catalog's entries and table lists are tagged with the connection
/// name (merge it into a file with [`Catalog::replace_connection`]).
pub async fn classify_connection(
    cfg: &Config,
    name: &str,
    opts: &ClassifyOptions,
    progress: &mut (dyn FnMut(&TableReport) + Send),
) -> Result<Catalog, ServerError> {
    let conn = cfg.connection(name).ok_or_else(|| {
        let names: Vec<&str> = cfg.connections.iter().map(|c| c.name.as_str()).collect();
        ServerError::Runtime(format!(
            "no connection {name:?} in the config; configured: {}",
            names.join(", ")
        ))
    })?;
    let target = crate::wiring::target(conn)?;
    let params = [
        ("client_encoding".to_owned(), "UTF8".to_owned()),
        ("application_name".to_owned(), "vigil classify".to_owned()),
    ];
    let timeout = Duration::from_secs(cfg.proxy.connect_timeout_secs);
    let up = target
        .connect(&params, timeout, cfg.proxy.max_message_bytes)
        .await
        .map_err(|e| ServerError::Runtime(e.to_string()))?;
    let mut db = Db {
        up,
        max: cfg.proxy.max_message_bytes,
    };
    let detectors = Detectors::global().map_err(|e| ServerError::Runtime(e.to_string()))?;
    let rows = db.query(COLUMNS_SQL).await.map_err(ServerError::Runtime)?;
    let mut entries = Vec::new();
    let mut tables = Vec::new();
    for table in group_tables(rows) {
        let report = scan_table(&mut db, table, opts, detectors).await?;
        progress(&report);
        if let Some(first) = report.classified.first() {
            tables.push(TableColumns {
                connection: Some(name.to_owned()),
                schema: report.schema.clone(),
                table: report.table.clone(),
                table_oid: first.table_oid,
                columns: report.all_columns.clone(),
            });
        }
        entries.extend(report.classified.into_iter().map(|mut e| {
            e.connection = Some(name.to_owned());
            e
        }));
    }
    db.close().await;
    Ok(Catalog::new(entries).with_tables(tables))
}

/// Merges one connection's scan into the catalog file at `path` (created
/// if missing; other connections' entries are kept) and writes it
/// atomically: JSON for a `.json` path, TOML otherwise.
pub fn merge_into_file(
    path: &Path,
    connection: &str,
    found: &Catalog,
) -> Result<Catalog, ServerError> {
    let merged = if path.exists() {
        super::settings::load_catalog(path)?.replace_connection(
            connection,
            found.entries().to_vec(),
            found.tables().to_vec(),
        )
    } else {
        found.clone()
    };
    let json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let text = if json {
        merged.to_json()
    } else {
        merged.to_toml()
    };
    let bad = |why: String| ServerError::Runtime(format!("{}: {why}", path.display()));
    let text = text.map_err(|e| bad(e.to_string()))?;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, text)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            bad(e.to_string())
        })?;
    Ok(merged)
}

/// Columns of one table, from the catalog query.
fn group_tables(rows: Vec<Vec<Option<String>>>) -> Vec<Vec<ColumnFacts>> {
    let mut tables: Vec<Vec<ColumnFacts>> = Vec::new();
    for r in rows {
        let text = |i: usize| r.get(i).cloned().flatten().unwrap_or_default();
        let facts = ColumnFacts {
            schema: text(0),
            table: text(1),
            table_oid: text(2).parse().unwrap_or(0),
            column: text(3),
            attnum: text(4).parse().unwrap_or(0),
            position: text(5).parse().ok(),
            type_name: text(6),
            comment: r.get(7).cloned().flatten(),
            samples: Vec::new(),
        };
        match tables.last_mut() {
            Some(t) if t.first().is_some_and(|f| f.table_oid == facts.table_oid) => t.push(facts),
            _ => tables.push(vec![facts]),
        }
    }
    tables
}

async fn scan_table(
    db: &mut Db,
    mut columns: Vec<ColumnFacts>,
    opts: &ClassifyOptions,
    detectors: &Detectors,
) -> Result<TableReport, ServerError> {
    let (schema, table) = columns
        .first()
        .map(|c| (c.schema.clone(), c.table.clone()))
        .unwrap_or_default();
    let mut sampled = Some(0);
    if opts.sample > 0 && !columns.is_empty() {
        let list: Vec<String> = columns
            .iter()
            .map(|c| format!("{}::text", ident(&c.column)))
            .collect();
        let sql = format!(
            "SELECT {} FROM {}.{} LIMIT {}",
            list.join(", "),
            ident(&schema),
            ident(&table),
            opts.sample
        );
        match db.query(&sql).await {
            Ok(rows) => {
                sampled = Some(rows.len());
                for row in rows {
                    for (c, v) in columns.iter_mut().zip(row) {
                        c.samples.extend(v);
                    }
                }
            }
            Err(e) => {
                tracing::warn!(table = %format!("{schema}.{table}"), error = %e, "cannot sample; classifying by names and comments");
                sampled = None;
            }
        }
    }
    let classified = columns
        .iter()
        .filter_map(|c| suggest(c, detectors))
        .collect();
    Ok(TableReport {
        schema,
        table,
        columns: columns.len(),
        sampled,
        classified,
        all_columns: columns.into_iter().map(|c| c.column).collect(),
    })
}

/// A quoted identifier.
fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A logged-in backend connection speaking the simple query protocol.
struct Db {
    up: Upstream,
    max: usize,
}

impl Db {
    /// Runs one statement; rows as text (NULL = `None`), or the server's
    /// error message.
    async fn query(&mut self, sql: &str) -> Result<Vec<Vec<Option<String>>>, String> {
        let q = vigil_pgwire::frontend::encode_query(sql).map_err(|e| e.to_string())?;
        self.up
            .stream
            .write_all(q.raw())
            .await
            .map_err(|e| e.to_string())?;
        let mut rows = Vec::new();
        let mut error = None;
        loop {
            let f = self.frame().await?;
            match f.tag() {
                b'D' => rows.push(data_row(f.body()).map_err(|e| e.to_string())?),
                b'E' => {
                    let fields = vigil_pgwire::backend::ErrorFields::parse(f.body())
                        .map_err(|e| e.to_string())?;
                    error = Some(fields.message().unwrap_or("error").to_owned());
                }
                b'Z' => break,
                _ => {}
            }
        }
        match error {
            Some(e) => Err(e),
            None => Ok(rows),
        }
    }

    async fn frame(&mut self) -> Result<Frame, String> {
        loop {
            if let Some(f) = decode_frame(&mut self.up.buf, self.max).map_err(|e| e.to_string())? {
                return Ok(f);
            }
            let mut chunk = BytesMut::with_capacity(16 * 1024);
            let n = self
                .up
                .stream
                .read_buf(&mut chunk)
                .await
                .map_err(|e| e.to_string())?;
            if n == 0 {
                return Err("the server closed the connection".into());
            }
            self.up.buf.extend_from_slice(&chunk);
        }
    }

    async fn close(mut self) {
        if let Ok(x) = Frame::new(b'X', &[]) {
            let _ = self.up.stream.write_all(x.raw()).await;
        }
        let _ = self.up.stream.shutdown().await;
    }
}

fn data_row(body: &[u8]) -> Result<Vec<Option<String>>, vigil_pgwire::CodecError> {
    let mut c = Cursor::new(body, "DataRow");
    let n = c.count16()?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(
            c.nullable_bytes()?
                .map(|b| String::from_utf8_lossy(b).into_owned()),
        );
    }
    c.finish()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_merge_per_connection_in_either_format() {
        use vigil_mask::Classification;
        let dir = tempfile::tempdir().unwrap();
        let scan = |conn: &str, column: &str| {
            let mut e = CatalogEntry::new("public", "t", column, (1, 1), Classification::PERSON);
            e.connection = Some(conn.into());
            Catalog::new(vec![e])
        };
        for name in ["c.toml", "c.json"] {
            let path = dir.path().join(name);
            merge_into_file(&path, "a", &scan("a", "x")).unwrap();
            merge_into_file(&path, "b", &scan("b", "y")).unwrap();
            let again = merge_into_file(&path, "a", &scan("a", "z")).unwrap();
            let on_disk = super::super::settings::load_catalog(&path).unwrap();
            assert_eq!(on_disk.entries(), again.entries());
            let cols: Vec<_> = on_disk
                .entries()
                .iter()
                .map(|e| e.column.as_str())
                .collect();
            assert_eq!(cols.len(), 2, "{cols:?}");
            assert!(cols.contains(&"y") && cols.contains(&"z"), "{cols:?}");
        }
    }

    #[test]
    fn identifiers_are_quoted() {
        assert_eq!(ident("email"), "\"email\"");
        assert_eq!(ident("we\"ird"), "\"we\"\"ird\"");
    }

    #[test]
    fn catalog_rows_group_by_table() {
        let r = |oid: &str, col: &str| {
            vec![
                Some("public".into()),
                Some("t".into()),
                Some(oid.into()),
                Some(col.into()),
                Some("1".into()),
                Some("1".into()),
                Some("text".into()),
                None,
            ]
        };
        let t = group_tables(vec![r("1", "a"), r("1", "b"), r("2", "c")]);
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].len(), 2);
        assert_eq!(t[1][0].table_oid, 2);
        assert_eq!(t[1][0].position, Some(1));
    }
}
