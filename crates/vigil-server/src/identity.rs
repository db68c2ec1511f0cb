//! Adapts `vigil-identity`'s verifier to the proxy's `TokenVerifier` seam.

use vigil_proxy::auth::{AuthFailure, TokenVerifier, VerifyFuture};

/// The configured issuers, as the proxy sees them.
pub struct IdentityVerifier(pub vigil_identity::Verifier);

impl TokenVerifier for IdentityVerifier {
    fn verify<'a>(&'a self, token: &'a str) -> VerifyFuture<'a> {
        Box::pin(async move {
            self.0.verify(token).await.map_err(|e| {
                if !e.is_client_fault() {
                    tracing::warn!(error = %e, "token keys unavailable");
                }
                AuthFailure(e.to_string())
            })
        })
    }
}
