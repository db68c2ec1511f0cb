//! vigil-store: where Vigil keeps what must outlive a session — approval
//! requests and their decisions, and the audit trail.
//!
//! One [`Store`] wraps a sqlx `AnyPool`, so the same queries run on SQLite
//! (the default: one file, one Vigil replica) and on PostgreSQL (several
//! replicas sharing one store). Queries use `$1`-style placeholders and
//! only portable column types (BIGINT, TEXT, BLOB/BYTEA via separate
//! migrations); times are Unix milliseconds. Migrations run at open.
//!
//! - [`approvals`]: approval requests, reviews, retry grants.
//! - [`audit`]: audit records and checkpoints.

pub mod approvals;
pub mod audit;
mod error;
mod open;

pub use error::StoreError;
pub use open::{Backend, Store};
