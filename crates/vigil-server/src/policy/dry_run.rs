//! Dry runs: the decision for a statement that is not run, held or
//! audited. `vigil policy eval` prints it; `POST /api/policy/eval`
//! (vigil-web) answers it over HTTP with the policy in force. Both print
//! the same document, built here.

use super::clock::PolicyClock;
use super::live::LivePolicy;
use super::{Asker, PolicyHook};
use std::collections::HashMap;
use std::sync::Arc;
use vigil_core::{ClassifiedMessage, ConnectionInfo, Principal};
use vigil_policy::PolicyDecision;
use vigil_web::policy_api::{DryRunError, PolicyDryRun};

/// Decides statements for the configured connections with the live policy.
pub struct DryRun {
    hook: PolicyHook,
    connections: HashMap<String, ConnectionInfo>,
}

impl DryRun {
    /// Shares `live` with the proxy's hook, so a dry run sees the version
    /// hot reload put in force. No decision cache: dry runs are rare.
    pub fn new(
        live: Arc<LivePolicy>,
        clock: PolicyClock,
        connections: impl IntoIterator<Item = ConnectionInfo>,
    ) -> Self {
        DryRun {
            hook: PolicyHook::new(live, 16, 0, clock),
            connections: connections
                .into_iter()
                .map(|c| (c.name.clone(), c))
                .collect(),
        }
    }

    /// The report for `sql` from `who` on `conn` (which need not be
    /// configured: the CLI evaluates ad-hoc connections).
    pub fn report(&self, who: &Principal, conn: &ConnectionInfo, sql: &str) -> Report {
        let asker = Asker {
            principal: who,
            connection: conn,
            client: Default::default(),
            session: Default::default(),
        };
        let (statement, decision) = self.hook.decide(sql, asker);
        Report {
            connection: conn.clone(),
            statement,
            decision,
        }
    }
}

impl PolicyDryRun for DryRun {
    fn eval(
        &self,
        who: &Principal,
        connection: &str,
        sql: &str,
    ) -> Result<serde_json::Value, DryRunError> {
        let conn = self
            .connections
            .get(connection)
            .ok_or_else(|| DryRunError::UnknownConnection(connection.to_owned()))?;
        Ok(self.report(who, conn, sql).json())
    }
}

/// One dry run's result.
pub struct Report {
    pub connection: ConnectionInfo,
    pub statement: Arc<ClassifiedMessage>,
    pub decision: Arc<PolicyDecision>,
}

impl Report {
    /// `{connection, environment, statement, decision}`: the document of
    /// `vigil policy eval --json` and of the HTTP API.
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "connection": self.connection.name,
            "environment": self.connection.environment,
            "statement": &*self.statement,
            "decision": decision_json(&self.decision),
        })
    }
}

/// The decision as JSON (the output document, normalized).
pub fn decision_json(d: &PolicyDecision) -> serde_json::Value {
    serde_json::json!({
        "verdict": d.decision.verdict,
        "rules": d.decision.rules,
        "reasons": d.decision.reasons,
        "hint": d.decision.hint,
        "approvers": d.approvers.as_ref().map(|a| serde_json::json!({"groups": a.groups, "count": a.count})),
        "mask": d.mask,
        "max_rows": d.max_rows,
        "review_timeout_secs": d.review_timeout_secs,
        "approval_mode": if d.approval_nowait { "nowait" } else { "wait" },
        "policy_version": d.policy_version,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_core::PrincipalKind;
    use vigil_policy::PolicyEngine;

    fn dry_run() -> DryRun {
        let engine = PolicyEngine::default_bundle().expect("default bundle");
        let conn = |name: &str, env: &str| ConnectionInfo {
            name: name.into(),
            engine: "postgres".into(),
            environment: env.into(),
            ..ConnectionInfo::default()
        };
        DryRun::new(
            LivePolicy::fixed(engine),
            PolicyClock::utc(),
            [conn("shop-prod", "production"), conn("shop-dev", "dev")],
        )
    }

    fn dev(kind: PrincipalKind) -> Principal {
        Principal {
            subject: "alice".into(),
            email: None,
            groups: vec!["dev".into()],
            issuer: "idp".into(),
            token_id: None,
            expires_at: 0,
            kind,
        }
    }

    #[test]
    fn decides_by_connection_and_identity() {
        let d = dry_run();
        let sql = "DELETE FROM orders WHERE id = 7";
        let prod = d
            .eval(&dev(PrincipalKind::Human), "shop-prod", sql)
            .unwrap();
        assert_eq!(prod["decision"]["verdict"], "review", "{prod}");
        assert_eq!(prod["environment"], "production");
        assert_eq!(prod["decision"]["approvers"]["groups"][0], "dba");
        let dev_conn = d.eval(&dev(PrincipalKind::Human), "shop-dev", sql).unwrap();
        assert_eq!(dev_conn["decision"]["verdict"], "allow", "{dev_conn}");
        let agent = d.eval(&dev(PrincipalKind::Agent), "shop-dev", sql).unwrap();
        assert_eq!(agent["decision"]["verdict"], "review", "{agent}");
        assert!(agent["decision"]["policy_version"].is_string());
    }

    #[test]
    fn an_unknown_connection_is_refused() {
        let err = dry_run()
            .eval(&dev(PrincipalKind::Human), "nope", "SELECT 1")
            .unwrap_err();
        assert!(matches!(err, DryRunError::UnknownConnection(n) if n == "nope"));
    }
}
