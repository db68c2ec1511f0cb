//! Reading the trail: search filters and paging, tail and follow, summary,
//! the JSONL export verified with the public key alone, and retention.

mod audit_support;

use audit_support::*;
use vigil_audit::{read_lines, AuditKey, Checkpoint, ExportLine, PublicKeys, Record};
use vigil_core::Verdict;
use vigil_store::audit::*;

/// Six intents and two outcomes, at t = 1000, 2000, … (one per record).
async fn sample_trail() -> (
    vigil_store::Store,
    AuditLog,
    AuditKey,
    TestClock,
    tempfile::TempDir,
) {
    let (store, _url, dir) = sqlite().await;
    let key = AuditKey::generate();
    let clock = TestClock::new(1000);
    let log = AuditLog::start(store.clone(), "r1", key.clone(), settings(3, clock.clock()))
        .await
        .unwrap();
    let events = [
        intent(
            "alice",
            "prod",
            "public.orders",
            Verdict::Allow,
            "SELECT * FROM public.orders",
        ),
        intent(
            "alice",
            "prod",
            "customers",
            Verdict::Review,
            "DELETE FROM customers",
        ),
        intent(
            "bob",
            "staging",
            "orders",
            Verdict::Deny,
            "DROP TABLE orders",
        ),
        intent(
            "bob",
            "prod",
            "public.customers",
            Verdict::Allow,
            "select email FROM public.customers",
        ),
        intent(
            "carol",
            "prod",
            "my_table",
            Verdict::Allow,
            "SELECT 100% FROM my_table",
        ),
        intent(
            "alice",
            "prod",
            "myxtable",
            Verdict::Deny,
            "SELECT 1 FROM myxtable",
        ),
    ];
    let mut t = 1000;
    for ev in &events {
        clock.set(t);
        let r = log.append(ev).await.unwrap();
        t += 1000;
        if r.seq == 1 || r.seq == 4 {
            clock.set(t);
            log.append(&outcome(r, "EMAIL", 3)).await.unwrap();
            t += 1000;
        }
    }
    (store, log, key, clock, dir)
}

fn seqs(records: &[Record]) -> Vec<u64> {
    records.iter().map(|r| r.seq).collect()
}

#[tokio::test]
async fn search_filters_match_the_indexed_columns() {
    let (store, _log, _k, _c, _d) = sample_trail().await;
    let find = |f: SearchFilter| {
        let store = store.clone();
        async move { seqs(&search(&store, &f, &Page::default()).await.unwrap()) }
    };
    // Newest first. Seqs: 1 alice, 2 outcome of 1, 3 alice, 4 bob, 5 outcome of 4,
    // 6 bob, 7 carol, 8 alice; seq n is at t = n * 1000.
    assert_eq!(
        find(SearchFilter {
            user: Some("alice".into()),
            ..Default::default()
        })
        .await,
        vec![8, 3, 1]
    );
    assert_eq!(
        find(SearchFilter {
            user: Some("bob@example.com".into()),
            ..Default::default()
        })
        .await,
        vec![6, 4]
    );
    assert_eq!(
        find(SearchFilter {
            connection: Some("staging".into()),
            ..Default::default()
        })
        .await,
        vec![4]
    );
    assert_eq!(
        find(SearchFilter {
            verdict: Some("deny".into()),
            ..Default::default()
        })
        .await,
        vec![8, 4]
    );
    // `orders` matches qualified and unqualified; `my_table`'s `_` is literal.
    assert_eq!(
        find(SearchFilter {
            table: Some("orders".into()),
            ..Default::default()
        })
        .await,
        vec![4, 1]
    );
    assert_eq!(
        find(SearchFilter {
            table: Some("public.orders".into()),
            ..Default::default()
        })
        .await,
        vec![1]
    );
    assert_eq!(
        find(SearchFilter {
            table: Some("my_table".into()),
            ..Default::default()
        })
        .await,
        vec![7]
    );
    assert_eq!(
        find(SearchFilter {
            text: Some("100%".into()),
            ..Default::default()
        })
        .await,
        vec![7]
    );
    assert_eq!(
        find(SearchFilter {
            text: Some("SELECT EMAIL".into()),
            ..Default::default()
        })
        .await,
        vec![6]
    );
    assert_eq!(
        find(SearchFilter {
            event_type: Some("statement.outcome".into()),
            ..Default::default()
        })
        .await,
        vec![5, 2]
    );
    assert_eq!(
        find(SearchFilter {
            since_ms: Some(3000),
            until_ms: Some(5000),
            ..Default::default()
        })
        .await,
        vec![5, 4, 3]
    );
    assert_eq!(
        find(SearchFilter {
            session: Some(1),
            user: Some("carol".into()),
            ..Default::default()
        })
        .await,
        vec![7]
    );
    assert!(find(SearchFilter {
        user: Some("nobody".into()),
        ..Default::default()
    })
    .await
    .is_empty());
}

