//! The audit signing key and the public keys verify trusts.
//!
//! The private key is an Ed25519 PKCS#8 PEM file, created 0600 on first use
//! ([`AuditKey::load_or_create`]). Its public half is exported as SPKI PEM
//! for auditors. A key id is the first 16 hex digits of the SHA-256 of the
//! raw 32-byte public key; checkpoints and retention records name the key
//! that signed them by this id, so keys can be rotated and old exports
//! still verify with the old public key.

mod file;

use crate::digest::Sha256;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePublicKey};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A key file that cannot be read, created or parsed.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {reason}")]
    Corrupt { path: PathBuf, reason: String },
    #[error("cannot encode the key: {0}")]
    Encode(String),
}

/// Why a signature was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureProblem {
    #[error("signed by unknown key {0:?}")]
    UnknownKey(String),
    #[error("signature is not 64 bytes of hex")]
    Malformed,
    #[error("signature does not verify with key {0:?}")]
    Invalid(String),
}

/// Vigil's audit signing key.
#[derive(Clone)]
pub struct AuditKey {
    signing: SigningKey,
    id: String,
}

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl AuditKey {
    pub fn from_signing_key(signing: SigningKey) -> Self {
        let id = key_id(&signing.verifying_key());
        AuditKey { signing, id }
    }

    /// A fresh random key (tests, or before writing it to a file).
    pub fn generate() -> Self {
        Self::from_signing_key(SigningKey::generate(&mut rand::rngs::OsRng))
    }

    /// Reads the key at `path`, creating it (0600, atomically) if missing.
    /// An existing file that does not parse is an error, never replaced:
    /// that would orphan every checkpoint signed so far.
    pub fn load_or_create(path: &Path) -> Result<AuditKey, KeyError> {
        file::load_or_create(path).map(Self::from_signing_key)
    }

    /// Reads an existing key file.
    pub fn load(path: &Path) -> Result<AuditKey, KeyError> {
        file::load(path)?
            .map(Self::from_signing_key)
            .ok_or_else(|| KeyError::Io {
                path: path.to_owned(),
                source: std::io::ErrorKind::NotFound.into(),
            })
    }

    /// The key id checkpoints name.
    pub fn key_id(&self) -> &str {
        &self.id
    }

    pub fn verifying_key(&self) -> VerifyingKey {
        self.signing.verifying_key()
    }

    /// The public key as SPKI PEM (`-----BEGIN PUBLIC KEY-----`).
    pub fn public_key_pem(&self) -> Result<String, KeyError> {
        self.verifying_key()
            .to_public_key_pem(LineEnding::LF)
            .map_err(|e| KeyError::Encode(e.to_string()))
    }

    /// Signs `message`; returns the signature as lowercase hex.
    pub fn sign_hex(&self, message: &[u8]) -> String {
        hex::encode(self.signing.sign(message).to_bytes())
    }
}

/// A public key's id: hex SHA-256 of its 32 raw bytes, first 16 digits.
pub fn key_id(key: &VerifyingKey) -> String {
    let digest = Sha256::hex_of(key.as_bytes());
    digest.get(..16).unwrap_or(&digest).to_owned()
}

/// The public keys verify accepts signatures from, by key id.
#[derive(Debug, Clone, Default)]
pub struct PublicKeys {
    keys: BTreeMap<String, VerifyingKey>,
}

impl PublicKeys {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn insert(&mut self, key: VerifyingKey) -> String {
        let id = key_id(&key);
        self.keys.insert(id.clone(), key);
        id
    }

    /// Adds a key from PEM text: a public key (SPKI) or, for convenience on
    /// the host that signs, the private key file itself (only its public
    /// half is kept).
    pub fn insert_pem(&mut self, pem: &str) -> Result<String, String> {
        if let Ok(key) = VerifyingKey::from_public_key_pem(pem) {
            return Ok(self.insert(key));
        }
        match SigningKey::from_pkcs8_pem(pem) {
            Ok(private) => Ok(self.insert(private.verifying_key())),
            Err(e) => Err(e.to_string()),
        }
    }

    /// Adds the key in the PEM file at `path`.
    pub fn load_file(&mut self, path: &Path) -> Result<String, KeyError> {
        let text = std::fs::read_to_string(path).map_err(|source| KeyError::Io {
            path: path.to_owned(),
            source,
        })?;
        self.insert_pem(&text).map_err(|reason| KeyError::Corrupt {
            path: path.to_owned(),
            reason,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.keys.keys().map(String::as_str)
    }

    /// Checks a hex signature over `message` by the key named `key_id`.
    pub fn verify_hex(
        &self,
        key_id: &str,
        message: &[u8],
        signature_hex: &str,
    ) -> Result<(), SignatureProblem> {
        let key = self
            .keys
            .get(key_id)
            .ok_or_else(|| SignatureProblem::UnknownKey(key_id.to_owned()))?;
        let bytes = hex::decode(signature_hex).map_err(|_| SignatureProblem::Malformed)?;
        let sig = Signature::from_slice(&bytes).map_err(|_| SignatureProblem::Malformed)?;
        // Strict verification refuses malleable (non-canonical) signatures.
        key.verify_strict(message, &sig)
            .map_err(|_| SignatureProblem::Invalid(key_id.to_owned()))
    }
}

impl From<&AuditKey> for PublicKeys {
    fn from(key: &AuditKey) -> Self {
        let mut keys = PublicKeys::new();
        keys.insert(key.verifying_key());
        keys
    }
}

#[cfg(test)]
mod tests;
