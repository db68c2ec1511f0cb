//! Public keys and which algorithms each may verify. A JWKS document is
//! parsed key by key (an identity provider may publish encryption keys or
//! curves we do not support; those are skipped, not fatal), and every key
//! remembers its type so a token can never pick an algorithm from another
//! family (e.g. HS256 keyed with an RSA public key).

use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::Value;

/// The key type and, for curves, the curve: decides the usable algorithms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyKind {
    Rsa,
    EcP256,
    EcP384,
    Ed25519,
}

/// One public key that can verify signatures.
#[derive(Clone)]
pub(crate) struct VerifyKey {
    pub kid: Option<String>,
    pub kind: KeyKind,
    /// The JWK's own `alg`, if it pinned one.
    pub alg: Option<Algorithm>,
    pub key: DecodingKey,
}

impl VerifyKey {
    /// True when this key may verify a signature made with `alg`.
    pub fn supports(&self, alg: Algorithm) -> bool {
        if self.alg.is_some_and(|pinned| pinned != alg) {
            return false;
        }
        use Algorithm as A;
        match self.kind {
            KeyKind::Rsa => matches!(
                alg,
                A::RS256 | A::RS384 | A::RS512 | A::PS256 | A::PS384 | A::PS512
            ),
            KeyKind::EcP256 => alg == A::ES256,
            KeyKind::EcP384 => alg == A::ES384,
            KeyKind::Ed25519 => alg == A::EdDSA,
        }
    }
}

impl std::fmt::Debug for VerifyKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyKey")
            .field("kid", &self.kid)
            .field("kind", &self.kind)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

/// The keys one issuer currently publishes.
#[derive(Debug, Clone, Default)]
pub(crate) struct KeySet {
    keys: Vec<VerifyKey>,
}

/// Which key a token asked for, and whether the set has it.
pub(crate) enum Lookup<'a> {
    Found(&'a VerifyKey),
    /// A key with this kid exists but cannot verify this algorithm.
    WrongType,
    /// No key with this kid (or, without a kid, no matching key at all).
    Missing,
    /// No kid and more than one key fits.
    Ambiguous,
}

impl KeySet {
    pub fn new(keys: Vec<VerifyKey>) -> Self {
        KeySet { keys }
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Selects the key for a token's `kid` (if any) and `alg`.
    pub fn lookup(&self, kid: Option<&str>, alg: Algorithm) -> Lookup<'_> {
        match kid {
            Some(kid) => match self.keys.iter().find(|k| k.kid.as_deref() == Some(kid)) {
                Some(key) if key.supports(alg) => Lookup::Found(key),
                Some(_) => Lookup::WrongType,
                None => Lookup::Missing,
            },
            None => {
                let mut fitting = self.keys.iter().filter(|k| k.supports(alg));
                match (fitting.next(), fitting.next()) {
                    (Some(key), None) => Lookup::Found(key),
                    (None, _) => Lookup::Missing,
                    (Some(_), Some(_)) => Lookup::Ambiguous,
                }
            }
        }
    }

    /// Parses a JWKS document. Unusable keys are skipped (and logged); an
    /// error only when the document itself is not a JWKS or has no usable key.
    pub fn from_jwks(bytes: &[u8]) -> Result<Self, String> {
        let doc: Value = serde_json::from_slice(bytes).map_err(|e| format!("not JSON: {e}"))?;
        let entries = doc
            .get("keys")
            .and_then(Value::as_array)
            .ok_or("no \"keys\" array")?;
        let mut keys = Vec::with_capacity(entries.len());
        for entry in entries {
            match parse_jwk(entry) {
                Ok(Some(key)) => keys.push(key),
                Ok(None) => {}
                Err(reason) => tracing::warn!(kid = ?entry.get("kid"), %reason, "skipping JWK"),
            }
        }
        if keys.is_empty() {
            return Err("no usable signing key".to_owned());
        }
        Ok(KeySet { keys })
    }
}

