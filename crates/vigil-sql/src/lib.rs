//! Vigil's SQL classifier: the "classify" step of the data path. Each client
//! message is parsed with PostgreSQL's own grammar (pg_query, PG 18) and
//! turned into [`vigil_core::ClassifiedMessage`] facts — kind, command tag,
//! tables and their access, functions, fingerprint, redacted text and risk
//! flags — that policy decides on and audit records. Pure: no I/O.
//!
//! - [`classify()`]: text → facts (total; never panics).
//! - [`Classifier`]: the same behind a bounded LRU cache.
//! - [`render_text`]: human-readable output for `vigil explain`.
//!
//! Inside: `dispatch` and `ddl` judge the statement type, `walk` visits the
//! whole tree (CTEs, subqueries, function arguments, …), `functions` knows
//! risky functions and settings, `constant` spots always-true WHEREs.
//! `parse` (over `ffi`) gets the tree from libpg_query without pg_query's
//! summary walk; `fingerprint` names a statement's shape from its
//! normalized text.

mod cache;
mod classify;
mod constant;
mod ddl;
mod dispatch;
mod facts;
mod ffi;
mod fingerprint;
mod functions;
mod parse;
mod render;
mod walk;

pub use cache::{Classifier, DEFAULT_CAPACITY, MAX_CACHED_LEN};
pub use classify::classify;
pub use render::render_text;
pub use vigil_core::{ClassifiedMessage, FlagId, StatementInfo, StatementKind};
