//! The response side of the proxy against a real PostgreSQL: tracking,
//! the response hook, fail-closed results, statement tags and client
//! notices, driven by raw protocol bytes and real drivers.

mod harness;
mod hooks;
mod raw;

mod clients;
mod extended;
mod failures;
mod notices;
mod passthrough;
mod simple;
