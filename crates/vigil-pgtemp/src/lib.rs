//! vigil-pgtemp: throw-away PostgreSQL clusters for integration tests and
//! `vigil demo`, plus the fake-PII demo dataset they are loaded with.
//!
//! Not on the data path: this is the "upstream" that tests and demos put
//! behind the proxy. A [`TempCluster`] is initdb'd into its own temp dir,
//! listens on 127.0.0.1 at a free port, runs as an unprivileged user when we
//! are root, and is stopped and deleted on drop.

mod bins;
mod client;
mod cluster;
mod conf;
pub mod demo;
mod error;
mod lifecycle;
mod options;
mod port;
mod process;
mod setup;
mod tls;
mod user;
mod workdir;

pub use bins::{find_bin_dir, PG_BIN_ENV};
pub use client::{quote_ident, quote_literal};
pub use cluster::{TempCluster, KEEP_ENV};
pub use error::PgTempError;
pub use options::{AuthMethod, ClusterOptions};
pub use port::free_port;
pub use workdir::DIR_ENV;
