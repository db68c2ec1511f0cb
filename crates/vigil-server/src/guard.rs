//! The statement hook Vigil runs by default: classify with PostgreSQL's
//! grammar (cached by exact text), decide with the built-in guardrails,
//! deny with a message naming the guardrail and the way forward.

use crate::tag::Decided;
use std::sync::Arc;
use vigil_core::{ClassifiedMessage, ConnectionInfo, Decision, Verdict};
use vigil_policy::PolicyDecision;
use vigil_proxy::{Denial, HookVerdict, SessionContext, StatementHook, StatementRequest};
use vigil_sql::Classifier;

/// Classify → decide, on every Query and Parse.
pub struct GuardrailHook {
    classifier: Classifier,
}

impl GuardrailHook {
    pub fn new(cache_entries: usize) -> Self {
        GuardrailHook {
            classifier: Classifier::new(cache_entries),
        }
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
        match decision.verdict {
            // Tagged like the policy hook's, so the response phases (masking:
            // COPY formats, classified reads) see the statement here too.
            Verdict::Allow => HookVerdict::AllowWith(Arc::new(Decided::new(
                msg,
                Arc::new(PolicyDecision::from_guardrails(decision)),
            ))),
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
                HookVerdict::Deny(d)
            }
        }
    }
}
