//! Queued appends (`try_submit`, and how they share the next awaited
//! commit) and sessions as the trail shows them:
//! each start with its end, and a session's records bounded by the next
//! start with the same id (ids restart with Vigil).

mod audit_support;

use audit_support::*;
use vigil_audit::{AuditKey, Event, SessionEnd, SessionStart};
use vigil_store::audit::{
    search, session_records, sessions, AuditError, AuditLog, Page, SearchFilter,
};

fn start(id: u64, sub: &str) -> Event {
    Event::SessionStart(SessionStart {
        session_id: id,
        principal: principal(sub),
        client_addr: "10.0.0.1:1".into(),
        application_name: None,
        tls: false,
        connection: "prod".into(),
        environment: "production".into(),
    })
}

fn end(id: u64, sub: &str) -> Event {
    Event::SessionEnd(SessionEnd {
        session_id: id,
        principal: principal(sub),
        client_addr: "10.0.0.1:1".into(),
        application_name: None,
        tls: false,
        connection: "prod".into(),
        environment: "production".into(),
        duration_ms: 1,
        statements: 1,
        bytes_in: 1,
        bytes_out: 1,
        reason: None,
    })
}

fn with_session(ev: Event, id: u64) -> Event {
    match ev {
        Event::StatementIntent(mut i) => {
            i.session_id = id;
            Event::StatementIntent(i)
        }
        other => other,
    }
}

#[tokio::test]
async fn queued_appends_keep_call_order_and_report_a_stopped_writer() {
    let (store, _url, _dir) = sqlite().await;
    let clock = TestClock::new(1000);
    let log = AuditLog::start(
        store.clone(),
        "q",
        AuditKey::generate(),
        settings(100, clock.clock()),
    )
    .await
    .unwrap();
    for i in 1..=50 {
        drop(log.try_submit(&simple(i)).unwrap());
    }
    // An awaited append after them commits after all of them.
    let last = log.append(&simple(51)).await.unwrap();
    assert_eq!(last.seq, 51);
    let page = Page {
        limit: 100,
        ..Page::default()
    };
    let mut found = search(&store, &SearchFilter::default(), &page)
        .await
        .unwrap();
    found.sort_by_key(|r| r.seq);
    let sqls: Vec<String> = found
        .iter()
        .map(|r| r.event["sql"].as_str().unwrap().to_owned())
        .collect();
    let expected: Vec<String> = (1..=51).map(|i| format!("SELECT {i}")).collect();
    assert_eq!(sqls, expected);
    log.close().await.unwrap();
    assert!(matches!(
        log.try_submit(&simple(0)),
        Err(AuditError::Closed)
    ));
}

#[tokio::test]
async fn records_nobody_waits_for_share_the_next_awaited_commit() {
    let (store, _url, _dir) = sqlite().await;
    let clock = TestClock::new(1000);
    let s = vigil_store::audit::AuditSettings {
        linger: std::time::Duration::from_secs(5),
        ..settings(100, clock.clock())
    };
    let log = AuditLog::start(store.clone(), "l", AuditKey::generate(), s)
        .await
        .unwrap();
    drop(log.try_submit(&simple(1)).unwrap());
    // Let the writer take it and linger on it.
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert_eq!(log.stats().records, 0, "still lingering");
    log.append(&simple(2)).await.unwrap();
    let stats = log.stats();
    assert_eq!(
        (stats.batches, stats.records),
        (1, 2),
        "one commit for both"
    );
    // A lingering record alone is still written (here: at close).
    drop(log.try_submit(&simple(3)).unwrap());
    log.close().await.unwrap();
    assert_eq!(log.stats().records, 3);
}

#[tokio::test]
async fn sessions_pair_starts_with_ends_across_a_restart() {
    let (store, _url, _dir) = sqlite().await;
    let clock = TestClock::new(1000);
    let key = AuditKey::generate();
    let log = AuditLog::start(
        store.clone(),
        "s",
        key.clone(),
        settings(100, clock.clock()),
    )
    .await
    .unwrap();
    log.append(&start(1, "alice")).await.unwrap(); // seq 1
    log.append(&with_session(simple(1), 1)).await.unwrap(); // 2
    log.append(&start(2, "bob")).await.unwrap(); // 3
    log.append(&end(1, "alice")).await.unwrap(); // 4
    log.append(&with_session(simple(2), 1)).await.unwrap(); // 5: late, still alice's
    log.close().await.unwrap();
    // A restarted writer: bob's session 2 never ended; ids start over.
    clock.set(2000);
    let log = AuditLog::start(store.clone(), "s", key, settings(100, clock.clock()))
        .await
        .unwrap();
    log.append(&start(1, "carol")).await.unwrap(); // 6
    log.append(&with_session(simple(3), 1)).await.unwrap(); // 7
    log.close().await.unwrap();

    let listed = sessions(&store, &SearchFilter::default(), &Page::default())
        .await
        .unwrap();
    let summary: Vec<(u64, Option<u64>)> = listed
        .iter()
        .map(|s| (s.start.seq, s.end.as_ref().map(|e| e.seq)))
        .collect();
    assert_eq!(summary, [(6, None), (3, None), (1, Some(4))]);
    assert_eq!(listed[2].session_id(), Some(1));
    let bob = SearchFilter {
        user: Some("bob".into()),
        ..SearchFilter::default()
    };
    let only_bob = sessions(&store, &bob, &Page::default()).await.unwrap();
    assert_eq!(only_bob.len(), 1);

    let (alice, records) = session_records(&store, "s", 1, 100).await.unwrap().unwrap();
    assert_eq!(alice.end.map(|e| e.seq), Some(4));
    let seqs: Vec<u64> = records.iter().map(|r| r.seq).collect();
    assert_eq!(
        seqs,
        [2, 4, 5],
        "alice's records, not carol's (same id, later run)"
    );
    let (_, records) = session_records(&store, "s", 6, 100).await.unwrap().unwrap();
    assert_eq!(records.iter().map(|r| r.seq).collect::<Vec<_>>(), [7]);
    assert!(session_records(&store, "s", 2, 100)
        .await
        .unwrap()
        .is_none());
    assert!(session_records(&store, "other", 1, 100)
        .await
        .unwrap()
        .is_none());
}
