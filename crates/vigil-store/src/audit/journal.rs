//! The write-ahead journal of a SQLite store's audit chain: the file that
//! makes a record durable. The writer appends each batch (records, and the
//! checkpoint if one is due) as lines with one `write` and one
//! `fdatasync`, answers its callers, and hands the batch to the ingester
//! ([`super::ingest`]), which copies it into SQLite in large transactions.
//! So a statement waits for one small append and one flush, not for a
//! SQLite commit rewriting a page of the table and of each index.
//!
//! The file sits beside the database (`vigil.db` →
//! `vigil.db-audit-<chain>.journal`). It is emptied once everything in it
//! is in SQLite. After a crash, whatever it holds beyond the database's
//! last record is replayed into SQLite ([`recover`]) before the writer
//! starts or a command reads the trail. A torn last line (a crash during
//! an append, whose callers were never answered) is ignored.
//!
//! Line format: `R` + the record as JSON (the event as its canonical
//! text), or `C` + a checkpoint as JSON; each ends with `\n`.

use super::index::IndexFields;
use super::rows;
use super::AuditError;
use crate::Store;
use sqlx::Connection;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use vigil_audit::{Checkpoint, Link, Record};

/// A record on its way into SQLite: the link (the event as its canonical
/// text, the `event` column) and its search columns.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub link: Link,
    pub index: IndexFields,
}

impl Row {
    /// Rebuilds the text and search columns of a record read back.
    fn of(record: &Record) -> Result<Row, String> {
        let link = Link::of(record).map_err(|e| e.to_string())?;
        let event = record.decode_event().map_err(|e| e.to_string())?;
        Ok(Row {
            index: IndexFields::of(&event),
            link,
        })
    }
}

/// One line of a journal.
#[derive(Debug, Clone)]
pub(crate) enum Entry {
    Record(Box<Row>),
    Checkpoint(Checkpoint),
}

/// Where the journal of `chain_id` in the store at `db` lives. Characters
/// outside `[A-Za-z0-9_.-]` in the chain id are hex-escaped.
pub(crate) fn path_for(db: &Path, chain_id: &str) -> PathBuf {
    let mut name = db
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    name.push_str("-audit-");
    for c in chain_id.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
            name.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                name.push_str(&format!("%{b:02x}"));
            }
        }
    }
    name.push_str(".journal");
    db.with_file_name(name)
}

/// Every journal beside the database at `db`.
fn journals_of(db: &Path) -> Vec<PathBuf> {
    let Some(name) = db.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return Vec::new();
    };
    let prefix = format!("{name}-audit-");
    let dir = match db.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .is_some_and(|n| n.starts_with(&prefix) && n.ends_with(".journal"))
        })
        .collect();
    out.sort();
    out
}

/// Appends `rows` and `checkpoint` to `out` as journal lines.
pub(crate) fn encode(rows: &[&Row], checkpoint: Option<&Checkpoint>, out: &mut Vec<u8>) {
    for row in rows {
        let r = &row.link;
        out.push(b'R');
        out.extend_from_slice(b"{\"schema_version\":");
        out.extend_from_slice(r.schema_version.to_string().as_bytes());
        out.extend_from_slice(b",\"chain_id\":");
        vigil_audit::canonical::encode_str(&r.chain_id, out);
        out.extend_from_slice(b",\"seq\":");
        out.extend_from_slice(r.seq.to_string().as_bytes());
        out.extend_from_slice(b",\"ts_ms\":");
        out.extend_from_slice(r.ts_ms.to_string().as_bytes());
        out.extend_from_slice(b",\"event_type\":");
        vigil_audit::canonical::encode_str(&r.event_type, out);
        out.extend_from_slice(b",\"event\":");
        out.extend_from_slice(r.event_text.as_bytes());
        out.extend_from_slice(b",\"prev_hash\":");
        vigil_audit::canonical::encode_str(&r.prev_hash, out);
        out.extend_from_slice(b",\"hash\":");
        vigil_audit::canonical::encode_str(&r.hash, out);
        out.extend_from_slice(b"}\n");
    }
    if let Some(cp) = checkpoint {
        out.push(b'C');
        // Strings and integers: serializing cannot fail.
        if serde_json::to_writer(&mut *out, cp).is_ok() {
            out.push(b'\n');
        }
    }
}

/// Parses journal bytes up to the first line that is incomplete or
/// unreadable (a torn append): the entries before it.
pub(crate) fn decode(bytes: &[u8]) -> Vec<Entry> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while let Some(nl) = memchr::memchr(b'\n', rest) {
        let (line, tail) = rest.split_at(nl);
        rest = tail.get(1..).unwrap_or_default();
        let entry = match line.split_first() {
            Some((b'R', json)) => serde_json::from_slice::<Record>(json)
                .ok()
                .and_then(|r| Row::of(&r).ok())
                .map(|r| Entry::Record(Box::new(r))),
            Some((b'C', json)) => serde_json::from_slice::<Checkpoint>(json)
                .ok()
                .map(Entry::Checkpoint),
            _ => None,
        };
        match entry {
            Some(e) => out.push(e),
            None => break,
        }
    }
    out
}

/// The open journal of one chain (owned by its writer).
#[derive(Debug)]
pub(crate) struct Journal {
    file: File,
    len: u64,
}

/// Above this size the journal is emptied once SQLite holds all of it.
pub(crate) const TRIM_AT: u64 = 1 << 20;

