//! The write-ahead journal of a SQLite store: an append is durable once it
//! is in the journal; what the ingester had not copied into SQLite when
//! Vigil died is replayed at the next start (and by commands that read the
//! trail); a torn last line is ignored; a journal that does not continue
//! the stored chain is refused.

mod audit_support;

use audit_support::*;
use std::path::{Path, PathBuf};
use vigil_audit::{AuditKey, PublicKeys};
use vigil_store::audit::{recover_journals, verify_store, AuditLog, AuditRange};
use vigil_store::Store;

fn journal_of(dir: &Path) -> PathBuf {
    dir.join("audit.db-audit-r1.journal")
}

/// The journal's second file.
fn second_of(dir: &Path) -> PathBuf {
    dir.join("audit.db-audit-r1~2.journal")
}

/// The record lines in journal bytes, up to the zeros.
fn record_lines(bytes: &[u8]) -> usize {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    bytes[..end]
        .split(|&b| b == b'\n')
        .filter(|l| l.first() == Some(&b'R'))
        .count()
}

async fn count(store: &Store) -> i64 {
    let (n,): (i64,) = sqlx::query_as("SELECT count(*) FROM audit_records")
        .fetch_one(store.pool())
        .await
        .unwrap();
    n
}

/// Writes seqs 1..=n with a writer that is then dropped without `close`
/// (its ingester has copied everything by the time `append` of a later
/// reader returns), and returns the journal's bytes as the writer left
/// them before it could empty the file.
async fn journal_after(store: &Store, dir: &Path, key: &AuditKey, n: u64) -> Vec<u8> {
    let log = AuditLog::start(
        store.clone(),
        "r1",
        key.clone(),
        settings(1000, TestClock::new(10).clock()),
    )
    .await
    .unwrap();
    for i in 1..=n {
        log.append(&simple(i)).await.unwrap();
    }
    let mut bytes = std::fs::read(journal_of(dir)).unwrap();
    log.close().await.unwrap();
    // The file is pre-written: the entries, then zeros to its end.
    let entries = bytes.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    assert!(entries < bytes.len(), "zeros follow the entries");
    assert_eq!(bytes.get(entries - 1), Some(&b'\n'));
    bytes.truncate(entries);
    bytes
}

/// The journal holds no entry: nothing but zeros.
fn empty(dir: &Path) -> bool {
    let bytes = std::fs::read(journal_of(dir)).unwrap();
    !bytes.is_empty() && bytes.iter().all(|&b| b == 0)
}

/// SQLite loses the records after `keep` (as if the ingester never copied
/// them before a kill), and the journal holds `bytes` again.
async fn lose_after(store: &Store, dir: &Path, keep: i64, bytes: &[u8]) {
    sqlx::query("DELETE FROM audit_records WHERE seq > $1")
        .bind(keep)
        .execute(store.pool())
        .await
        .unwrap();
    sqlx::query("DELETE FROM audit_checkpoints")
        .execute(store.pool())
        .await
        .unwrap();
    std::fs::write(journal_of(dir), bytes).unwrap();
}

/// Starts a writer again, appends one record (which must get `seq`),
/// closes, and verifies the whole chain: `seq` records, intact.
async fn restart_append_verify(store: &Store, key: &AuditKey, seq: u64) {
    let log = AuditLog::start(
        store.clone(),
        "r1",
        key.clone(),
        settings(1000, TestClock::new(20).clock()),
    )
    .await
    .unwrap();
    assert_eq!(log.append(&simple(900)).await.unwrap().seq, seq);
    log.close().await.unwrap();
    let report = verify_store(store, &AuditRange::default(), &PublicKeys::from(key))
        .await
        .unwrap();
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.records, seq);
}

#[tokio::test]
async fn records_only_in_the_journal_are_replayed_at_the_next_start() {
    let (store, _url, dir) = sqlite().await;
    let key = AuditKey::generate();
    let bytes = journal_after(&store, dir.path(), &key, 5).await;
    assert!(!bytes.is_empty(), "the appends went through the journal");
    lose_after(&store, dir.path(), 2, &bytes).await;
    assert_eq!(count(&store).await, 2);

    // The chain continues after the replayed seq 5, not after 2.
    restart_append_verify(&store, &key, 6).await;
    assert!(empty(dir.path()), "a clean close leaves an empty journal");
}

