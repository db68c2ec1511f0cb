//! Token → [`Principal`]. The order matters: read the unverified header
//! and `iss` only to route; refuse `none`/HMAC/unknown algorithms and
//! algorithms off the issuer's allow-list; pick a key whose type fits the
//! algorithm; then let `jsonwebtoken` check the signature, `exp`, `nbf`,
//! `aud` and `iss` with exactly one algorithm allowed; then check `iat`
//! and map the claims.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, Validation};
use serde_json::{Map, Value};
use vigil_core::Principal;

use crate::claims::{numeric_date, ClaimMapping};
use crate::jwks::{http_client, KeyCache};
use crate::keys::{KeySet, Lookup, VerifyKey};
use crate::settings::{BUILTIN_KIND_CLAIM, DEFAULT_ALGORITHMS, DEFAULT_GROUPS_CLAIM};
use crate::token::{self, Unverified};
use crate::{
    error, AuthError, BuiltinIssuer, IdentityError, IssuerSettings, JwksSource, VerifierOptions,
};

/// HMAC is never accepted: with a public key as the "secret" anyone could
/// forge tokens.
pub(crate) fn is_asymmetric(alg: Algorithm) -> bool {
    !matches!(alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512)
}

/// Verifies tokens from the built-in issuer and the configured external
/// ones. `Send + Sync`; share it in an `Arc`.
pub struct Verifier {
    issuers: HashMap<String, Issuer>,
    leeway: u64,
}

struct Issuer {
    name: String,
    audience: String,
    algorithms: Vec<Algorithm>,
    mapping: ClaimMapping,
    keys: Keys,
}

enum Keys {
    /// The built-in issuer's own key: trusted directly.
    Fixed(Arc<KeySet>),
    /// A JWKS from a URL or file.
    Cached(Box<KeyCache>),
}

impl Verifier {
    /// Builds a verifier with default JWKS timing. Configuration errors
    /// (unreadable JWKS file, duplicate issuer, HS* algorithm) fail here.
    pub fn new(
        builtin: Option<&BuiltinIssuer>,
        issuers: Vec<IssuerSettings>,
        leeway: Duration,
    ) -> Result<Self, IdentityError> {
        let opts = VerifierOptions {
            leeway,
            ..VerifierOptions::default()
        };
        Self::with_options(builtin, issuers, opts)
    }

    /// [`Verifier::new`] with every tunable exposed.
    pub fn with_options(
        builtin: Option<&BuiltinIssuer>,
        issuers: Vec<IssuerSettings>,
        opts: VerifierOptions,
    ) -> Result<Self, IdentityError> {
        let mut map = HashMap::new();
        let mut client = None;
        let built = builtin.map(builtin_issuer).into_iter();
        let external = issuers
            .into_iter()
            .map(|s| external_issuer(s, &opts, &mut client));
        for issuer in built.map(Ok).chain(external) {
            let issuer = issuer?;
            if map.contains_key(&issuer.name) {
                return Err(IdentityError::DuplicateIssuer(issuer.name));
            }
            map.insert(issuer.name.clone(), issuer);
        }
        Ok(Verifier {
            issuers: map,
            leeway: opts.leeway.as_secs(),
        })
    }

    /// Verifies `token` and maps it to a principal, or says why not. The
    /// error's `Display` is safe to send to the client.
    pub async fn verify(&self, token: &str) -> Result<Principal, AuthError> {
        let unverified = token::inspect(token)?;
        let issuer = self
            .issuers
            .get(&unverified.iss)
            .ok_or_else(|| AuthError::unknown_issuer(&unverified.iss))?;
        if !issuer.algorithms.contains(&unverified.alg) {
            return Err(AuthError::algorithm(&unverified.alg_name));
        }
        let key = issuer.select_key(&unverified).await?;
        let claims = self.check(token, &unverified, issuer, &key)?;
        issuer.mapping.principal(&issuer.name, &claims)
    }

    /// Signature and registered claims.
    fn check(
        &self,
        token: &str,
        u: &Unverified,
        issuer: &Issuer,
        key: &VerifyKey,
    ) -> Result<Map<String, Value>, AuthError> {
        let mut v = Validation::new(u.alg);
        v.leeway = self.leeway;
        v.validate_exp = true;
        v.validate_nbf = true;
        v.set_audience(&[&issuer.audience]);
        v.set_issuer(&[&issuer.name]);
        // `sub` is checked by the claim mapping, which tells "missing" from "invalid".
        v.set_required_spec_claims(&["exp", "aud", "iss"]);
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, &key.key, &v)
            .map_err(|e| error::from_jwt(&e, &u.alg_name))?;
        // jsonwebtoken does not look at `iat`.
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let limit = i64::try_from(now.saturating_add(self.leeway)).unwrap_or(i64::MAX);
        if numeric_date(&data.claims, "iat")?.is_some_and(|iat| iat > limit) {
            return Err(AuthError::IssuedInFuture);
        }
        Ok(data.claims)
    }
}