impl Journal {
    /// Opens (creating) the journal at `path`.
    pub fn open(path: &Path) -> std::io::Result<Journal> {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        let len = file.seek(SeekFrom::End(0))?;
        Ok(Journal { file, len })
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    /// Appends `bytes` and flushes them to the device (after emptying the
    /// file first when `trim`). On error the file is cut back to where
    /// it was, as far as that is possible; the caller must not trust its
    /// tail until [`Journal::reset`] succeeds.
    pub fn append(&mut self, bytes: &[u8], trim: bool) -> std::io::Result<()> {
        if trim {
            self.file.set_len(0)?;
            self.len = 0;
        }
        let result = self
            .file
            .seek(SeekFrom::Start(self.len))
            .and_then(|_| self.file.write_all(bytes))
            .and_then(|()| self.file.sync_data());
        match result {
            Ok(()) => {
                self.len += bytes.len() as u64;
                Ok(())
            }
            Err(e) => {
                let _ = self.file.set_len(self.len);
                Err(e)
            }
        }
    }

    /// Empties the journal durably (everything in it is in SQLite).
    pub fn reset(&mut self) -> std::io::Result<()> {
        self.file.set_len(0)?;
        self.file.sync_data()?;
        self.len = 0;
        Ok(())
    }

    /// Everything the journal holds.
    pub fn read_all(&mut self) -> std::io::Result<Vec<u8>> {
        let mut bytes = Vec::new();
        self.file.seek(SeekFrom::Start(0))?;
        self.file.read_to_end(&mut bytes)?;
        self.len = bytes.len() as u64;
        Ok(bytes)
    }
}

/// What [`recover`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Recovered {
    /// Records copied from journals into the database.
    pub records: u64,
    /// Checkpoints copied.
    pub checkpoints: u64,
}

/// Copies whatever the journals beside a SQLite store hold beyond the
/// database's records into the database (after a crash or a kill, before
/// reading the trail). Each record must carry its own hash and continue
/// the stored chain; a journal that does not is refused (it was edited, or
/// belongs to another database). Does not empty the journals: their
/// writers do. Nothing to do for other stores.
pub async fn recover_journals(store: &Store) -> Result<Recovered, AuditError> {
    let Some(db) = store.sqlite_path() else {
        return Ok(Recovered::default());
    };
    let mut total = Recovered::default();
    for path in journals_of(db) {
        let bytes = std::fs::read(&path)?;
        let r = replay(store, &path, &decode(&bytes)).await?;
        total.records += r.records;
        total.checkpoints += r.checkpoints;
    }
    Ok(total)
}

/// Inserts the entries beyond the stored head of their chain.
pub(crate) async fn replay(
    store: &Store,
    path: &Path,
    entries: &[Entry],
) -> Result<Recovered, AuditError> {
    let Some(chain) = entries.first().map(|e| match e {
        Entry::Record(r) => r.link.chain_id.clone(),
        Entry::Checkpoint(c) => c.chain_id.clone(),
    }) else {
        return Ok(Recovered::default());
    };
    let last: Option<(i64, String)> = sqlx::query_as(
        "SELECT seq, hash FROM audit_records WHERE chain_id = $1 ORDER BY seq DESC LIMIT 1",
    )
    .bind(chain.as_str())
    .fetch_optional(store.pool())
    .await?;
    let (mut seq, mut hash) = last.map_or((0, vigil_audit::GENESIS_HASH.to_owned()), |(s, h)| {
        (rows::to_u64(s), h)
    });
    let stored_seq = seq;
    let refuse = |why: String| {
        AuditError::Unavailable(format!(
            "audit journal {} does not continue chain {chain:?}: {why}; move it aside and run `vigil audit verify`",
            path.display()
        ))
    };
    let mut rows_out = Vec::new();
    let mut cps = Vec::new();
    for entry in entries {
        match entry {
            Entry::Record(row) => {
                let r = &row.link;
                if r.chain_id != chain {
                    return Err(refuse(format!("record of chain {:?}", r.chain_id)));
                }
                if r.seq <= stored_seq {
                    continue;
                }
                if r.seq != seq + 1 || r.prev_hash != hash {
                    return Err(refuse(format!("seq {} does not follow seq {seq}", r.seq)));
                }
                if r.compute_hash() != r.hash {
                    return Err(refuse(format!("seq {} does not match its hash", r.seq)));
                }
                seq = r.seq;
                hash.clone_from(&r.hash);
                rows_out.push(row.as_ref());
            }
            Entry::Checkpoint(cp) if cp.seq > stored_seq && cp.chain_id == chain => {
                cps.push(cp);
            }
            Entry::Checkpoint(_) => {}
        }
    }
    if rows_out.is_empty() && cps.is_empty() {
        return Ok(Recovered::default());
    }
    let mut conn = store.pool().acquire().await?;
    let mut tx = conn.begin().await?;
    rows::insert_rows(&mut tx, store.backend(), &rows_out, true).await?;
    for cp in &cps {
        rows::insert_checkpoint(&mut tx, cp, true).await?;
    }
    tx.commit().await?;
    tracing::info!(
        journal = %path.display(),
        records = rows_out.len(),
        checkpoints = cps.len(),
        "audit records recovered from the journal"
    );
    Ok(Recovered {
        records: rows_out.len() as u64,
        checkpoints: cps.len() as u64,
    })
}
