//! The statement hook Vigil runs by default: classify with PostgreSQL's
//! grammar, decide with the Rego policy bundle, and enforce the verdict.
//!
//! The Rust side keeps only the fail-closed floor: a statement that cannot
//! be parsed is denied whatever the policy says, and a policy that errors
//! denies (the engine is total). Review holds the statement for approval
//! ([`hold`]); without an approvals service it fails closed with
//! "approval required".
//!
//! - [`live`]: the policy in force and hot reload.
//! - [`cache`]: decisions cached for bundles that declare `cacheable`.
//! - [`clock`]: `input.time` in the configured time zone.
//! - [`hold`]: holding a `review` statement until a person decides.
//! - [`dry_run`]: a decision without a statement (`vigil policy eval`,
//!   `POST /api/policy/eval`).

pub mod cache;
pub mod clock;
pub mod dry_run;
pub mod hold;
pub mod live;

use crate::auditor::{Auditor, IntentFacts};
use crate::guard::denial;
use crate::tag::Decided;
use cache::{CacheKey, DecisionCache};
use clock::PolicyClock;
use hold::{Approvals, Held};
use live::LivePolicy;
use std::sync::Arc;
use vigil_core::{ClassifiedMessage, ConnectionInfo, Principal, Verdict};
use vigil_policy::{ClientInput, PolicyDecision, PolicyInput, SessionInput};
use vigil_proxy::{
    BindRequest, Denial, HookVerdict, Protocol, SessionContext, StatementHook, StatementRequest,
};
use vigil_sql::Classifier;

/// Who asks, where, from what client, in what session.
pub struct Asker<'a> {
    pub principal: &'a Principal,
    pub connection: &'a ConnectionInfo,
    pub client: ClientInput,
    pub session: SessionInput,
}

impl<'a> Asker<'a> {
    pub fn from_session(ctx: &'a SessionContext) -> Self {
        Asker {
            principal: &ctx.principal,
            connection: &ctx.connection,
            client: ClientInput {
                application_name: ctx.application_name.clone().unwrap_or_default(),
                address: ctx.client_addr.ip().to_string(),
                tls: ctx.tls,
            },
            session: SessionInput {
                in_transaction: ctx.in_transaction(),
                statements_so_far: ctx.statements_so_far(),
            },
        }
    }
}

/// Classify → policy → verdict, on every Query and Parse.
pub struct PolicyHook {
    classifier: Classifier,
    live: Arc<LivePolicy>,
    cache: DecisionCache,
    clock: PolicyClock,
    auditor: Option<Auditor>,
    approvals: Option<Approvals>,
}

impl PolicyHook {
    pub fn new(
        live: Arc<LivePolicy>,
        classifier_cache: usize,
        decision_cache: usize,
        clock: PolicyClock,
    ) -> Self {
        PolicyHook {
            classifier: Classifier::new(classifier_cache),
            live,
            cache: DecisionCache::new(decision_cache),
            clock,
            auditor: None,
            approvals: None,
        }
    }

    /// Records every statement's intent (write-ahead) in the audit trail.
    pub fn with_auditor(mut self, auditor: Auditor) -> Self {
        self.auditor = Some(auditor);
        self
    }

    /// Holds `review` statements for approval instead of refusing them.
    pub fn with_approvals(mut self, approvals: Approvals) -> Self {
        self.approvals = Some(approvals);
        self
    }

    pub fn live(&self) -> &Arc<LivePolicy> {
        &self.live
    }

    /// The facts and the decision for `sql` (also `vigil policy eval`).
    pub fn decide(
        &self,
        sql: &str,
        asker: Asker<'_>,
    ) -> (Arc<ClassifiedMessage>, Arc<PolicyDecision>) {
        let msg = self.classifier.classify(sql);
        let decision = self.decide_message(&msg, asker);
        (msg, decision)
    }

    fn decide_message(
        &self,
        msg: &Arc<ClassifiedMessage>,
        asker: Asker<'_>,
    ) -> Arc<PolicyDecision> {
        let engine = self.live.current();
        let key = CacheKey {
            msg,
            principal: asker.principal,
            connection: &asker.connection.name,
            version: engine.version(),
            grants: 0,
        };
        if engine.cacheable() {
            if let Some(d) = self.cache.get(&key) {
                return d;
            }
        }
        let input = PolicyInput::new(asker.principal, asker.connection, msg)
            .with_client(asker.client)
            .with_session(asker.session)
            .with_time(self.clock.now());
        let decision = Arc::new(floor(msg, asker.connection, engine.decide(&input)));
        if engine.cacheable() {
            self.cache.put(&key, Arc::clone(&decision));
        }
        decision
    }
}

