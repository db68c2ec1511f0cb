//! The web UI: sign in by pasting a token, the live pending queue, a
//! request's page with Approve/Deny, and the history. Plain HTML forms
//! (they work without JavaScript); htmx only refreshes the queue on SSE
//! events. Every POST carries the CSRF token.

pub(crate) mod pages;
mod session;

pub use session::{signin, signin_page, signout};

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use vigil_approvals::{rules, ApprovalRequest, RequestFilter};
use vigil_core::Principal;

use crate::api::path_id;
use crate::auth;
use crate::{views, WebError, WebState};
use pages::{render, DetailPage, ErrorPage, Frame, HistoryPage, QueuePage, QueueRows};
use session::{csrf_token, see_other};

#[derive(Debug, Deserialize)]
pub struct ReviewForm {
    #[serde(default)]
    comment: String,
    #[serde(default)]
    csrf: String,
}

/// A signed-in page visitor, or the response that sends them to sign in.
pub(crate) struct Visitor {
    pub(crate) principal: Principal,
    pub(crate) frame: Frame,
    pub(crate) cookies: Vec<String>,
}

pub async fn home() -> Redirect {
    Redirect::to("/requests")
}

pub async fn queue_page(State(state): State<WebState>, headers: HeaderMap) -> Response {
    let v = match visitor(&state, &headers).await {
        Ok(v) => v,
        Err(to_signin) => return to_signin,
    };
    match visible(&state, &v.principal, &RequestFilter::pending()).await {
        Ok(rows) => render(
            StatusCode::OK,
            &QueuePage {
                frame: v.frame,
                rows,
            },
            &v.cookies,
        ),
        Err(e) => error_page(&state, &headers, &e, "/requests").await,
    }
}

/// The queue's rows alone, for htmx to swap in on SSE events.
pub async fn queue_fragment(State(state): State<WebState>, headers: HeaderMap) -> Response {
    let Ok(who) = auth::authenticate(&state, &headers).await else {
        return signed_out();
    };
    match visible(&state, &who.principal, &RequestFilter::pending()).await {
        Ok(rows) => render(StatusCode::OK, &QueueRows { rows }, &[]),
        Err(e) => e.into_response(),
    }
}

pub async fn history_page(State(state): State<WebState>, headers: HeaderMap) -> Response {
    let v = match visitor(&state, &headers).await {
        Ok(v) => v,
        Err(to_signin) => return to_signin,
    };
    match visible(&state, &v.principal, &RequestFilter::history()).await {
        Ok(rows) => render(
            StatusCode::OK,
            &HistoryPage {
                frame: v.frame,
                rows,
            },
            &v.cookies,
        ),
        Err(e) => error_page(&state, &headers, &e, "/history").await,
    }
}

pub async fn detail_page(
    State(state): State<WebState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let v = match visitor(&state, &headers).await {
        Ok(v) => v,
        Err(to_signin) => return to_signin,
    };
    let request = match load_visible(&state, &v.principal, &id).await {
        Ok(r) => r,
        Err(e) => return error_page(&state, &headers, &e, "/requests").await,
    };
    let why_not = rules::check_reviewer(&request, &v.principal)
        .err()
        .map(|e| WebError::from(e).parts().2);
    let page = DetailPage {
        frame: v.frame,
        r: views::detail(&request),
        why_not,
    };
    render(StatusCode::OK, &page, &v.cookies)
}

pub async fn approve(
    state: State<WebState>,
    headers: HeaderMap,
    id: Path<String>,
    form: Result<Form<ReviewForm>, FormRejection>,
) -> Response {
    review(state, headers, id, form, true).await
}

pub async fn deny(
    state: State<WebState>,
    headers: HeaderMap,
    id: Path<String>,
    form: Result<Form<ReviewForm>, FormRejection>,
) -> Response {
    review(state, headers, id, form, false).await
}

async fn review(
    State(state): State<WebState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: Result<Form<ReviewForm>, FormRejection>,
    approve: bool,
) -> Response {
    let v = match visitor(&state, &headers).await {
        Ok(v) => v,
        Err(to_signin) => return to_signin,
    };
    let back = format!(
        "/requests/{}",
        id.chars()
            .filter(char::is_ascii_hexdigit)
            .collect::<String>()
    );
    let outcome = async {
        let Form(form) = form.map_err(|e| WebError::BadRequest(e.body_text()))?;
        auth::check_csrf(&headers, Some(&form.csrf))?;
        let request = load_visible(&state, &v.principal, &id).await?;
        let svc = &state.service;
        if approve {
            svc.approve(&request.id, &v.principal, &form.comment)
                .await?;
        } else {
            svc.deny(&request.id, &v.principal, &form.comment).await?;
        }
        Ok::<_, WebError>(request.id)
    };
    match outcome.await {
        Ok(id) => see_other(&format!("/requests/{id}"), &[]),
        Err(e) => error_page(&state, &headers, &e, &back).await,
    }
}

/// The answer to an htmx fragment request without a valid session: htmx
/// follows HX-Redirect, so the page goes to sign in.
pub(crate) fn signed_out() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [("hx-redirect", "/signin")],
        "signed out",
    )
        .into_response()
}

/// The signed-in visitor, or a redirect to the sign-in page.
pub(crate) async fn visitor(state: &WebState, headers: &HeaderMap) -> Result<Visitor, Response> {
    let who = auth::authenticate(state, headers)
        .await
        .map_err(|_| Redirect::to("/signin").into_response())?;
    let (csrf, cookies) = csrf_token(state, headers);
    let me = who
        .principal
        .email
        .clone()
        .unwrap_or_else(|| who.principal.subject.clone());
    Ok(Visitor {
        principal: who.principal,
        frame: Frame { me: Some(me), csrf },
        cookies,
    })
}

/// A request this visitor may see; others do not exist for them.
async fn load_visible(
    state: &WebState,
    who: &Principal,
    id: &str,
) -> Result<ApprovalRequest, WebError> {
    let request = state.service.get(&path_id(id)?).await?;
    if !rules::can_view(&request, who) {
        return Err(vigil_approvals::ApprovalError::NotFound.into());
    }
    Ok(request)
}

async fn visible(
    state: &WebState,
    who: &Principal,
    filter: &RequestFilter,
) -> Result<Vec<views::RowView>, WebError> {
    let all = state.service.list(filter).await?;
    Ok(all
        .iter()
        .filter(|r| rules::can_view(r, who))
        .map(views::row)
        .collect())
}

pub(crate) async fn error_page(
    state: &WebState,
    headers: &HeaderMap,
    e: &WebError,
    back: &str,
) -> Response {
    let (status, code, message) = e.parts();
    let me = auth::authenticate(state, headers)
        .await
        .ok()
        .map(|w| w.principal.subject);
    let (csrf, cookies) = csrf_token(state, headers);
    let page = ErrorPage {
        frame: Frame { me, csrf },
        status: status.as_u16(),
        code,
        message,
        back: back.to_owned(),
    };
    render(status, &page, &cookies)
}
