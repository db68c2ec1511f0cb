//! Verified claims → [`Principal`]. Strict: a claim of the wrong type is a
//! refusal, never a guess, because policy keys on groups and kind.

use serde_json::{Map, Value};
use vigil_core::{Principal, PrincipalKind};

use crate::AuthError;

/// How one issuer's claims map onto a principal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ClaimMapping {
    pub groups_claim: String,
    pub kind_claim: Option<String>,
}

impl ClaimMapping {
    /// Builds the principal from claims whose signature, `iss`, `aud`, `exp`
    /// and `nbf` have already been checked.
    pub fn principal(
        &self,
        issuer: &str,
        claims: &Map<String, Value>,
    ) -> Result<Principal, AuthError> {
        let subject = match claims.get("sub") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            None => return Err(AuthError::MissingClaim("sub")),
            Some(_) => return Err(AuthError::InvalidClaim("sub")),
        };
        Ok(Principal {
            subject,
            email: optional_string(claims, "email")?,
            groups: self.groups(claims)?,
            issuer: issuer.to_owned(),
            token_id: optional_string(claims, "jti")?,
            expires_at: numeric_date(claims, "exp")?.ok_or(AuthError::MissingClaim("exp"))?,
            kind: self.kind(claims)?,
        })
    }

    /// Groups: an array of strings, or one string as a single group.
    fn groups(&self, claims: &Map<String, Value>) -> Result<Vec<String>, AuthError> {
        match lookup(claims, &self.groups_claim) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::String(g)) => Ok(vec![g.clone()]),
            Some(Value::Array(items)) => items
                .iter()
                .map(|g| {
                    g.as_str()
                        .map(str::to_owned)
                        .ok_or(AuthError::InvalidClaim("groups"))
                })
                .collect(),
            Some(_) => Err(AuthError::InvalidClaim("groups")),
        }
    }

    /// Kind: `Human` when the issuer has no kind claim; otherwise the claim
    /// must be present and name a known kind (an absent claim must not turn
    /// an agent into a human).
    fn kind(&self, claims: &Map<String, Value>) -> Result<PrincipalKind, AuthError> {
        let Some(name) = &self.kind_claim else {
            return Ok(PrincipalKind::Human);
        };
        match lookup(claims, name) {
            None => Err(AuthError::MissingClaim("kind")),
            Some(Value::String(k)) => {
                PrincipalKind::parse(k).ok_or(AuthError::InvalidClaim("kind"))
            }
            Some(_) => Err(AuthError::InvalidClaim("kind")),
        }
    }
}

/// A claim by exact name first (names may contain dots, e.g. URLs), then
/// as a dotted path through nested objects (`realm_access.roles`).
fn lookup<'a>(claims: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    if let Some(v) = claims.get(name) {
        return Some(v);
    }
    let mut parts = name.split('.');
    let first = claims.get(parts.next()?)?;
    parts.try_fold(first, |v, part| v.as_object()?.get(part))
}

fn optional_string(
    claims: &Map<String, Value>,
    name: &'static str,
) -> Result<Option<String>, AuthError> {
    match claims.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(AuthError::InvalidClaim(name)),
    }
}

/// A NumericDate claim as whole seconds (fractions truncated).
pub(crate) fn numeric_date(
    claims: &Map<String, Value>,
    name: &'static str,
) -> Result<Option<i64>, AuthError> {
    let Some(v) = claims.get(name) else {
        return Ok(None);
    };
    if let Some(i) = v.as_i64() {
        return Ok(Some(i));
    }
    match v.as_f64() {
        // The range check makes the cast exact-enough and non-saturating.
        Some(f) if f.is_finite() && f.abs() < 1e15 => Ok(Some(f.trunc() as i64)),
        _ => Err(AuthError::InvalidClaim(name)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    fn mapping(groups: &str, kind: Option<&str>) -> ClaimMapping {
        ClaimMapping {
            groups_claim: groups.into(),
            kind_claim: kind.map(Into::into),
        }
    }

    #[test]
    fn maps_all_fields() {
        let c = claims(
            json!({"sub":"ann","email":"a@x","groups":["dba","dev"],"jti":"j1","exp":1700000000,"vigil_kind":"agent"}),
        );
        let p = mapping("groups", Some("vigil_kind"))
            .principal("iss1", &c)
            .unwrap();
        assert_eq!(p.subject, "ann");
        assert_eq!(p.email.as_deref(), Some("a@x"));
        assert_eq!(p.groups, ["dba", "dev"]);
        assert_eq!(p.token_id.as_deref(), Some("j1"));
        assert_eq!(p.expires_at, 1_700_000_000);
        assert_eq!(p.kind, PrincipalKind::Agent);
        assert_eq!(p.issuer, "iss1");
    }

    #[test]
    fn groups_from_string_path_and_dotted_name() {
        let c = claims(
            json!({"sub":"s","exp":1,"g":"one","realm_access":{"roles":["r1"]},"https://x.io/groups":["u"]}),
        );
        assert_eq!(
            mapping("g", None).principal("i", &c).unwrap().groups,
            ["one"]
        );
        assert_eq!(
            mapping("realm_access.roles", None)
                .principal("i", &c)
                .unwrap()
                .groups,
            ["r1"]
        );
        assert_eq!(
            mapping("https://x.io/groups", None)
                .principal("i", &c)
                .unwrap()
                .groups,
            ["u"]
        );
        assert!(mapping("absent.path", None)
            .principal("i", &c)
            .unwrap()
            .groups
            .is_empty());
    }

    #[test]
    fn refuses_wrong_types_and_unknown_kind() {
        let m = mapping("groups", Some("kind"));
        let bad = [
            (
                json!({"exp":1,"kind":"human"}),
                AuthError::MissingClaim("sub"),
            ),
            (
                json!({"sub":"","exp":1,"kind":"human"}),
                AuthError::InvalidClaim("sub"),
            ),
            (
                json!({"sub":"s","exp":1,"kind":"robot"}),
                AuthError::InvalidClaim("kind"),
            ),
            (json!({"sub":"s","exp":1}), AuthError::MissingClaim("kind")),
            (
                json!({"sub":"s","exp":1,"kind":"human","groups":[1]}),
                AuthError::InvalidClaim("groups"),
            ),
            (
                json!({"sub":"s","exp":1,"kind":"human","email":5}),
                AuthError::InvalidClaim("email"),
            ),
            (
                json!({"sub":"s","exp":"soon","kind":"human"}),
                AuthError::InvalidClaim("exp"),
            ),
        ];
        for (c, want) in bad {
            assert_eq!(m.principal("i", &claims(c.clone())), Err(want), "{c}");
        }
    }
}
