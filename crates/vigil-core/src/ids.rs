//! Newtype ids. Each id is its own type so they cannot be mixed up.

use serde::{Deserialize, Serialize};
use std::fmt;

/// One client session through the proxy, unique within a Vigil process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SessionId(pub u64);

/// A process id as announced in BackendKeyData. Vigil hands each client its
/// own (virtual) pid; the real backend pid is kept beside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BackendPid(pub i32);

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s{}", self.0)
    }
}

impl fmt::Display for BackendPid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}
