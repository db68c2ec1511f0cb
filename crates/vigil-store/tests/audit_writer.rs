//! The audit writer on SQLite: durable appends, resume after a restart or
//! a crash, group commit under concurrency, retention, store failures.

mod audit_support;

use audit_support::*;
use vigil_audit::{AuditKey, PublicKeys};
use vigil_store::audit::{verify_store, AuditError, AuditLog, AuditRange};

#[tokio::test]
async fn appends_chain_and_a_restart_resumes_the_chain() {
    let (store, _url, _dir) = sqlite().await;
    let key = AuditKey::generate();
    let keys = PublicKeys::from(&key);
    let clock = TestClock::new(1000);
    let log = AuditLog::start(store.clone(), "r1", key.clone(), settings(4, clock.clock()))
        .await
        .unwrap();
    let mut last = None;
    for i in 1..=10 {
        let r = log.append(&simple(i)).await.unwrap();
        assert_eq!(r.seq, i);
        last = Some(r);
    }
    log.close().await.unwrap();
    assert!(matches!(
        log.append(&simple(0)).await,
        Err(AuditError::Closed)
    ));

    let log = AuditLog::start(store.clone(), "r1", key, settings(4, clock.clock()))
        .await
        .unwrap();
    assert_eq!(log.append(&simple(11)).await.unwrap().seq, 11);
    log.close().await.unwrap();
    let report = verify_store(&store, &AuditRange::default(), &keys)
        .await
        .unwrap();
    assert!(report.is_ok(), "{report}");
    let chain = &report.chains[0];
    assert_eq!((chain.first_seq, chain.last_seq), (1, 11));
    // By count at 4 and 8; at each close, 10 and 11.
    assert_eq!(report.checkpoints_verified, 4);
    assert_eq!(chain.unsigned_tail, 0);
    let (prev,): (String,) = sqlx::query_as("SELECT prev_hash FROM audit_records WHERE seq = 11")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(prev, last.unwrap().hash);
}

#[tokio::test]
async fn a_writer_that_died_without_close_is_resumed_with_its_unsigned_tail() {
    let (store, _url, _dir) = sqlite().await;
    let key = AuditKey::generate();
    let clock = TestClock::new(1000);
    let dead = AuditLog::start(store.clone(), "r1", key.clone(), settings(4, clock.clock()))
        .await
        .unwrap();
    for i in 1..=6 {
        dead.append(&simple(i)).await.unwrap();
    }
    // Like a SIGKILL: no close, no final checkpoint (the task is leaked).
    std::mem::forget(dead);
    let report = verify_store(&store, &AuditRange::default(), &PublicKeys::from(&key))
        .await
        .unwrap();
    assert_eq!(report.chains[0].unsigned_tail, 2);

    let log = AuditLog::start(store.clone(), "r1", key.clone(), settings(4, clock.clock()))
        .await
        .unwrap();
    assert_eq!(log.append(&simple(7)).await.unwrap().seq, 7);
    log.close().await.unwrap();
    let report = verify_store(&store, &AuditRange::default(), &PublicKeys::from(&key))
        .await
        .unwrap();
    assert!(report.is_ok(), "{report}");
    assert_eq!((report.records, report.chains[0].unsigned_tail), (7, 0));
}

