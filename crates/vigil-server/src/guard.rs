//! The statement hook of `[policy] engine = "guardrails"`: classify with
//! PostgreSQL's grammar (cached by exact text), decide with the built-in
//! guardrails, deny with a message naming the guardrail and the way
//! forward. With the audit trail on, it records intents as the Rego
//! engine's hook does: an allowed statement runs only once its intent is
//! durable, and a refused one is recorded too.

use crate::auditor::{self, Auditor, IntentFacts};
use std::sync::Arc;
use vigil_core::{ClassifiedMessage, ConnectionInfo, Decision, Verdict};
use vigil_policy::PolicyDecision;
use vigil_proxy::{Denial, HookVerdict, Protocol, SessionContext, StatementHook, StatementRequest};
use vigil_sql::Classifier;

/// Classify → decide, on every Query and Parse.
pub struct GuardrailHook {
    classifier: Classifier,
    auditor: Option<Auditor>,
}

impl GuardrailHook {
    pub fn new(cache_entries: usize) -> Self {
        GuardrailHook {
            classifier: Classifier::new(cache_entries),
            auditor: None,
        }
    }

    /// Records every statement in the audit trail (write-ahead).
    pub fn with_auditor(mut self, auditor: Auditor) -> Self {
        self.auditor = Some(auditor);
        self
    }

    /// The facts and the decision for `sql` on `conn` (also `vigil explain`).
    pub fn explain(&self, sql: &str, conn: &ConnectionInfo) -> (Arc<ClassifiedMessage>, Decision) {
        let msg = self.classifier.classify(sql);
        let decision = vigil_policy::guardrail_decision(&msg, conn);
        (msg, decision)
    }
}

/// The client-facing error for a decision that is not `allow`.
pub fn denial(decision: &Decision) -> Denial {
    let message = vigil_policy::denial_message(decision);
    let reason = message.strip_prefix("vigil: ").unwrap_or(&message);
    let mut d = Denial::new(reason);
    if let Some(h) = &decision.hint {
        d = d.with_hint(h.clone());
    }
    if decision.reasons.len() > 1 {
        d = d.with_detail(format!("also: {}", decision.reasons[1..].join("; ")));
    }
    d
}

impl StatementHook for GuardrailHook {
    fn on_statement(&self, ctx: &SessionContext, req: &StatementRequest<'_>) -> HookVerdict {
        let (msg, decision) = self.explain(req.sql, &ctx.connection);
        let facts = IntentFacts {
            sql: req.sql,
            extended: matches!(req.protocol, Protocol::Extended { .. }),
            param_count: req.param_types.len(),
            approval_id: None,
        };
        match decision.verdict {
            // Tagged like the policy hook's, so the response phases (masking:
            // COPY formats, classified reads; audit outcomes) see the
            // statement here too.
            Verdict::Allow => {
                let d = Arc::new(PolicyDecision::from_guardrails(decision));
                auditor::admit(self.auditor.as_ref(), ctx, facts, msg, d)
            }
            // Review needs the approvals service; until then it fails closed.
            Verdict::Review | Verdict::Deny => {
                tracing::info!(
                    session = %ctx.session_id,
                    user = %ctx.principal.subject,
                    connection = %ctx.connection.name,
                    rules = ?decision.rules,
                    fingerprint = msg.statements.first().map(|s| s.fingerprint.as_str()).unwrap_or(""),
                    "statement denied"
                );
                let mut d = denial(&decision);
                // Unparseable by PostgreSQL's own grammar is a syntax error
                // the server would raise too: keep the code clients and
                // agents act on (42601), while the message names the guardrail.
                if msg.has_parse_error() {
                    d = d.with_code("42601");
                }
                if self.auditor.is_some() {
                    let decided = PolicyDecision::from_guardrails(decision);
                    auditor::record_refused(self.auditor.as_ref(), ctx, facts, &msg, &decided);
                }
                HookVerdict::Deny(d)
            }
        }
    }
}
