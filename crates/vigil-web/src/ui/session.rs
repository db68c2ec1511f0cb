//! Signing in and out: a pasted token becomes the HttpOnly session
//! cookie; the CSRF cookie is minted on first visit and renewed at sign-in.

use axum::extract::rejection::FormRejection;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use super::error_page;
use super::pages::{render, Frame, SigninPage};
use crate::auth::{self, CSRF_COOKIE, SESSION_COOKIE};
use crate::{WebError, WebState};

#[derive(Debug, Deserialize)]
pub struct SigninForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    csrf: String,
}

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

pub async fn signin_page(State(state): State<WebState>, headers: HeaderMap) -> Response {
    let (csrf, cookies) = csrf_token(&state, &headers);
    let frame = Frame { me: None, csrf };
    render(StatusCode::OK, &SigninPage { frame, error: None }, &cookies)
}

pub async fn signin(
    State(state): State<WebState>,
    headers: HeaderMap,
    form: Result<Form<SigninForm>, FormRejection>,
) -> Response {
    let (csrf, cookies) = csrf_token(&state, &headers);
    let refuse = |status, error: String| {
        let frame = Frame {
            me: None,
            csrf: csrf.clone(),
        };
        render(
            status,
            &SigninPage {
                frame,
                error: Some(error),
            },
            &cookies,
        )
    };
    let Ok(Form(form)) = form else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "the form could not be read".to_owned(),
        );
    };
    if auth::check_csrf(&headers, Some(&form.csrf)).is_err() {
        return refuse(
            StatusCode::FORBIDDEN,
            "the form expired; try again".to_owned(),
        );
    }
    let principal = match state.verifier.verify(form.token.trim()).await {
        Ok(p) => p,
        Err(e) => return refuse(StatusCode::UNAUTHORIZED, format!("token refused: {e}")),
    };
    let secure = state.secure_cookies();
    let left = principal.expires_at.saturating_sub(now_secs()).max(0);
    tracing::info!(subject = %principal.subject, "reviewer signed in to the web UI");
    // A fresh CSRF token with the new session: one seen before sign-in
    // (by anyone who planted it) is worth nothing after.
    let cookies = [
        auth::set_cookie(SESSION_COOKIE, form.token.trim(), left, secure),
        auth::set_cookie(CSRF_COOKIE, &auth::new_csrf_token(), left, secure),
    ];
    see_other("/requests", &cookies)
}

pub async fn signout(
    State(state): State<WebState>,
    headers: HeaderMap,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Response {
    let sent = form.as_ref().ok().map(|f| f.csrf.as_str());
    if auth::check_csrf(&headers, sent).is_err() {
        return error_page(&state, &headers, &WebError::Csrf, "/requests").await;
    }
    let secure = state.secure_cookies();
    let cookies = [
        auth::set_cookie(SESSION_COOKIE, "", 0, secure),
        auth::set_cookie(CSRF_COOKIE, "", 0, secure),
    ];
    see_other("/signin", &cookies)
}

/// The visitor's CSRF token, minting one (and its cookie) when absent.
pub(super) fn csrf_token(state: &WebState, headers: &HeaderMap) -> (String, Vec<String>) {
    match auth::cookie(headers, CSRF_COOKIE) {
        Some(t) => (t, Vec::new()),
        None => {
            let t = auth::new_csrf_token();
            let cookie = auth::set_cookie(CSRF_COOKIE, &t, 12 * 3600, state.secure_cookies());
            (t, vec![cookie])
        }
    }
}

pub(super) fn see_other(to: &str, cookies: &[String]) -> Response {
    let mut resp = Redirect::to(to).into_response();
    for c in cookies {
        if let Ok(v) = axum::http::HeaderValue::from_str(c) {
            resp.headers_mut().append(axum::http::header::SET_COOKIE, v);
        }
    }
    resp
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
