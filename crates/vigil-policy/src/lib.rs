//! Vigil's policy: the "decide" step of the data path. Given the classified
//! statement facts and the connection, it returns allow / review / deny
//! with the rules and reasons behind it. Pure and total: no I/O, no clock.
//!
//! - [`guardrail_decision`]: the built-in guardrails, the Rust fail-closed
//!   floor that needs no bundle.
//! - [`denial_message`]: the text the proxy sends the client on a denial.
//! - [`PolicyEngine`]: a Rego bundle (regorus) that decides a
//!   [`PolicyInput`] into a [`PolicyDecision`]; see `docs/policy.md`.
//! - [`TestResult`]: the bundle's own `test_*` rules, run by
//!   [`PolicyEngine::run_tests`].

mod bundle;
#[cfg(test)]
mod corpus;
mod default_bundle;
mod engine;
mod error;
mod guardrails;
mod input;
mod output;
mod rego_value;
mod sample;
mod testing;
mod yaml;

pub use bundle::dir_version;
pub use engine::{PolicyEngine, DECISION_RULE};
pub use error::PolicyError;
pub use guardrails::{denial_message, guardrail_decision, hint_for, RULE_PREFIX};
pub use input::{
    ClientInput, ConnectionInput, PolicyInput, PrincipalInput, SessionInput, StatementFacts,
    StatementInput, TimeInput,
};
pub use output::{Approvers, PolicyDecision, GUARDRAILS_VERSION, POLICY_ERROR_RULE};
pub use sample::sample_input;
pub use testing::TestResult;
