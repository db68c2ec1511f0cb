//! The write-ahead journal of a SQLite store's audit chain: the file that
//! makes a record durable. The writer appends each batch (records, and the
//! checkpoint if one is due) as lines with one `write` and one
//! `fdatasync`, answers its callers, and hands the batch to the ingester
//! ([`super::ingest`]), which copies it into SQLite in large transactions.
//! So a statement waits for one small append and one flush, not for a
//! SQLite commit rewriting a page of the table and of each index.
//!
//! A chain's journal is two files beside the database (`vigil.db` →
//! `vigil.db-audit-<chain>.journal` and `vigil.db-audit-<chain>~2.journal`).
//! The writer appends to one of them; once it passes [`SWITCH_AT`] and
//! SQLite holds everything in the other, the other is emptied and the
//! writer moves to it. So the journal stays small under a load that never
//! pauses, while the ingester is always a little behind. After a crash,
//! whatever the two hold beyond the database's last record is replayed
//! into SQLite, older file first ([`recover_journals`]), before the writer
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

/// The two files of the journal of `chain_id` in the store at `db`.
/// Characters outside `[A-Za-z0-9_.-]` in the chain id are hex-escaped, so
/// the second file's `~2` cannot be part of another chain's name.
pub(crate) fn paths_for(db: &Path, chain_id: &str) -> [PathBuf; 2] {
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
    [
        db.with_file_name(format!("{name}{FIRST}")),
        db.with_file_name(format!("{name}{SECOND}")),
    ]
}

const FIRST: &str = ".journal";
const SECOND: &str = "~2.journal";

/// The journals beside the database at `db`, as pairs of paths (either
/// file may be missing).
fn journals_of(db: &Path) -> Vec<[PathBuf; 2]> {
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
    let mut stems: Vec<String> = entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str().map(str::to_owned))
        .filter(|n| n.starts_with(&prefix))
        .filter_map(|n| {
            n.strip_suffix(SECOND)
                .or_else(|| n.strip_suffix(FIRST))
                .map(str::to_owned)
        })
        .collect();
    stems.sort();
    stems.dedup();
    stems
        .into_iter()
        .map(|stem| {
            [
                dir.join(format!("{stem}{FIRST}")),
                dir.join(format!("{stem}{SECOND}")),
            ]
        })
        .collect()
}

/// The entries of a journal's two files in chain order: each file holds one
/// run of consecutive entries (it is emptied before it is written again),
/// so the file whose first entry comes first goes first.
pub(crate) fn in_order(a: Vec<Entry>, b: Vec<Entry>) -> Vec<Entry> {
    fn first_seq(entries: &[Entry]) -> u64 {
        match entries.first() {
            Some(Entry::Record(r)) => r.link.seq,
            Some(Entry::Checkpoint(c)) => c.seq,
            None => 0,
        }
    }
    let (mut older, newer) = if first_seq(&b) < first_seq(&a) {
        (b, a)
    } else {
        (a, b)
    };
    older.extend(newer);
    older
}

/// How many times a reader reads a journal's files again when what it read
/// does not join up ([`recover_journals`]).
const READ_AGAIN: usize = 3;

/// Every record's seq follows the one before it (checkpoints aside): what
/// the two files of one journal hold at any one moment.
fn records_follow_on(entries: &[Entry]) -> bool {
    let mut last: Option<u64> = None;
    for e in entries {
        if let Entry::Record(r) = e {
            if last.is_some_and(|l| l.checked_add(1) != Some(r.link.seq)) {
                return false;
            }
            last = Some(r.link.seq);
        }
    }
    true
}