#[tokio::test]
async fn the_principal_connection_and_verdict_indexes_skip_rows_without_them() {
    let (store, _log, _k, _c, _d) = sample_trail().await;
    // Written for equality filters: each index leaves out the NULL rows
    // (statement outcomes), and the filters search reads with still use it.
    for (index, column) in [
        ("audit_records_sub", "user_sub"),
        ("audit_records_email", "user_email"),
        ("audit_records_connection", "connection_name"),
        ("audit_records_verdict", "verdict"),
    ] {
        let (sql,): (String,) = sqlx::query_as("SELECT sql FROM sqlite_master WHERE name = $1")
            .bind(index)
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert!(
            sql.contains(&format!("WHERE {column} IS NOT NULL")),
            "{index}: {sql}"
        );
        let plan: Vec<(i64, i64, i64, String)> = sqlx::query_as(&format!(
            "EXPLAIN QUERY PLAN SELECT seq FROM audit_records WHERE {column} = $1 \
             AND ts_ms >= $2 ORDER BY ts_ms DESC LIMIT 50"
        ))
        .bind("x")
        .bind(0_i64)
        .fetch_all(store.pool())
        .await
        .unwrap();
        assert!(
            plan.iter().any(|(_, _, _, detail)| detail.contains(index)),
            "{column} = ? does not use {index}: {plan:?}"
        );
    }
}

