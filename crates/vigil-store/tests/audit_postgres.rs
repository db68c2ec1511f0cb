//! The audit trail on PostgreSQL, the multi-replica store: two writers
//! (two chain ids, one store) append concurrently and are verified
//! together; tampering, search, summary, export and retention work there too.

mod audit_support;

use audit_support::*;
use vigil_audit::{AuditKey, ProblemKind, PublicKeys};
use vigil_core::Verdict;
use vigil_pgtemp::{ClusterOptions, TempCluster};
use vigil_store::audit::*;
use vigil_store::Store;

#[tokio::test]
async fn two_replicas_keep_two_chains_in_one_store() {
    let pg = TempCluster::start(ClusterOptions::default()).unwrap();
    let url = pg.url("postgres");
    // Each replica opens its own pool, as separate processes would.
    let (store_a, store_b) = (
        Store::open(&url).await.unwrap(),
        Store::open(&url).await.unwrap(),
    );
    let (key_a, key_b) = (AuditKey::generate(), AuditKey::generate());
    let mut keys = PublicKeys::from(&key_a);
    keys.insert(key_b.verifying_key());
    let clock = TestClock::new(1000);
    let a = AuditLog::start(
        store_a.clone(),
        "replica-a",
        key_a.clone(),
        settings(50, clock.clock()),
    )
    .await
    .unwrap();
    let b = AuditLog::start(
        store_b.clone(),
        "replica-b",
        key_b,
        settings(50, clock.clock()),
    )
    .await
    .unwrap();

    let mut tasks = Vec::new();
    for t in 0..16u64 {
        let log = if t % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move {
            for i in 0..20 {
                let user = if t % 4 == 0 { "alice" } else { "bob" };
                let ev = intent(
                    user,
                    "prod",
                    "public.orders",
                    Verdict::Allow,
                    &format!("SELECT {t}, {i}"),
                );
                log.append(&ev).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert!(a.stats().batches < a.stats().records, "{:?}", a.stats());
    a.close().await.unwrap();
    b.close().await.unwrap();

    let report = verify_store(&store_a, &AuditRange::default(), &keys)
        .await
        .unwrap();
    assert!(report.is_ok(), "{report}");
    let ids: Vec<(&str, u64)> = report
        .chains
        .iter()
        .map(|c| (c.chain_id.as_str(), c.last_seq))
        .collect();
    assert_eq!(ids, vec![("replica-a", 160), ("replica-b", 160)]);
    assert!(report.chains.iter().all(|c| c.unsigned_tail == 0));

    // One chain alone, and a range of it.
    let only_b = AuditRange {
        chain: Some("replica-b".into()),
        from: Some(Bound::Seq(100)),
        ..Default::default()
    };
    let report = verify_store(&store_a, &only_b, &keys).await.unwrap();
    assert!(report.is_ok(), "{report}");
    assert_eq!((report.chains.len(), report.records), (1, 61));

    // Search and summary span both chains.
    let alice = SearchFilter {
        user: Some("alice".into()),
        ..Default::default()
    };
    let found = search(
        &store_a,
        &alice,
        &Page {
            limit: 1000,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(found.len(), 80);
    assert!(found.iter().all(|r| r.chain_id == "replica-a"));
    let s = summary(&store_a, None, None).await.unwrap();
    assert_eq!((s.allowed, s.top_users.len()), (320, 2));
    let text = SearchFilter {
        text: Some("select 3, 1".into()),
        ..Default::default()
    };
    assert_eq!(
        search(&store_a, &text, &Page::default())
            .await
            .unwrap()
            .len(),
        11
    );

    // Export of both chains verifies on its own.
    let mut out = Vec::new();
    let stats = export_jsonl(&store_a, &mut out, &AuditRange::default())
        .await
        .unwrap();
    assert_eq!(stats.records, 320);

    // Retention on replica-a only; then tamper with replica-b.
    let a = AuditLog::start(
        store_a.clone(),
        "replica-a",
        key_a,
        settings(50, clock.clock()),
    )
    .await
    .unwrap();
    clock.set(2000);
    let out = a.apply_retention(1500).await.unwrap();
    assert_eq!((out.deleted, out.cut_seq), (160, Some(160)));
    a.close().await.unwrap();
    let listed: Vec<(String, Option<u64>)> = chains(&store_b)
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.chain_id, c.last_seq))
        .collect();
    assert_eq!(
        listed,
        vec![
            ("replica-a".into(), Some(161)),
            ("replica-b".into(), Some(160))
        ]
    );
    let report = verify_store(&store_b, &AuditRange::default(), &keys)
        .await
        .unwrap();
    assert!(report.is_ok(), "{report}");
    sqlx::query("UPDATE audit_records SET event = replace(event, 'SELECT', 'DELETE') WHERE chain_id = 'replica-b' AND seq = 77")
        .execute(store_b.pool())
        .await
        .unwrap();
    let p = verify_store(&store_b, &AuditRange::default(), &keys)
        .await
        .unwrap()
        .problem
        .unwrap();
    assert_eq!(
        (p.chain_id.as_str(), p.seq, p.kind),
        ("replica-b", 77, ProblemKind::Modified)
    );
}
