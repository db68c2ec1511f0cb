//! The rules for one statement: `[masking] default` with the policy
//! decision's `mask` output on top. Built once per distinct `mask` object
//! and client encoding, not per row.

use super::settings::Shared;
use std::collections::BTreeMap;
use vigil_mask::{MaskError, MaskRules};
use vigil_pgwire::text::ClientEncoding;

/// Distinct policy `mask` objects remembered per session (policies emit
/// few: usually one per group or environment).
const REMEMBERED: usize = 8;

/// Per-session cache of rules by policy output.
#[derive(Debug)]
pub struct RulesCache {
    /// The defaults alone (no decision, or an empty `mask`).
    base: MaskRules,
    recent: Vec<(BTreeMap<String, String>, MaskRules)>,
}

impl RulesCache {
    pub fn new(shared: &Shared, encoding: ClientEncoding) -> Result<RulesCache, MaskError> {
        Ok(RulesCache {
            base: MaskRules::new(&shared.default, shared.key.clone(), encoding)?,
            recent: Vec::new(),
        })
    }

    /// The defaults alone: for messages that answer no statement.
    pub fn base(&self) -> &MaskRules {
        &self.base
    }

    /// The rules for a decision's `mask` output (`None`: no decision).
    pub fn get(
        &mut self,
        mask: Option<&BTreeMap<String, String>>,
    ) -> Result<&MaskRules, MaskError> {
        let Some(mask) = mask.filter(|m| !m.is_empty()) else {
            return Ok(&self.base);
        };
        let at = match self.recent.iter().position(|(m, _)| m == mask) {
            Some(i) => i,
            None => {
                let rules = self.base.overlay(mask)?;
                if self.recent.len() >= REMEMBERED {
                    self.recent.remove(0);
                }
                self.recent.push((mask.clone(), rules));
                self.recent.len() - 1
            }
        };
        self.recent
            .get(at)
            .map(|(_, r)| r)
            .ok_or(MaskError::Detectors("rules cache".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_mask::{Classification, HashKey, Strategy};

    fn shared(default: &[(&str, &str)]) -> Shared {
        Shared {
            key: HashKey::new([1; 32]),
            default: default
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            wholesale_computed: false,
        }
    }

    #[test]
    fn policy_sits_over_defaults_and_is_cached() {
        let mut c = RulesCache::new(&shared(&[("pii", "hash")]), ClientEncoding::Utf8).unwrap();
        let email = Classification::EMAIL_ADDRESS;
        assert_eq!(c.get(None).unwrap().for_class(&email), Strategy::Hash);
        let reveal: BTreeMap<_, _> = [("PHONE_NUMBER".to_string(), "reveal".to_string())].into();
        let r = c.get(Some(&reveal)).unwrap();
        assert_eq!(r.for_class(&Classification::PHONE_NUMBER), Strategy::Reveal);
        assert_eq!(r.for_class(&email), Strategy::Hash);
        for i in 0..20 {
            let m: BTreeMap<_, _> = [(format!("c{i}"), "null".to_string())].into();
            c.get(Some(&m)).unwrap();
        }
        assert!(c.recent.len() <= REMEMBERED);
        let bad: BTreeMap<_, _> = [("pii".to_string(), "scramble".to_string())].into();
        assert!(c.get(Some(&bad)).is_err());
    }
}
