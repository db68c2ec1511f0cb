//! What kind of sensitive data a value or column holds.
//!
//! Names follow Microsoft Presidio's entity names where one exists, so
//! catalogs and policies written for other tools read the same here.

use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt;

/// A classification name such as `EMAIL_ADDRESS`. Catalogs may use any
/// name (`PERSON`, `DATE_OF_BIRTH`, …); the detectors produce the constants.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Classification(Cow<'static, str>);

impl Classification {
    pub const EMAIL_ADDRESS: Classification = Classification::fixed("EMAIL_ADDRESS");
    pub const PHONE_NUMBER: Classification = Classification::fixed("PHONE_NUMBER");
    pub const US_SSN: Classification = Classification::fixed("US_SSN");
    pub const CREDIT_CARD: Classification = Classification::fixed("CREDIT_CARD");
    pub const IBAN_CODE: Classification = Classification::fixed("IBAN_CODE");
    pub const IP_ADDRESS: Classification = Classification::fixed("IP_ADDRESS");
    pub const JWT: Classification = Classification::fixed("JWT");
    pub const AWS_ACCESS_KEY: Classification = Classification::fixed("AWS_ACCESS_KEY");
    pub const AWS_SECRET_KEY: Classification = Classification::fixed("AWS_SECRET_KEY");
    pub const PRIVATE_KEY: Classification = Classification::fixed("PRIVATE_KEY");
    pub const API_KEY: Classification = Classification::fixed("API_KEY");
    pub const PASSWORD_HASH: Classification = Classification::fixed("PASSWORD_HASH");
    /// A clear-text password next to a keyword (`password=…`, URL userinfo).
    pub const PASSWORD: Classification = Classification::fixed("PASSWORD");
    pub const PERSON: Classification = Classification::fixed("PERSON");
    pub const ADDRESS: Classification = Classification::fixed("ADDRESS");
    pub const DATE_OF_BIRTH: Classification = Classification::fixed("DATE_OF_BIRTH");
    /// A computed result column (no table) of a statement that read
    /// classified columns: its origin cannot be traced, so it is masked.
    pub const COMPUTED: Classification = Classification::fixed("COMPUTED");
    /// A value Vigil masked because it could not tell what it was.
    pub const UNKNOWN: Classification = Classification::fixed("UNKNOWN");

    const fn fixed(name: &'static str) -> Classification {
        Classification(Cow::Borrowed(name))
    }

    /// Any name; upper-cased so policy keys and catalog entries agree.
    pub fn new(name: &str) -> Classification {
        Classification(Cow::Owned(name.trim().to_ascii_uppercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Credentials rather than personal data: the `secrets` policy group.
    pub fn is_secret(&self) -> bool {
        matches!(
            self.as_str(),
            "JWT"
                | "AWS_ACCESS_KEY"
                | "AWS_SECRET_KEY"
                | "PRIVATE_KEY"
                | "API_KEY"
                | "PASSWORD_HASH"
                | "PASSWORD"
        )
    }

    /// Values where "keep the last four" is the usual partial display.
    pub(crate) fn keeps_last4(&self) -> bool {
        matches!(
            self.as_str(),
            "CREDIT_CARD" | "PHONE_NUMBER" | "US_SSN" | "IBAN_CODE"
        )
    }
}

impl fmt::Display for Classification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
