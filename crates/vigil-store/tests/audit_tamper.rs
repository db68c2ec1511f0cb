//! Tampering with the SQLite file through a separate connection, with
//! plain SQL, as an attacker with file access would: verify names the
//! exact record and the kind of damage.

mod audit_support;

use audit_support::*;
use vigil_audit::{AuditKey, Checkpoint, ProblemKind, PublicKeys, VerifyReport};
use vigil_core::Verdict;
use vigil_store::audit::{verify_store, AuditLog, AuditRange, Bound};
use vigil_store::Store;

/// 25 records on chain "r1", checkpoints at 10, 20 and 25 (close).
async fn trail() -> (Store, Store, PublicKeys, AuditKey, tempfile::TempDir) {
    let (store, url, dir) = sqlite().await;
    let key = AuditKey::generate();
    let log = AuditLog::start(
        store.clone(),
        "r1",
        key.clone(),
        settings(10, TestClock::new(1000).clock()),
    )
    .await
    .unwrap();
    for i in 1..=25 {
        let ev = if i == 5 {
            intent(
                "mallory",
                "prod",
                "users",
                Verdict::Deny,
                "DROP TABLE users",
            )
        } else {
            simple(i)
        };
        log.append(&ev).await.unwrap();
    }
    log.close().await.unwrap();
    let attacker = Store::open(&url).await.unwrap();
    (store, attacker, PublicKeys::from(&key), key, dir)
}

async fn exec(store: &Store, sql: &str) {
    sqlx::query(sql).execute(store.pool()).await.unwrap();
}

async fn verify(store: &Store, keys: &PublicKeys) -> VerifyReport {
    verify_store(store, &AuditRange::default(), keys)
        .await
        .unwrap()
}

fn broken(report: &VerifyReport) -> (ProblemKind, u64) {
    let p = report
        .problem
        .as_ref()
        .unwrap_or_else(|| panic!("no problem found: {report}"));
    assert_eq!(p.chain_id, "r1");
    (p.kind, p.seq)
}

#[tokio::test]
async fn intact_trail_verifies() {
    let (store, _a, keys, _k, _d) = trail().await;
    let report = verify(&store, &keys).await;
    assert!(report.is_ok(), "{report}");
    assert_eq!((report.records, report.checkpoints_verified), (25, 3));
}

#[tokio::test]
async fn editing_one_records_sql_is_named() {
    let (store, attacker, keys, _k, _d) = trail().await;
    exec(&attacker, "UPDATE audit_records SET event = replace(event, 'DROP TABLE users', 'SELECT 1') WHERE seq = 5").await;
    assert_eq!(
        broken(&verify(&store, &keys).await),
        (ProblemKind::Modified, 5)
    );
}

#[tokio::test]
async fn editing_only_the_searchable_copy_is_named() {
    let (store, attacker, keys, _k, _d) = trail().await;
    exec(
        &attacker,
        "UPDATE audit_records SET sql_text = 'SELECT 1', user_sub = 'alice' WHERE seq = 5",
    )
    .await;
    let report = verify(&store, &keys).await;
    assert_eq!(broken(&report), (ProblemKind::Modified, 5));
    assert!(report.to_string().contains("user_sub"), "{report}");
}

#[tokio::test]
async fn invalid_json_in_a_record_is_named() {
    let (store, attacker, keys, _k, _d) = trail().await;
    exec(
        &attacker,
        "UPDATE audit_records SET event = '{' WHERE seq = 9",
    )
    .await;
    assert_eq!(
        broken(&verify(&store, &keys).await),
        (ProblemKind::Modified, 9)
    );
}

#[tokio::test]
async fn a_value_of_the_wrong_type_is_named() {
    let (store, attacker, keys, _k, _d) = trail().await;
    // SQLite stores whatever it is given, whatever the column's type.
    exec(
        &attacker,
        "UPDATE audit_records SET ts_ms = 'yesterday' WHERE seq = 8",
    )
    .await;
    let report = verify(&store, &keys).await;
    assert_eq!(broken(&report), (ProblemKind::Modified, 8));
}

#[tokio::test]
async fn deleting_a_record_is_named() {
    let (store, attacker, keys, _k, _d) = trail().await;
    exec(&attacker, "DELETE FROM audit_records WHERE seq = 5").await;
    let report = verify(&store, &keys).await;
    assert_eq!(broken(&report), (ProblemKind::Deleted, 6));
    assert!(report.to_string().contains("seq 5 is missing"), "{report}");
}

#[tokio::test]
async fn swapping_two_records_content_is_named() {
    let (store, attacker, keys, _k, _d) = trail().await;
    // Every column but seq trades places between seq 4 and seq 5.
    let cols = "ts_ms, schema_version, event_type, event, prev_hash, hash, session_id, \
                user_sub, user_email, connection_name, verdict, table_names, sql_text, masked";
    exec(
        &attacker,
        "CREATE TABLE t AS SELECT * FROM audit_records WHERE seq IN (4, 5)",
    )
    .await;
    let set: Vec<String> = cols
        .split(", ")
        .map(|c| c.trim())
        .map(|c| format!("{c} = (SELECT {c} FROM t WHERE t.seq = 9 - audit_records.seq)"))
        .collect();
    exec(
        &attacker,
        &format!(
            "UPDATE audit_records SET {} WHERE seq IN (4, 5)",
            set.join(", ")
        ),
    )
    .await;
    let report = verify(&store, &keys).await;
    assert_eq!(broken(&report), (ProblemKind::Reordered, 4));
    assert!(report.to_string().contains("content of seq 5"), "{report}");
}

