//! The verified identity attached to a session. It comes only from a
//! verified token, never from what the client typed as `user`.

use serde::{Deserialize, Serialize};
use std::fmt;

/// What sort of actor holds the identity. Policy treats agents differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum PrincipalKind {
    #[default]
    Human,
    Service,
    Agent,
}

impl PrincipalKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalKind::Human => "human",
            PrincipalKind::Service => "service",
            PrincipalKind::Agent => "agent",
        }
    }

    /// Parses `human`, `service` or `agent`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "human" => Some(PrincipalKind::Human),
            "service" => Some(PrincipalKind::Service),
            "agent" => Some(PrincipalKind::Agent),
            _ => None,
        }
    }
}

impl fmt::Display for PrincipalKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A verified identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    /// The token's `sub` claim.
    pub subject: String,
    /// The token's `email` claim, if any.
    pub email: Option<String>,
    /// Groups from the issuer's configured groups claim.
    pub groups: Vec<String>,
    /// The token's `iss` claim (an issuer configured in Vigil).
    pub issuer: String,
    /// The token's `jti` claim, if any.
    pub token_id: Option<String>,
    /// Expiry as seconds since the Unix epoch (`exp`).
    pub expires_at: i64,
    /// Human, service account or AI agent.
    pub kind: PrincipalKind,
}

impl Principal {
    /// True when `name` (the startup `user`) names this principal: its
    /// subject or its email.
    pub fn is_named(&self, name: &str) -> bool {
        self.subject == name || self.email.as_deref() == Some(name)
    }

    /// True when the principal belongs to `group`.
    pub fn in_group(&self, group: &str) -> bool {
        self.groups.iter().any(|g| g == group)
    }
}