#[tokio::test]
async fn group_commit_keeps_one_valid_chain_under_64_appenders() {
    let (store, _url, _dir) = sqlite().await;
    let key = AuditKey::generate();
    let log = AuditLog::start(
        store.clone(),
        "r1",
        key.clone(),
        settings(100, TestClock::new(5).clock()),
    )
    .await
    .unwrap();
    let mut tasks = Vec::new();
    for a in 0..64u64 {
        let log = log.clone();
        tasks.push(tokio::spawn(async move {
            let mut seqs = Vec::new();
            for i in 0..25 {
                seqs.push(log.append(&simple(a * 100 + i)).await.unwrap().seq);
            }
            seqs
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        let seqs = t.await.unwrap();
        // Each appender's own records are in order.
        assert!(seqs.windows(2).all(|w| w[0] < w[1]));
        all.extend(seqs);
    }
    all.sort_unstable();
    assert_eq!(all, (1..=1600).collect::<Vec<u64>>());
    let stats = log.stats();
    assert_eq!(stats.records, 1600);
    assert!(stats.batches < stats.records, "{stats:?}");
    log.close().await.unwrap();
    let report = verify_store(&store, &AuditRange::default(), &PublicKeys::from(&key))
        .await
        .unwrap();
    assert!(report.is_ok(), "{report}");
    // A checkpoint lands on the batch that reaches 100 records, plus one at close.
    assert_eq!(report.checkpoints_verified, log.stats().checkpoints);
    assert!(report.checkpoints_verified >= 2);
    assert_eq!(report.chains[0].last_signed_seq, Some(1600));
}

/// Holds SQLite's write lock from another connection, so every write by
/// the writer fails (after the store's 5 s busy timeout).
async fn lock_writes(url: &str) -> sqlx::pool::PoolConnection<sqlx::Any> {
    let other = vigil_store::Store::open(url).await.unwrap();
    let mut conn = other.pool().acquire().await.unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut *conn)
        .await
        .unwrap();
    conn
}

/// Appends `event` until one succeeds (the ingester retries a failed
/// store every 100 ms; appends resume once it has caught up).
async fn append_when_back(log: &AuditLog, event: &vigil_audit::Event) -> vigil_audit::RecordRef {
    for _ in 0..300 {
        if let Ok(r) = log.append(event).await {
            return r;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("appends did not resume");
}

/// SQLite locked by another connection: appends already in the journal
/// are durable; once the ingester fails (the busy timeout), appends are
/// refused and take no seq; unlocked, the chain continues without a gap
/// or a fork, every journaled record in the store.
#[tokio::test]
async fn a_failed_batch_errors_and_the_chain_does_not_fork() {
    let (store, url, _dir) = sqlite().await;
    let key = AuditKey::generate();
    let log = AuditLog::start(
        store.clone(),
        "r1",
        key.clone(),
        settings(1000, TestClock::new(5).clock()),
    )
    .await
    .unwrap();
    for i in 1..=3 {
        log.append(&simple(i)).await.unwrap();
    }
    let mut lock = lock_writes(&url).await;
    let mut last = 3;
    let failed = loop {
        match log.append(&simple(last + 1)).await {
            Ok(r) => {
                assert_eq!(r.seq, last + 1);
                last = r.seq;
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            Err(e) => break e,
        }
        assert!(
            last < 400,
            "appends were never refused while SQLite was locked"
        );
    };
    assert!(matches!(failed, AuditError::Unavailable(_)), "{failed:?}");
    assert!(log.append(&simple(0)).await.is_err());
    sqlx::query("ROLLBACK").execute(&mut *lock).await.unwrap();
    drop(lock);
    // The refused records took no seq: the next one follows the last
    // journaled one.
    assert_eq!(append_when_back(&log, &simple(999)).await.seq, last + 1);
    assert!(log.stats().failed_batches >= 2);
    log.close().await.unwrap();
    let report = verify_store(&store, &AuditRange::default(), &PublicKeys::from(&key))
        .await
        .unwrap();
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.records, last + 1);
}

#[tokio::test]
async fn a_closed_store_makes_append_fail_without_panicking() {
    let (store, _url, _dir) = sqlite().await;
    let log = AuditLog::start(
        store.clone(),
        "r1",
        AuditKey::generate(),
        settings(10, TestClock::new(5).clock()),
    )
    .await
    .unwrap();
    log.append(&simple(1)).await.unwrap();
    store.close().await;
    assert!(log.append(&simple(2)).await.is_err());
    assert!(log.append(&simple(3)).await.is_err());
    assert!(log.close().await.is_err());
}

/// Makes the database files unwritable even for root: `chattr +i` when we
/// are root (chmod does not stop root), chmod otherwise. Returns an undo.
fn make_read_only(dir: &std::path::Path) -> Option<impl FnOnce()> {
    // Not the -shm file: SQLite maps it into memory, and a write fault on
    // an immutable mapping is a SIGBUS, not an error.
    let files: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !p.to_string_lossy().ends_with("-shm"))
        .collect();
    let root = unsafe { libc::geteuid() } == 0;
    if root {
        let mut args = vec!["+i".to_owned()];
        args.extend(files.iter().map(|f| f.display().to_string()));
        let ok = std::process::Command::new("chattr")
            .args(&args)
            .status()
            .ok()?
            .success();
        if !ok {
            return None;
        }
    } else {
        use std::os::unix::fs::PermissionsExt;
        for f in &files {
            std::fs::set_permissions(f, std::fs::Permissions::from_mode(0o444)).unwrap();
        }
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o555)).unwrap();
    }
    let dir = dir.to_owned();
    Some(move || {
        if root {
            let mut args = vec!["-i".to_owned()];
            args.extend(files.iter().map(|f| f.display().to_string()));
            let _ = std::process::Command::new("chattr").args(&args).status();
        } else {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755));
            for f in &files {
                let _ = std::fs::set_permissions(f, std::fs::Permissions::from_mode(0o644));
            }
        }
    })
}

