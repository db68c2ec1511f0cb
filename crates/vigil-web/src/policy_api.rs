//! `POST /api/policy/eval`: the HTTP form of `vigil policy eval`. Decides
//! one statement with the policy in force, as a dry run: nothing is sent
//! to any database, nothing is held, nothing is audited.
//!
//! ```text
//! POST /api/policy/eval
//! {"connection": "shop-prod", "sql": "DELETE FROM orders WHERE id = 7",
//!  "as": "alice@example.com", "groups": ["dev"], "kind": "human"}
//! → {"connection": "shop-prod", "environment": "production",
//!    "statement": {…}, "decision": {"verdict": "review", "rules": […], …}}
//! ```
//!
//! Without `as`, `groups` and `kind` the statement is decided for the caller
//! (the token's identity): anyone signed in may ask "would this run for
//! me?". Deciding for someone else reveals what the policy grants them, so
//! it needs group `admin` or `policy`.

use axum::extract::rejection::JsonRejection;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use serde::Deserialize;
use vigil_core::{Principal, PrincipalKind};

use crate::auth::{check_csrf, Reviewer, CSRF_HEADER};
use crate::{WebError, WebState};

/// Groups that may decide a statement for another identity.
pub const POLICY_GROUPS: [&str; 2] = ["admin", "policy"];
/// Longest SQL text one call may send.
pub const MAX_SQL: usize = 1 << 20;

/// Decides statements without running them; the server implements it
/// over the live policy bundle and the configured connections.
pub trait PolicyDryRun: Send + Sync {
    /// The decision document for `sql` from `who` on `connection`, as
    /// `vigil policy eval --json` prints it.
    fn eval(
        &self,
        who: &Principal,
        connection: &str,
        sql: &str,
    ) -> Result<serde_json::Value, DryRunError>;
}

/// Why a dry run could not decide.
#[derive(Debug)]
pub enum DryRunError {
    /// No connection by that name in the configuration.
    UnknownConnection(String),
}

/// The request body. Unknown fields are refused, so a typo (`group`) is
/// not silently evaluated as the caller.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvalBody {
    pub connection: String,
    pub sql: String,
    /// Decide for this subject or email instead of the caller.
    #[serde(rename = "as")]
    pub who: Option<String>,
    pub groups: Option<Vec<String>>,
    /// `human`, `service` or `agent`.
    pub kind: Option<String>,
}

pub async fn eval(
    State(state): State<WebState>,
    caller: Reviewer,
    headers: HeaderMap,
    body: Result<Json<EvalBody>, JsonRejection>,
) -> Result<Json<serde_json::Value>, WebError> {
    if caller.via_cookie {
        let sent = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
        check_csrf(&headers, sent)?;
    }
    let Json(body) = body.map_err(|e| WebError::BadRequest(e.body_text()))?;
    let Some(dry_run) = state.policy.get() else {
        return Err(WebError::NotFound(
            "this Vigil decides with the built-in guardrails, not a Rego policy".to_owned(),
        ));
    };
    if body.sql.trim().is_empty() {
        return Err(WebError::BadRequest("sql is empty".to_owned()));
    }
    if body.sql.len() > MAX_SQL {
        return Err(WebError::BadRequest(format!(
            "sql is longer than {MAX_SQL} bytes"
        )));
    }
    let who = subject_for(&caller.principal, &body)?;
    dry_run
        .eval(&who, &body.connection, &body.sql)
        .map(Json)
        .map_err(|e| match e {
            DryRunError::UnknownConnection(name) => {
                WebError::BadRequest(format!("no connection named {name:?} in the configuration"))
            }
        })
}

/// The identity to decide for: the caller, or (for the policy groups) the
/// identity the body describes.
fn subject_for(caller: &Principal, body: &EvalBody) -> Result<Principal, WebError> {
    if body.who.is_none() && body.groups.is_none() && body.kind.is_none() {
        return Ok(caller.clone());
    }
    if !caller
        .groups
        .iter()
        .any(|g| POLICY_GROUPS.contains(&g.as_str()))
    {
        return Err(WebError::Forbidden(
            "deciding for another identity needs group admin or policy; omit as, groups and kind to decide for yourself".to_owned(),
        ));
    }
    let kind = match body.kind.as_deref() {
        None => PrincipalKind::Human,
        Some(k) => PrincipalKind::parse(k).ok_or_else(|| {
            WebError::BadRequest(format!("kind {k:?}: expected human, service or agent"))
        })?,
    };
    let who = body.who.clone().unwrap_or_else(|| caller.subject.clone());
    Ok(Principal {
        email: who.contains('@').then(|| who.clone()),
        subject: who,
        groups: body
            .groups
            .iter()
            .flatten()
            .filter(|g| !g.is_empty())
            .cloned()
            .collect(),
        issuer: "vigil-dry-run".to_owned(),
        token_id: None,
        expires_at: 0,
        kind,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(groups: &[&str]) -> Principal {
        Principal {
            subject: "carol".into(),
            email: None,
            groups: groups.iter().map(|g| (*g).to_owned()).collect(),
            issuer: "idp".into(),
            token_id: None,
            expires_at: 0,
            kind: PrincipalKind::Human,
        }
    }

    fn body(who: Option<&str>, groups: Option<&[&str]>, kind: Option<&str>) -> EvalBody {
        EvalBody {
            connection: "db".into(),
            sql: "SELECT 1".into(),
            who: who.map(str::to_owned),
            groups: groups.map(|g| g.iter().map(|s| (*s).to_owned()).collect()),
            kind: kind.map(str::to_owned),
        }
    }

    #[test]
    fn without_an_identity_the_caller_is_decided_for() {
        let c = caller(&["dev"]);
        assert_eq!(subject_for(&c, &body(None, None, None)).unwrap(), c);
    }

    #[test]
    fn deciding_for_someone_else_needs_a_policy_group() {
        let err = subject_for(&caller(&["dev"]), &body(Some("alice"), None, None)).unwrap_err();
        assert!(matches!(err, WebError::Forbidden(_)), "{err:?}");
        // Groups alone also describe another identity.
        let err = subject_for(&caller(&["dev"]), &body(None, Some(&["dba"]), None)).unwrap_err();
        assert!(matches!(err, WebError::Forbidden(_)), "{err:?}");
        let p = subject_for(
            &caller(&["policy"]),
            &body(Some("alice@example.com"), Some(&["dev", ""]), Some("agent")),
        )
        .unwrap();
        assert_eq!(p.subject, "alice@example.com");
        assert_eq!(p.email.as_deref(), Some("alice@example.com"));
        assert_eq!(p.groups, vec!["dev".to_owned()]);
        assert_eq!(p.kind, PrincipalKind::Agent);
    }

    #[test]
    fn an_unknown_kind_is_a_bad_request() {
        let err = subject_for(&caller(&["admin"]), &body(None, None, Some("robot"))).unwrap_err();
        assert!(matches!(err, WebError::BadRequest(_)), "{err:?}");
    }
}
