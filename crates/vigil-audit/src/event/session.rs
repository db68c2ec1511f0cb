//! Connection-level events: a session starts, ends, or never gets past
//! authentication.

use super::AuditPrincipal;
use serde::{Deserialize, Serialize};

/// `session.start`: a client authenticated and was connected upstream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionStart {
    /// Vigil's session id, unique within one replica's chain.
    pub session_id: u64,
    pub principal: AuditPrincipal,
    /// The client's `ip:port`.
    pub client_addr: String,
    /// The startup `application_name`, if the client sent one.
    #[serde(default)]
    pub application_name: Option<String>,
    /// Whether the client connection is TLS.
    pub tls: bool,
    /// The connection name the client asked for.
    pub connection: String,
    /// The connection's `environment` label.
    pub environment: String,
}

/// `session.end`: the session is over, with its totals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionEnd {
    pub session_id: u64,
    pub principal: AuditPrincipal,
    pub client_addr: String,
    #[serde(default)]
    pub application_name: Option<String>,
    pub tls: bool,
    pub connection: String,
    pub environment: String,
    /// From authentication to the end, in milliseconds.
    pub duration_ms: u64,
    /// Statements the client sent (allowed, held and denied alike).
    pub statements: u64,
    /// Bytes received from the client.
    pub bytes_in: u64,
    /// Bytes sent to the client.
    pub bytes_out: u64,
    /// Why it ended (`client closed`, `token expired`, an error), if known.
    #[serde(default)]
    pub reason: Option<String>,
}

/// `auth.failure`: a connection attempt was refused before a session began.
/// The token itself is never recorded, only why it failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthFailure {
    /// Why, e.g. `token expired`, `unknown issuer`, `bad signature`.
    pub reason: String,
    pub client_addr: String,
    /// The startup `user` the client typed: a claim, not an identity.
    #[serde(default)]
    pub claimed_user: Option<String>,
    /// The connection (startup `database`) it asked for.
    #[serde(default)]
    pub connection: Option<String>,
    #[serde(default)]
    pub application_name: Option<String>,
    pub tls: bool,
}
