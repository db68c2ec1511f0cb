//! Codec errors. Each one means the peer sent something that is not the
//! PostgreSQL protocol; the session that received it ends.

use thiserror::Error;

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum CodecError {
    #[error("message of {len} bytes exceeds the limit of {max} bytes")]
    TooLarge { len: usize, max: usize },
    #[error("invalid message length {0}")]
    BadLength(i64),
    #[error("malformed {message}: {problem}")]
    Malformed {
        message: &'static str,
        problem: &'static str,
    },
    #[error("unsupported startup request code {0}")]
    UnknownStartupCode(u32),
}

impl CodecError {
    pub(crate) fn malformed(message: &'static str, problem: &'static str) -> Self {
        CodecError::Malformed { message, problem }
    }
}