#[tokio::test]
async fn entries_after_a_run_of_zeros_are_not_replayed() {
    let (store, _url, dir) = sqlite().await;
    let key = AuditKey::generate();
    let bytes = journal_after(&store, dir.path(), &key, 4).await;
    // A torn append: the page holding seq 3 and 4's start never reached
    // the device (it reads as the zeros written before), a later one did.
    let text = String::from_utf8(bytes).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let mut torn = Vec::new();
    for l in lines
        .iter()
        .filter(|l| !l.contains("\"seq\":3,") && !l.contains("\"seq\":4,"))
    {
        torn.extend_from_slice(l.as_bytes());
        torn.push(b'\n');
    }
    torn.extend_from_slice(&[0u8; 4096]);
    let seq4 = lines.iter().find(|l| l.contains("\"seq\":4,")).unwrap();
    torn.extend_from_slice(seq4.as_bytes());
    torn.push(b'\n');
    torn.extend_from_slice(&[0u8; 4096]);
    lose_after(&store, dir.path(), 0, &torn).await;
    // Seqs 1 and 2 come back; seq 4, after the gap, does not.
    restart_append_verify(&store, &key, 3).await;
}

#[tokio::test]
async fn a_reader_recovers_the_journal_without_a_writer() {
    let (store, _url, dir) = sqlite().await;
    let key = AuditKey::generate();
    let bytes = journal_after(&store, dir.path(), &key, 4).await;
    lose_after(&store, dir.path(), 1, &bytes).await;
    let got = recover_journals(&store).await.unwrap();
    assert_eq!(got.records, 3);
    assert_eq!(count(&store).await, 4);
    // Twice is harmless.
    assert_eq!(recover_journals(&store).await.unwrap().records, 0);
    assert_eq!(count(&store).await, 4);
}

#[tokio::test]
async fn a_torn_last_line_is_ignored() {
    let (store, _url, dir) = sqlite().await;
    let key = AuditKey::generate();
    let bytes = journal_after(&store, dir.path(), &key, 3).await;
    // Cut inside the last line: a crash during the append of seq 3, whose
    // caller was never answered.
    let last_start = bytes[..bytes.len() - 1]
        .iter()
        .rposition(|&b| b == b'\n')
        .unwrap()
        + 1;
    let torn = &bytes[..last_start + (bytes.len() - last_start) / 2];
    lose_after(&store, dir.path(), 0, torn).await;
    restart_append_verify(&store, &key, 3).await;
}

#[tokio::test]
async fn a_journal_that_does_not_continue_the_chain_is_refused() {
    let (store, _url, dir) = sqlite().await;
    let key = AuditKey::generate();
    let bytes = journal_after(&store, dir.path(), &key, 3).await;
    let text = String::from_utf8(bytes).unwrap();
    // Seq 3's content edited in the journal: its hash no longer matches.
    let lines: Vec<&str> = text.lines().collect();
    let edited = lines
        .iter()
        .map(|l| {
            if l.contains("\"seq\":3,") {
                l.replacen("\"ts_ms\":", "\"ts_ms\":1", 1)
            } else {
                (*l).to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n";
    lose_after(&store, dir.path(), 2, edited.as_bytes()).await;
    let started = AuditLog::start(
        store.clone(),
        "r1",
        key.clone(),
        settings(1000, TestClock::new(20).clock()),
    )
    .await;
    let err = match started {
        Ok(_) => panic!("a writer started on a journal that does not match its hash"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("does not match its hash"), "{err}");
    assert!(err.contains("journal"), "{err}");
    assert_eq!(count(&store).await, 2, "nothing of the journal was copied");
}

#[tokio::test]
async fn under_appends_that_never_pause_the_journal_moves_between_its_two_files() {
    let (store, _url, dir) = sqlite().await;
    let key = AuditKey::generate();
    let s = vigil_store::audit::AuditSettings {
        journal_switch_at: 4096,
        journal_prewrite: 64 << 10,
        ..settings(100_000, TestClock::new(10).clock())
    };
    let log = AuditLog::start(store.clone(), "r1", key.clone(), s)
        .await
        .unwrap();
    let (rounds, per_round) = (5, 200);
    for round in 0..rounds {
        for i in 0..per_round {
            log.append(&simple(round * per_round + i)).await.unwrap();
        }
        // A reader waits for the ingester: SQLite then holds all of it.
        vigil_store::audit::tail(&store, 1).await.unwrap();
    }
    let total = rounds * per_round;
    // What a crash now would leave.
    let first = std::fs::read(journal_of(dir.path())).unwrap();
    let second = std::fs::read(second_of(dir.path())).unwrap();
    let kept = record_lines(&first) + record_lines(&second);
    // One file never emptied would hold all of them.
    assert!(
        kept > 0 && kept <= per_round as usize + 20,
        "{kept} of {total} records still in the journal"
    );
    log.close().await.unwrap();

    // SQLite loses what the two files hold; the restart replays both, in
    // chain order, whichever file holds the older part.
    let keep = total as i64 - kept as i64;
    lose_after(&store, dir.path(), keep, &first).await;
    std::fs::write(second_of(dir.path()), &second).unwrap();
    assert_eq!(count(&store).await, keep);
    restart_append_verify(&store, &key, total + 1).await;
    assert!(empty(dir.path()), "a clean close leaves an empty journal");
    let second = std::fs::read(second_of(dir.path())).unwrap();
    assert!(second.iter().all(|&b| b == 0), "both files are emptied");
}
