//! Times on the command line and in output: `vigil_audit::time`, shared
//! with `GET /api/audit` so both read `--since 2h` and `since=2h` alike.

pub use vigil_audit::time::{format_ms, parse_time};
