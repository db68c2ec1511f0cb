//! Wiring: turns a [`vigil_config::Config`] into a running proxy.
//!
//! - [`error`]: start-up errors, each naming what to fix.
//! - [`identity`]: the token verifier the proxy calls.
//! - [`guard`]: the default statement hook (classify → guardrails).
//! - [`wiring`]: config → identity, targets, TLS → [`vigil_proxy::Proxy`].
//! - [`background`]: a proxy on its own runtime thread (tests, the demo).
//! - [`demo`]: `vigil demo`: a throw-away database with fake PII behind Vigil.

pub mod background;
pub mod demo;
pub mod error;
pub mod guard;
pub mod identity;
pub mod wiring;

pub use background::BackgroundProxy;
pub use error::ServerError;
pub use guard::GuardrailHook;
pub use wiring::{build_proxy, load_issuer, proxy_settings};

/// The statement hook `[policy]` asks for: the guardrails, or pass-through.
pub fn hook_for(cfg: &vigil_config::Config) -> std::sync::Arc<dyn vigil_proxy::StatementHook> {
    if cfg.policy.guardrails {
        std::sync::Arc::new(GuardrailHook::new(cfg.policy.classifier_cache))
    } else {
        tracing::warn!("[policy] guardrails = false: statements are not checked");
        std::sync::Arc::new(vigil_proxy::AllowAll)
    }
}