impl Issuer {
    /// The key for this token; on an unknown kid, one (rate-limited)
    /// refetch in case the issuer rotated its keys.
    async fn select_key(&self, u: &Unverified) -> Result<VerifyKey, AuthError> {
        let keys = match &self.keys {
            Keys::Fixed(keys) => Arc::clone(keys),
            Keys::Cached(cache) => cache.current().await?,
        };
        match lookup(&keys, u) {
            Ok(key) => return Ok(key),
            Err(Some(refused)) => return Err(refused),
            Err(None) => {}
        }
        if let Keys::Cached(cache) = &self.keys {
            cache.refetch().await;
            match lookup(&*cache.current().await?, u) {
                Ok(key) => return Ok(key),
                Err(Some(refused)) => return Err(refused),
                Err(None) => {}
            }
        }
        Err(match &u.kid {
            Some(kid) => AuthError::unknown_key(kid),
            None => AuthError::AmbiguousKey,
        })
    }
}

/// `Err(None)`: no such key (a refetch may help); `Err(Some(_))`: final.
fn lookup(keys: &KeySet, u: &Unverified) -> Result<VerifyKey, Option<AuthError>> {
    match keys.lookup(u.kid.as_deref(), u.alg) {
        Lookup::Found(key) => Ok(key.clone()),
        Lookup::WrongType => Err(Some(AuthError::algorithm(&u.alg_name))),
        Lookup::Ambiguous => Err(Some(AuthError::AmbiguousKey)),
        Lookup::Missing => Err(None),
    }
}

fn builtin_issuer(b: &BuiltinIssuer) -> Issuer {
    let s = b.settings();
    Issuer {
        name: s.issuer.clone(),
        audience: s.audience.clone(),
        algorithms: vec![Algorithm::EdDSA],
        mapping: ClaimMapping {
            groups_claim: DEFAULT_GROUPS_CLAIM.to_owned(),
            kind_claim: Some(BUILTIN_KIND_CLAIM.to_owned()),
        },
        keys: Keys::Fixed(Arc::new(KeySet::new(vec![b.verify_key()]))),
    }
}

fn external_issuer(
    s: IssuerSettings,
    opts: &VerifierOptions,
    client: &mut Option<reqwest::Client>,
) -> Result<Issuer, IdentityError> {
    let invalid = |reason: &str| IdentityError::InvalidIssuer {
        issuer: s.issuer.clone(),
        reason: reason.to_owned(),
    };
    if s.issuer.is_empty() || s.audience.is_empty() || s.groups_claim.is_empty() {
        return Err(invalid(
            "issuer, audience and groups_claim must not be empty",
        ));
    }
    if s.kind_claim.as_deref() == Some("") {
        return Err(invalid("kind_claim must not be empty"));
    }
    if let Some(alg) = s.algorithms.iter().find(|a| !is_asymmetric(**a)) {
        return Err(invalid(&format!(
            "algorithm {alg:?} is not allowed (HMAC is never accepted)"
        )));
    }
    let algorithms = if s.algorithms.is_empty() {
        DEFAULT_ALGORITHMS.to_vec()
    } else {
        s.algorithms.clone()
    };
    let cache = match &s.jwks {
        JwksSource::Url(url) => {
            let http = match client {
                Some(c) => c.clone(),
                None => client.insert(http_client(opts.jwks_fetch_timeout)?).clone(),
            };
            KeyCache::from_url(&s.issuer, url, http, opts)?
        }
        JwksSource::File(path) => KeyCache::from_file(&s.issuer, path.clone(), opts)?,
    };
    Ok(Issuer {
        mapping: ClaimMapping {
            groups_claim: s.groups_claim,
            kind_claim: s.kind_claim,
        },
        name: s.issuer,
        audience: s.audience,
        algorithms,
        keys: Keys::Cached(Box::new(cache)),
    })
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<&str> = self.issuers.keys().map(String::as_str).collect();
        names.sort_unstable();
        f.debug_struct("Verifier")
            .field("issuers", &names)
            .field("leeway", &self.leeway)
            .finish()
    }
}
