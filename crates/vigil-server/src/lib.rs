//! Wiring: turns a [`vigil_config::Config`] into a running proxy.
//!
//! - [`error`]: start-up errors, each naming what to fix.
//! - [`identity`]: the token verifier the proxy calls.
//! - [`wiring`]: config → identity, targets, TLS → [`vigil_proxy::Proxy`].
//! - [`background`]: a proxy on its own runtime thread (tests, the demo).
//! - [`demo`]: `vigil demo`: a throw-away database with fake PII behind Vigil.

pub mod background;
pub mod demo;
pub mod error;
pub mod identity;
pub mod wiring;

pub use background::BackgroundProxy;
pub use error::ServerError;
pub use wiring::{build_proxy, load_issuer, proxy_settings};
