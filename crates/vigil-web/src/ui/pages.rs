//! The page templates (askama, in `templates/`) and how a page becomes a
//! response: security headers, status, cookies to set.

use askama::Template;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, SET_COOKIE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::views::{DetailView, RowView};
use crate::WebError;

/// What every page's frame needs: who is signed in, and the CSRF token
/// for the sign-out form.
pub struct Frame {
    pub me: Option<String>,
    pub csrf: String,
}

#[derive(Template)]
#[template(path = "signin.html")]
pub struct SigninPage {
    pub frame: Frame,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "queue.html")]
pub struct QueuePage {
    pub frame: Frame,
    pub rows: Vec<RowView>,
}

#[derive(Template)]
#[template(path = "queue_rows.html")]
pub struct QueueRows {
    pub rows: Vec<RowView>,
}

#[derive(Template)]
#[template(path = "detail.html")]
pub struct DetailPage {
    pub frame: Frame,
    pub r: DetailView,
    /// Why this reviewer cannot review it, when they cannot.
    pub why_not: Option<String>,
}

#[derive(Template)]
#[template(path = "history.html")]
pub struct HistoryPage {
    pub frame: Frame,
    pub rows: Vec<RowView>,
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub frame: Frame,
    pub status: u16,
    pub code: &'static str,
    pub message: String,
    /// Where "back" goes.
    pub back: String,
}

/// Only our own scripts and styles; no framing; forms post only here.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; \
    base-uri 'none'; object-src 'none'";

/// Renders `t` with `status`, setting `cookies`.
pub fn render<T: Template>(status: StatusCode, t: &T, cookies: &[String]) -> Response {
    let html = match t.render() {
        Ok(html) => html,
        Err(e) => return WebError::Render(e.to_string()).into_response(),
    };
    let mut resp = (status, html).into_response();
    let h = resp.headers_mut();
    h.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("content-security-policy", HeaderValue::from_static(CSP));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(c) {
            h.append(SET_COOKIE, v);
        }
    }
    resp
}
