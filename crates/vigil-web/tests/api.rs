//! The JSON API over a real socket: auth, list/get, approve/deny, every
//! error status, two-person approval, CSRF for cookie callers, and SSE.

mod common;

use common::{client, Harness};
use serde_json::{json, Value};
use vigil_approvals::{ApprovalStatus, Resolution};

async fn call(
    h: &Harness,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = client().request(method, h.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}")),
    )
}

async fn post(h: &Harness, path: &str, token: &str, body: Value) -> (u16, Value) {
    call(h, reqwest::Method::POST, path, Some(token), Some(body)).await
}

async fn get(h: &Harness, path: &str, token: Option<&str>) -> (u16, Value) {
    call(h, reqwest::Method::GET, path, token, None).await
}

#[tokio::test]
async fn tokens_are_required_and_verified() {
    let h = Harness::start().await;
    let (status, body) = get(&h, "/api/requests", None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("unauthorized"))
    );
    let (status, body) = get(&h, "/api/requests", Some("not.a.jwt")).await;
    assert_eq!(status, 401);
    assert!(
        body["message"].as_str().unwrap().contains("malformed"),
        "{body}"
    );
    let ok = client().get(h.url("/healthz")).send().await.unwrap();
    assert_eq!(ok.status().as_u16(), 200);
}

#[tokio::test]
async fn list_and_get() {
    let h = Harness::start().await;
    let req = h.create(1).await;
    let bob = h.bob();
    let (status, body) = get(&h, "/api/requests?status=pending", Some(&bob)).await;
    assert_eq!(status, 200);
    let list = body["requests"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["id"], req.id.as_str());
    assert_eq!(list[0]["url"], h.url(&format!("/requests/{}", req.id)));
    assert_eq!(list[0]["sql"], common::SQL);

    let (status, one) = get(&h, &format!("/api/requests/{}", req.id), Some(&bob)).await;
    assert_eq!(status, 200);
    assert_eq!(one["status"], "pending");
    assert_eq!(one["requester"]["subject"], "alice");
    assert_eq!(one["params"][0]["value"]["hex"], "ff00");

    let (status, none) = get(&h, "/api/requests?status=approved", Some(&bob)).await;
    assert_eq!(
        (status, none["requests"].as_array().unwrap().len()),
        (200, 0)
    );
    let (status, bad) = get(&h, "/api/requests?status=bogus", Some(&bob)).await;
    assert_eq!((status, bad["error"].as_str()), (400, Some("bad_request")));
    // Someone outside the approver groups does not see the request at all.
    let (_, hidden) = get(&h, "/api/requests", Some(&h.eve())).await;
    assert_eq!(hidden["requests"].as_array().unwrap().len(), 0);
    let (status, _) = get(&h, &format!("/api/requests/{}", req.id), Some(&h.eve())).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn approve_then_conflict() {
    let h = Harness::start().await;
    let req = h.create(1).await;
    let wait = tokio::spawn({
        let (svc, id) = (h.service.clone(), req.id.clone());
        async move { svc.wait(&id).await }
    });
    let path = format!("/api/requests/{}/approve", req.id);
    let (status, body) = post(&h, &path, &h.bob(), json!({"comment": "fine"})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "approved");
    assert_eq!(body["reviews"][0]["comment"], "fine");
    assert_eq!(wait.await.unwrap().unwrap(), Resolution::Approved);

    let (status, body) = post(&h, &path, &h.carol(), json!({})).await;
    assert_eq!((status, body["error"].as_str()), (409, Some("conflict")));
    let deny = format!("/api/requests/{}/deny", req.id);
    let (status, _) = post(&h, &deny, &h.carol(), json!({"comment": "too late"})).await;
    assert_eq!(status, 409);
}

#[tokio::test]
async fn self_approval_and_wrong_group_are_forbidden() {
    let h = Harness::start().await;
    let req = h.create(1).await;
    let path = format!("/api/requests/{}/approve", req.id);
    let (status, body) = post(&h, &path, &h.alice(), json!({})).await;
    assert_eq!((status, body["error"].as_str()), (403, Some("forbidden")));
    assert!(
        body["message"].as_str().unwrap().contains("own request"),
        "{body}"
    );
    // Same email, other subject: still alice.
    let alias = h.token("alice-sso", Some("ALICE@example.com"), &["dba"]);
    assert_eq!(post(&h, &path, &alias, json!({})).await.0, 403);
    let (status, body) = post(&h, &path, &h.eve(), json!({})).await;
    assert_eq!(status, 403);
    assert!(body["message"].as_str().unwrap().contains("dba"), "{body}");
    assert_eq!(
        h.service.get(&req.id).await.unwrap().status,
        ApprovalStatus::Pending
    );
}

#[tokio::test]
async fn unknown_ids_are_404_and_bodies_are_checked() {
    let h = Harness::start().await;
    let bob = h.bob();
    let ghost = vigil_approvals::ApprovalId::generate();
    let (status, body) = post(
        &h,
        &format!("/api/requests/{ghost}/approve"),
        &bob,
        json!({}),
    )
    .await;
    assert_eq!((status, body["error"].as_str()), (404, Some("not_found")));
    assert_eq!(get(&h, "/api/requests/not-an-id", Some(&bob)).await.0, 404);

    let req = h.create(1).await;
    let deny = format!("/api/requests/{}/deny", req.id);
    let (status, body) = post(&h, &deny, &bob, json!({"comment": ""})).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("bad_request")));
    let (status, _) = post(&h, &deny, &bob, json!({"comment": 5})).await;
    assert_eq!(status, 400, "a comment must be a string");
    // No body at all is an approval without a comment.
    let resp = client()
        .post(h.url(&format!("/api/requests/{}/approve", req.id)))
        .bearer_auth(&bob)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
}

