//! Who is asking. A reviewer proves it with a JWT verified by the same
//! issuers as the proxy: `Authorization: Bearer …` (API, CLI), or the
//! UI's HttpOnly SameSite=Strict session cookie holding that token.
//!
//! CSRF: a cookie is sent by the browser on its own, so every POST
//! authenticated by cookie must also carry the CSRF token (double submit:
//! a random `vigil_csrf` cookie echoed in a form field or header, which a
//! cross-site page can neither read nor set). Bearer requests are exempt:
//! a browser never adds that header by itself.

use axum::extract::FromRequestParts;
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use vigil_core::Principal;

use crate::{WebError, WebState};

pub const SESSION_COOKIE: &str = "vigil_session";
pub const CSRF_COOKIE: &str = "vigil_csrf";
/// Header carrying the CSRF token on cookie-authenticated API POSTs.
pub const CSRF_HEADER: &str = "x-vigil-csrf";

/// A verified reviewer and how they authenticated.
#[derive(Debug, Clone)]
pub struct Reviewer {
    pub principal: Principal,
    /// True when the token came from the session cookie (CSRF applies).
    pub via_cookie: bool,
}

impl FromRequestParts<WebState> for Reviewer {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Self, WebError> {
        authenticate(state, &parts.headers).await
    }
}

/// Verifies the bearer token, else the session cookie.
pub async fn authenticate(state: &WebState, headers: &HeaderMap) -> Result<Reviewer, WebError> {
    let (token, via_cookie) = match bearer(headers) {
        Some(t) => (t, false),
        None => match cookie(headers, SESSION_COOKIE) {
            Some(t) => (t, true),
            None => {
                return Err(WebError::Unauthorized(
                    "sign in: send Authorization: Bearer <token>".to_owned(),
                ))
            }
        },
    };
    let principal = state
        .verifier
        .verify(&token)
        .await
        .map_err(|e| WebError::Unauthorized(e.to_string()))?;
    Ok(Reviewer {
        principal,
        via_cookie,
    })
}

/// The `Authorization: Bearer` token, if any (scheme case-insensitive).
fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
        .filter(|t| !t.is_empty())
}

/// The value of cookie `name`, if the request sent it.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// Checks the double-submitted CSRF token against the cookie.
pub fn check_csrf(headers: &HeaderMap, submitted: Option<&str>) -> Result<(), WebError> {
    let expected = cookie(headers, CSRF_COOKIE).ok_or(WebError::Csrf)?;
    match submitted {
        Some(s) if constant_time_eq(s.as_bytes(), expected.as_bytes()) => Ok(()),
        _ => Err(WebError::Csrf),
    }
}

/// A fresh CSRF token: 256 random bits as hex.
pub fn new_csrf_token() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, Path=/, Secure when
/// the UI is served over https; `max_age` 0 deletes the cookie.
pub fn set_cookie(name: &str, value: &str, max_age: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}")
}

/// Comparison whose time does not depend on where the inputs differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn bearer_and_cookies_are_read() {
        let h = headers(&[
            ("authorization", "bearer  abc "),
            ("cookie", "a=1; vigil_session=tok"),
        ]);
        assert_eq!(bearer(&h).as_deref(), Some("abc"));
        assert_eq!(cookie(&h, SESSION_COOKIE).as_deref(), Some("tok"));
        assert_eq!(cookie(&h, "missing"), None);
        assert_eq!(bearer(&headers(&[("authorization", "Basic abc")])), None);
        assert_eq!(bearer(&headers(&[("authorization", "Bearer ")])), None);
    }

    #[test]
    fn csrf_needs_the_cookie_and_the_same_value() {
        let h = headers(&[("cookie", "vigil_csrf=s3cret")]);
        assert!(check_csrf(&h, Some("s3cret")).is_ok());
        assert!(check_csrf(&h, Some("s3cre")).is_err());
        assert!(check_csrf(&h, None).is_err());
        assert!(check_csrf(&HeaderMap::new(), Some("")).is_err());
        assert_eq!(new_csrf_token().len(), 64);
    }

    #[test]
    fn cookies_are_strict() {
        let c = set_cookie(SESSION_COOKIE, "t", 60, true);
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Strict") && c.ends_with("Secure"));
    }
}