#[tokio::test]
async fn pages_follow_by_cursor_or_offset() {
    let (store, _log, _k, _c, _d) = sample_trail().await;
    let all = SearchFilter::default();
    let first = search(
        &store,
        &all,
        &Page {
            limit: 3,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(seqs(&first), vec![8, 7, 6]);
    let before = first.last().map(Cursor::from);
    let next = search(
        &store,
        &all,
        &Page {
            limit: 3,
            before,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(seqs(&next), vec![5, 4, 3]);
    let by_offset = search(
        &store,
        &all,
        &Page {
            limit: 3,
            offset: 3,
            before: None,
        },
    )
    .await
    .unwrap();
    assert_eq!(seqs(&by_offset), vec![5, 4, 3]);
}

#[tokio::test]
async fn tail_and_follow_see_new_records_once() {
    let (store, log, _k, _c, _d) = sample_trail().await;
    let last = tail(&store, 2).await.unwrap();
    assert_eq!(seqs(&last), vec![7, 8]);
    let mut follow = Follower::after(&last);
    assert!(follow.poll(&store, 100).await.unwrap().is_empty());
    log.append(&simple(9)).await.unwrap();
    log.append(&simple(10)).await.unwrap();
    assert_eq!(seqs(&follow.poll(&store, 100).await.unwrap()), vec![9, 10]);
    assert!(follow.poll(&store, 100).await.unwrap().is_empty());
    let mut from_now = Follower::from_now(&store).await.unwrap();
    assert!(from_now.poll(&store, 100).await.unwrap().is_empty());
}

#[tokio::test]
async fn summary_counts_users_verdicts_and_masked_values() {
    let (store, _log, _k, _c, _d) = sample_trail().await;
    let s = summary(&store, None, None).await.unwrap();
    assert_eq!(s.records, 8);
    assert_eq!((s.allowed, s.reviewed, s.blocked), (3, 1, 2));
    let top: Vec<(&str, u64, u64, u64)> = s
        .top_users
        .iter()
        .map(|u| (u.user.as_str(), u.statements, u.reviewed, u.blocked))
        .collect();
    assert_eq!(
        top,
        vec![
            ("alice@example.com", 3, 1, 1),
            ("bob@example.com", 2, 0, 1),
            ("carol@example.com", 1, 0, 0)
        ]
    );
    let email = s.masked.get("EMAIL").copied().unwrap_or_default();
    assert_eq!((email.values, email.rows), (6, 6));
    // A period holding only the second outcome.
    let later = summary(&store, Some(4500), None).await.unwrap();
    assert_eq!(later.masked.get("EMAIL").map(|m| m.values), Some(3));
    assert_eq!(later.by_event_type.get("statement.outcome"), Some(&1));
}

#[tokio::test]
async fn export_verifies_with_the_public_key_alone() {
    let (store, log, key, _c, _d) = sample_trail().await;
    log.close().await.unwrap();
    let mut out = Vec::new();
    let stats = export_jsonl(&store, &mut out, &AuditRange::default())
        .await
        .unwrap();
    assert_eq!((stats.records, stats.checkpoints), (8, 3));
    // The third party has the file and the public key PEM, nothing else.
    let mut keys = PublicKeys::new();
    keys.insert_pem(&key.public_key_pem().unwrap()).unwrap();
    let lines: Vec<ExportLine> = read_lines(out.as_slice()).map(Result::unwrap).collect();
    // Each checkpoint follows the record it signs.
    for pair in lines.windows(2) {
        if let [ExportLine::Record(r), ExportLine::Checkpoint(c)] = pair {
            assert_eq!((r.seq, &r.hash), (c.seq, &c.head_hash));
        }
    }
    let (records, checkpoints) = split(lines);
    let report = vigil_audit::verify(records.clone(), checkpoints.clone(), &keys);
    assert!(report.is_ok(), "{report}");
    assert_eq!((report.records, report.checkpoints_verified), (8, 3));
    // Edited in the file: found.
    let mut edited = records;
    edited[2].event["sql"] = "SELECT 1".into();
    let report = vigil_audit::verify(edited, checkpoints, &keys);
    assert_eq!(report.problem.map(|p| p.seq), Some(3));
}

fn split(lines: Vec<ExportLine>) -> (Vec<Record>, Vec<Checkpoint>) {
    let mut records = Vec::new();
    let mut checkpoints = Vec::new();
    for line in lines {
        match line {
            ExportLine::Record(r) => records.push(r),
            ExportLine::Checkpoint(c) => checkpoints.push(c),
        }
    }
    (records, checkpoints)
}

#[tokio::test]
async fn retention_deletes_expired_records_with_a_signed_cut_that_verifies() {
    let (store, log, key, clock, _d) = sample_trail().await;
    let keys = PublicKeys::from(&key);
    clock.set(20_000);
    // Records at t < 4500 (seqs 1–4) expire.
    let out = log.apply_retention(4500).await.unwrap();
    assert_eq!((out.deleted, out.cut_seq, out.more), (4, Some(4), false));
    assert_eq!(out.record.as_ref().map(|r| r.seq), Some(9));
    let report = verify_store(&store, &AuditRange::default(), &keys)
        .await
        .unwrap();
    assert!(report.is_ok(), "{report}");
    let chain = &report.chains[0];
    assert_eq!(
        (chain.first_seq, chain.last_seq, chain.retention_cut),
        (5, 9, Some(4))
    );
    assert!(report.to_string().contains("retention cut after seq 4"));
    // Nothing more to expire at the same cutoff; the chain continues.
    assert_eq!(log.apply_retention(4500).await.unwrap().deleted, 0);
    assert_eq!(log.append(&simple(10)).await.unwrap().seq, 10);
    // A capped run deletes part and says there is more.
    log.close().await.unwrap();
    let mut s = settings(3, clock.clock());
    s.retention_batch = 2;
    let log = AuditLog::start(store.clone(), "r1", key.clone(), s)
        .await
        .unwrap();
    let out = log.apply_retention(7500).await.unwrap();
    assert_eq!((out.deleted, out.cut_seq, out.more), (2, Some(6), true));
    let out = log.apply_retention(7500).await.unwrap();
    assert_eq!((out.deleted, out.cut_seq, out.more), (1, Some(7), false));
    log.close().await.unwrap();
    let report = verify_store(&store, &AuditRange::default(), &keys)
        .await
        .unwrap();
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.chains[0].retention_cut, Some(7));
    // Removing one more record by hand is not covered by any cut.
    sqlx::query("DELETE FROM audit_records WHERE seq = 8")
        .execute(store.pool())
        .await
        .unwrap();
    let report = verify_store(&store, &AuditRange::default(), &keys)
        .await
        .unwrap();
    assert_eq!(
        report.problem.map(|p| (p.kind, p.seq)),
        Some((vigil_audit::ProblemKind::Deleted, 9))
    );
}

#[tokio::test]
async fn retention_of_everything_leaves_the_signed_cut_as_the_chain() {
    let (store, log, key, clock, _d) = sample_trail().await;
    clock.set(50_000);
    let out = log.apply_retention(40_000).await.unwrap();
    assert_eq!((out.deleted, out.cut_seq), (8, Some(8)));
    log.close().await.unwrap();
    let report = verify_store(&store, &AuditRange::default(), &PublicKeys::from(&key))
        .await
        .unwrap();
    assert!(report.is_ok(), "{report}");
    assert_eq!((report.records, report.chains[0].first_seq), (1, 9));
}
