//! The outcome of deciding a statement, with the rules that produced it so
//! that every decision explains itself.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Allow, hold for human review, or deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Allow,
    Review,
    Deny,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Allow => "allow",
            Verdict::Review => "review",
            Verdict::Deny => "deny",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A decision with its explanation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub verdict: Verdict,
    /// Human sentences, one per rule that fired.
    pub reasons: Vec<String>,
    /// Stable ids of the rules that fired, e.g. `guardrail.drop`.
    pub rules: Vec<String>,
    /// A hint the client sees with a denial: the way forward.
    pub hint: Option<String>,
}

impl Decision {
    pub fn allow() -> Self {
        Decision {
            verdict: Verdict::Allow,
            reasons: Vec::new(),
            rules: Vec::new(),
            hint: None,
        }
    }

    pub fn deny(rule: impl Into<String>, reason: impl Into<String>) -> Self {
        Decision {
            verdict: Verdict::Deny,
            reasons: vec![reason.into()],
            rules: vec![rule.into()],
            hint: None,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Combines two decisions: deny beats review beats allow; the
    /// explanations of the winning verdict are kept.
    pub fn combine(self, other: Decision) -> Decision {
        use std::cmp::Ordering;
        match self.verdict.cmp(&other.verdict) {
            Ordering::Greater => self,
            Ordering::Less => other,
            Ordering::Equal => {
                let mut out = self;
                out.reasons.extend(other.reasons);
                out.rules.extend(other.rules);
                if out.hint.is_none() {
                    out.hint = other.hint;
                }
                out
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deny_beats_review_beats_allow() {
        let a = Decision::allow();
        let r = Decision {
            verdict: Verdict::Review,
            reasons: vec!["r".into()],
            rules: vec!["x".into()],
            hint: None,
        };
        let d = Decision::deny("y", "d");
        assert_eq!(a.clone().combine(r.clone()).verdict, Verdict::Review);
        assert_eq!(r.clone().combine(d.clone()).verdict, Verdict::Deny);
        assert_eq!(d.combine(a).rules, vec!["y".to_string()]);
    }

    #[test]
    fn equal_verdicts_merge_reasons() {
        let d = Decision::deny("a", "ra").combine(Decision::deny("b", "rb"));
        assert_eq!(d.rules, vec!["a".to_string(), "b".to_string()]);
    }
}
