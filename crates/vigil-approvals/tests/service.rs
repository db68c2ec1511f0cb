//! The service on SQLite: decisions, waits, expiry, withdrawal, N-of-M,
//! separation of duties, retry grants and events.

mod common;

use std::time::Duration;

use common::{alice, eventually, principal, request, settings, sqlite_service, SQL};
use vigil_approvals::{
    statement_hash, ApprovalError, ApprovalId, ApprovalStatus, EventKind, RequestFilter, Resolution,
};

#[tokio::test]
async fn approve_resolves_the_wait_and_binds_the_bytes() {
    let (_dir, svc) = sqlite_service(settings()).await;
    let req = svc.create(request(1)).await.unwrap();
    assert_eq!(req.status, ApprovalStatus::Pending);
    let waiter = tokio::spawn({
        let (svc, id) = (svc.clone(), req.id.clone());
        async move { svc.wait(&id).await }
    });
    let bob = principal("bob", Some("bob@example.com"), &["dba"]);
    let after = svc.approve(&req.id, &bob, "looks fine").await.unwrap();
    assert_eq!(after.status, ApprovalStatus::Approved);
    assert_eq!(waiter.await.unwrap().unwrap(), Resolution::Approved);

    let stored = svc.get(&req.id).await.unwrap();
    assert_eq!(stored.reviews.len(), 1);
    assert_eq!(stored.reviews[0].reviewer.subject, "bob");
    assert_eq!(stored.reviews[0].comment, "looks fine");
    assert!(stored.reviews[0].at >= stored.created_at);

    let other = statement_hash([b"DELETE FROM orders".as_slice()]);
    let err = svc.mark_executed(&req.id, &other).await.unwrap_err();
    assert!(matches!(err, ApprovalError::Forbidden(_)), "{err}");
    svc.mark_executed(&req.id, &req.statement_hash)
        .await
        .unwrap();
    let again = svc
        .mark_executed(&req.id, &req.statement_hash)
        .await
        .unwrap_err();
    assert!(matches!(again, ApprovalError::Conflict(_)), "{again}");
    assert_eq!(
        svc.get(&req.id).await.unwrap().status,
        ApprovalStatus::Executed
    );
    assert!(matches!(
        svc.wait(&req.id).await,
        Err(ApprovalError::Conflict(_))
    ));
}

#[tokio::test]
async fn deny_resolves_with_the_reviewers_comment() {
    let (_dir, svc) = sqlite_service(settings()).await;
    let req = svc.create(request(2)).await.unwrap();
    let waiter = tokio::spawn({
        let (svc, id) = (svc.clone(), req.id.clone());
        async move { svc.wait(&id).await }
    });
    let bob = principal("bob", None, &["dba"]);
    let missing = svc.deny(&req.id, &bob, "  ").await.unwrap_err();
    assert!(matches!(missing, ApprovalError::Invalid(_)), "{missing}");
    // One denial decides, even when two approvals were required.
    let after = svc
        .deny(&req.id, &bob, "not during business hours")
        .await
        .unwrap();
    assert_eq!(after.status, ApprovalStatus::Denied);
    match waiter.await.unwrap().unwrap() {
        Resolution::Denied { reviewer, comment } => {
            assert_eq!(reviewer.subject, "bob");
            assert_eq!(comment, "not during business hours");
        }
        other => panic!("expected a denial, got {other:?}"),
    }
    let carol = principal("carol", None, &["dba"]);
    let late = svc.approve(&req.id, &carol, "").await.unwrap_err();
    assert!(matches!(late, ApprovalError::Conflict(_)), "{late}");
}

#[tokio::test]
async fn an_undecided_request_expires_at_its_deadline() {
    let (_dir, svc) = sqlite_service(settings()).await;
    let mut new = request(1);
    new.timeout = Some(Duration::from_millis(300));
    let req = svc.create(new).await.unwrap();
    assert_eq!(req.expires_at - req.created_at, 300);
    assert_eq!(svc.wait(&req.id).await.unwrap(), Resolution::Expired);
    let stored = svc.get(&req.id).await.unwrap();
    assert_eq!(stored.status, ApprovalStatus::Expired);
    let bob = principal("bob", None, &["dba"]);
    let late = svc.approve(&req.id, &bob, "").await.unwrap_err();
    assert!(
        matches!(late, ApprovalError::Conflict(ref m) if m.contains("expired")),
        "{late}"
    );
}

