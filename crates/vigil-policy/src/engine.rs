//! The Rego engine: a compiled bundle that decides one statement at a
//! time. Loading validates; deciding is total.
//!
//! Two evaluators, one meaning. regorus's interpreter is the reference:
//! it validates the bundle, runs its `test_*` rules and decides whenever
//! the other cannot. Decisions normally run on the bundle compiled to
//! regorus's bytecode VM (RVM), about three times faster; a bundle whose
//! decision does not compile, or whose compiled decision differs from the
//! interpreter's on the validation inputs, is decided by the interpreter
//! alone, and an RVM error on one input falls back to the interpreter for
//! that input. Evaluators are pooled per thread of use, so concurrent
//! sessions share nothing mutable (see `benches/decide.rs`).

use crate::bundle;
use crate::error::PolicyError;
use crate::input::PolicyInput;
use crate::output::{parse_decision, PolicyDecision};
use crate::rego_value;
use crate::testing::{self, TestResult};
use regorus::languages::rego::compiler::Compiler;
use regorus::rvm::program::Program;
use regorus::rvm::vm::RegoVM;
use regorus::Value;
use std::path::Path;
use std::sync::{Arc, Mutex};

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
    /// The decision compiled to bytecode; `None` when the bundle is decided
    /// by the interpreter alone.
    compiled: Option<Compiled>,
    version: String,
    cacheable: bool,
    tests: Vec<String>,
}

/// The decision rule as an RVM program, with the bundle's data.
struct Compiled {
    program: Arc<Program>,
    data: Value,
    max_instructions: usize,
    idle: Mutex<Vec<RegoVM>>,
}

/// Idle engines kept per bundle (one per thread that evaluates at once).
const MAX_IDLE: usize = 64;
/// Bytecode instructions one decision may run before the VM gives up (and
/// the interpreter decides): bounds a runaway policy, far above the
/// default bundle's few thousand.
const MAX_INSTRUCTIONS: usize = 5_000_000;

impl Compiled {
    /// Compiles `data.vigil.decision` of `engine`; `None` when the RVM
    /// cannot compile it (the interpreter then decides everything).
    fn new(engine: &regorus::Engine, data: Option<&serde_json::Value>) -> Option<Compiled> {
        let policy = engine
            .clone()
            .compile_with_entrypoint(&DECISION_RULE.into())
            .ok()?;
        let program = Compiler::compile_from_policy(&policy, &[DECISION_RULE]).ok()?;
        let data = match data {
            Some(d) => rego_value::to_value(d).ok()?,
            None => Value::new_object(),
        };
        Some(Compiled {
            program,
            data,
            max_instructions: MAX_INSTRUCTIONS,
            idle: Mutex::new(Vec::new()),
        })
    }

    fn vm(&self) -> Result<RegoVM, String> {
        if let Some(vm) = self.idle.lock().ok().and_then(|mut idle| idle.pop()) {
            return Ok(vm);
        }
        let mut vm = RegoVM::new();
        vm.load_program(Arc::clone(&self.program));
        vm.set_max_instructions(self.max_instructions);
        vm.set_data(self.data.clone()).map_err(|e| e.to_string())?;
        Ok(vm)
    }

    /// The decision document for `input`, or why the VM could not.
    fn eval(&self, input: &Value) -> Result<Value, String> {
        let mut vm = self.vm()?;
        vm.set_input(input.clone());
        let out = vm.execute().map_err(|e| e.to_string());
        vm.set_input(Value::Undefined);
        if let Ok(mut idle) = self.idle.lock() {
            if idle.len() < MAX_IDLE {
                idle.push(vm);
            }
        }
        out
    }
}

