//! The output document `data.vigil.decision`, read strictly: anything the
//! proxy cannot act on exactly as written becomes a denial, never a guess.

use serde_json::{Map, Value};
use std::collections::BTreeMap;
use vigil_core::{Decision, Verdict};

/// Rule id of every denial caused by the policy itself failing.
pub const POLICY_ERROR_RULE: &str = "policy.error";

/// Who may approve a held statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approvers {
    pub groups: Vec<String>,
    /// How many distinct approvers are needed (at least 1).
    pub count: u32,
}

/// A policy's decision with what the proxy must do beyond the verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyDecision {
    pub decision: Decision,
    pub approvers: Option<Approvers>,
    /// Classification or `schema.table.column` → `redact|partial|hash|null|reveal`
    /// (`reveal` unmasks, e.g. phones for the support group).
    pub mask: BTreeMap<String, String>,
    pub max_rows: Option<u64>,
    pub review_timeout_secs: Option<u64>,
    /// `nowait`: a held statement is refused at once and an approval lets
    /// one identical retry run (for clients that cannot wait). Default wait.
    pub approval_nowait: bool,
    /// The bundle's content hash, for the audit trail
    /// ([`GUARDRAILS_VERSION`] when the built-in guardrails decided alone).
    pub policy_version: String,
}

/// `policy_version` of a decision by the built-in guardrails alone.
pub const GUARDRAILS_VERSION: &str = "guardrails";

const KEYS: &[&str] = &[
    "verdict",
    "reasons",
    "rules",
    "hint",
    "approvers",
    "mask",
    "max_rows",
    "review_timeout",
    "approval_mode",
    "deny_rules",
    "review_rules",
];
const MASKS: &[&str] = &["redact", "partial", "hash", "null", "reveal", "refuse"];

impl PolicyDecision {
    /// The built-in guardrails' decision as a policy decision (no approvers,
    /// no masking rules; version `guardrails`).
    pub fn from_guardrails(decision: Decision) -> Self {
        PolicyDecision {
            decision,
            approvers: None,
            mask: BTreeMap::new(),
            max_rows: None,
            review_timeout_secs: None,
            approval_nowait: false,
            policy_version: GUARDRAILS_VERSION.to_owned(),
        }
    }

    /// The deciding bundle's version: `None` when the built-in guardrails
    /// decided alone (what the audit trail records).
    pub fn bundle_version(&self) -> Option<&str> {
        (self.policy_version != GUARDRAILS_VERSION).then_some(self.policy_version.as_str())
    }

    /// A denial by `policy.error` explaining what failed.
    pub fn error(reason: impl Into<String>, policy_version: &str) -> Self {
        PolicyDecision {
            decision: Decision::deny(POLICY_ERROR_RULE, reason)
                .with_hint("the access policy failed; ask an admin to check the policy bundle"),
            approvers: None,
            mask: BTreeMap::new(),
            max_rows: None,
            review_timeout_secs: None,
            approval_nowait: false,
            policy_version: policy_version.to_string(),
        }
    }
}

/// Reads a decision document; `Err` says what is wrong with it.
pub fn parse_decision(value: &Value, version: &str) -> Result<PolicyDecision, String> {
    let obj = value
        .as_object()
        .ok_or_else(|| format!("decision must be an object, got {}", type_name(value)))?;
    if let Some(k) = obj.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(format!("unknown key {k:?}"));
    }
    let verdict = parse_verdict(obj.get("verdict"))?;
    let mut decision = Decision {
        verdict,
        reasons: strings(obj, "reasons")?.unwrap_or_default(),
        rules: strings(obj, "rules")?.unwrap_or_default(),
        hint: opt_string(obj, "hint")?,
    };
    double_check(&mut decision, obj)?;
    Ok(PolicyDecision {
        decision,
        approvers: obj.get("approvers").map(parse_approvers).transpose()?,
        mask: parse_mask(obj.get("mask"))?,
        max_rows: obj
            .get("max_rows")
            .map(|v| uint(v, "max_rows"))
            .transpose()?,
        review_timeout_secs: obj.get("review_timeout").map(parse_timeout).transpose()?,
        approval_nowait: match obj.get("approval_mode") {
            None => false,
            Some(Value::String(m)) if m == "wait" => false,
            Some(Value::String(m)) if m == "nowait" => true,
            Some(v) => {
                return Err(format!(
                    "approval_mode must be \"wait\" or \"nowait\", got {v}"
                ))
            }
        },
        policy_version: version.to_string(),
    })
}

