//! Errors that stop Vigil from starting. Each says what to fix.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum ServerError {
    #[error(transparent)]
    Config(#[from] vigil_config::ConfigError),
    #[error("identity: {0}")]
    Identity(#[from] vigil_identity::IdentityError),
    #[error("TLS: {0}")]
    Tls(#[from] vigil_proxy::tls::TlsSetupError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("identity.issuers[{index}].algorithms: unknown algorithm {name:?}")]
    Algorithm { index: usize, name: String },
    #[error("store: {0}")]
    Store(String),
    #[error("[policy]: {0}")]
    Policy(String),
    #[error("demo: {0}")]
    Demo(String),
    #[error("{0}")]
    Runtime(String),
}
