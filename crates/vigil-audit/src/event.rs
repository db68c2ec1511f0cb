//! The versioned event schema. Every record carries one event: its type
//! name (`event_type`, e.g. `statement.intent`) and its body (`event`, a
//! JSON object with stable snake_case field names). docs/audit.md shows an
//! example of each. Field names are a contract with SIEMs and third-party
//! verifiers: add fields (optional ones, so old records still decode), never
//! rename or remove them without a new [`SCHEMA_VERSION`].

mod admin;
mod session;
mod statement;

pub use admin::{
    ApprovalCreated, ApprovalDecided, ApprovalStatus, Approvers, ConfigLoaded, PolicyLoaded,
    Retention,
};
pub use session::{AuthFailure, SessionEnd, SessionStart};
pub use statement::{
    rows_from_command_tag, AuditDecision, AuditTable, MaskedCount, OutcomeStatus, Protocol,
    StatementIntent, StatementOutcome,
};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use vigil_core::{Principal, PrincipalKind};

/// The record layout and event schema version written today.
pub const SCHEMA_VERSION: u32 = 1;

/// Who acted, as the audit trail records it: the verified identity, never
/// what the client typed (that is `claimed_user` on `auth.failure`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPrincipal {
    /// The token's `sub`.
    pub sub: String,
    pub email: Option<String>,
    pub groups: Vec<String>,
    /// `human`, `service` or `agent`.
    pub kind: PrincipalKind,
    /// The token's `iss`.
    #[serde(default)]
    pub issuer: String,
}

impl From<&Principal> for AuditPrincipal {
    fn from(p: &Principal) -> Self {
        AuditPrincipal {
            sub: p.subject.clone(),
            email: p.email.clone(),
            groups: p.groups.clone(),
            kind: p.kind,
            issuer: p.issuer.clone(),
        }
    }
}

/// Points at one record of the same chain: how an outcome names its intent
/// and what `append` returns.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RecordRef {
    pub seq: u64,
    /// The record's `hash`.
    pub hash: String,
}

/// The body does not match its event type's schema.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("unknown event type {0:?}")]
    UnknownType(String),
    #[error("malformed {event_type} event: {source}")]
    Malformed {
        event_type: String,
        #[source]
        source: serde_json::Error,
    },
}

macro_rules! events {
    ($($variant:ident($body:ty) = $name:literal,)*) => {
        /// One audit event, typed.
        #[derive(Debug, Clone, PartialEq)]
        pub enum Event {
            $($variant($body),)*
        }

        /// Every event type name, in schema order.
        pub const EVENT_TYPES: &[&str] = &[$($name,)*];

        impl Event {
            /// The stable type name stored in `event_type`.
            pub fn event_type(&self) -> &'static str {
                match self {
                    $(Event::$variant(_) => $name,)*
                }
            }

            /// The body as a JSON value (what `event` holds).
            pub fn body(&self) -> Result<Value, serde_json::Error> {
                match self {
                    $(Event::$variant(b) => serde_json::to_value(b),)*
                }
            }

            /// The body's canonical JSON text (what `event` stores and the
            /// hash covers), written straight from the typed body: the same
            /// text as encoding [`Event::body`], without building it.
            pub fn canonical_text(&self) -> Result<String, crate::canonical::EncodeError> {
                match self {
                    $(Event::$variant(b) => crate::canonical::to_text(b),)*
                }
            }

            /// Decodes a stored `(event_type, event)` pair.
            pub fn from_parts(event_type: &str, body: &Value) -> Result<Event, EventError> {
                let malformed = |source| EventError::Malformed {
                    event_type: event_type.to_owned(),
                    source,
                };
                match event_type {
                    $($name => <$body>::deserialize(body).map(Event::$variant).map_err(malformed),)*
                    other => Err(EventError::UnknownType(other.to_owned())),
                }
            }
        }
    };
}

events! {
    SessionStart(SessionStart) = "session.start",
    SessionEnd(SessionEnd) = "session.end",
    AuthFailure(AuthFailure) = "auth.failure",
    StatementIntent(StatementIntent) = "statement.intent",
    StatementOutcome(StatementOutcome) = "statement.outcome",
    ApprovalCreated(ApprovalCreated) = "approval.created",
    ApprovalDecided(ApprovalDecided) = "approval.decided",
    PolicyLoaded(PolicyLoaded) = "policy.loaded",
    ConfigLoaded(ConfigLoaded) = "config.loaded",
    Retention(Retention) = "retention",
}

#[cfg(test)]
mod tests;
