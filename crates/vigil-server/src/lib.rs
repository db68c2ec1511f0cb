//! Wiring: turns a [`vigil_config::Config`] into a running proxy.
//!
//! - [`error`]: start-up errors, each naming what to fix.
//! - [`identity`]: the token verifier the proxy calls.
//! - [`policy`]: the default statement hook (classify → Rego policy → verdict).
//! - [`guard`]: the built-in guardrails hook (no Rego), and denial messages.
//! - [`wiring`]: config → identity, targets, TLS → [`vigil_proxy::Proxy`].
//! - [`app`]: the store, the audit writer, approvals, the web server, and
//!   the hooks built on them.
//! - [`auditor`]: write-ahead statement intents for the hook.
//! - [`approval_audit`]: approval lifecycle events as audit records.
//! - [`tag`]: what an allowed statement carries to its response phases.
//! - [`responses`]: the response phases composed: masking, audit outcomes.
//! - [`masking`]: the masking phase.
//! - [`outcomes`]: the audit outcome phase.
//! - [`session_audit`]: `session.start`/`session.end`/`auth.failure` in the audit trail.
//! - [`background`]: a proxy on its own runtime thread (tests, the demo).
//! - [`demo`]: `vigil demo`: a throw-away database with fake PII behind Vigil.

pub mod app;
pub mod approval_audit;
pub mod auditor;
pub mod background;
pub mod demo;
pub mod error;
pub mod guard;
pub mod identity;
pub mod masking;
pub mod outcomes;
pub mod policy;
pub mod responses;
pub mod session_audit;
pub mod tag;
pub mod wiring;

pub use background::BackgroundProxy;
pub use error::ServerError;
pub use guard::GuardrailHook;
pub use policy::clock::PolicyClock;
pub use policy::live::{LivePolicy, PolicySource};
pub use policy::{Asker, PolicyHook};
pub use wiring::{build_proxy, build_proxy_with, load_issuer, proxy_settings};

/// The statement hook `[policy]` asks for: the Rego bundle (default), the
/// built-in guardrails alone, or pass-through. Starts the hot-reload
/// watcher for a policy directory.
pub fn hook_for(
    cfg: &vigil_config::Config,
) -> Result<std::sync::Arc<dyn vigil_proxy::StatementHook>, ServerError> {
    use std::sync::Arc;
    use vigil_config::PolicyEngineKind;
    let p = &cfg.policy;
    if !p.guardrails {
        tracing::warn!("[policy] guardrails = false: statements are not checked");
        return Ok(Arc::new(vigil_proxy::AllowAll));
    }
    if p.engine == PolicyEngineKind::Guardrails {
        return Ok(Arc::new(GuardrailHook::new(p.classifier_cache)));
    }
    Ok(Arc::new(policy_hook(p)?))
}

/// The Rego policy hook for `[policy]`, with its watcher running.
pub fn policy_hook(p: &vigil_config::PolicyConfig) -> Result<PolicyHook, ServerError> {
    let source = match &p.path {
        Some(dir) => PolicySource::Dir(dir.clone()),
        None => PolicySource::Embedded,
    };
    let live = LivePolicy::load(source).map_err(|e| ServerError::Policy(e.to_string()))?;
    live.watch(std::time::Duration::from_secs(p.reload_secs));
    let clock = PolicyClock::new(&p.time_zone).map_err(ServerError::Policy)?;
    Ok(PolicyHook::new(
        live,
        p.classifier_cache,
        p.decision_cache,
        clock,
    ))
}
