//! The approval repository on both backends: every scenario runs on a
//! SQLite file and on a throw-away PostgreSQL.

use vigil_pgtemp::{ClusterOptions, TempCluster};
use vigil_store::approvals::{decision, status, ApprovalRepo, ListFilter, RequestRow, ReviewRow};
use vigil_store::{Store, StoreError};

const NOW: i64 = 1_700_000_000_000;

fn request(id: &str, required: i64, non_blocking: bool) -> RequestRow {
    RequestRow {
        id: id.to_owned(),
        status: status::PENDING.to_owned(),
        created_at: NOW,
        expires_at: NOW + 60_000,
        updated_at: NOW,
        decided_at: None,
        executed_at: None,
        requester_subject: "alice".to_owned(),
        requester_email: Some("alice@example.com".to_owned()),
        connection: "prod".to_owned(),
        statement_hash: "h1".to_owned(),
        non_blocking,
        required_count: required,
        status_reason: None,
        body: r#"{"sql":"DELETE FROM t"}"#.to_owned(),
    }
}

fn review(id: &str, who: &str, email: Option<&str>, decision: &str) -> ReviewRow {
    ReviewRow {
        request_id: id.to_owned(),
        reviewer_subject: who.to_owned(),
        reviewer_email: email.map(str::to_owned),
        decision: decision.to_owned(),
        comment: format!("{who} says {decision}"),
        at: NOW + 1,
    }
}

async fn status_of(repo: &ApprovalRepo, id: &str) -> String {
    repo.get(id).await.unwrap().unwrap().request.status
}

async fn roundtrip_and_list(repo: &ApprovalRepo) {
    let mut older = request("a1", 1, false);
    older.created_at = NOW - 10;
    repo.insert(&older).await.unwrap();
    repo.insert(&request("a2", 1, false)).await.unwrap();
    let got = repo.get("a1").await.unwrap().unwrap();
    assert_eq!(got.request, older);
    assert!(got.reviews.is_empty());
    assert!(repo.get("nope").await.unwrap().is_none());
    repo.review(&review("a2", "bob", None, decision::DENY), NOW + 1)
        .await
        .unwrap();
    let pending = ListFilter {
        statuses: vec![status::PENDING.to_owned()],
        ..ListFilter::default()
    };
    let ids: Vec<String> = repo
        .list(&pending)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.request.id)
        .collect();
    assert_eq!(ids, vec!["a1".to_owned()]);
    let all = repo
        .list(&ListFilter {
            newest_first: true,
            ..ListFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].request.id, "a2");
    assert_eq!(all[0].reviews.len(), 1);
    assert_eq!(all[0].reviews[0].comment, "bob says deny");
    let st = repo
        .statuses(&["a1".to_owned(), "a2".to_owned(), "zz".to_owned()])
        .await
        .unwrap();
    assert_eq!(st.len(), 2);
    assert!(st.contains(&("a2".to_owned(), status::DENIED.to_owned())));
}

async fn two_of_m(repo: &ApprovalRepo) {
    repo.insert(&request("b1", 2, false)).await.unwrap();
    let first = repo
        .review(
            &review("b1", "bob", Some("bob@x"), decision::APPROVE),
            NOW + 1,
        )
        .await
        .unwrap();
    assert_eq!(
        (first.status.as_str(), first.approvals),
        (status::PENDING, 1)
    );
    // The same person again, by subject or by email, does not count.
    let again = repo
        .review(&review("b1", "bob", None, decision::APPROVE), NOW + 2)
        .await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    let alias = repo
        .review(
            &review("b1", "bob2", Some("bob@x"), decision::APPROVE),
            NOW + 2,
        )
        .await;
    assert!(matches!(alias, Err(StoreError::Conflict(_))), "{alias:?}");
    assert_eq!(status_of(repo, "b1").await, status::PENDING);
    let second = repo
        .review(&review("b1", "carol", None, decision::APPROVE), NOW + 3)
        .await
        .unwrap();
    assert_eq!(
        (second.status.as_str(), second.approvals),
        (status::APPROVED, 2)
    );
    let late = repo
        .review(&review("b1", "dave", None, decision::DENY), NOW + 4)
        .await;
    assert!(matches!(late, Err(StoreError::Conflict(_))), "{late:?}");
    let got = repo.get("b1").await.unwrap().unwrap();
    assert_eq!(got.request.decided_at, Some(NOW + 3));
    assert_eq!(got.reviews.len(), 2);
    let missing = repo
        .review(&review("nope", "bob", None, decision::APPROVE), NOW)
        .await;
    assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");
}

