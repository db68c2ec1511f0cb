//! Webhook delivery to a local HTTP server: generic and Slack shapes, and
//! a retry after the receiver first answers 500.

mod common;

use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use common::{eventually, principal, request, settings, sqlite_service};
use serde_json::Value;
use vigil_approvals::{ApprovalSettings, WebhookFormat, WebhookSettings};

/// What the receiver got: every attempt, as (path, body, answered status).
#[derive(Default)]
struct Received {
    attempts: Vec<(String, Value, u16)>,
    /// Answer 500 to this many attempts first.
    fail_first: usize,
}

type Shared = Arc<Mutex<Received>>;

async fn hook(
    State(rx): State<Shared>,
    Path(name): Path<String>,
    Json(body): Json<Value>,
) -> StatusCode {
    let mut rx = rx.lock().unwrap();
    let code = if rx.fail_first > 0 {
        rx.fail_first -= 1;
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::OK
    };
    rx.attempts.push((name, body, code.as_u16()));
    code
}

async fn receiver(fail_first: usize) -> (String, Shared) {
    let shared: Shared = Arc::new(Mutex::new(Received {
        fail_first,
        ..Received::default()
    }));
    let app = axum::Router::new()
        .route("/hooks/{name}", axum::routing::post(hook))
        .with_state(shared.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, shared)
}

fn delivered(rx: &Shared, name: &str, event: &str) -> Option<Value> {
    let rx = rx.lock().unwrap();
    rx.attempts
        .iter()
        .find(|(n, body, code)| {
            n == name && *code == 200 && (body["event"] == event || name == "slack")
        })
        .map(|(_, body, _)| body.clone())
}

fn with_hooks(base: &str) -> ApprovalSettings {
    ApprovalSettings {
        webhooks: vec![
            WebhookSettings {
                url: format!("{base}/hooks/generic"),
                format: WebhookFormat::Generic,
            },
            WebhookSettings {
                url: format!("{base}/hooks/slack"),
                format: WebhookFormat::Slack,
            },
        ],
        ..settings()
    }
}

#[tokio::test]
async fn created_and_decided_events_are_delivered_after_a_500() {
    let (base, rx) = receiver(1).await;
    let (_dir, svc) = sqlite_service(with_hooks(&base)).await;
    let req = svc.create(request(1)).await.unwrap();

    eventually("created delivered", || {
        let rx = rx.clone();
        async move {
            delivered(&rx, "generic", "approval.created").is_some()
                && delivered(&rx, "slack", "").is_some()
        }
    })
    .await;
    let body = delivered(&rx, "generic", "approval.created").unwrap();
    assert_eq!(body["request_id"], req.id.as_str());
    assert_eq!(
        body["url"],
        format!("https://vigil.example/requests/{}", req.id)
    );
    assert_eq!(body["principal"]["subject"], "alice");
    assert_eq!(body["connection"], "prod");
    assert_eq!(body["environment"], "production");
    assert_eq!(body["sql"], common::SQL);
    assert_eq!(body["reasons"][0], "writes in production need review");
    assert_eq!(body["rules"][0], "review.prod_write");
    assert_eq!(body["status"], "pending");
    {
        let rx = rx.lock().unwrap();
        let failed = rx
            .attempts
            .iter()
            .filter(|(_, _, code)| *code == 500)
            .count();
        assert_eq!(failed, 1, "the first attempt failed and was retried");
    }

    let slack = delivered(&rx, "slack", "").unwrap();
    assert!(slack["text"]
        .as_str()
        .unwrap()
        .contains(&req.id.to_string()));
    let blocks = slack["blocks"].as_array().unwrap();
    assert_eq!(blocks[0]["type"], "header");
    let button = blocks.iter().find(|b| b["type"] == "actions").unwrap();
    assert_eq!(
        button["elements"][0]["url"],
        format!("https://vigil.example/requests/{}", req.id)
    );
    let sql = blocks[2]["text"]["text"].as_str().unwrap();
    assert!(sql.contains("DELETE FROM orders"), "{sql}");

    svc.deny(
        &req.id,
        &principal("bob", Some("bob@example.com"), &["dba"]),
        "not now",
    )
    .await
    .unwrap();
    eventually("decided delivered", || {
        let rx = rx.clone();
        async move { delivered(&rx, "generic", "approval.decided").is_some() }
    })
    .await;
    let body = delivered(&rx, "generic", "approval.decided").unwrap();
    assert_eq!(body["status"], "denied");
    assert_eq!(body["reviewer"]["email"], "bob@example.com");
    assert_eq!(body["comment"], "not now");
}

#[tokio::test]
async fn an_unreachable_webhook_never_blocks_the_request() {
    // Nothing listens on a port we bound and released.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let (_dir, svc) = sqlite_service(with_hooks(&format!("http://127.0.0.1:{port}"))).await;
    let req = svc.create(request(1)).await.unwrap();
    let after = svc
        .approve(&req.id, &principal("bob", None, &["dba"]), "")
        .await
        .unwrap();
    assert_eq!(after.status, vigil_approvals::ApprovalStatus::Approved);
}

#[tokio::test]
async fn bad_webhook_urls_fail_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let store =
        vigil_store::Store::open(&format!("sqlite://{}", dir.path().join("v.db").display()))
            .await
            .unwrap();
    let s = ApprovalSettings {
        webhooks: vec![WebhookSettings {
            url: "ftp://x/y".to_owned(),
            format: WebhookFormat::Generic,
        }],
        ..settings()
    };
    let err = vigil_approvals::ApprovalService::start(&store, s)
        .err()
        .unwrap();
    assert!(err.to_string().contains("http"), "{err}");
}
