//! [`ApprovalId`]: a request's id, a uuid in text form. Its own type so it
//! is never mixed up with a session id or a token id.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ApprovalError;

/// A request id (lowercase hyphenated uuid).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ApprovalId(String);

impl ApprovalId {
    /// A fresh random id.
    pub fn generate() -> Self {
        ApprovalId(uuid::Uuid::new_v4().to_string())
    }

    /// Parses an id from a URL or a command line. Anything but a uuid is
    /// refused, so hostile input never reaches a query as an "id".
    pub fn parse(s: &str) -> Result<Self, ApprovalError> {
        uuid::Uuid::parse_str(s.trim())
            .map(|u| ApprovalId(u.to_string()))
            .map_err(|_| ApprovalError::Invalid(format!("{s:?} is not a request id")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Wraps a stored id; the store only ever holds ids made by `generate`.
    pub(crate) fn from_stored(s: String) -> Self {
        ApprovalId(s)
    }
}

impl fmt::Display for ApprovalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_only_uuids() {
        let id = ApprovalId::generate();
        assert_eq!(ApprovalId::parse(id.as_str()).unwrap(), id);
        let upper = id.as_str().to_uppercase();
        assert_eq!(ApprovalId::parse(&upper).unwrap(), id, "normalized");
        assert!(ApprovalId::parse("1 OR 1=1").is_err());
        assert!(ApprovalId::parse("").is_err());
    }
}