/// The fail-closed floor: what cannot be parsed never runs, whatever the
/// policy decided.
fn floor(msg: &ClassifiedMessage, conn: &ConnectionInfo, d: PolicyDecision) -> PolicyDecision {
    if !msg.has_parse_error() || d.decision.verdict == Verdict::Deny {
        return d;
    }
    let mut floor = vigil_policy::guardrail_decision(msg, conn);
    floor.verdict = Verdict::Deny;
    PolicyDecision {
        decision: floor,
        ..d
    }
}

/// The client-facing error for a `review` verdict when no approval can be
/// requested (no approvals service, or the client cannot wait).
pub fn approval_required(d: &PolicyDecision) -> Denial {
    let rule = d.decision.rules.first().map_or("review", String::as_str);
    let reason = d.decision.reasons.join("; ");
    let mut out = Denial::new(format!("approval required by policy rule {rule}: {reason}"));
    let hint = d.decision.hint.clone().unwrap_or_default();
    out = out.with_hint(if hint.is_empty() {
        "approvals are not enabled on this Vigil; run it where they are, or ask an admin".to_owned()
    } else {
        format!("{hint} (approvals are not enabled on this Vigil)")
    });
    out
}

impl PolicyHook {
    /// Lets an allowed statement through, tagged with its decision; with
    /// an auditor, only once its intent is durable.
    fn admit(
        &self,
        ctx: &SessionContext,
        facts: IntentFacts<'_>,
        msg: Arc<ClassifiedMessage>,
        d: Arc<PolicyDecision>,
    ) -> HookVerdict {
        crate::auditor::admit(self.auditor.as_ref(), ctx, facts, msg, d)
    }

    fn refuse(
        &self,
        ctx: &SessionContext,
        facts: IntentFacts<'_>,
        msg: &ClassifiedMessage,
        d: &PolicyDecision,
        denial: Denial,
    ) -> HookVerdict {
        crate::auditor::record_refused(self.auditor.as_ref(), ctx, facts, msg, d);
        HookVerdict::Deny(denial)
    }

    /// A `review` verdict: held for approval, or refused when approvals
    /// are not enabled.
    fn review(
        &self,
        ctx: &SessionContext,
        held: Held,
        msg: Arc<ClassifiedMessage>,
        d: Arc<PolicyDecision>,
    ) -> HookVerdict {
        let facts = IntentFacts {
            sql: &held.sql,
            extended: held.extended,
            param_count: held.params.len(),
            approval_id: None,
        };
        let Some(approvals) = &self.approvals else {
            return self.refuse(ctx, facts, &msg, &d, approval_required(&d));
        };
        let audit = self
            .auditor
            .as_ref()
            .map(|a| (a.clone(), a.intent(ctx, &msg, &d, facts)));
        approvals.hold(ctx, held, msg, d, audit)
    }
}

fn log_not_allowed(ctx: &SessionContext, d: &PolicyDecision) {
    tracing::info!(
        session = %ctx.session_id,
        user = %ctx.principal.subject,
        connection = %ctx.connection.name,
        verdict = ?d.decision.verdict,
        rules = ?d.decision.rules,
        policy = %d.policy_version,
        "statement not allowed"
    );
}

impl StatementHook for PolicyHook {
    fn on_statement(&self, ctx: &SessionContext, req: &StatementRequest<'_>) -> HookVerdict {
        let (msg, d) = self.decide(req.sql, Asker::from_session(ctx));
        let extended = matches!(req.protocol, Protocol::Extended { .. });
        let facts = IntentFacts {
            sql: req.sql,
            extended,
            param_count: req.param_types.len(),
            approval_id: None,
        };
        match d.decision.verdict {
            Verdict::Allow => self.admit(ctx, facts, msg, d),
            // A Parse runs nothing: the Bind that carries the values is
            // what gets held (on_bind), so the approval covers them too.
            Verdict::Review if extended && self.approvals.is_some() => {
                HookVerdict::AllowWith(Arc::new(Decided::new(msg, d)))
            }
            Verdict::Review => {
                log_not_allowed(ctx, &d);
                self.review(ctx, Held::simple(req.sql), msg, d)
            }
            Verdict::Deny => {
                log_not_allowed(ctx, &d);
                let mut out = denial(&d.decision);
                if msg.has_parse_error() {
                    out = out.with_code("42601");
                }
                self.refuse(ctx, facts, &msg, &d, out)
            }
        }
    }

    fn on_bind(&self, ctx: &SessionContext, req: &BindRequest<'_>) -> HookVerdict {
        let Some(decided) = Decided::of(req.statement_tag) else {
            return HookVerdict::Allow;
        };
        if decided.decision.decision.verdict != Verdict::Review {
            return HookVerdict::Allow;
        }
        log_not_allowed(ctx, &decided.decision);
        let held = Held::bound(req.sql, req.params, req.param_formats);
        self.review(
            ctx,
            held,
            Arc::clone(&decided.msg),
            Arc::clone(&decided.decision),
        )
    }
}

#[cfg(test)]
mod tests;
