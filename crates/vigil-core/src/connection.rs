//! The named connection a client asked for (the startup `database`), as the
//! policy and audit layers see it. Credentials are not part of it.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Facts about a configured connection that decisions may depend on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ConnectionInfo {
    /// The connection's name, as the client gave it in `dbname`.
    pub name: String,
    /// The database engine, e.g. `postgres`.
    pub engine: String,
    /// The `environment` label, e.g. `production`, `staging`, `dev`.
    pub environment: String,
    /// Free-form labels from the config.
    pub labels: BTreeMap<String, String>,
    /// Whether opaque code (DO blocks, functions, CALL, …) may run here.
    pub allow_opaque_code: bool,
}

impl ConnectionInfo {
    pub fn is_production(&self) -> bool {
        self.environment == "production" || self.environment == "prod"
    }
}
