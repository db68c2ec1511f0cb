//! Vigil's configuration: the TOML file users write, typed and validated.
//!
//! Every field has a doc comment and a default in code. Unknown keys are
//! refused. Secrets never appear inline: a connection's password comes from
//! an environment variable or a file. Relative paths are resolved against
//! the directory of the config file.
//!
//! - [`model`]: the structures that mirror the file.
//! - [`load`]: reading, resolving paths and validating.
//! - [`error`]: errors that name the offending key.

pub mod error;
pub mod load;
pub mod model;

pub use error::ConfigError;
pub use load::{load_file, parse_str};
pub use model::*;