#[tokio::test]
async fn the_sweeper_expires_requests_nobody_waits_on() {
    let (_dir, svc) = sqlite_service(settings()).await;
    let mut events = svc.subscribe();
    let mut new = request(1);
    new.timeout = Some(Duration::from_millis(50));
    new.non_blocking = true;
    let req = svc.create(new).await.unwrap();
    eventually("the sweep", || {
        let (svc, id) = (svc.clone(), req.id.clone());
        async move { svc.get(&id).await.unwrap().status == ApprovalStatus::Expired }
    })
    .await;
    let kinds: Vec<EventKind> = std::iter::from_fn(|| events.try_recv().ok())
        .map(|e| e.kind)
        .collect();
    assert_eq!(kinds, vec![EventKind::Created, EventKind::Expired]);
}

#[tokio::test]
async fn withdraw_ends_the_wait() {
    let (_dir, svc) = sqlite_service(settings()).await;
    let req = svc.create(request(1)).await.unwrap();
    let waiter = tokio::spawn({
        let (svc, id) = (svc.clone(), req.id.clone());
        async move { svc.wait(&id).await }
    });
    svc.withdraw(&req.id, "client disconnected").await.unwrap();
    assert_eq!(waiter.await.unwrap().unwrap(), Resolution::Withdrawn);
    let stored = svc.get(&req.id).await.unwrap();
    assert_eq!(stored.status, ApprovalStatus::Withdrawn);
    assert_eq!(stored.status_reason.as_deref(), Some("client disconnected"));
    assert!(matches!(
        svc.withdraw(&req.id, "again").await,
        Err(ApprovalError::Conflict(_))
    ));
    let nobody = ApprovalId::generate();
    assert!(matches!(
        svc.withdraw(&nobody, "x").await,
        Err(ApprovalError::NotFound)
    ));
    assert!(matches!(
        svc.wait(&nobody).await,
        Err(ApprovalError::NotFound)
    ));
}

#[tokio::test]
async fn two_of_m_needs_two_distinct_reviewers() {
    let (_dir, svc) = sqlite_service(settings()).await;
    let req = svc.create(request(2)).await.unwrap();
    let waiter = tokio::spawn({
        let (svc, id) = (svc.clone(), req.id.clone());
        async move { svc.wait(&id).await }
    });
    let bob = principal("bob", Some("bob@example.com"), &["dba"]);
    let first = svc.approve(&req.id, &bob, "ok").await.unwrap();
    assert_eq!(
        (first.status, first.approvals()),
        (ApprovalStatus::Pending, 1)
    );
    let twice = svc.approve(&req.id, &bob, "ok again").await.unwrap_err();
    assert!(matches!(twice, ApprovalError::Conflict(_)), "{twice}");
    // Another subject with bob's email is still bob.
    let bob_alias = principal("bob-sso", Some("BOB@example.com"), &["dba"]);
    let alias = svc.approve(&req.id, &bob_alias, "").await.unwrap_err();
    assert!(matches!(alias, ApprovalError::Conflict(_)), "{alias}");
    assert_eq!(
        svc.get(&req.id).await.unwrap().status,
        ApprovalStatus::Pending
    );
    let carol = principal("carol", None, &["dba"]);
    let second = svc.approve(&req.id, &carol, "").await.unwrap();
    assert_eq!(
        (second.status, second.approvals()),
        (ApprovalStatus::Approved, 2)
    );
    assert_eq!(waiter.await.unwrap().unwrap(), Resolution::Approved);
}