/// One JWK → key. `Ok(None)` for keys that are not for signatures (or are
/// symmetric): those are never usable and not worth a warning.
fn parse_jwk(jwk: &Value) -> Result<Option<VerifyKey>, String> {
    let text = |name: &str| jwk.get(name).and_then(Value::as_str);
    if text("use").is_some_and(|u| u != "sig") {
        return Ok(None);
    }
    let alg = match text("alg") {
        Some(name) => match name.parse::<Algorithm>() {
            Ok(a) if crate::verifier::is_asymmetric(a) => Some(a),
            _ => return Ok(None),
        },
        None => None,
    };
    let field = |name: &str| text(name).ok_or_else(|| format!("missing {name}"));
    let jwt_err = |e: jsonwebtoken::errors::Error| e.to_string();
    let (kind, key) = match (text("kty"), text("crv")) {
        (Some("RSA"), _) => {
            let key =
                DecodingKey::from_rsa_components(field("n")?, field("e")?).map_err(jwt_err)?;
            (KeyKind::Rsa, key)
        }
        (Some("EC"), Some(crv @ ("P-256" | "P-384"))) => {
            let key = DecodingKey::from_ec_components(field("x")?, field("y")?).map_err(jwt_err)?;
            let kind = if crv == "P-256" {
                KeyKind::EcP256
            } else {
                KeyKind::EcP384
            };
            (kind, key)
        }
        (Some("OKP"), Some("Ed25519")) => {
            let key = DecodingKey::from_ed_components(field("x")?).map_err(jwt_err)?;
            (KeyKind::Ed25519, key)
        }
        (Some("oct"), _) => return Ok(None),
        (kty, crv) => return Err(format!("unsupported key type {kty:?} / curve {crv:?}")),
    };
    let kid = text("kid").map(str::to_owned);
    Ok(Some(VerifyKey {
        kid,
        kind,
        alg,
        key,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const RSA: &str = r#"{"kty":"RSA","kid":"r","n":"AQAB","e":"AQAB"}"#;
    const OKP: &str = r#"{"kty":"OKP","crv":"Ed25519","kid":"o","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#;

    fn set(keys: &[&str]) -> Result<KeySet, String> {
        KeySet::from_jwks(format!("{{\"keys\":[{}]}}", keys.join(",")).as_bytes())
    }

    #[test]
    fn skips_symmetric_encryption_and_unknown_keys() {
        let oct = r#"{"kty":"oct","kid":"h","k":"c2VjcmV0"}"#;
        let enc = r#"{"kty":"RSA","kid":"e","use":"enc","n":"AQAB","e":"AQAB"}"#;
        let hs = r#"{"kty":"RSA","kid":"a","alg":"HS256","n":"AQAB","e":"AQAB"}"#;
        let p521 = r#"{"kty":"EC","crv":"P-521","kid":"p","x":"AA","y":"AA"}"#;
        let keys = set(&[oct, enc, hs, p521, RSA]).unwrap();
        assert_eq!(keys.len(), 1);
        assert!(set(&[oct]).is_err());
        assert!(KeySet::from_jwks(b"[]").is_err());
        assert!(KeySet::from_jwks(b"\xff").is_err());
    }

    #[test]
    fn kid_must_name_a_key_of_the_right_type() {
        let keys = set(&[RSA, OKP]).unwrap();
        assert!(matches!(
            keys.lookup(Some("r"), Algorithm::RS256),
            Lookup::Found(_)
        ));
        assert!(matches!(
            keys.lookup(Some("r"), Algorithm::EdDSA),
            Lookup::WrongType
        ));
        assert!(matches!(
            keys.lookup(Some("o"), Algorithm::ES256),
            Lookup::WrongType
        ));
        assert!(matches!(
            keys.lookup(Some("x"), Algorithm::RS256),
            Lookup::Missing
        ));
    }

    #[test]
    fn no_kid_needs_exactly_one_fitting_key() {
        let keys = set(&[RSA, OKP]).unwrap();
        assert!(matches!(
            keys.lookup(None, Algorithm::EdDSA),
            Lookup::Found(_)
        ));
        assert!(matches!(
            keys.lookup(None, Algorithm::ES256),
            Lookup::Missing
        ));
        let two = set(&[RSA, RSA]).unwrap();
        assert!(matches!(
            two.lookup(None, Algorithm::RS256),
            Lookup::Ambiguous
        ));
    }

    #[test]
    fn pinned_alg_is_respected() {
        let pinned = r#"{"kty":"RSA","kid":"r","alg":"RS256","n":"AQAB","e":"AQAB"}"#;
        let keys = set(&[pinned]).unwrap();
        assert!(matches!(
            keys.lookup(Some("r"), Algorithm::PS256),
            Lookup::WrongType
        ));
    }
}
