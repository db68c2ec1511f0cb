//! The audit trail's side of the statement hook: an intent record is
//! durably committed before a statement is forwarded (write-ahead), and a
//! statement is refused with SQLSTATE 58030 when it cannot be — unless the
//! connection chose fail-open (non-production only, checked at load).
//! Denied statements are recorded too, without delaying the error.

use crate::tag::Decided;
use std::collections::HashMap;
use std::sync::Arc;
use vigil_audit::event::{AuditDecision, AuditTable, Protocol, StatementIntent};
use vigil_audit::{AuditPrincipal, Event};
use vigil_core::ClassifiedMessage;
use vigil_policy::PolicyDecision;
use vigil_proxy::{Denial, HookVerdict, SessionContext};
use vigil_store::audit::AuditLog;

/// Per-connection audit settings.
#[derive(Debug, Clone, Copy, Default)]
pub struct ConnectionAudit {
    pub redact_literals: bool,
    pub fail_open: bool,
}

/// Writes statement intents for the hook.
#[derive(Clone)]
pub struct Auditor {
    log: AuditLog,
    connections: HashMap<String, ConnectionAudit>,
}

/// The intent's context beyond the decision.
pub struct IntentFacts<'a> {
    pub sql: &'a str,
    pub extended: bool,
    pub param_count: usize,
    pub approval_id: Option<String>,
}

impl Auditor {
    pub fn new(log: AuditLog, connections: HashMap<String, ConnectionAudit>) -> Self {
        Auditor { log, connections }
    }

    pub fn log(&self) -> &AuditLog {
        &self.log
    }

    /// Whether `connection` lets statements run when the trail is down.
    pub fn fail_open(&self, connection: &str) -> bool {
        self.settings(connection).fail_open
    }

    fn settings(&self, connection: &str) -> ConnectionAudit {
        self.connections
            .get(connection)
            .copied()
            .unwrap_or_default()
    }

    /// The `statement.intent` event for a decided message.
    pub fn intent(
        &self,
        ctx: &SessionContext,
        msg: &ClassifiedMessage,
        d: &PolicyDecision,
        facts: IntentFacts<'_>,
    ) -> Event {
        let redact = self.settings(&ctx.connection.name).redact_literals;
        let sql = if redact {
            msg.statements
                .iter()
                .map(|s| s.redacted_sql.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        } else {
            facts.sql.to_owned()
        };
        Event::StatementIntent(StatementIntent {
            session_id: ctx.session_id.0,
            principal: AuditPrincipal::from(&ctx.principal),
            connection: ctx.connection.name.clone(),
            environment: ctx.connection.environment.clone(),
            sql,
            sql_redacted: redact,
            fingerprint: msg
                .statements
                .iter()
                .map(|s| s.fingerprint.as_str())
                .collect::<Vec<_>>()
                .join(","),
            kind: msg.kind,
            tables: AuditTable::from_refs(&msg.tables),
            flags: msg.flags.iter().map(|f| f.id).collect(),
            protocol: if facts.extended {
                Protocol::Extended
            } else {
                Protocol::Simple
            },
            param_count: u32::try_from(facts.param_count).unwrap_or(u32::MAX),
            decision: AuditDecision::new(&d.decision, d.bundle_version().map(str::to_owned)),
            approval_id: facts.approval_id,
        })
    }

    /// Write-ahead: commits `event`, then lets the statement through,
    /// tagged with `decided` (its `intent` set to the committed record).
    pub fn allow_after_intent(
        &self,
        ctx: &SessionContext,
        event: Event,
        mut decided: Decided,
    ) -> HookVerdict {
        let log = self.log.clone();
        let fail_open = self.settings(&ctx.connection.name).fail_open;
        let session = ctx.session_id;
        HookVerdict::Hold(Box::pin(async move {
            match log.append(&event).await {
                Ok(r) => {
                    decided.intent = Some(r);
                    HookVerdict::AllowWith(std::sync::Arc::new(decided))
                }
                Err(e) if fail_open => {
                    tracing::warn!(%session, error = %e, "audit unavailable; fail-open connection lets the statement run");
                    HookVerdict::AllowWith(std::sync::Arc::new(decided))
                }
                Err(e) => {
                    tracing::error!(%session, error = %e, "audit unavailable; statement refused");
                    HookVerdict::Deny(unavailable())
                }
            }
        }))
    }

    /// Records a refused statement without delaying the refusal.
    pub fn record_refusal(&self, event: Event) {
        let log = self.log.clone();
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                match log.submit(&event).await {
                    Ok(ticket) => drop(ticket),
                    Err(e) => tracing::warn!(error = %e, "cannot record a refused statement"),
                }
            });
        }
    }
}

/// Lets an allowed statement through, tagged with its decision; with an
/// auditor, only once its intent is durable. Both engines' hooks admit
/// through here.
pub fn admit(
    auditor: Option<&Auditor>,
    ctx: &SessionContext,
    facts: IntentFacts<'_>,
    msg: Arc<ClassifiedMessage>,
    d: Arc<PolicyDecision>,
) -> HookVerdict {
    match auditor {
        Some(a) => {
            let event = a.intent(ctx, &msg, &d, facts);
            a.allow_after_intent(ctx, event, Decided::new(msg, d))
        }
        None => HookVerdict::AllowWith(Arc::new(Decided::new(msg, d))),
    }
}

/// Records a refused statement (without delaying the refusal), if there
/// is an auditor.
pub fn record_refused(
    auditor: Option<&Auditor>,
    ctx: &SessionContext,
    facts: IntentFacts<'_>,
    msg: &ClassifiedMessage,
    d: &PolicyDecision,
) {
    if let Some(a) = auditor {
        a.record_refusal(a.intent(ctx, msg, d, facts));
    }
}

/// The error a statement gets when its intent cannot be recorded.
pub fn unavailable() -> Denial {
    Denial::new("audit unavailable: the statement was not run because it could not be recorded")
        .with_code("58030")
        .with_hint("retry shortly; if it persists, ask an admin to check Vigil's audit store")
}
