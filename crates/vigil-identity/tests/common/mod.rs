//! Shared helpers for the integration tests: token crafting and a refusal
//! check that also proves the error message leaks nothing of the token.

#![allow(dead_code)]

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use vigil_identity::{AuthError, Verifier};

pub const RSA_ISSUER: &str = "https://idp.example.com";
pub const RSA_AUDIENCE: &str = "vigil";

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

pub fn fixture_bytes(name: &str) -> Vec<u8> {
    std::fs::read(fixture(name)).unwrap()
}

/// Claims an external issuer would send, valid for an hour.
pub fn rsa_claims() -> Value {
    let now = now();
    json!({
        "iss": RSA_ISSUER, "aud": RSA_AUDIENCE, "sub": "ann",
        "email": "ann@example.com", "groups": ["dba"],
        "iat": now, "nbf": now, "exp": now + 3600, "jti": "t-1",
    })
}

/// Signs `claims` with fixture key `rsaN` (kid `rsaN` unless `kid` is None).
pub fn rsa_token(key: &str, kid: Option<&str>, alg: Algorithm, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    let pem = fixture_bytes(&format!("{key}.key.pem"));
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_rsa_pem(&pem).unwrap()).unwrap()
}

pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A token with arbitrary header and payload JSON and a given signature.
pub fn raw_token(header: &Value, payload: &Value, signature: &str) -> String {
    format!(
        "{}.{}.{signature}",
        b64(header.to_string().as_bytes()),
        b64(payload.to_string().as_bytes())
    )
}

/// Asserts `token` is refused and that the reason leaks no part of it.
pub async fn refused(verifier: &Verifier, token: &str) -> AuthError {
    let err = verifier
        .verify(token)
        .await
        .expect_err("token was accepted");
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains(token), "{shown}");
    for part in token.split('.').filter(|p| p.len() >= 8) {
        assert!(!shown.contains(part), "error shows a token part: {shown}");
    }
    err
}
