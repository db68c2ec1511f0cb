//! The Rego engine: a compiled bundle that decides one statement at a
//! time. Loading validates; deciding is total. Each decision runs on a
//! clone of the compiled prototype, so concurrent sessions share nothing
//! mutable and never wait on a lock (the clone is cheap: modules are
//! reference-counted; see `benches/decide.rs`).

use crate::bundle;
use crate::error::PolicyError;
use crate::input::PolicyInput;
use crate::output::{parse_decision, PolicyDecision};
use crate::testing::{self, TestResult};
use regorus::Value;
use std::path::Path;
use std::sync::Mutex;

/// The rule every bundle must define.
pub const DECISION_RULE: &str = "data.vigil.decision";
const CACHEABLE_RULE: &str = "data.vigil.cacheable";

/// A loaded, validated policy bundle.
pub struct PolicyEngine {
    prototype: regorus::Engine,
    /// Engines ready for the next evaluation. Cloning the prototype costs
    /// more than a small bundle's evaluation, and `eval_rule` resets an
    /// engine's evaluation state itself, so engines are reused.
    idle: Mutex<Vec<regorus::Engine>>,
    version: String,
    cacheable: bool,
    tests: Vec<String>,
}

/// Idle engines kept per bundle (one per thread that evaluates at once).
const MAX_IDLE: usize = 64;

impl Clone for PolicyEngine {
    fn clone(&self) -> Self {
        PolicyEngine {
            prototype: self.prototype.clone(),
            idle: Mutex::new(Vec::new()),
            version: self.version.clone(),
            cacheable: self.cacheable,
            tests: self.tests.clone(),
        }
    }
}

impl std::fmt::Debug for PolicyEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolicyEngine")
            .field("version", &self.version)
            .field("cacheable", &self.cacheable)
            .finish_non_exhaustive()
    }
}

impl PolicyEngine {
    /// Loads every `*.rego` under `dir` (recursively, sorted) and an
    /// optional `dir/data.json`, then validates as [`Self::from_sources`].
    pub fn load_dir(dir: &Path) -> Result<PolicyEngine, PolicyError> {
        let b = bundle::read_dir(dir)?;
        if b.files.is_empty() {
            return Err(PolicyError::Empty(dir.display().to_string()));
        }
        Self::from_sources(&b.files, b.data)
    }

    /// Compiles the sources and data, then evaluates the decision once
    /// against a sample input: a bundle that cannot decide is refused now
    /// rather than denying every statement later.
    pub fn from_sources(
        files: &[(String, String)],
        data: Option<serde_json::Value>,
    ) -> Result<Self, PolicyError> {
        let version = bundle::version(files, data.as_ref());
        let mut engine = regorus::Engine::new();
        let mut tests = Vec::new();
        for (name, text) in files {
            engine
                .add_policy(name.clone(), text.clone())
                .map_err(|e| PolicyError::Compile {
                    file: name.clone(),
                    message: e.to_string(),
                })?;
            tests.extend(testing::discover(text));
        }
        if let Some(d) = data {
            add_data(&mut engine, &d)?;
        }
        let cacheable = eval_cacheable(&mut engine)?;
        let this = PolicyEngine {
            prototype: engine,
            idle: Mutex::new(Vec::new()),
            version,
            cacheable,
            tests,
        };
        this.evaluate(&crate::sample::sample_input())
            .map_err(PolicyError::Validate)?;
        Ok(this)
    }

    /// The bundle's content hash (16 hex characters).
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Whether the bundle declares `data.vigil.cacheable := true`: its
    /// decisions depend on neither the time nor literal values, so callers
    /// may cache them by statement shape.
    pub fn cacheable(&self) -> bool {
        self.cacheable
    }

    /// Decides one input. Total: an evaluation error, an undefined or an
    /// invalid decision document all become a denial by `policy.error`
    /// whose reason says what failed.
    pub fn decide(&self, input: &PolicyInput) -> PolicyDecision {
        self.evaluate(input)
            .unwrap_or_else(|reason| PolicyDecision::error(reason, &self.version))
    }

    /// Runs every `test_*` rule of the bundle, in source order.
    pub fn run_tests(&self) -> Vec<TestResult> {
        self.tests
            .iter()
            .map(|name| testing::run(self.prototype.clone(), name))
            .collect()
    }

    fn evaluate(&self, input: &PolicyInput) -> Result<PolicyDecision, String> {
        let json = serde_json::to_string(input)
            .map_err(|e| format!("cannot encode the policy input: {e}"))?;
        let value = Value::from_json_str(&json)
            .map_err(|e| format!("cannot encode the policy input: {e}"))?;
        let mut engine = self
            .idle
            .lock()
            .ok()
            .and_then(|mut idle| idle.pop())
            .unwrap_or_else(|| self.prototype.clone());
        engine.set_input(value);
        let out = engine.eval_rule(DECISION_RULE.to_string());
        // Input and results do not outlive the evaluation.
        engine.set_input(Value::Undefined);
        if let Ok(mut idle) = self.idle.lock() {
            if idle.len() < MAX_IDLE {
                idle.push(engine);
            }
        }
        let out = out.map_err(|e| format!("evaluating {DECISION_RULE} failed: {e}"))?;
        if out == Value::Undefined {
            return Err(format!("{DECISION_RULE} is undefined for this input"));
        }
        let out = serde_json::to_value(&out).map_err(|e| format!("invalid policy output: {e}"))?;
        parse_decision(&out, &self.version).map_err(|e| format!("invalid policy output: {e}"))
    }
}

fn add_data(engine: &mut regorus::Engine, data: &serde_json::Value) -> Result<(), PolicyError> {
    let err = |message: String| PolicyError::Data {
        file: "data.json".into(),
        message,
    };
    if !data.is_object() {
        return Err(err("the data document must be a JSON object".into()));
    }
    let value = Value::from_json_str(&data.to_string()).map_err(|e| err(e.to_string()))?;
    engine.add_data(value).map_err(|e| err(e.to_string()))
}

/// `data.vigil.cacheable` must be absent (false) or a boolean.
fn eval_cacheable(engine: &mut regorus::Engine) -> Result<bool, PolicyError> {
    engine.set_input(Value::new_object());
    match engine.eval_rule(CACHEABLE_RULE.to_string()) {
        Ok(Value::Bool(b)) => Ok(b),
        Ok(Value::Undefined) => Ok(false),
        Ok(other) => Err(PolicyError::Validate(format!(
            "{CACHEABLE_RULE} must be a boolean, got {other}"
        ))),
        // An unknown rule path (no `cacheable` at all) is not an error.
        Err(_) => Ok(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn engine_is_send_and_sync() {
        assert_send_sync::<PolicyEngine>();
    }
}