#[tokio::test]
async fn deny_resolves_the_wait_with_the_comment() {
    let h = Harness::start().await;
    let req = h.create(1).await;
    let wait = tokio::spawn({
        let (svc, id) = (h.service.clone(), req.id.clone());
        async move { svc.wait(&id).await }
    });
    let deny = format!("/api/requests/{}/deny", req.id);
    let (status, body) = post(&h, &deny, &h.bob(), json!({"comment": "use a WHERE"})).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("denied")));
    match wait.await.unwrap().unwrap() {
        Resolution::Denied { reviewer, comment } => {
            assert_eq!(
                (reviewer.subject.as_str(), comment.as_str()),
                ("bob", "use a WHERE")
            );
        }
        other => panic!("expected a denial, got {other:?}"),
    }
}

#[tokio::test]
async fn two_person_approval_needs_two_reviewers() {
    let h = Harness::start().await;
    let req = h.create(2).await;
    let path = format!("/api/requests/{}/approve", req.id);
    let (status, body) = post(&h, &path, &h.bob(), json!({})).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("pending")));
    let (status, _) = post(&h, &path, &h.bob(), json!({})).await;
    assert_eq!(status, 409, "the same reviewer twice");
    let (status, body) = post(&h, &path, &h.carol(), json!({})).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("approved")));
    assert_eq!(body["reviews"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn cookie_callers_need_the_csrf_header() {
    let h = Harness::start().await;
    let req = h.create(1).await;
    let cookies = format!("vigil_session={}; vigil_csrf=abc123", h.bob());
    let path = h.url(&format!("/api/requests/{}/approve", req.id));
    let without = client()
        .post(&path)
        .header("cookie", &cookies)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(without.status().as_u16(), 403);
    let wrong = client()
        .post(&path)
        .header("cookie", &cookies)
        .header("x-vigil-csrf", "abc124")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status().as_u16(), 403);
    let right = client()
        .post(&path)
        .header("cookie", &cookies)
        .header("x-vigil-csrf", "abc123")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(right.status().as_u16(), 200);
}

/// Reads SSE chunks until an event named `name` arrives; returns its data.
async fn next_event(resp: &mut reqwest::Response, buf: &mut String, name: &str) -> Value {
    loop {
        while let Some(end) = buf.find("\n\n") {
            let block: String = buf.drain(..end + 2).collect();
            let event = block
                .lines()
                .find_map(|l| l.strip_prefix("event:"))
                .map(str::trim);
            let data = block
                .lines()
                .find_map(|l| l.strip_prefix("data:"))
                .map(str::trim);
            if event == Some(name) {
                return serde_json::from_str(data.unwrap_or("null")).unwrap();
            }
        }
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(10), resp.chunk())
            .await
            .expect("an SSE event within 10 s")
            .unwrap()
            .expect("the stream stays open");
        buf.push_str(&String::from_utf8_lossy(&chunk));
    }
}

#[tokio::test]
async fn sse_delivers_created_and_decided_events() {
    let h = Harness::start().await;
    assert_eq!(
        client()
            .get(h.url("/api/requests/stream"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        401
    );
    let mut resp = client()
        .get(h.url("/api/requests/stream"))
        .bearer_auth(h.bob())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let mut buf = String::new();
    next_event(&mut resp, &mut buf, "ready").await;
    let req = h.create(1).await;
    let created = next_event(&mut resp, &mut buf, "created").await;
    assert_eq!(created["id"], req.id.as_str());
    assert_eq!(created["status"], "pending");
    h.service
        .approve(&req.id, &bob_principal(), "")
        .await
        .unwrap();
    let decided = next_event(&mut resp, &mut buf, "decided").await;
    assert_eq!(
        (decided["id"].as_str(), decided["status"].as_str()),
        (Some(req.id.as_str()), Some("approved"))
    );
}

fn bob_principal() -> vigil_core::Principal {
    vigil_core::Principal {
        subject: "bob".to_owned(),
        email: None,
        groups: vec!["dba".to_owned()],
        issuer: "vigil-test".to_owned(),
        token_id: None,
        expires_at: i64::MAX,
        kind: vigil_core::PrincipalKind::Human,
    }
}
