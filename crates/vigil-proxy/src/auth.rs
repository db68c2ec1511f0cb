//! How the proxy turns the client's password (a token) into a Principal.
//! The proxy only needs this seam; `vigil-identity` provides the verifier.

use std::future::Future;
use std::pin::Pin;
use vigil_core::Principal;

/// A refusal, with the reason the client is told. Never contains the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthFailure(pub String);

pub type VerifyFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Principal, AuthFailure>> + Send + 'a>>;

/// Verifies tokens.
pub trait TokenVerifier: Send + Sync + 'static {
    fn verify<'a>(&'a self, token: &'a str) -> VerifyFuture<'a>;
}
