//! Running a bundle's own Rego tests, OPA style: every rule whose name
//! starts with `test_`, in any package, passes when it evaluates to `true`.

use regorus::Value;

/// The outcome of one Rego test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestResult {
    /// `data.<package>.<rule>`.
    pub name: String,
    pub passed: bool,
    /// Why it failed: undefined, not `true`, or the evaluation error.
    pub message: Option<String>,
}

/// The test rules declared in one source: `data.<package>.test_*`, found
/// from the `package` line and rule heads starting a line.
pub(crate) fn discover(text: &str) -> Vec<String> {
    let mut package = None;
    let mut found = Vec::new();
    for line in text.lines() {
        if let Some(p) = line.strip_prefix("package ") {
            package = Some(p.trim().to_string());
        } else if line.starts_with("test_") {
            let name: String = line
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if let Some(p) = &package {
                let full = format!("data.{p}.{name}");
                if !found.contains(&full) {
                    found.push(full);
                }
            }
        }
    }
    found
}

/// Runs one test on its own copy of the engine.
pub(crate) fn run(mut engine: regorus::Engine, name: &str) -> TestResult {
    engine.set_input(Value::new_object());
    let (passed, message) = match engine.eval_rule(name.to_string()) {
        Ok(Value::Bool(true)) => (true, None),
        Ok(Value::Undefined) => (false, Some("undefined (a condition failed)".into())),
        Ok(other) => (false, Some(format!("evaluated to {other}, not true"))),
        Err(e) => (false, Some(e.to_string())),
    };
    TestResult {
        name: name.to_string(),
        passed,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovers_test_rules_once_per_package() {
        let text = "package a.b\n\ntest_one if {\n true\n}\ntest_one if false\nhelper if true\n  test_nested := 1\ntest_two := true\n";
        assert_eq!(
            discover(text),
            vec!["data.a.b.test_one", "data.a.b.test_two"]
        );
    }
}
