//! Two services (two replicas) on ONE PostgreSQL store see each other's
//! decisions: an approval through A releases a wait held on B.

mod common;

use common::{principal, request, settings};
use vigil_approvals::{ApprovalService, ApprovalStatus, EventKind, Resolution};
use vigil_pgtemp::{ClusterOptions, TempCluster};
use vigil_store::Store;

async fn replica(pg: &TempCluster) -> ApprovalService {
    // Each replica has its own pool, as two processes would.
    let store = Store::open(&pg.url("postgres")).await.unwrap();
    ApprovalService::start(&store, settings()).unwrap()
}

#[tokio::test]
async fn decisions_cross_replicas() {
    let pg = TempCluster::start(ClusterOptions::default()).unwrap();
    let (a, b) = (replica(&pg).await, replica(&pg).await);
    let mut b_events = b.subscribe();

    // Approve through A, held on B.
    let held = b.create(request(1)).await.unwrap();
    let wait = tokio::spawn({
        let (b, id) = (b.clone(), held.id.clone());
        async move { b.wait(&id).await }
    });
    let bob = principal("bob", None, &["dba"]);
    a.approve(&held.id, &bob, "ship it").await.unwrap();
    assert_eq!(wait.await.unwrap().unwrap(), Resolution::Approved);
    // B saw the change only through the store, and says so.
    let decided = std::iter::from_fn(|| b_events.try_recv().ok())
        .find(|e| e.kind == EventKind::Decided)
        .expect("B announces the remote decision");
    assert!(decided.remote);
    b.mark_executed(&held.id, &held.statement_hash)
        .await
        .unwrap();

    // Deny through B, held on A: the comment crosses too.
    let held = a.create(request(1)).await.unwrap();
    let wait = tokio::spawn({
        let (a, id) = (a.clone(), held.id.clone());
        async move { a.wait(&id).await }
    });
    b.deny(&held.id, &bob, "use the staging copy")
        .await
        .unwrap();
    match wait.await.unwrap().unwrap() {
        Resolution::Denied { comment, .. } => assert_eq!(comment, "use the staging copy"),
        other => panic!("expected a denial, got {other:?}"),
    }

    // Two approvals needed, one through each replica at once: approved once.
    let held = a.create(request(2)).await.unwrap();
    let wait = tokio::spawn({
        let (a, id) = (a.clone(), held.id.clone());
        async move { a.wait(&id).await }
    });
    let carol = principal("carol", None, &["dba"]);
    let (mut a_events, mut b_events) = (a.subscribe(), b.subscribe());
    let (x, y) = tokio::join!(
        a.approve(&held.id, &bob, ""),
        b.approve(&held.id, &carol, "")
    );
    // Each call returns the request as it is after its review; when the
    // other review commits in between, both already show it approved.
    let statuses = [x.unwrap().status, y.unwrap().status];
    assert!(statuses.contains(&ApprovalStatus::Approved), "{statuses:?}");
    assert!(
        statuses
            .iter()
            .all(|s| matches!(s, ApprovalStatus::Approved | ApprovalStatus::Pending)),
        "{statuses:?}"
    );
    assert_eq!(wait.await.unwrap().unwrap(), Resolution::Approved);
    // Exactly one review decided it: one local Decided event across both.
    let id = held.id.clone();
    let decided_here = |rx: &mut tokio::sync::broadcast::Receiver<_>| {
        std::iter::from_fn(|| rx.try_recv().ok())
            .filter(|e: &vigil_approvals::ApprovalEvent| {
                e.kind == EventKind::Decided && !e.remote && e.request.id == id
            })
            .count()
    };
    assert_eq!(decided_here(&mut a_events) + decided_here(&mut b_events), 1);
}

#[tokio::test]
async fn one_retry_grant_across_replicas() {
    let pg = TempCluster::start(ClusterOptions::default()).unwrap();
    let (a, b) = (replica(&pg).await, replica(&pg).await);
    let mut new = request(1);
    new.non_blocking = true;
    let req = a.create(new).await.unwrap();
    b.approve(&req.id, &principal("bob", None, &["dba"]), "")
        .await
        .unwrap();
    let hash = req.statement_hash.clone();
    let (x, y) = tokio::join!(
        a.take_retry_grant("alice", "prod", &hash),
        b.take_retry_grant("alice", "prod", &hash)
    );
    let won: Vec<_> = [x.unwrap(), y.unwrap()].into_iter().flatten().collect();
    assert_eq!(won, vec![req.id]);
}
