//! Vigil's policy: the "decide" step of the data path. Given the classified
//! statement facts and the connection, it returns allow / review / deny
//! with the rules and reasons behind it. Pure and total: no I/O, no clock.
//!
//! - [`guardrail_decision`]: the built-in guardrails, the defaults until
//!   Rego policies land.
//! - [`denial_message`]: the text the proxy sends the client on a denial.

mod guardrails;

pub use guardrails::{denial_message, guardrail_decision, hint_for, RULE_PREFIX};
