//! The JSON API: `/api/requests…`. Every response body is JSON, errors
//! included (`{error, message}`), so extractor rejections are mapped too.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::Json;
use serde::{Deserialize, Serialize};
use vigil_approvals::{
    rules, ApprovalError, ApprovalId, ApprovalRequest, ApprovalStatus, RequestFilter,
};

use crate::auth::{check_csrf, Reviewer, CSRF_HEADER};
use crate::{WebError, WebState};

/// Largest page of requests one call returns.
const MAX_LIMIT: u32 = 500;

/// `GET /api/requests` query.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    /// Comma-separated statuses (`pending`, `approved`, …); absent = all.
    status: Option<String>,
    limit: Option<u32>,
    /// Only requests created before this Unix ms (the next page).
    before: Option<i64>,
}

/// `POST …/approve|deny` body.
#[derive(Debug, Default, Deserialize)]
pub struct ReviewBody {
    #[serde(default)]
    comment: String,
}

/// A request as the API shows it: every field, plus its UI link.
#[derive(Debug, Serialize)]
pub struct RequestJson {
    #[serde(flatten)]
    request: ApprovalRequest,
    url: String,
}

#[derive(Debug, Serialize)]
pub struct ListJson {
    requests: Vec<RequestJson>,
}

/// Requests the caller may see (see `rules::can_view`).
pub async fn list(
    State(state): State<WebState>,
    who: Reviewer,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<ListJson>, WebError> {
    let Query(q) = query.map_err(|e| WebError::BadRequest(e.body_text()))?;
    let filter = filter(&q)?;
    let requests = state.service.list(&filter).await?;
    Ok(Json(ListJson {
        requests: requests
            .into_iter()
            .filter(|r| rules::can_view(r, &who.principal))
            .map(|r| with_url(&state, r))
            .collect(),
    }))
}

/// One request; 404 also when the caller may not see it.
pub async fn get_one(
    State(state): State<WebState>,
    who: Reviewer,
    Path(id): Path<String>,
) -> Result<Json<RequestJson>, WebError> {
    let request = state.service.get(&path_id(&id)?).await?;
    if !rules::can_view(&request, &who.principal) {
        return Err(ApprovalError::NotFound.into());
    }
    Ok(Json(with_url(&state, request)))
}

pub async fn approve(
    State(state): State<WebState>,
    who: Reviewer,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Json<ReviewBody>, JsonRejection>,
) -> Result<Json<RequestJson>, WebError> {
    let (id, comment) = review_input(&who, &headers, &id, body)?;
    let request = state.service.approve(&id, &who.principal, &comment).await?;
    Ok(Json(with_url(&state, request)))
}

pub async fn deny(
    State(state): State<WebState>,
    who: Reviewer,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Json<ReviewBody>, JsonRejection>,
) -> Result<Json<RequestJson>, WebError> {
    let (id, comment) = review_input(&who, &headers, &id, body)?;
    let request = state.service.deny(&id, &who.principal, &comment).await?;
    Ok(Json(with_url(&state, request)))
}

/// CSRF (cookie only), the id and the comment of a review call.
fn review_input(
    who: &Reviewer,
    headers: &HeaderMap,
    id: &str,
    body: Result<Json<ReviewBody>, JsonRejection>,
) -> Result<(ApprovalId, String), WebError> {
    if who.via_cookie {
        let sent = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
        check_csrf(headers, sent)?;
    }
    let id = path_id(id)?;
    // An empty body is an approval without a comment.
    let comment = match body {
        Ok(Json(b)) => b.comment,
        Err(JsonRejection::MissingJsonContentType(_)) if no_body(headers) => String::new(),
        Err(e) => return Err(WebError::BadRequest(e.body_text())),
    };
    Ok((id, comment))
}

/// An id that is not a uuid names no request.
pub(crate) fn path_id(id: &str) -> Result<ApprovalId, WebError> {
    ApprovalId::parse(id).map_err(|_| ApprovalError::NotFound.into())
}

fn filter(q: &ListQuery) -> Result<RequestFilter, WebError> {
    let mut statuses = Vec::new();
    for name in q
        .status
        .iter()
        .flat_map(|s| s.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let status = ApprovalStatus::parse(name)
            .ok_or_else(|| WebError::BadRequest(format!("unknown status {name:?}")))?;
        statuses.push(status);
    }
    let newest_first =
        statuses.iter().any(|s| *s != ApprovalStatus::Pending) || statuses.is_empty();
    Ok(RequestFilter {
        statuses,
        created_before: q.before,
        limit: q.limit.unwrap_or(100).clamp(1, MAX_LIMIT),
        newest_first,
    })
}

fn with_url(state: &WebState, request: ApprovalRequest) -> RequestJson {
    RequestJson {
        url: state.service.request_url(&request.id),
        request,
    }
}

/// True when the request has no body (no Content-Length, or zero).
fn no_body(headers: &HeaderMap) -> bool {
    match headers.get(axum::http::header::CONTENT_LENGTH) {
        Some(v) => v.as_bytes() == b"0",
        None => true,
    }
}
