//! Why a policy bundle could not be loaded. Evaluation never errors (see
//! [`crate::PolicyEngine::decide`]); only loading does, and fails fast with
//! a message naming the file (and line, when the Rego parser knows it).

use thiserror::Error;

/// A bundle that cannot be used.
#[derive(Debug, Error)]
pub enum PolicyError {
    /// A file or directory could not be read.
    #[error("cannot read {path}: {message}")]
    Read { path: String, message: String },
    /// A `.rego` file does not parse or compile; `message` carries
    /// `file:line:col` from the Rego parser.
    #[error("policy {file} is invalid: {message}")]
    Compile { file: String, message: String },
    /// `data.json` is not a JSON object, or cannot be merged.
    #[error("data document {file} is invalid: {message}")]
    Data { file: String, message: String },
    /// The bundle has no `.rego` file.
    #[error("no .rego files in {0}")]
    Empty(String),
    /// The bundle compiled but evaluating `data.vigil.decision` against a
    /// sample input failed or produced an invalid decision.
    #[error("policy bundle does not produce a valid decision: {0}")]
    Validate(String),
}
