//! Authenticate step of the data path: a client's password is a JWT; this
//! crate turns it into a verified [`Principal`](vigil_core::Principal) or a
//! typed refusal whose message the proxy can send as FATAL 28P01.
//!
//! - [`settings`]: the trusted issuers, Vigil's own issuer, tunables, [`parse_ttl`].
//! - [`verifier`]: [`Verifier`], routing by `iss`, key choice, claim checks.
//! - `token`: reading the unverified header and `iss` (routing only).
//! - `keys`: JWK parsing and which algorithms each key may verify.
//! - `jwks`: cached, rate-limited JWKS fetching from a URL or file.
//! - `claims`: verified claims → principal (groups path, kind).
//! - [`builtin`]: [`BuiltinIssuer`], Vigil's own Ed25519 token issuer.
//! - `keyfile`: the built-in issuer's private key on disk.
//! - [`error`]: [`AuthError`] (per token) and [`IdentityError`] (setup).
//!
//! This crate does I/O (HTTP, files, the clock); verification itself runs
//! offline against a key file or a local JWKS, which is how it is tested.

pub mod builtin;
mod claims;
pub mod error;
mod jwks;
mod keyfile;
mod keys;
pub mod settings;
mod token;
pub mod verifier;

pub use builtin::BuiltinIssuer;
pub use error::{AuthError, IdentityError};
pub use settings::{
    parse_ttl, BuiltinSettings, IssuerSettings, JwksSource, TokenRequest, VerifierOptions,
    BUILTIN_KIND_CLAIM, DEFAULT_ALGORITHMS, DEFAULT_LEEWAY,
};
pub use verifier::Verifier;

/// Re-exported so callers can name algorithms in [`IssuerSettings`].
pub use jsonwebtoken::Algorithm;