#[tokio::test]
async fn a_read_only_store_makes_append_fail_and_recovers_when_writable() {
    let (store, url, dir) = sqlite().await;
    let key = AuditKey::generate();
    let log = AuditLog::start(
        store.clone(),
        "r1",
        key.clone(),
        settings(1000, TestClock::new(5).clock()),
    )
    .await
    .unwrap();
    log.append(&simple(1)).await.unwrap();
    log.close().await.unwrap();
    store.close().await;
    let Some(undo) = make_read_only(dir.path()) else {
        eprintln!("cannot make the store read-only here (no chattr); skipped");
        return;
    };
    // A fresh process (new connections) against the read-only files.
    let opened = vigil_store::Store::open(&url).await;
    let outcome = match opened {
        Err(e) => Err(e.to_string()),
        Ok(ro) => match AuditLog::start(
            ro.clone(),
            "r1",
            key.clone(),
            settings(1000, TestClock::new(6).clock()),
        )
        .await
        {
            Err(e) => Err(e.to_string()),
            Ok(log) => log.append(&simple(2)).await.map_err(|e| e.to_string()),
        },
    };
    undo();
    assert!(
        outcome.is_err(),
        "append on a read-only store succeeded: {outcome:?}"
    );
    let store = vigil_store::Store::open(&url).await.unwrap();
    let log = AuditLog::start(
        store.clone(),
        "r1",
        key.clone(),
        settings(1000, TestClock::new(7).clock()),
    )
    .await
    .unwrap();
    assert_eq!(log.append(&simple(3)).await.unwrap().seq, 2);
    log.close().await.unwrap();
}

/// The files turn read-only under a running writer: appends fail, and once
/// the files are writable again the chain continues without a gap or fork.
/// Needs `chattr` (root): a chmod does not affect files already open.
#[tokio::test]
async fn a_store_turning_read_only_under_the_writer_fails_closed_then_recovers() {
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("needs root for chattr; skipped");
        return;
    }
    let (store, _url, dir) = sqlite().await;
    let key = AuditKey::generate();
    let log = AuditLog::start(
        store.clone(),
        "r1",
        key.clone(),
        settings(1000, TestClock::new(5).clock()),
    )
    .await
    .unwrap();
    log.append(&simple(1)).await.unwrap();
    let Some(undo) = make_read_only(dir.path()) else {
        eprintln!("chattr unavailable; skipped");
        return;
    };
    let failed = log.append(&simple(2)).await;
    let failed_again = log.append(&simple(3)).await;
    undo();
    assert!(
        matches!(failed, Err(AuditError::Unavailable(_))),
        "{failed:?}"
    );
    assert!(failed_again.is_err());
    assert_eq!(append_when_back(&log, &simple(4)).await.seq, 2);
    log.close().await.unwrap();
    let report = verify_store(&store, &AuditRange::default(), &PublicKeys::from(&key))
        .await
        .unwrap();
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.records, 2);
}

#[tokio::test]
async fn submitted_appends_are_written_whether_or_not_the_ticket_is_awaited() {
    let (store, _url, _dir) = sqlite().await;
    let key = AuditKey::generate();
    let log = AuditLog::start(
        store.clone(),
        "r1",
        key.clone(),
        settings(100, TestClock::new(5).clock()),
    )
    .await
    .unwrap();
    let intent = log.append(&simple(1)).await.unwrap();
    // The outcome is queued and its ticket dropped: the session moves on.
    drop(log.submit(&outcome(intent, "EMAIL", 2)).await.unwrap());
    let ticket = log.submit(&simple(3)).await.unwrap();
    assert_eq!(ticket.await.unwrap().seq, 3);
    log.close().await.unwrap();
    let report = verify_store(&store, &AuditRange::default(), &PublicKeys::from(&key))
        .await
        .unwrap();
    assert_eq!(report.records, 3);
    assert!(matches!(
        log.submit(&simple(4)).await,
        Err(AuditError::Closed)
    ));
}