/// Reads a journal file that may not exist.
fn read_if_present(path: &Path) -> std::io::Result<Vec<u8>> {
    match std::fs::read(path) {
        Ok(b) => Ok(b),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e),
    }
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
///
/// The file is **pre-written**: it holds zeros from the end of its entries
/// to the end of the file, on the device, before anything is appended
/// there. An append then overwrites blocks that are already allocated and
/// written, the file's size does not change, and `fdatasync` flushes the
/// data alone: no metadata (a new size, new blocks) to write and wait for
/// as well. On the machine measured (ext4 on a virtual disk) that extra
/// synchronous write made a flush about 35% slower and cost about as much
/// more CPU. Readers stop at the zeros: no line starts with a zero byte
/// ([`decode`]).
///
/// Zeros are made durable before the region they cover is written again
/// ([`Journal::reset`], [`Journal::grow`]), so after a crash the file is
/// always the acknowledged entries, then perhaps part of the batch being
/// appended, then zeros: never an older entry after a newer one.
#[derive(Debug)]
pub(crate) struct Journal {
    file: File,
    /// Bytes of entries: where the next append goes.
    len: u64,
    /// The file's size. `[len, capacity)` is zeros on the device, except
    /// what `dirty` says.
    capacity: u64,
    /// From 0 up to here the file may hold entries, or what a failed append
    /// left: what [`Journal::reset`] must zero.
    dirty: u64,
    /// The size [`Journal::reset`] pre-writes.
    base: u64,
}

/// Past this size the writer moves to the other file of the journal, once
/// SQLite holds everything in that one.
pub(crate) const SWITCH_AT: u64 = 1 << 20;
/// How much of the journal is pre-written with zeros at start and after it
/// is emptied: room for what the ingester holds back under load (it gathers
/// for 100 ms; 8 clients of `pgbench -S` journal about 1.5 MB in that time)
/// before the file grows.
pub(crate) const PREWRITE: u64 = 2 << 20;
/// Zeros are written in pieces of this size.
const ZEROS: usize = 64 << 10;

impl Journal {
    /// Opens (creating) the journal file at `path`, to be pre-written with
    /// `base` bytes by each reset. Call [`Journal::read_all`] and then
    /// [`Journal::reset`] before appending.
    pub fn open(path: &Path, base: u64) -> std::io::Result<Journal> {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        let size = file.seek(SeekFrom::End(0))?;
        Ok(Journal {
            file,
            len: size,
            capacity: size,
            // Unknown content: all of it is zeroed by the first reset.
            dirty: size,
            base: base.max(ZEROS as u64),
        })
    }

    /// Bytes of entries.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Appends `bytes` and flushes them to the device. On error the caller
    /// must not trust the tail until [`Journal::reset`] succeeds.
    pub fn append(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        let end = self.len.saturating_add(bytes.len() as u64);
        if end > self.capacity {
            self.grow(end)?;
        }
        // Whatever happens below, these bytes may now hold something.
        self.dirty = self.dirty.max(end);
        self.file.seek(SeekFrom::Start(self.len))?;
        self.file.write_all(bytes)?;
        self.file.sync_data()?;
        self.len = end;
        Ok(())
    }

    /// Pre-writes zeros from the end of the file until it holds at least
    /// `needed` bytes (at least doubling it), durably, before any entry is
    /// written there.
    fn grow(&mut self, needed: u64) -> std::io::Result<()> {
        let target = needed.max(self.capacity.saturating_mul(2)).max(self.base);
        self.write_zeros(self.capacity, target)?;
        self.file.sync_data()?;
        self.capacity = target;
        Ok(())
    }

    /// Empties the journal durably (everything in it is in SQLite): zeros
    /// over whatever it held, the file pre-written to its base size (cut
    /// back to it when an ingester that fell behind made it grow), and
    /// one flush.
    pub fn reset(&mut self) -> std::io::Result<()> {
        if self.capacity > self.base.saturating_mul(4) {
            self.file.set_len(0)?;
            self.capacity = 0;
            self.dirty = 0;
        }
        let used = self.dirty.min(self.capacity);
        self.write_zeros(0, used)?;
        let target = self.capacity.max(self.base);
        self.write_zeros(self.capacity, target)?;
        self.file.sync_data()?;
        self.capacity = target;
        self.dirty = 0;
        self.len = 0;
        Ok(())
    }

    /// Writes zeros over `[from, to)`.
    fn write_zeros(&mut self, from: u64, to: u64) -> std::io::Result<()> {
        if to <= from {
            return Ok(());
        }
        let zeros = [0u8; ZEROS];
        self.file.seek(SeekFrom::Start(from))?;
        let mut left = to - from;
        while left > 0 {
            let n = usize::try_from(left).map_or(ZEROS, |l| l.min(ZEROS));
            self.file.write_all(zeros.get(..n).unwrap_or(&zeros))?;
            left -= n as u64;
        }
        Ok(())
    }

