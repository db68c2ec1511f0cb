//! Vigil's shared vocabulary. Every other crate speaks in these types; this
//! crate does no I/O, reads no clock and owns no sockets.
//!
//! - [`principal`]: who is connected (the verified identity).
//! - [`ids`]: newtype ids so a session id is never confused with a backend pid.
//! - [`connection`]: the named database connection a client asked for.
//! - [`statement`]: what a SQL statement does (the classifier's output).
//! - [`decision`]: allow / review / deny, with the rules and reasons behind it.

pub mod connection;
pub mod decision;
pub mod ids;
pub mod principal;
pub mod statement;

pub use connection::ConnectionInfo;
pub use decision::{Decision, Verdict};
pub use ids::{BackendPid, SessionId};
pub use principal::{Principal, PrincipalKind};
pub use statement::{
    ClassifiedMessage, CopyDirection, CopyInfo, FlagId, RiskFlag, StatementInfo, StatementKind,
    TableAccess, TableRef,
};
