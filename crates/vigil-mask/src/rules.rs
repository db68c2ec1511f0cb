//! Which strategy applies to which classification or column, resolved
//! from the policy decision's `mask` object.
//!
//! Keys, most specific first: `schema.table.column`, `table.column`, a
//! classification name (`EMAIL_ADDRESS`), a group (`pii`, `secrets`), and
//! `*` for everything. Anything not named gets the built-in default, so
//! masking is on even when the policy says nothing; only an explicit
//! `reveal` turns it off.

use crate::detect::Kind;
use crate::strategy::{HashKey, Strategy};
use crate::{Classification, MaskError};
use std::collections::BTreeMap;
use vigil_pgwire::text::ClientEncoding;

/// Strategies for one statement's results, plus the session facts every
/// masker needs (the hash key and the client encoding).
#[derive(Debug, Clone)]
pub struct MaskRules {
    classes: BTreeMap<Classification, Strategy>,
    columns: BTreeMap<String, Strategy>,
    pii: Option<Strategy>,
    secrets: Option<Strategy>,
    all: Option<Strategy>,
    /// `for_class` of each detector kind's classification, resolved once
    /// (every detected span asks).
    kinds: [Strategy; Kind::ALL.len()],
    key: HashKey,
    encoding: ClientEncoding,
}

/// The strategy a classification gets when the policy names nothing for it.
pub fn default_strategy(class: &Classification) -> Strategy {
    match class.as_str() {
        "EMAIL_ADDRESS" | "CREDIT_CARD" | "PHONE_NUMBER" | "IBAN_CODE" => Strategy::Partial,
        _ => Strategy::Redact,
    }
}

impl MaskRules {
    /// Built-in defaults only.
    pub fn defaults(key: HashKey, encoding: ClientEncoding) -> MaskRules {
        let mut rules = MaskRules {
            classes: BTreeMap::new(),
            columns: BTreeMap::new(),
            pii: None,
            secrets: None,
            all: None,
            kinds: [Strategy::Redact; Kind::ALL.len()],
            key,
            encoding,
        };
        rules.resolve_kinds();
        rules
    }

    fn resolve_kinds(&mut self) {
        self.kinds = Kind::ALL.map(|k| self.for_class(&k.classification()));
    }

    /// From the policy's `mask` object. An unknown strategy is an error:
    /// the caller fails closed.
    pub fn new(
        policy: &BTreeMap<String, String>,
        key: HashKey,
        encoding: ClientEncoding,
    ) -> Result<MaskRules, MaskError> {
        MaskRules::defaults(key, encoding).overlay(policy)
    }

    /// These rules with `policy`'s entries on top: a key the policy names
    /// replaces the same key here (how the policy's `mask` output sits
    /// over the configured defaults).
    pub fn overlay(&self, policy: &BTreeMap<String, String>) -> Result<MaskRules, MaskError> {
        let mut rules = self.clone();
        for (k, v) in policy {
            let strategy = Strategy::parse(v).ok_or_else(|| MaskError::UnknownStrategy {
                key: k.clone(),
                strategy: v.clone(),
            })?;
            rules.set(k, strategy);
        }
        rules.resolve_kinds();
        Ok(rules)
    }

    fn set(&mut self, key: &str, strategy: Strategy) {
        let key = key.trim();
        if key.contains('.') {
            self.columns.insert(key.to_ascii_lowercase(), strategy);
            return;
        }
        match key.to_ascii_lowercase().as_str() {
            "pii" => self.pii = Some(strategy),
            "secret" | "secrets" => self.secrets = Some(strategy),
            "*" | "all" => self.all = Some(strategy),
            _ => {
                self.classes.insert(Classification::new(key), strategy);
            }
        }
    }

    /// The strategy for a classification.
    pub fn for_class(&self, class: &Classification) -> Strategy {
        let group = if class.is_secret() {
            self.secrets
        } else {
            self.pii
        };
        self.classes
            .get(class)
            .copied()
            .or(group)
            .or(self.all)
            .unwrap_or_else(|| default_strategy(class))
    }

    /// The strategy for a catalogued column: a column key beats its
    /// classification.
    pub fn for_column(
        &self,
        schema: &str,
        table: &str,
        column: &str,
        class: &Classification,
    ) -> Strategy {
        let full = format!("{schema}.{table}.{column}").to_ascii_lowercase();
        let short = format!("{table}.{column}").to_ascii_lowercase();
        self.columns
            .get(&full)
            .or_else(|| self.columns.get(&short))
            .copied()
            .unwrap_or_else(|| self.for_class(class))
    }

    pub(crate) fn for_kind(&self, kind: Kind) -> Strategy {
        match self.kinds.get(kind as usize) {
            Some(s) => *s,
            None => self.for_class(&kind.classification()),
        }
    }

    pub fn key(&self) -> &HashKey {
        &self.key
    }

    pub fn encoding(&self) -> ClientEncoding {
        self.encoding
    }

    /// The same rules for a session whose client_encoding changed.
    pub fn with_encoding(mut self, encoding: ClientEncoding) -> MaskRules {
        self.encoding = encoding;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(pairs: &[(&str, &str)]) -> Result<MaskRules, MaskError> {
        let map = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        MaskRules::new(&map, HashKey::new([0; 32]), ClientEncoding::Utf8)
    }

    #[test]
    fn precedence() {
        let r = rules(&[
            ("pii", "redact"),
            ("email_address", "hash"),
            ("public.users.email", "reveal"),
            ("secrets", "refuse"),
        ])
        .unwrap();
        let email = Classification::EMAIL_ADDRESS;
        assert_eq!(
            r.for_column("public", "users", "email", &email),
            Strategy::Reveal
        );
        assert_eq!(
            r.for_column("public", "staff", "email", &email),
            Strategy::Hash
        );
        assert_eq!(r.for_class(&Classification::CREDIT_CARD), Strategy::Redact);
        assert_eq!(r.for_class(&Classification::JWT), Strategy::Refuse);
    }

    #[test]
    fn overlay_replaces_named_keys_only() {
        let base = rules(&[("PII", "hash"), ("secrets", "null")]).unwrap();
        let map = [("pii".to_string(), "reveal".to_string())]
            .into_iter()
            .collect();
        let r = base.overlay(&map).unwrap();
        assert_eq!(
            r.for_class(&Classification::EMAIL_ADDRESS),
            Strategy::Reveal
        );
        assert_eq!(r.for_class(&Classification::JWT), Strategy::Null);
        assert_eq!(
            base.for_class(&Classification::EMAIL_ADDRESS),
            Strategy::Hash
        );
        let bad = [("x".to_string(), "nope".to_string())]
            .into_iter()
            .collect();
        assert!(base.overlay(&bad).is_err());
    }

    #[test]
    fn defaults_mask_everything_and_unknown_fails() {
        let r = rules(&[]).unwrap();
        assert_eq!(
            r.for_class(&Classification::EMAIL_ADDRESS),
            Strategy::Partial
        );
        assert_eq!(
            r.for_class(&Classification::new("whatever")),
            Strategy::Redact
        );
        assert!(matches!(
            rules(&[("pii", "scramble")]),
            Err(MaskError::UnknownStrategy { .. })
        ));
    }
}
