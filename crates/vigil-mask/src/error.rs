//! Masking errors. Every one means "this message cannot be proven safe":
//! the caller must not forward the original bytes; it fails the statement
//! with SQLSTATE 58000 `vigil: masking failed`.

use thiserror::Error;

/// Why a message could not be masked.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum MaskError {
    /// The server sent bytes that are not the message they claim to be.
    #[error("malformed {message}: {problem}")]
    Malformed {
        message: &'static str,
        problem: &'static str,
    },
    /// A DataRow's value count differs from its RowDescription.
    #[error("DataRow has {got} values, RowDescription announced {expected}")]
    ColumnCount { expected: usize, got: usize },
    /// A COPY stream ended in the middle of a row.
    #[error("COPY data ended inside a row ({pending} bytes pending)")]
    PartialCopyRow { pending: usize },
    /// Text could not be decoded from, or encoded back to, the client encoding.
    #[error("cannot transcode a value in client encoding {0}")]
    Encoding(&'static str),
    /// The session's client encoding cannot be masked safely.
    #[error("client encoding not supported by the masker")]
    UnsupportedEncoding,
    /// A binary value Vigil cannot re-encode holds something a detector
    /// matched.
    #[error("cannot mask a binary {0} value that holds sensitive data")]
    Unmaskable(&'static str),
    /// The policy asked to refuse results holding this classification.
    #[error("results holding {0} are refused by policy")]
    Refused(String),
    /// A policy mask rule names a strategy that does not exist.
    #[error("unknown masking strategy {strategy:?} for {key:?}")]
    UnknownStrategy { key: String, strategy: String },
    /// A re-encoded message would exceed the protocol's length limit.
    #[error("masked message too large")]
    TooLarge,
    /// The catalog file could not be read or written.
    #[error("catalog: {0}")]
    Catalog(String),
    /// The detectors could not be built (a bug; fail closed all the same).
    #[error("detectors failed to build: {0}")]
    Detectors(String),
}

impl MaskError {
    pub(crate) fn malformed(message: &'static str, problem: &'static str) -> Self {
        MaskError::Malformed { message, problem }
    }
}

impl From<vigil_pgwire::CodecError> for MaskError {
    fn from(e: vigil_pgwire::CodecError) -> Self {
        match e {
            vigil_pgwire::CodecError::Malformed { message, problem } => {
                MaskError::Malformed { message, problem }
            }
            vigil_pgwire::CodecError::TooLarge { .. } => MaskError::TooLarge,
            _ => MaskError::malformed("message", "bad length"),
        }
    }
}