    /// Everything the file holds (entries, then zeros).
    pub fn read_all(&mut self) -> std::io::Result<Vec<u8>> {
        let mut bytes = Vec::new();
        self.file.seek(SeekFrom::Start(0))?;
        self.file.read_to_end(&mut bytes)?;
        let size = bytes.len() as u64;
        self.capacity = size;
        self.dirty = size;
        self.len = size;
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
    for [first, second] in journals_of(db) {
        let read = || -> std::io::Result<Vec<Entry>> {
            Ok(in_order(
                decode(&read_if_present(&first)?),
                decode(&read_if_present(&second)?),
            ))
        };
        // A writer in another process may move between the two files while
        // they are read, one after the other: read again until the two runs
        // join. (If they never do, replay names the gap.)
        let mut entries = read()?;
        for _ in 0..READ_AGAIN {
            if records_follow_on(&entries) {
                break;
            }
            entries = read()?;
        }
        let r = replay(store, &first, &entries).await?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_audit::ChainHead;

    const BASE: u64 = 64 << 10;

    fn opened(dir: &tempfile::TempDir) -> Journal {
        let mut j = Journal::open(&dir.path().join("j"), BASE).unwrap();
        j.read_all().unwrap();
        j.reset().unwrap();
        j
    }

    fn file(dir: &tempfile::TempDir) -> Vec<u8> {
        std::fs::read(dir.path().join("j")).unwrap()
    }

    /// `expected`, then only zeros, and the file is `size` bytes.
    fn holds(bytes: &[u8], expected: &[u8], size: u64) {
        assert_eq!(bytes.len() as u64, size);
        assert_eq!(bytes.get(..expected.len()), Some(expected));
        let tail = bytes.get(expected.len()..).unwrap_or_default();
        assert!(tail.iter().all(|&b| b == 0), "only zeros after the entries");
    }

    #[test]
    fn appends_overwrite_the_prewritten_zeros_and_keep_the_size() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = opened(&dir);
        holds(&file(&dir), b"", BASE);
        j.append(b"Rone\n").unwrap();
        j.append(b"Rtwo\n").unwrap();
        assert_eq!(j.len(), 10);
        holds(&file(&dir), b"Rone\nRtwo\n", BASE);
    }

    #[test]
    fn an_append_past_the_end_grows_the_file_with_zeros_first() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = opened(&dir);
        let big = vec![b'x'; BASE as usize + 100];
        j.append(b"Rfirst\n").unwrap();
        j.append(&big).unwrap();
        let mut want = b"Rfirst\n".to_vec();
        want.extend_from_slice(&big);
        // At least doubled, so a growing backlog does not flush zeros each time.
        holds(&file(&dir), &want, 2 * BASE);
        assert_eq!(j.len(), want.len() as u64);
    }