#[tokio::test]
async fn requesters_and_outsiders_cannot_review() {
    let (_dir, svc) = sqlite_service(settings()).await;
    let req = svc.create(request(1)).await.unwrap();
    // alice is in dba, but it is her own request.
    let own = svc.approve(&req.id, &alice(), "").await.unwrap_err();
    assert!(matches!(own, ApprovalError::Forbidden(_)), "{own}");
    let same_mail = principal("alice-2", Some("alice@example.com"), &["dba"]);
    assert!(matches!(
        svc.approve(&req.id, &same_mail, "").await,
        Err(ApprovalError::Forbidden(_))
    ));
    let outsider = principal("eve", None, &["dev"]);
    assert!(matches!(
        svc.deny(&req.id, &outsider, "no").await,
        Err(ApprovalError::Forbidden(_))
    ));
    let ghost = ApprovalId::generate();
    let bob = principal("bob", None, &["dba"]);
    assert!(matches!(
        svc.approve(&ghost, &bob, "").await,
        Err(ApprovalError::NotFound)
    ));
    assert_eq!(
        svc.get(&req.id).await.unwrap().reviews.len(),
        0,
        "refusals leave no review"
    );
}

#[tokio::test]
async fn a_retry_grant_is_consumed_exactly_once() {
    let (_dir, svc) = sqlite_service(settings()).await;
    let mut new = request(1);
    new.non_blocking = true;
    let req = svc.create(new).await.unwrap();
    let hash = req.statement_hash.clone();
    assert_eq!(
        svc.take_retry_grant("alice", "prod", &hash).await.unwrap(),
        None,
        "pending"
    );
    svc.approve(&req.id, &principal("bob", None, &["dba"]), "")
        .await
        .unwrap();

    let other = statement_hash([format!("{SQL} ").as_bytes()]);
    assert_eq!(
        svc.take_retry_grant("alice", "prod", &other).await.unwrap(),
        None
    );
    assert_eq!(
        svc.take_retry_grant("bob", "prod", &hash).await.unwrap(),
        None
    );
    assert_eq!(
        svc.take_retry_grant("alice", "staging", &hash)
            .await
            .unwrap(),
        None
    );

    let racers: Vec<_> = (0..8)
        .map(|_| {
            let (svc, hash) = (svc.clone(), hash.clone());
            tokio::spawn(async move { svc.take_retry_grant("alice", "prod", &hash).await })
        })
        .collect();
    let mut won = Vec::new();
    for r in racers {
        won.extend(r.await.unwrap().unwrap());
    }
    assert_eq!(won, vec![req.id.clone()], "exactly one caller wins");
    assert_eq!(
        svc.get(&req.id).await.unwrap().status,
        ApprovalStatus::Executed
    );
    assert_eq!(
        svc.take_retry_grant("alice", "prod", &hash).await.unwrap(),
        None
    );
}

#[tokio::test]
async fn events_and_lists_follow_the_requests() {
    let (_dir, svc) = sqlite_service(settings()).await;
    let mut events = svc.subscribe();
    let a = svc.create(request(1)).await.unwrap();
    let b = svc.create(request(1)).await.unwrap();
    svc.deny(&a.id, &principal("bob", None, &["dba"]), "no")
        .await
        .unwrap();
    let seen: Vec<(EventKind, ApprovalId)> = std::iter::from_fn(|| events.try_recv().ok())
        .map(|e| (e.kind, e.request.id))
        .collect();
    assert_eq!(
        seen,
        vec![
            (EventKind::Created, a.id.clone()),
            (EventKind::Created, b.id.clone()),
            (EventKind::Decided, a.id.clone())
        ]
    );
    let pending: Vec<ApprovalId> = svc
        .list(&RequestFilter::pending())
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(pending, vec![b.id.clone()]);
    let history = svc.list(&RequestFilter::history()).await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].id, a.id);
    assert_eq!(
        history[0].labels.get("team").map(String::as_str),
        Some("payments")
    );
    assert_eq!(
        svc.request_url(&b.id),
        format!("https://vigil.example/requests/{}", b.id)
    );
}

#[tokio::test]
async fn malformed_requests_are_refused() {
    let (_dir, svc) = sqlite_service(settings()).await;
    let mut bad = request(1);
    bad.statement_hash = "not-a-hash".to_owned();
    assert!(matches!(
        svc.create(bad).await,
        Err(ApprovalError::Invalid(_))
    ));
    assert!(svc
        .list(&RequestFilter::pending())
        .await
        .unwrap()
        .is_empty());
}
