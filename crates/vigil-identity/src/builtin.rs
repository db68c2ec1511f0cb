//! Vigil's own token issuer, for service accounts and AI agents that have
//! no identity provider. Tokens are EdDSA (Ed25519) JWTs; the verifier
//! trusts this issuer's public key directly, with no JWKS fetch, and
//! [`BuiltinIssuer::jwks`] publishes it for anyone else who wants to verify.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::keys::{KeyKind, VerifyKey};
use crate::settings::{BUILTIN_KIND_CLAIM, MAX_TTL};
use crate::{keyfile, BuiltinSettings, IdentityError, TokenRequest};

/// Vigil's own issuer: signs tokens with a key kept in `key_file`.
pub struct BuiltinIssuer {
    settings: BuiltinSettings,
    /// Short RFC 7638 thumbprint of the public key; stable across restarts.
    kid: String,
    /// base64url of the raw 32-byte public key (the JWK `x`).
    public_x: String,
    public: [u8; 32],
    encoding: EncodingKey,
}

impl BuiltinIssuer {
    /// Loads the key from `key_file`, creating it (mode 0600, parent
    /// directories included) on first use. A file that exists but does not
    /// parse is an error naming the path, never silently replaced.
    pub fn load_or_create(s: &BuiltinSettings) -> Result<Self, IdentityError> {
        let invalid = |reason: &str| IdentityError::InvalidIssuer {
            issuer: s.issuer.clone(),
            reason: reason.to_owned(),
        };
        if s.issuer.is_empty() {
            return Err(invalid("the built-in issuer needs a non-empty issuer"));
        }
        if s.audience.is_empty() {
            return Err(invalid("the built-in issuer needs a non-empty audience"));
        }
        let signing = keyfile::load_or_create(&s.key_file)?;
        let der = signing
            .to_pkcs8_der()
            .map_err(|e| IdentityError::Signing(format!("encoding the key: {e}")))?;
        let public = signing.verifying_key().to_bytes();
        let public_x = URL_SAFE_NO_PAD.encode(public);
        Ok(BuiltinIssuer {
            settings: s.clone(),
            kid: thumbprint(&public_x),
            public_x,
            public,
            encoding: EncodingKey::from_ed_der(der.as_bytes()),
        })
    }

    /// Signs a token for `req`. Claims: `iss`, `aud`, `sub`, `email` (if
    /// any), `groups`, `vigil_kind`, `iat`, `nbf`, `exp`, `jti` (random);
    /// header `alg: EdDSA`, `kid`.
    pub fn issue(&self, req: &TokenRequest) -> Result<String, IdentityError> {
        let bad = |why: &str| Err(IdentityError::InvalidRequest(why.to_owned()));
        if req.subject.is_empty() {
            return bad("subject must not be empty");
        }
        if req.ttl.as_secs() == 0 || req.ttl > MAX_TTL {
            return bad("ttl must be between 1 second and 366 days");
        }
        let now = unix_now()?;
        let ttl = i64::try_from(req.ttl.as_secs())
            .map_err(|_| IdentityError::InvalidRequest("ttl too large".into()))?;
        let exp = now
            .checked_add(ttl)
            .ok_or_else(|| IdentityError::InvalidRequest("ttl too large".into()))?;
        let mut claims = json!({
            "iss": self.settings.issuer,
            "aud": self.settings.audience,
            "sub": req.subject,
            "groups": req.groups,
            BUILTIN_KIND_CLAIM: req.kind.as_str(),
            "iat": now,
            "nbf": now,
            "exp": exp,
            "jti": uuid::Uuid::new_v4().to_string(),
        });
        if let (Some(email), Some(map)) = (&req.email, claims.as_object_mut()) {
            map.insert("email".to_owned(), Value::String(email.clone()));
        }
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, &claims, &self.encoding)
            .map_err(|e| IdentityError::Signing(e.to_string()))
    }

    /// The public key as a JWKS document (one OKP/Ed25519 key with its kid).
    pub fn jwks(&self) -> Value {
        json!({ "keys": [{
            "kty": "OKP",
            "crv": "Ed25519",
            "use": "sig",
            "alg": "EdDSA",
            "kid": self.kid,
            "x": self.public_x,
        }]})
    }

    pub fn settings(&self) -> &BuiltinSettings {
        &self.settings
    }

    /// The key id placed in every token's header.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The verifying half, for the verifier.
    pub(crate) fn verify_key(&self) -> VerifyKey {
        VerifyKey {
            kid: Some(self.kid.clone()),
            kind: KeyKind::Ed25519,
            alg: Some(Algorithm::EdDSA),
            key: DecodingKey::from_ed_der(&self.public),
        }
    }
}

impl std::fmt::Debug for BuiltinIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BuiltinIssuer")
            .field("settings", &self.settings)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// First 16 characters of the RFC 7638 JWK thumbprint: short enough for
/// logs, 96 bits is plenty to tell one key from the next.
fn thumbprint(x: &str) -> String {
    let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
    let full = URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()));
    full.chars().take(16).collect()
}

fn unix_now() -> Result<i64, IdentityError> {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|_| IdentityError::Signing("system clock is before 1970".into()))?
        .as_secs();
    i64::try_from(secs).map_err(|_| IdentityError::Signing("system clock out of range".into()))
}