    #[test]
    fn emptying_zeros_what_was_written_before_anything_new() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = opened(&dir);
        j.append(&[b'a'; 3000]).unwrap();
        j.reset().unwrap();
        holds(&file(&dir), b"", BASE);
        j.append(&[b'b'; 2000]).unwrap();
        j.reset().unwrap();
        // No byte of the longer appends before is left.
        j.append(b"Rc\n").unwrap();
        holds(&file(&dir), b"Rc\n", BASE);
    }

    #[test]
    fn emptying_cuts_a_file_that_grew_far_back_to_its_base_size() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = opened(&dir);
        j.append(&vec![b'x'; 5 * BASE as usize]).unwrap();
        assert!(file(&dir).len() as u64 >= 5 * BASE);
        j.reset().unwrap();
        holds(&file(&dir), b"", BASE);
        j.append(b"Rn\n").unwrap();
        holds(&file(&dir), b"Rn\n", BASE);
    }

    #[test]
    fn a_journal_found_at_start_is_read_whole_and_then_zeroed() {
        let dir = tempfile::tempdir().unwrap();
        // An older journal: entries up to its end, no zeros.
        std::fs::write(dir.path().join("j"), b"Rold\nRlines\n").unwrap();
        let mut j = Journal::open(&dir.path().join("j"), BASE).unwrap();
        assert_eq!(j.read_all().unwrap(), b"Rold\nRlines\n");
        j.reset().unwrap();
        holds(&file(&dir), b"", BASE);
        j.append(b"Rnew\n").unwrap();
        holds(&file(&dir), b"Rnew\n", BASE);
    }

    fn row(head: &mut ChainHead, n: u64) -> Row {
        let event = vigil_audit::Event::AuthFailure(vigil_audit::AuthFailure {
            reason: format!("attempt {n}"),
            client_addr: "127.0.0.1:5000".into(),
            claimed_user: None,
            connection: None,
            application_name: None,
            tls: false,
        });
        let text = event.canonical_text().unwrap();
        Row {
            link: head.append_text(1_000, event.event_type(), text).unwrap(),
            index: IndexFields::of(&event),
        }
    }

    #[test]
    fn the_two_files_are_replayed_older_first() {
        let mut head = ChainHead::genesis("c");
        let rows: Vec<Row> = (1..=4).map(|n| row(&mut head, n)).collect();
        let (mut older, mut newer) = (Vec::new(), Vec::new());
        encode(&[&rows[0], &rows[1]], None, &mut older);
        encode(&[&rows[2], &rows[3]], None, &mut newer);
        let seqs = |e: Vec<Entry>| -> Vec<u64> {
            e.iter()
                .map(|e| match e {
                    Entry::Record(r) => r.link.seq,
                    Entry::Checkpoint(c) => c.seq,
                })
                .collect()
        };
        for (a, b) in [(&older, &newer), (&newer, &older)] {
            assert_eq!(seqs(in_order(decode(a), decode(b))), vec![1, 2, 3, 4]);
        }
        assert_eq!(seqs(in_order(decode(&[]), decode(&newer))), vec![3, 4]);
        assert_eq!(seqs(in_order(decode(&newer), decode(&[0; 64]))), vec![3, 4]);
    }

    #[test]
    fn records_read_from_two_moments_do_not_join() {
        let mut head = ChainHead::genesis("c");
        let rows: Vec<Row> = (1..=5).map(|n| row(&mut head, n)).collect();
        let lines = |rs: &[&Row]| {
            let mut b = Vec::new();
            encode(rs, None, &mut b);
            decode(&b)
        };
        let joined = in_order(lines(&[&rows[0], &rows[1]]), lines(&[&rows[2]]));
        assert!(records_follow_on(&joined));
        // The older file as it was before the writer moved on twice.
        let torn = in_order(lines(&[&rows[0], &rows[1]]), lines(&[&rows[3], &rows[4]]));
        assert!(!records_follow_on(&torn));
        assert!(records_follow_on(&[]));
    }

    #[test]
    fn a_chain_id_cannot_name_another_chains_second_file() {
        let db = Path::new("/d/vigil.db");
        let [a, b] = paths_for(db, "r1");
        assert_eq!(a, Path::new("/d/vigil.db-audit-r1.journal"));
        assert_eq!(b, Path::new("/d/vigil.db-audit-r1~2.journal"));
        // `~` is escaped in a chain id, so "r1~2" is not r1's second file.
        let [c, _] = paths_for(db, "r1~2");
        assert_eq!(c, Path::new("/d/vigil.db-audit-r1%7e2.journal"));
    }

    #[test]
    fn decoding_stops_at_the_zeros() {
        let mut head = ChainHead::genesis("c");
        let rows: Vec<Row> = (1..=3).map(|n| row(&mut head, n)).collect();
        let mut bytes = Vec::new();
        encode(&[&rows[0], &rows[1]], None, &mut bytes);
        bytes.extend_from_slice(&[0u8; 700]);
        // A later page of a torn append that reached the device while the
        // one before it did not: after a zero gap, never replayed.
        encode(&[&rows[2]], None, &mut bytes);
        bytes.extend_from_slice(&[0u8; 100]);
        let seqs: Vec<u64> = decode(&bytes)
            .iter()
            .map(|e| match e {
                Entry::Record(r) => r.link.seq,
                Entry::Checkpoint(c) => c.seq,
            })
            .collect();
        assert_eq!(seqs, vec![1, 2]);
    }
}
