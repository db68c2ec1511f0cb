//! The audit pages: a list of sessions (newest first, filtered by user,
//! connection and time, "older sessions" loaded in place by htmx or by a
//! plain link), and one session's page with every statement's decision,
//! approval, masked counts and outcomes. Auditors and admins only.

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use vigil_store::audit::{self as store_audit, Cursor, SessionRecords};

use crate::audit_api::{audit_store, encode_cursor, now_ms, parse, AuditQuery};
use crate::audit_views::{self, url_component, SessionRowView, SessionView};
use crate::auth;
use crate::ui::pages::{render, Frame};
use crate::ui::{error_page, signed_out, visitor};
use crate::{WebError, WebState};

/// Sessions per page.
const SESSIONS_PER_PAGE: u32 = 50;
/// Records one session page shows.
const RECORDS_PER_SESSION: u32 = 2000;

/// The filter form's values, as typed.
#[derive(Default)]
pub struct FilterView {
    pub user: String,
    pub connection: String,
    pub since: String,
    pub until: String,
}

#[derive(Template)]
#[template(path = "audit_sessions.html")]
pub struct SessionsPage {
    pub frame: Frame,
    pub filter: FilterView,
    pub rows: Vec<SessionRowView>,
    /// The query string of the next page, when there may be one.
    pub more: Option<String>,
}

#[derive(Template)]
#[template(path = "audit_session_rows.html")]
pub struct SessionRows {
    pub rows: Vec<SessionRowView>,
    pub more: Option<String>,
}

#[derive(Template)]
#[template(path = "audit_session.html")]
pub struct SessionPage {
    pub frame: Frame,
    pub s: SessionView,
}

/// `GET /audit`: the session list.
pub async fn sessions_page(
    State(state): State<WebState>,
    headers: HeaderMap,
    query: Result<Query<AuditQuery>, QueryRejection>,
) -> Response {
    let v = match visitor(&state, &headers).await {
        Ok(v) => v,
        Err(to_signin) => return to_signin,
    };
    let listed = async {
        let store = audit_store(&state, &v.principal)?;
        let Query(q) = query.map_err(|e| WebError::BadRequest(e.body_text()))?;
        let (rows, more) = list(store, &q).await?;
        Ok::<_, WebError>((filter_view(&q), rows, more))
    };
    match listed.await {
        Ok((filter, rows, more)) => {
            let page = SessionsPage {
                frame: v.frame,
                filter,
                rows,
                more,
            };
            render(StatusCode::OK, &page, &v.cookies)
        }
        Err(e) => error_page(&state, &headers, &e, "/audit").await,
    }
}

/// `GET /audit/rows`: the next page's rows alone, for htmx.
pub async fn sessions_rows(
    State(state): State<WebState>,
    headers: HeaderMap,
    query: Result<Query<AuditQuery>, QueryRejection>,
) -> Response {
    let Ok(who) = auth::authenticate(&state, &headers).await else {
        return signed_out();
    };
    let listed = async {
        let store = audit_store(&state, &who.principal)?;
        let Query(q) = query.map_err(|e| WebError::BadRequest(e.body_text()))?;
        list(store, &q).await
    };
    match listed.await {
        Ok((rows, more)) => render(StatusCode::OK, &SessionRows { rows, more }, &[]),
        Err(e) => e.into_response(),
    }
}

/// `GET /audit/sessions/{chain}/{seq}`: one session's statements.
pub async fn session_page(
    State(state): State<WebState>,
    headers: HeaderMap,
    Path((chain, seq)): Path<(String, u64)>,
) -> Response {
    let v = match visitor(&state, &headers).await {
        Ok(v) => v,
        Err(to_signin) => return to_signin,
    };
    let found = async {
        let store = audit_store(&state, &v.principal)?;
        let (s, records) = store_audit::session_records(store, &chain, seq, RECORDS_PER_SESSION)
            .await
            .map_err(|e| WebError::AuditStore(e.to_string()))?
            .ok_or_else(|| no_session(&chain, seq))?;
        let truncated = records.len() >= RECORDS_PER_SESSION as usize;
        audit_views::session(&s, &records, truncated).ok_or_else(|| no_session(&chain, seq))
    };
    match found.await {
        Ok(s) => render(
            StatusCode::OK,
            &SessionPage { frame: v.frame, s },
            &v.cookies,
        ),
        Err(e) => error_page(&state, &headers, &e, "/audit").await,
    }
}

fn no_session(chain: &str, seq: u64) -> WebError {
    WebError::NotFound(format!("no session starts at seq {seq} of chain {chain:?}"))
}

/// A page of sessions matching `q`, and the next page's query string.
async fn list(
    store: &vigil_store::Store,
    q: &AuditQuery,
) -> Result<(Vec<SessionRowView>, Option<String>), WebError> {
    let (filter, mut page) = parse(q, now_ms())?;
    page.limit = q
        .limit
        .unwrap_or(SESSIONS_PER_PAGE)
        .clamp(1, SESSIONS_PER_PAGE);
    let sessions = store_audit::sessions(store, &filter, &page)
        .await
        .map_err(|e| WebError::AuditStore(e.to_string()))?;
    let more = (sessions.len() == page.limit as usize)
        .then(|| sessions.last().map(|s| next_query(q, &s.start)))
        .flatten();
    let rows = sessions
        .iter()
        .filter_map(|s: &SessionRecords| audit_views::session_row(s))
        .collect();
    Ok((rows, more))
}

/// The filters of `q` plus the cursor after `last`, as a query string.
fn next_query(q: &AuditQuery, last: &vigil_audit::Record) -> String {
    let mut parts: Vec<String> = [
        ("user", &q.user),
        ("connection", &q.connection),
        ("since", &q.since),
        ("until", &q.until),
    ]
    .into_iter()
    .filter_map(|(k, v)| {
        v.as_deref()
            .filter(|v| !v.is_empty())
            .map(|v| format!("{k}={}", url_component(v)))
    })
    .collect();
    parts.push(format!("cursor={}", encode_cursor(&Cursor::from(last))));
    parts.join("&")
}

fn filter_view(q: &AuditQuery) -> FilterView {
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    FilterView {
        user: text(&q.user),
        connection: text(&q.connection),
        since: text(&q.since),
        until: text(&q.until),
    }
}