impl Clone for PolicyEngine {
    fn clone(&self) -> Self {
        PolicyEngine {
            prototype: self.prototype.clone(),
            idle: Mutex::new(Vec::new()),
            compiled: self.compiled.as_ref().map(|c| Compiled {
                program: Arc::clone(&c.program),
                data: c.data.clone(),
                max_instructions: c.max_instructions,
                idle: Mutex::new(Vec::new()),
            }),
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
            .field("compiled", &self.compiled.is_some())
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
        if let Some(d) = &data {
            add_data(&mut engine, d)?;
        }
        let cacheable = eval_cacheable(&mut engine)?;
        let compiled = Compiled::new(&engine, data.as_ref());
        let mut this = PolicyEngine {
            prototype: engine,
            idle: Mutex::new(Vec::new()),
            compiled: None,
            version,
            cacheable,
            tests,
        };
        let sample = encode(&crate::sample::sample_input()).map_err(PolicyError::Validate)?;
        let reference = this.interpret(&sample).map_err(PolicyError::Validate)?;
        this.output(reference.clone())
            .map_err(PolicyError::Validate)?;
        // The compiled decision must mean what the interpreter's does, on
        // the sample and on variants reaching other branches.
        this.compiled = compiled.filter(|c| {
            c.eval(&sample).ok() == Some(reference)
                && crate::sample::validation_inputs()
                    .iter()
                    .all(|i| encode(i).is_ok_and(|v| c.eval(&v).ok() == this.interpret(&v).ok()))
        });
        Ok(this)
    }

    /// Whether decisions run on the compiled bytecode (else the interpreter).
    pub fn compiled(&self) -> bool {
        self.compiled.is_some()
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
        let value = encode(input)?;
        let out = match self.compiled.as_ref().map(|c| c.eval(&value)) {
            Some(Ok(out)) if out != Value::Undefined => out,
            // No bytecode, or the VM failed (or found nothing) on this
            // input: the interpreter decides.
            _ => self.interpret(&value)?,
        };
        self.output(out)
    }

    /// Evaluates the decision rule with the interpreter.
    fn interpret(&self, value: &Value) -> Result<Value, String> {
        let mut engine = self
            .idle
            .lock()
            .ok()
            .and_then(|mut idle| idle.pop())
            .unwrap_or_else(|| self.prototype.clone());
        engine.set_input(value.clone());
        let out = engine.eval_rule(DECISION_RULE.to_string());
        // Input and results do not outlive the evaluation.
        engine.set_input(Value::Undefined);
        if let Ok(mut idle) = self.idle.lock() {
            if idle.len() < MAX_IDLE {
                idle.push(engine);
            }
        }
        out.map_err(|e| format!("evaluating {DECISION_RULE} failed: {e}"))
    }

    /// The decision document → a validated [`PolicyDecision`].
    fn output(&self, out: Value) -> Result<PolicyDecision, String> {
        if out == Value::Undefined {
            return Err(format!("{DECISION_RULE} is undefined for this input"));
        }
        let out = serde_json::to_value(&out).map_err(|e| format!("invalid policy output: {e}"))?;
        parse_decision(&out, &self.version).map_err(|e| format!("invalid policy output: {e}"))
    }
}

/// The input document as a Rego value.
fn encode(input: &PolicyInput) -> Result<Value, String> {
    rego_value::to_value(input).map_err(|e| format!("cannot encode the policy input: {e}"))
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

    /// The compiled decision and the interpreter's agree on every input of
    /// the corpus (statements × principals × connections) for the default
    /// bundle, document for document.
    #[test]
    fn the_compiled_default_bundle_decides_as_the_interpreter() {
        let engine = PolicyEngine::default_bundle().unwrap();
        let compiled = engine
            .compiled
            .as_ref()
            .expect("the default bundle compiles");
        let mut verdicts = std::collections::BTreeSet::new();
        for input in crate::corpus::corpus() {
            let value = encode(&input).unwrap();
            let fast = compiled.eval(&value).unwrap();
            let reference = engine.interpret(&value).unwrap();
            assert_eq!(fast, reference, "{input:?}");
            verdicts.insert(engine.output(fast).unwrap().decision.verdict);
        }
        // The corpus reaches every verdict.
        assert_eq!(verdicts.len(), 3, "{verdicts:?}");
    }

    /// The load-time comparison of the two evaluators covers more than the
    /// sample's branch.
    #[test]
    fn the_validation_inputs_reach_every_verdict_of_the_default_bundle() {
        let engine = PolicyEngine::default_bundle().unwrap();
        let verdicts: std::collections::BTreeSet<_> = crate::sample::validation_inputs()
            .iter()
            .map(|i| engine.decide(i).decision.verdict)
            .collect();
        assert_eq!(verdicts.len(), 3, "{verdicts:?}");
    }

    #[test]
    fn when_the_vm_fails_the_interpreter_decides() {
        let mut engine = PolicyEngine::default_bundle().unwrap();
        let reference: Vec<_> = crate::corpus::corpus()
            .iter()
            .map(|i| engine.decide(i))
            .collect();
        // One instruction is not enough for any decision: every VM run fails.
        if let Some(c) = engine.compiled.as_mut() {
            c.max_instructions = 1;
            c.idle = Mutex::new(Vec::new());
            let sample = encode(&crate::sample::sample_input()).unwrap();
            assert!(c.eval(&sample).is_err());
        }
        for (input, expected) in crate::corpus::corpus().iter().zip(reference) {
            assert_eq!(engine.decide(input), expected, "{input:?}");
        }
    }
}
