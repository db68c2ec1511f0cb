//! Reading a token *before* it is verified, only to route it: which issuer
//! (`iss`), which key (`kid`) and which algorithm (`alg`). Nothing read here
//! is trusted; the verifier checks all of it again on the verified token.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::Algorithm;
use serde_json::Value;

use crate::AuthError;

/// Longest token accepted. Real ones are a few KiB; this bounds the work a
/// hostile client can make us do before any signature check.
pub(crate) const MAX_TOKEN_LEN: usize = 16 * 1024;

/// The routing facts of an unverified token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unverified {
    pub alg: Algorithm,
    /// The `alg` text as sent, for error messages.
    pub alg_name: String,
    pub kid: Option<String>,
    pub iss: String,
}

/// Splits and decodes header and payload; refuses `alg: none`, HMAC and
/// unknown algorithms and any `crit` header before a key is even chosen.
pub(crate) fn inspect(token: &str) -> Result<Unverified, AuthError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(AuthError::Malformed);
    }
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(_sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(AuthError::Malformed);
    };
    let header = decode_json(header)?;
    let alg_name = header
        .get("alg")
        .and_then(Value::as_str)
        .ok_or(AuthError::Malformed)?
        .to_owned();
    let alg = asymmetric(&alg_name)?;
    if header.get("crit").is_some() {
        return Err(AuthError::UnsupportedCritical);
    }
    let kid = match header.get("kid") {
        None => None,
        Some(Value::String(kid)) => Some(kid.clone()),
        Some(_) => return Err(AuthError::Malformed),
    };
    let iss = match decode_json(payload)?.get("iss") {
        None => return Err(AuthError::MissingClaim("iss")),
        Some(Value::String(iss)) => iss.clone(),
        Some(_) => return Err(AuthError::InvalidClaim("iss")),
    };
    Ok(Unverified {
        alg,
        alg_name,
        kid,
        iss,
    })
}

/// Parses an `alg` name, accepting only asymmetric algorithms.
fn asymmetric(name: &str) -> Result<Algorithm, AuthError> {
    match name.parse::<Algorithm>() {
        Ok(alg) if crate::verifier::is_asymmetric(alg) => Ok(alg),
        _ => Err(AuthError::algorithm(name)),
    }
}

/// base64url (no padding) → JSON object.
fn decode_json(part: &str) -> Result<Value, AuthError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| AuthError::Malformed)?;
    match serde_json::from_slice(&bytes) {
        Ok(value @ Value::Object(_)) => Ok(value),
        _ => Err(AuthError::Malformed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> String {
        URL_SAFE_NO_PAD.encode(s)
    }

    fn token(header: &str, payload: &str) -> String {
        format!("{}.{}.c2ln", b64(header), b64(payload))
    }

    #[test]
    fn reads_routing_facts() {
        let t = token(r#"{"alg":"RS256","kid":"k1"}"#, r#"{"iss":"https://idp"}"#);
        let u = inspect(&t).unwrap();
        assert_eq!(
            (u.alg, u.kid.as_deref(), u.iss.as_str()),
            (Algorithm::RS256, Some("k1"), "https://idp")
        );
    }

    #[test]
    fn refuses_none_hmac_and_unknown_algorithms() {
        for alg in ["none", "None", "HS256", "HS512", "XX1", ""] {
            let t = token(&format!(r#"{{"alg":"{alg}"}}"#), r#"{"iss":"i"}"#);
            assert_eq!(inspect(&t), Err(AuthError::algorithm(alg)), "{alg}");
        }
    }

    #[test]
    fn refuses_bad_shapes() {
        let ok_header = r#"{"alg":"EdDSA"}"#;
        let cases = [
            String::new(),
            "a.b".to_owned(),
            "a.b.c.d".to_owned(),
            format!("{}.!!.x", b64(ok_header)),
            format!("{}.{}.x", b64(ok_header), b64("[1]")),
            token(r#"{"alg":"EdDSA","kid":7}"#, r#"{"iss":"i"}"#),
            "x".repeat(MAX_TOKEN_LEN + 1),
        ];
        for t in cases {
            assert_eq!(inspect(&t), Err(AuthError::Malformed), "{t:.40}");
        }
        let crit = token(r#"{"alg":"EdDSA","crit":["b64"]}"#, r#"{"iss":"i"}"#);
        assert_eq!(inspect(&crit), Err(AuthError::UnsupportedCritical));
        let no_iss = token(ok_header, r#"{"sub":"s"}"#);
        assert_eq!(inspect(&no_iss), Err(AuthError::MissingClaim("iss")));
    }
}