async fn expiry_and_withdraw(repo: &ApprovalRepo) {
    repo.insert(&request("c1", 1, false)).await.unwrap();
    assert!(
        !repo.expire("c1", NOW + 59_999).await.unwrap(),
        "not yet due"
    );
    // Pending a1 is overdue too; decided b1 is not.
    let due = repo.overdue(NOW + 60_000, 10).await.unwrap();
    assert_eq!(due, vec!["a1".to_owned(), "c1".to_owned()]);
    // A review after the deadline fails even before anyone expired it.
    let late = repo
        .review(&review("c1", "bob", None, decision::APPROVE), NOW + 60_000)
        .await;
    assert!(
        matches!(late, Err(StoreError::Conflict(ref m)) if m.contains("expired")),
        "{late:?}"
    );
    assert_eq!(status_of(repo, "c1").await, status::PENDING);
    assert!(repo.expire("c1", NOW + 60_000).await.unwrap());
    assert_eq!(status_of(repo, "c1").await, status::EXPIRED);
    assert!(!repo.expire("c1", NOW + 70_000).await.unwrap(), "only once");

    repo.insert(&request("c2", 1, false)).await.unwrap();
    assert!(repo
        .withdraw("c2", "client disconnected", NOW + 5)
        .await
        .unwrap());
    assert!(!repo.withdraw("c2", "again", NOW + 6).await.unwrap());
    let got = repo.get("c2").await.unwrap().unwrap().request;
    assert_eq!(got.status, status::WITHDRAWN);
    assert_eq!(got.status_reason.as_deref(), Some("client disconnected"));
}

async fn execution_and_grants(repo: &ApprovalRepo) {
    repo.insert(&request("d1", 1, false)).await.unwrap();
    assert!(
        !repo.mark_executed("d1", "h1", NOW).await.unwrap(),
        "pending is not executable"
    );
    repo.review(&review("d1", "bob", None, decision::APPROVE), NOW + 1)
        .await
        .unwrap();
    assert!(
        !repo.mark_executed("d1", "other", NOW + 2).await.unwrap(),
        "other bytes"
    );
    assert!(repo.mark_executed("d1", "h1", NOW + 2).await.unwrap());
    assert!(
        !repo.mark_executed("d1", "h1", NOW + 3).await.unwrap(),
        "only once"
    );

    // Blocking requests are never grants; non-blocking ones are, once.
    repo.insert(&request("d2", 1, true)).await.unwrap();
    let none = repo
        .take_grant("alice", "prod", "h1", NOW, NOW + 2)
        .await
        .unwrap();
    assert_eq!(none, None, "not approved yet");
    repo.review(&review("d2", "bob", None, decision::APPROVE), NOW + 1)
        .await
        .unwrap();
    assert_eq!(
        repo.take_grant("alice", "prod", "h2", NOW, NOW + 2)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        repo.take_grant("mallory", "prod", "h1", NOW, NOW + 2)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        repo.take_grant("alice", "dev", "h1", NOW, NOW + 2)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        repo.take_grant("alice", "prod", "h1", NOW + 5, NOW + 6)
            .await
            .unwrap(),
        None,
        "too old"
    );
    let (a, b) = tokio::join!(
        repo.take_grant("alice", "prod", "h1", NOW, NOW + 2),
        repo.take_grant("alice", "prod", "h1", NOW, NOW + 2)
    );
    let won: Vec<String> = [a.unwrap(), b.unwrap()].into_iter().flatten().collect();
    assert_eq!(won, vec!["d2".to_owned()]);
    assert_eq!(status_of(repo, "d2").await, status::EXECUTED);
}

async fn everything(store: &Store) {
    let repo = ApprovalRepo::new(store);
    roundtrip_and_list(&repo).await;
    two_of_m(&repo).await;
    expiry_and_withdraw(&repo).await;
    execution_and_grants(&repo).await;
}

#[tokio::test]
async fn sqlite_repository() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("v.db").display());
    everything(&Store::open(&url).await.unwrap()).await;
}

#[tokio::test]
async fn postgres_repository() {
    let pg = TempCluster::start(ClusterOptions::default()).unwrap();
    everything(&Store::open(&pg.url("postgres")).await.unwrap()).await;
}

#[tokio::test]
async fn concurrent_approvals_decide_once_on_postgres() {
    let pg = TempCluster::start(ClusterOptions::default()).unwrap();
    let (a, b) = (
        Store::open(&pg.url("postgres")).await.unwrap(),
        Store::open(&pg.url("postgres")).await.unwrap(),
    );
    let (ra, rb) = (ApprovalRepo::new(&a), ApprovalRepo::new(&b));
    for i in 0..20 {
        let id = format!("e{i}");
        ra.insert(&request(&id, 2, false)).await.unwrap();
        // Two reviewers on two pools at once: both are recorded, the request is approved.
        let (bob, carol) = (
            review(&id, "bob", None, decision::APPROVE),
            review(&id, "carol", None, decision::APPROVE),
        );
        let (x, y) = tokio::join!(ra.review(&bob, NOW + 1), rb.review(&carol, NOW + 1));
        let mut counts = [x.unwrap().approvals, y.unwrap().approvals];
        counts.sort_unstable();
        assert_eq!(counts, [1, 2], "reviews were serialized");
        assert_eq!(status_of(&ra, &id).await, status::APPROVED);
    }
}
