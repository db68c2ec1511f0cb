//! The default bundle (`policies/default`), compiled into the binary so
//! `vigil demo` and a config without `[policy] path` decide the same way
//! from any working directory. The files on disk stay the source: edit
//! them, and `vigil policy test policies/default` checks them.

use crate::{PolicyEngine, PolicyError};

macro_rules! bundle_file {
    ($name:literal) => {
        (
            $name,
            include_str!(concat!("../../../policies/default/", $name)),
        )
    };
}

const FILES: &[(&str, &str)] = &[
    bundle_file!("10_environments.rego"),
    bundle_file!("20_guardrails.rego"),
    bundle_file!("30_agents.rego"),
    bundle_file!("90_decision.rego"),
    bundle_file!("vigil_test.rego"),
];
const DATA: &str = include_str!("../../../policies/default/data.json");

impl PolicyEngine {
    /// The built-in default bundle.
    pub fn default_bundle() -> Result<PolicyEngine, PolicyError> {
        let files: Vec<(String, String)> = FILES
            .iter()
            .map(|(n, t)| ((*n).to_owned(), (*t).to_owned()))
            .collect();
        let data = serde_json::from_str(DATA).map_err(|e| PolicyError::Data {
            file: "data.json".into(),
            message: e.to_string(),
        })?;
        PolicyEngine::from_sources(&files, Some(data))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_bundle_matches_the_directory() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies/default");
        let embedded = PolicyEngine::default_bundle().unwrap();
        let on_disk = PolicyEngine::load_dir(&dir).unwrap();
        assert_eq!(embedded.version(), on_disk.version());
        assert!(embedded.run_tests().iter().all(|t| t.passed));
    }
}