#[tokio::test]
async fn forging_a_checkpoint_is_named() {
    let (store, attacker, keys, _k, _d) = trail().await;
    // Re-sign the real head with the attacker's own key.
    let (hash,): (String,) = sqlx::query_as("SELECT hash FROM audit_records WHERE seq = 20")
        .fetch_one(attacker.pool())
        .await
        .unwrap();
    let forged = Checkpoint::sign(&AuditKey::generate(), "r1", 20, &hash, 5);
    sqlx::query("UPDATE audit_checkpoints SET public_key_id = $1, signature = $2 WHERE seq = 20")
        .bind(&forged.public_key_id)
        .bind(&forged.signature)
        .execute(attacker.pool())
        .await
        .unwrap();
    assert_eq!(
        broken(&verify(&store, &keys).await),
        (ProblemKind::ForgedCheckpoint, 20)
    );
}

#[tokio::test]
async fn rewriting_history_and_rechaining_fails_at_the_signed_checkpoint() {
    let (store, attacker, keys, _k, _d) = trail().await;
    // Rewrite seq 12 and recompute every later hash and link: the chain is
    // self-consistent again, but the checkpoint at 20 signed the old head.
    let mut records = vigil_store::audit::search(
        &attacker,
        &vigil_store::audit::SearchFilter::default(),
        &vigil_store::audit::Page {
            limit: 100,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    records.sort_by_key(|r| r.seq);
    let mut head = vigil_audit::ChainHead::resume("r1", 11, records[10].hash.clone());
    for r in &records[11..] {
        let (event_type, event) = if r.seq == 12 {
            (
                "policy.loaded",
                serde_json::json!({"version": "x", "files": []}),
            )
        } else {
            (r.event_type.as_str(), r.event.clone())
        };
        let new = head.append_raw(r.ts_ms, event_type, event).unwrap();
        sqlx::query(
            "UPDATE audit_records SET event = $1, event_type = $2, prev_hash = $3, hash = $4 \
             WHERE seq = $5",
        )
        .bind(new.event_text().unwrap())
        .bind(&new.event_type)
        .bind(&new.prev_hash)
        .bind(&new.hash)
        .bind(r.seq as i64)
        .execute(attacker.pool())
        .await
        .unwrap();
    }
    // The searchable copies of seq 12 are cleared too, as a careful attacker would.
    exec(
        &attacker,
        "UPDATE audit_records SET session_id = NULL, user_sub = NULL, user_email = NULL, \
                     connection_name = NULL, verdict = NULL, table_names = NULL, sql_text = NULL \
                     WHERE seq = 12",
    )
    .await;
    let report = verify(&store, &keys).await;
    assert_eq!(broken(&report), (ProblemKind::CheckpointMismatch, 20));
    assert!(report.to_string().contains("after seq 10"), "{report}");
}

#[tokio::test]
async fn truncating_the_tail_after_a_checkpoint_is_named() {
    let (store, attacker, keys, _k, _d) = trail().await;
    exec(&attacker, "DELETE FROM audit_records WHERE seq > 17").await;
    assert_eq!(
        broken(&verify(&store, &keys).await),
        (ProblemKind::Truncated, 20)
    );
}

#[tokio::test]
async fn deleting_the_oldest_records_without_retention_is_named() {
    let (store, attacker, keys, _k, _d) = trail().await;
    exec(&attacker, "DELETE FROM audit_records WHERE seq <= 3").await;
    exec(&attacker, "DELETE FROM audit_checkpoints WHERE seq <= 3").await;
    assert_eq!(
        broken(&verify(&store, &keys).await),
        (ProblemKind::Deleted, 4)
    );
}

#[tokio::test]
async fn a_range_is_verified_from_its_anchor() {
    let (store, attacker, keys, _k, _d) = trail().await;
    let range = AuditRange {
        from: Some(Bound::Seq(11)),
        to: Some(Bound::Seq(20)),
        ..Default::default()
    };
    let report = verify_store(&store, &range, &keys).await.unwrap();
    assert!(report.is_ok(), "{report}");
    assert_eq!((report.records, report.checkpoints_verified), (10, 1));
    assert!(report.chains[0].anchored);
    // Damage outside the range is outside the check; inside it is found.
    exec(
        &attacker,
        "UPDATE audit_records SET ts_ms = ts_ms + 1 WHERE seq IN (3, 15)",
    )
    .await;
    let report = verify_store(&store, &range, &keys).await.unwrap();
    assert_eq!(broken(&report), (ProblemKind::Modified, 15));
}
