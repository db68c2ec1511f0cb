//! What the rest of Vigil tells this crate: which issuers to trust, where
//! their keys live, and how Vigil's own issuer is set up. Plain data; the
//! config crate fills it in and [`crate::Verifier::new`] validates it.

use std::path::PathBuf;
use std::time::Duration;

use jsonwebtoken::Algorithm;
use vigil_core::PrincipalKind;

use crate::IdentityError;

/// The claim Vigil's own tokens use for the principal kind. Namespaced so
/// it never collides with an identity provider's own `kind` claim.
pub const BUILTIN_KIND_CLAIM: &str = "vigil_kind";

/// Default groups claim.
pub const DEFAULT_GROUPS_CLAIM: &str = "groups";

/// Default clock-skew leeway for `exp`, `nbf` and `iat`.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(30);

/// Algorithms accepted when an issuer's allow-list is empty. Asymmetric
/// only: HMAC is never accepted (the public-key-as-secret confusion).
pub const DEFAULT_ALGORITHMS: [Algorithm; 9] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// An external identity provider whose tokens Vigil accepts.
#[derive(Debug, Clone, PartialEq)]
pub struct IssuerSettings {
    /// Exact `iss` value.
    pub issuer: String,
    /// A value that must appear in `aud`.
    pub audience: String,
    /// Where the issuer's public keys come from.
    pub jwks: JwksSource,
    /// Claim holding the groups: a top-level name (`groups`, also names
    /// containing dots such as URLs) or a dotted path (`realm_access.roles`).
    pub groups_claim: String,
    /// Claim naming `human`, `service` or `agent`; `None` means every
    /// principal from this issuer is human.
    pub kind_claim: Option<String>,
    /// Allowed `alg` values; empty means [`DEFAULT_ALGORITHMS`].
    pub algorithms: Vec<Algorithm>,
}

impl IssuerSettings {
    /// Settings with the default groups claim, no kind claim and the
    /// default algorithms.
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>, jwks: JwksSource) -> Self {
        IssuerSettings {
            issuer: issuer.into(),
            audience: audience.into(),
            jwks,
            groups_claim: DEFAULT_GROUPS_CLAIM.to_owned(),
            kind_claim: None,
            algorithms: Vec::new(),
        }
    }
}

/// Where an issuer's JWKS document lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwksSource {
    /// Fetched over HTTPS (plain HTTP only to a loopback host).
    Url(String),
    /// Read from a local file at startup, re-read on an unknown `kid`.
    File(PathBuf),
}

/// Vigil's own issuer (service accounts, AI agents).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltinSettings {
    /// `iss` of the tokens Vigil issues.
    pub issuer: String,
    /// `aud` of the tokens Vigil issues (and requires).
    pub audience: String,
    /// Ed25519 private key as PKCS#8 PEM; created (mode 0600) if absent.
    pub key_file: PathBuf,
}

/// What a token Vigil issues says about its holder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRequest {
    /// `sub`; must not be empty.
    pub subject: String,
    /// `email`, if any.
    pub email: Option<String>,
    /// `groups`.
    pub groups: Vec<String>,
    /// Written to the [`BUILTIN_KIND_CLAIM`] claim.
    pub kind: PrincipalKind,
    /// Lifetime: `exp = iat + ttl`. Between one second and [`MAX_TTL`].
    pub ttl: Duration,
}

/// Longest lifetime of a token Vigil issues (one year).
pub const MAX_TTL: Duration = Duration::from_secs(366 * 24 * 3600);

/// Tuning for verification; [`Default`] is what production uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifierOptions {
    /// Clock-skew leeway for `exp`, `nbf` and `iat`.
    pub leeway: Duration,
    /// Re-read a JWKS once it is this old.
    pub jwks_refresh_after: Duration,
    /// At most one JWKS fetch per issuer per this interval, whatever the
    /// reason (unknown kid, failure retry), so a flood of tokens with bogus
    /// kids cannot hammer the identity provider.
    pub jwks_min_refetch_interval: Duration,
    /// Whole-request timeout for one JWKS fetch.
    pub jwks_fetch_timeout: Duration,
}

impl Default for VerifierOptions {
    fn default() -> Self {
        VerifierOptions {
            leeway: DEFAULT_LEEWAY,
            jwks_refresh_after: Duration::from_secs(600),
            jwks_min_refetch_interval: Duration::from_secs(30),
            jwks_fetch_timeout: Duration::from_secs(5),
        }
    }
}

/// Parses a lifetime such as `"90s"`, `"15m"`, `"1h"` or `"7d"`. Zero is
/// refused: a token that is born expired is a configuration mistake.
pub fn parse_ttl(s: &str) -> Result<Duration, IdentityError> {
    let bad = || IdentityError::InvalidTtl(s.to_owned());
    let trimmed = s.trim();
    let split = trimmed.len().checked_sub(1).ok_or_else(bad)?;
    let (digits, unit) = (trimmed.get(..split), trimmed.get(split..));
    let (Some(digits), Some(unit)) = (digits, unit) else {
        return Err(bad());
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let n: u64 = digits.parse().map_err(|_| bad())?;
    let scale: u64 = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(bad()),
    };
    match n.checked_mul(scale) {
        Some(secs) if secs > 0 => Ok(Duration::from_secs(secs)),
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_unit() {
        assert_eq!(parse_ttl("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_ttl("15m").unwrap(), Duration::from_secs(900));
        assert_eq!(parse_ttl("1h").unwrap(), Duration::from_secs(3600));
        assert_eq!(parse_ttl(" 7d ").unwrap(), Duration::from_secs(7 * 86_400));
    }

    #[test]
    fn refuses_garbage() {
        for s in [
            "",
            "s",
            "15",
            "m15",
            "1.5h",
            "-1h",
            "+1h",
            "1w",
            "0s",
            "1 h",
            "é",
            "1é",
            "99999999999999999999d",
            "18446744073709551615d",
        ] {
            assert!(parse_ttl(s).is_err(), "{s:?} parsed");
        }
    }
}
