use super::*;
use crate::retention::{sign_retention, Cut};
use crate::{AuditKey, ChainHead, Event, PolicyLoaded};
use serde_json::json;

fn event(i: u64) -> Event {
    Event::PolicyLoaded(PolicyLoaded {
        version: format!("v{i}"),
        files: vec![],
    })
}

/// A chain of `n` records with a checkpoint every `every` records.
fn chain(id: &str, n: u64, every: u64, key: &AuditKey) -> (Vec<Record>, Vec<Checkpoint>) {
    let mut head = ChainHead::genesis(id);
    let mut records = Vec::new();
    let mut cps = Vec::new();
    for i in 1..=n {
        let r = head.append(1000 + i as i64, &event(i)).unwrap();
        if i % every == 0 {
            cps.push(Checkpoint::sign(key, id, r.seq, &r.hash, r.ts_ms));
        }
        records.push(r);
    }
    (records, cps)
}

fn check(records: &[Record], cps: &[Checkpoint], keys: &PublicKeys) -> VerifyReport {
    verify(records.to_vec(), cps.to_vec(), keys)
}

fn problem(report: &VerifyReport) -> (ProblemKind, u64) {
    let p = report.problem.as_ref().expect("a problem");
    (p.kind, p.seq)
}

#[test]
fn intact_chain_verifies_with_counts_and_unsigned_tail() {
    let key = AuditKey::generate();
    let (records, cps) = chain("a", 25, 10, &key);
    let report = check(&records, &cps, &PublicKeys::from(&key));
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.records, 25);
    assert_eq!(report.checkpoints_verified, 2);
    let c = &report.chains[0];
    assert_eq!(
        (c.first_seq, c.last_seq, c.last_signed_seq),
        (1, 25, Some(20))
    );
    assert_eq!(c.unsigned_tail, 5);
    assert!(report
        .to_string()
        .starts_with("OK: 25 records in 1 chain(s), 2 checkpoint(s)"));
}

#[test]
fn modified_record_is_named() {
    let key = AuditKey::generate();
    let (mut records, cps) = chain("a", 20, 10, &key);
    records[6].event = json!({"version": "evil", "files": []});
    assert_eq!(
        problem(&check(&records, &cps, &PublicKeys::from(&key))),
        (ProblemKind::Modified, 7)
    );
}

#[test]
fn deleted_record_is_a_gap() {
    let key = AuditKey::generate();
    let (mut records, cps) = chain("a", 20, 10, &key);
    records.remove(4);
    let report = check(&records, &cps, &PublicKeys::from(&key));
    assert_eq!(problem(&report), (ProblemKind::Deleted, 6));
    assert!(report.to_string().contains("seq 5 is missing"), "{report}");
}

#[test]
fn swapped_records_are_reordered_not_just_modified() {
    let key = AuditKey::generate();
    let (mut records, cps) = chain("a", 20, 10, &key);
    // Swap the content of seq 3 and seq 4, keeping each row's seq.
    let (s3, s4) = (records[2].clone(), records[3].clone());
    records[2] = Record { seq: 3, ..s4 };
    records[3] = Record { seq: 4, ..s3 };
    let report = check(&records, &cps, &PublicKeys::from(&key));
    assert_eq!(problem(&report), (ProblemKind::Reordered, 3));
    assert!(report.to_string().contains("content of seq 4"), "{report}");
}

#[test]
fn out_of_order_stream_is_reordered() {
    let key = AuditKey::generate();
    let (mut records, _) = chain("a", 5, 10, &key);
    records.swap(2, 3);
    // seq 4 arrives after 2: a gap first; a duplicate or backwards seq is reordered.
    assert_eq!(
        problem(&check(&records, &[], &PublicKeys::new())).0,
        ProblemKind::Deleted
    );
    let (records, _) = chain("a", 5, 10, &key);
    let mut dup = records.clone();
    dup.insert(3, records[1].clone());
    assert_eq!(
        problem(&check(&dup, &[], &PublicKeys::new())),
        (ProblemKind::Reordered, 2)
    );
}

#[test]
fn rewritten_chain_with_recomputed_hashes_fails_at_the_checkpoint() {
    let key = AuditKey::generate();
    let (records, cps) = chain("a", 20, 10, &key);
    // The attacker rewrites seq 13 and recomputes every later hash.
    let mut head = ChainHead::resume("a", 12, records[11].hash.clone());
    let mut forged: Vec<Record> = records[..12].to_vec();
    for i in 13..=20 {
        let ev = if i == 13 { event(999) } else { event(i) };
        forged.push(head.append(1000 + i as i64, &ev).unwrap());
    }
    let report = check(&forged, &cps, &PublicKeys::from(&key));
    assert_eq!(problem(&report), (ProblemKind::CheckpointMismatch, 20));
    assert!(report.to_string().contains("after seq 10"), "{report}");
}

#[test]
fn forged_checkpoint_is_named() {
    let key = AuditKey::generate();
    let attacker = AuditKey::generate();
    let (records, mut cps) = chain("a", 20, 10, &key);
    cps[0] = Checkpoint::sign(&attacker, "a", 10, &records[9].hash, 5);
    let keys = PublicKeys::from(&key);
    assert_eq!(
        problem(&check(&records, &cps, &keys)),
        (ProblemKind::ForgedCheckpoint, 10)
    );
    // Same key id, altered signature.
    let (_, mut good) = chain("a", 20, 10, &key);
    good[1].signature = good[0].signature.clone();
    assert_eq!(
        problem(&check(&records, &good, &keys)),
        (ProblemKind::ForgedCheckpoint, 20)
    );
}

