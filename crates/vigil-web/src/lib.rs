//! vigil-web: the reviewer's side of the "hold" branch, over HTTP. A held
//! statement waits in `vigil-approvals`; here reviewers see it and decide.
//!
//! - [`router`]: every route, mounted by the server on `[http] listen`.
//! - `api`: JSON API under `/api/requests` (list, get, approve, deny).
//! - `sse`: `/api/requests/stream`, live events for the queue.
//! - `ui`: pages (sign in, queue, request, history), askama + htmx.
//! - `views`: requests shaped for the pages.
//! - [`highlight`]: server-side SQL highlighting, escaped by the template.
//! - [`auth`]: bearer token or session cookie → reviewer; CSRF.
//! - [`error`]: [`WebError`] → HTTP status, the one place.
//! - `assets`: htmx and its SSE extension, vendored and served from the binary.
//! - `audit_api`, `audit_ui`, `audit_views`: `GET /api/audit` and the audit
//!   pages (sessions, one session's statements); auditors and admins only.
//! - `policy_api`: `POST /api/policy/eval`, a dry run of the policy in force.
//! - `GET /metrics`: Vigil's counters in the Prometheus text format (what
//!   [`WebState::with_metrics`] renders; 404 without it).

mod api;
mod assets;
mod audit_api;
mod audit_ui;
mod audit_views;
pub mod auth;
pub mod error;
pub mod highlight;
pub mod policy_api;
mod sse;
mod time;
mod ui;
mod views;

use std::sync::{Arc, OnceLock};

use axum::routing::{get, post};
use axum::Router;
use vigil_approvals::ApprovalService;
use vigil_identity::Verifier;

pub use error::WebError;

/// What every handler needs.
#[derive(Clone)]
pub struct WebState {
    pub service: ApprovalService,
    /// Verifies reviewers' tokens (the proxy's issuers).
    pub verifier: Arc<Verifier>,
    /// The store holding the audit trail, when this Vigil keeps one
    /// (`/api/audit` and `/audit` answer 404 without it).
    pub audit: Option<vigil_store::Store>,
    /// Decides statements for `POST /api/policy/eval`. Filled once the
    /// server has built its policy (after the web server starts); empty
    /// (404) when this Vigil runs only the built-in guardrails.
    pub policy: PolicySlot,
    /// Renders the metrics for `GET /metrics` (404 without it).
    pub metrics: Option<MetricsRender>,
}

/// Renders Vigil's metrics in the Prometheus text exposition format.
pub type MetricsRender = Arc<dyn Fn() -> String + Send + Sync>;

/// Where the server puts its [`policy_api::PolicyDryRun`] once built.
pub type PolicySlot = Arc<OnceLock<Arc<dyn policy_api::PolicyDryRun>>>;

impl WebState {
    pub fn new(service: ApprovalService, verifier: Arc<Verifier>) -> Self {
        WebState {
            service,
            verifier,
            audit: None,
            policy: PolicySlot::default(),
            metrics: None,
        }
    }

    /// Serves `GET /metrics` with what `render` returns.
    pub fn with_metrics(mut self, render: MetricsRender) -> Self {
        self.metrics = Some(render);
        self
    }

    /// Serves the audit trail kept in `store` (read-only).
    pub fn with_audit(mut self, store: vigil_store::Store) -> Self {
        self.audit = Some(store);
        self
    }

    /// Answers `POST /api/policy/eval` with whatever the server puts in
    /// `slot` (shared: the server fills it after the router is built).
    pub fn with_policy(mut self, slot: PolicySlot) -> Self {
        self.policy = slot;
        self
    }

    /// Cookies get `Secure` when reviewers reach the UI over https.
    fn secure_cookies(&self) -> bool {
        self.service.settings().public_url.starts_with("https://")
    }
}

/// The API, the SSE stream, the UI and its assets, `/healthz` and `/metrics`.
pub fn router(state: WebState) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/metrics", get(metrics))
        .route("/api/requests", get(api::list))
        .route("/api/requests/stream", get(sse::stream))
        .route("/api/requests/{id}", get(api::get_one))
        .route("/api/requests/{id}/approve", post(api::approve))
        .route("/api/requests/{id}/deny", post(api::deny))
        .route("/", get(ui::home))
        .route("/signin", get(ui::signin_page).post(ui::signin))
        .route("/signout", post(ui::signout))
        .route("/requests", get(ui::queue_page))
        .route("/requests/queue", get(ui::queue_fragment))
        .route("/requests/{id}", get(ui::detail_page))
        .route("/requests/{id}/approve", post(ui::approve))
        .route("/requests/{id}/deny", post(ui::deny))
        .route("/history", get(ui::history_page))
        .route("/api/audit", get(audit_api::search))
        .route("/api/policy/eval", post(policy_api::eval))
        .route("/audit", get(audit_ui::sessions_page))
        .route("/audit/rows", get(audit_ui::sessions_rows))
        .route("/audit/sessions/{chain}/{seq}", get(audit_ui::session_page))
        .route("/assets/{name}", get(assets::serve))
        .with_state(state)
}

/// `GET /metrics`: counters only, labelled by classification, webhook format
/// and the like, never by identity or data, so it needs no token (what a
/// Prometheus scraper expects).
async fn metrics(
    axum::extract::State(state): axum::extract::State<WebState>,
) -> Result<impl axum::response::IntoResponse, WebError> {
    let render = state
        .metrics
        .as_ref()
        .ok_or_else(|| WebError::NotFound("this Vigil exports no metrics".into()))?;
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        render(),
    ))
}
