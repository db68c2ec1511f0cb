//! Sans-I/O PostgreSQL v3 wire-protocol codec.
//!
//! Bytes come in from a socket owned by someone else; this crate cuts them
//! into frames (`Ok(None)` means "need more bytes"), gives typed, lazy views
//! of the messages Vigil inspects, and encodes the few messages Vigil writes
//! itself. It never panics on garbage: every length is checked.
//!
//! - [`frame`]: cutting typed frames (`tag` + length + body) out of a buffer.
//! - [`startup`]: the untagged first messages (StartupMessage, SSLRequest,
//!   GSSENCRequest, CancelRequest).
//! - [`frontend`]: views of client messages (Query, Parse, Bind, …).
//! - [`backend`]: views of server messages and encoders for the ones Vigil
//!   sends (ErrorResponse, ReadyForQuery, Authentication, …).
//! - [`text`]: decoding SQL text from the session's client_encoding.
//! - [`cursor`]: the bounds-checked reader the views are built on.

pub mod backend;
pub mod cursor;
pub mod error;
pub mod frame;
pub mod frontend;
pub mod startup;
pub mod text;

pub use error::CodecError;
pub use frame::{decode_frame, Frame};
pub use startup::{decode_startup, StartupFrame, StartupMessage};

/// Default ceiling for one message, client or server. PostgreSQL accepts up
/// to 1 GiB; a proxy should be stricter and configurable.
pub const DEFAULT_MAX_MESSAGE: usize = 64 * 1024 * 1024;
