//! Integration tests: real PostgreSQL clusters, the real proxy on a real
//! socket, real clients. One test binary so everything links once.

mod common;
mod raw;

mod approvals;
mod audit;
mod cancel;
mod clients;
mod demo;
mod faults;
mod guardrails;
mod hook;
mod identity;
mod mask;
mod policy;
mod tls;
