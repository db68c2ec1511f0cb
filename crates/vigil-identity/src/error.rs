//! Typed failures. [`AuthError`] is why one token was refused; its `Display`
//! is the reason the proxy sends to the client (FATAL 28P01), so it never
//! contains the token or any part of its signature. Values echoed from the
//! token (issuer, kid, alg) are attacker-chosen: they are truncated and
//! printed escaped. [`IdentityError`] is a setup failure (config, key files).

use std::path::PathBuf;

/// Longest attacker-supplied value (issuer, kid, alg) kept in an error.
const ECHO_LIMIT: usize = 80;

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// Not a well-formed compact JWS (three base64url parts of JSON).
    #[error("token is malformed")]
    Malformed,
    /// `iss` names no issuer configured in Vigil.
    #[error("unknown token issuer {0:?}")]
    UnknownIssuer(String),
    /// `aud` is missing our audience.
    #[error("token audience does not match")]
    WrongAudience,
    /// `exp` is in the past (beyond the leeway).
    #[error("token expired")]
    Expired,
    /// `nbf` is in the future (beyond the leeway).
    #[error("token is not valid yet")]
    NotYetValid,
    /// `iat` is in the future (beyond the leeway).
    #[error("token was issued in the future")]
    IssuedInFuture,
    /// The signature does not verify with the selected key.
    #[error("token signature is invalid")]
    BadSignature,
    /// `alg` is `none`, HMAC, unknown, not on the issuer's allow-list, or
    /// not usable with the selected key's type.
    #[error("token algorithm {0:?} is not allowed")]
    AlgorithmNotAllowed(String),
    /// The `kid` names no key the issuer publishes (after a refetch, if one
    /// was allowed).
    #[error("unknown token signing key {0:?}")]
    UnknownKey(String),
    /// No `kid`, and the issuer does not have exactly one key that fits.
    #[error("token has no key id and the issuer has no single matching key")]
    AmbiguousKey,
    /// A required claim is absent.
    #[error("token is missing the {0} claim")]
    MissingClaim(&'static str),
    /// A claim is present but has the wrong type or an unknown value.
    #[error("token claim {0} is invalid")]
    InvalidClaim(&'static str),
    /// The token carries a `crit` header we do not understand (RFC 7515 §4.1.11).
    #[error("token has unsupported critical header parameters")]
    UnsupportedCritical,
    /// The issuer's keys could not be obtained. The detail is logged, not
    /// sent to the client. Holds the issuer.
    #[error("signing keys for token issuer {0:?} are unavailable; try again later")]
    KeySourceUnavailable(String),
}

impl AuthError {
    /// `UnknownIssuer` with the attacker-supplied value truncated.
    pub(crate) fn unknown_issuer(iss: &str) -> Self {
        AuthError::UnknownIssuer(echo(iss))
    }

    /// `UnknownKey` with the attacker-supplied value truncated.
    pub(crate) fn unknown_key(kid: &str) -> Self {
        AuthError::UnknownKey(echo(kid))
    }

    /// `AlgorithmNotAllowed` with the attacker-supplied value truncated.
    pub(crate) fn algorithm(alg: &str) -> Self {
        AuthError::AlgorithmNotAllowed(echo(alg))
    }

    /// True when the client sent a bad token; false when Vigil (or the
    /// identity provider) failed and a retry may succeed.
    pub fn is_client_fault(&self) -> bool {
        !matches!(self, AuthError::KeySourceUnavailable(_))
    }
}

/// Keeps at most [`ECHO_LIMIT`] characters of an attacker-supplied value.
fn echo(value: &str) -> String {
    let mut out: String = value.chars().take(ECHO_LIMIT).collect();
    if value.chars().nth(ECHO_LIMIT).is_some() {
        out.push('…');
    }
    out
}

/// Maps a `jsonwebtoken` failure (signature or registered-claim check).
pub(crate) fn from_jwt(err: &jsonwebtoken::errors::Error, alg: &str) -> AuthError {
    use jsonwebtoken::errors::ErrorKind as K;
    match err.kind() {
        K::ExpiredSignature => AuthError::Expired,
        K::ImmatureSignature => AuthError::NotYetValid,
        K::InvalidAudience => AuthError::WrongAudience,
        K::InvalidSignature | K::InvalidEcdsaKey | K::InvalidRsaKey(_) | K::Crypto(_) => {
            AuthError::BadSignature
        }
        K::InvalidAlgorithm | K::MissingAlgorithm | K::InvalidAlgorithmName => {
            AuthError::algorithm(alg)
        }
        K::MissingRequiredClaim(name) => AuthError::MissingClaim(static_claim(name)),
        K::InvalidIssuer => AuthError::InvalidClaim("iss"),
        K::InvalidSubject => AuthError::InvalidClaim("sub"),
        _ => AuthError::Malformed,
    }
}

/// The registered claims jsonwebtoken can report as missing.
fn static_claim(name: &str) -> &'static str {
    match name {
        "exp" => "exp",
        "nbf" => "nbf",
        "aud" => "aud",
        "iss" => "iss",
        "sub" => "sub",
        _ => "registered",
    }
}

/// A setup failure: configuration, key files, HTTP client.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// Reading or writing a key or JWKS file failed.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The built-in issuer's key file exists but is not an Ed25519 PKCS#8 PEM.
    /// It is never replaced silently: that would invalidate every issued token.
    #[error("{path}: {reason}; fix or remove it")]
    CorruptKeyFile { path: PathBuf, reason: String },
    /// A JWKS file has no usable signing key or is not a JWKS document.
    #[error("{origin}: invalid JWKS: {reason}")]
    InvalidJwks { origin: String, reason: String },
    /// Two issuers (or an issuer and the built-in one) share an `iss`.
    #[error("issuer {0:?} is configured more than once")]
    DuplicateIssuer(String),
    /// An issuer setting is unusable (empty issuer, HS* algorithm, bad URL, …).
    #[error("issuer {issuer:?}: {reason}")]
    InvalidIssuer { issuer: String, reason: String },
    /// A duration such as `"15m"` could not be parsed.
    #[error("invalid duration {0:?}: expected a number followed by s, m, h or d (e.g. \"15m\")")]
    InvalidTtl(String),
    /// A token request is unusable (empty subject, zero or huge ttl).
    #[error("invalid token request: {0}")]
    InvalidRequest(String),
    /// Signing a token failed.
    #[error("signing the token failed: {0}")]
    Signing(String),
    /// The HTTP client for JWKS fetches could not be built.
    #[error("building the JWKS HTTP client failed: {0}")]
    HttpClient(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echoed_values_are_truncated_and_escaped() {
        let long = "x".repeat(500);
        let msg = AuthError::unknown_issuer(&long).to_string();
        assert!(msg.len() < 120, "{msg}");
        let msg = AuthError::unknown_issuer("a\"\nb").to_string();
        assert_eq!(msg, r#"unknown token issuer "a\"\nb""#);
    }

    #[test]
    fn only_key_source_failures_are_not_client_faults() {
        assert!(AuthError::Expired.is_client_fault());
        assert!(!AuthError::KeySourceUnavailable("i".into()).is_client_fault());
    }
}