#[test]
fn truncated_tail_after_a_checkpoint_is_detected() {
    let key = AuditKey::generate();
    let (records, cps) = chain("a", 20, 10, &key);
    let report = check(&records[..15], &cps, &PublicKeys::from(&key));
    assert_eq!(problem(&report), (ProblemKind::Truncated, 20));
    // Without that checkpoint, a shorter chain is only an unsigned tail.
    let report = check(&records[..15], &cps[..1], &PublicKeys::from(&key));
    assert!(report.is_ok());
    assert_eq!(report.chains[0].unsigned_tail, 5);
}

#[test]
fn a_whole_chain_removed_is_truncated() {
    let key = AuditKey::generate();
    let (a, mut cps) = chain("a", 10, 5, &key);
    let (_, b_cps) = chain("b", 10, 5, &key);
    cps.extend(b_cps);
    let report = check(&a, &cps, &PublicKeys::from(&key));
    let p = report.problem.unwrap();
    assert_eq!((p.chain_id.as_str(), p.kind), ("b", ProblemKind::Truncated));
}

#[test]
fn chains_are_verified_independently_even_interleaved() {
    let key = AuditKey::generate();
    let (a, mut cps) = chain("a", 10, 5, &key);
    let (mut b, b_cps) = chain("b", 10, 5, &key);
    cps.extend(b_cps);
    let mixed: Vec<Record> = a
        .iter()
        .zip(&b)
        .flat_map(|(x, y)| [x.clone(), y.clone()])
        .collect();
    let report = check(&mixed, &cps, &PublicKeys::from(&key));
    assert!(report.is_ok(), "{report}");
    assert_eq!((report.chains.len(), report.checkpoints_verified), (2, 4));
    b[3].ts_ms += 1;
    let mixed: Vec<Record> = a.iter().chain(&b).cloned().collect();
    let p = check(&mixed, &cps, &PublicKeys::from(&key))
        .problem
        .unwrap();
    assert_eq!(
        (p.chain_id.as_str(), p.seq, p.kind),
        ("b", 4, ProblemKind::Modified)
    );
}

/// The chain after a retention run: records 1..=cut gone, a signed
/// retention record appended.
fn retained(key: &AuditKey, signer: &AuditKey, cut: u64) -> Vec<Record> {
    let (records, _) = chain("a", 20, 100, key);
    let mut head = ChainHead::resume("a", 20, records[19].hash.clone());
    let ev = sign_retention(
        signer,
        "a",
        &Cut {
            cutoff_ts_ms: 1000 + cut as i64 + 1,
            deleted_records: cut,
            last_deleted_seq: cut,
            last_deleted_hash: records[cut as usize - 1].hash.clone(),
        },
    );
    let r = head.append(2000, &Event::Retention(ev)).unwrap();
    let mut kept = records[cut as usize..].to_vec();
    kept.push(r);
    kept
}

#[test]
fn retention_cut_is_accepted_only_when_signed_and_exact() {
    let key = AuditKey::generate();
    let keys = PublicKeys::from(&key);
    let report = check(&retained(&key, &key, 8), &[], &keys);
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.chains[0].retention_cut, Some(8));
    assert!(report.to_string().contains("retention cut after seq 8"));

    // Deleting one more record than the cut names: a deletion.
    let mut more = retained(&key, &key, 8);
    more.remove(0);
    assert_eq!(
        problem(&check(&more, &[], &keys)),
        (ProblemKind::Deleted, 10)
    );

    // Records cut without a retention record at all.
    let (records, _) = chain("a", 20, 100, &key);
    assert_eq!(
        problem(&check(&records[5..], &[], &keys)),
        (ProblemKind::Deleted, 6)
    );

    // A retention record signed by another key.
    let forged = retained(&key, &AuditKey::generate(), 8);
    assert_eq!(
        problem(&check(&forged, &[], &keys)),
        (ProblemKind::InvalidRetention, 21)
    );
}

#[test]
fn range_scope_anchors_on_the_first_record() {
    let key = AuditKey::generate();
    let (records, cps) = chain("a", 20, 10, &key);
    let keys = PublicKeys::from(&key);
    let mut v = Verifier::new(&keys, cps[1..].to_vec(), Scope::Range);
    for r in &records[12..] {
        assert!(v.feed(r));
    }
    let report = v.finish();
    assert!(report.is_ok(), "{report}");
    assert!(report.chains[0].anchored);
    assert_eq!(report.checkpoints_verified, 1);
}

#[test]
fn without_keys_links_are_checked_and_the_report_says_so() {
    let key = AuditKey::generate();
    let (mut records, cps) = chain("a", 10, 5, &key);
    let report = check(&records, &cps, &PublicKeys::new());
    assert!(report.is_ok());
    assert!(!report.signatures_checked);
    assert!(report.to_string().contains("NOT checked"));
    records[2].prev_hash = records[0].hash.clone();
    assert_eq!(problem(&check(&records, &cps, &PublicKeys::new())).1, 3);
}

#[test]
fn hostile_records_do_not_panic() {
    let keys = PublicKeys::new();
    let weird = Record {
        schema_version: 1,
        chain_id: String::new(),
        seq: u64::MAX,
        ts_ms: i64::MIN,
        event_type: "retention".into(),
        event: json!({"x": 1.5}),
        prev_hash: String::new(),
        hash: "zz".into(),
    };
    let report = check(std::slice::from_ref(&weird), &[], &keys);
    assert_eq!(problem(&report).0, ProblemKind::Modified);
    let v2 = Record {
        schema_version: 2,
        ..weird
    };
    assert_eq!(
        problem(&check(&[v2], &[], &keys)).0,
        ProblemKind::Unsupported
    );
}