/// Deny beats review beats allow even if the bundle's combination got it
/// wrong: any fired deny rule denies, any fired review rule at least holds.
fn double_check(d: &mut Decision, obj: &Map<String, Value>) -> Result<(), String> {
    let denies = strings(obj, "deny_rules")?.unwrap_or_default();
    let reviews = strings(obj, "review_rules")?.unwrap_or_default();
    let floor = if !denies.is_empty() {
        Some((Verdict::Deny, denies))
    } else if !reviews.is_empty() {
        Some((Verdict::Review, reviews))
    } else {
        None
    };
    if let Some((verdict, rules)) = floor {
        if d.verdict < verdict {
            d.verdict = verdict;
            d.reasons.push(format!(
                "the policy output said otherwise, but these {verdict} rules fired: {}",
                rules.join(", ")
            ));
            d.rules = rules;
        }
    }
    Ok(())
}

fn parse_verdict(v: Option<&Value>) -> Result<Verdict, String> {
    match v.and_then(Value::as_str) {
        Some("allow") => Ok(Verdict::Allow),
        Some("review") => Ok(Verdict::Review),
        Some("deny") => Ok(Verdict::Deny),
        Some(other) => Err(format!("unknown verdict {other:?}")),
        None => Err("verdict must be \"allow\", \"review\" or \"deny\"".into()),
    }
}

fn parse_approvers(v: &Value) -> Result<Approvers, String> {
    let obj = v.as_object().ok_or("approvers must be an object")?;
    if let Some(k) = obj.keys().find(|k| *k != "groups" && *k != "count") {
        return Err(format!("unknown key approvers.{k}"));
    }
    let groups = strings(obj, "groups")?.ok_or("approvers.groups is required")?;
    let count = obj
        .get("count")
        .map_or(Ok(1), |c| uint(c, "approvers.count"))?;
    let count = u32::try_from(count).map_err(|_| "approvers.count is too large".to_string())?;
    if count == 0 || groups.is_empty() {
        return Err("approvers need at least one group and a count of at least 1".into());
    }
    Ok(Approvers { groups, count })
}

fn parse_mask(v: Option<&Value>) -> Result<BTreeMap<String, String>, String> {
    let Some(v) = v else {
        return Ok(BTreeMap::new());
    };
    let obj = v.as_object().ok_or("mask must be an object")?;
    obj.iter()
        .map(|(k, m)| match m.as_str() {
            Some(s) if MASKS.contains(&s) => Ok((k.clone(), s.to_string())),
            _ => Err(format!("mask.{k} must be one of {}", MASKS.join("|"))),
        })
        .collect()
}

/// `"90s"`, `"30m"`, `"2h"`, `"1d"` → seconds.
fn parse_timeout(v: &Value) -> Result<u64, String> {
    let bad = || format!("review_timeout must look like \"30m\", got {v}");
    let s = v.as_str().ok_or_else(bad)?;
    let split = s.len().checked_sub(1).ok_or_else(bad)?;
    let (num, unit) = (s.get(..split).ok_or_else(bad)?, s.get(split..));
    let n: u64 = num.parse().map_err(|_| bad())?;
    let mult = match unit {
        Some("s") => 1,
        Some("m") => 60,
        Some("h") => 3600,
        Some("d") => 86_400,
        _ => return Err(bad()),
    };
    n.checked_mul(mult).filter(|s| *s > 0).ok_or_else(bad)
}

fn strings(obj: &Map<String, Value>, key: &str) -> Result<Option<Vec<String>>, String> {
    let Some(v) = obj.get(key) else {
        return Ok(None);
    };
    let err = || format!("{key} must be an array of strings");
    let items = v.as_array().ok_or_else(err)?;
    items
        .iter()
        .map(|i| i.as_str().map(str::to_string).ok_or_else(err))
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

fn opt_string(obj: &Map<String, Value>, key: &str) -> Result<Option<String>, String> {
    match obj.get(key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("{key} must be a string")),
    }
}

fn uint(v: &Value, key: &str) -> Result<u64, String> {
    v.as_u64()
        .ok_or_else(|| format!("{key} must be a non-negative integer"))
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
