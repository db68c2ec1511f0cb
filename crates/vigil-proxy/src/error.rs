//! Session errors, and the one place where they become SQLSTATE codes and
//! messages a PostgreSQL client understands.

use std::io;
use thiserror::Error;
use vigil_pgwire::backend::Notice;
use vigil_pgwire::CodecError;

/// Which side an error came from (for logs and metrics).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorSource {
    Client,
    Upstream,
    Internal,
}

/// Everything that ends a session or refuses a login.
#[derive(Debug, Error)]
pub enum SessionError {
    #[error("client sent an invalid message: {0}")]
    ClientProtocol(CodecError),
    #[error("client protocol violation: {0}")]
    ClientViolation(&'static str),
    #[error("client disconnected")]
    ClientGone,
    #[error("client did not finish the handshake in time")]
    HandshakeTimeout,
    #[error("unsupported frontend protocol {0}.{1}: Vigil speaks 3.0")]
    UnsupportedProtocol(u16, u16),
    #[error("startup parameter {0:?} is not allowed through Vigil")]
    ParamRefused(String),
    #[error("startup parameter {0:?} was sent twice")]
    DuplicateParam(String),
    #[error("no user name in the startup packet")]
    MissingUser,
    #[error("TLS is required for connections from non-loopback addresses")]
    TlsRequired,
    #[error("authentication failed: {0}")]
    Auth(String),
    #[error("user {0:?} does not match the token's subject or email")]
    UserMismatch(String),
    #[error("connection {0:?} is not configured")]
    UnknownConnection(String),
    #[error("cannot reach the backend of connection {conn:?}: {reason}")]
    UpstreamConnect { conn: String, reason: String },
    #[error("the backend of connection {conn:?} refused Vigil's login: {reason}")]
    UpstreamRejected { conn: String, reason: String },
    #[error("backend sent an invalid message: {0}")]
    UpstreamProtocol(String),
    #[error("lost the connection to the backend")]
    UpstreamGone,
    #[error("session token expired")]
    TokenExpired,
    #[error("Vigil is shutting down")]
    Shutdown,
    #[error("internal error: {0}")]
    Internal(String),
}

impl SessionError {
    pub fn source_side(&self) -> ErrorSource {
        use SessionError::*;
        match self {
            UpstreamConnect { .. }
            | UpstreamRejected { .. }
            | UpstreamProtocol(_)
            | UpstreamGone => ErrorSource::Upstream,
            Internal(_) | Shutdown => ErrorSource::Internal,
            _ => ErrorSource::Client,
        }
    }

    /// The SQLSTATE sent to the client.
    pub fn sqlstate(&self) -> &'static str {
        use SessionError::*;
        match self {
            ClientProtocol(_) | ClientViolation(_) | HandshakeTimeout | DuplicateParam(_) => {
                "08P01"
            }
            ClientGone => "08006",
            UnsupportedProtocol(..) => "0A000",
            ParamRefused(_) => "42501",
            MissingUser | TlsRequired | UserMismatch(_) | TokenExpired => "28000",
            Auth(_) => "28P01",
            UnknownConnection(_) => "3D000",
            UpstreamConnect { .. } | UpstreamGone => "08006",
            UpstreamRejected { .. } => "08004",
            UpstreamProtocol(_) => "08P01",
            Shutdown => "57P01",
            Internal(_) => "XX000",
        }
    }

    /// What the client should do next.
    pub fn hint(&self) -> Option<&'static str> {
        use SessionError::*;
        Some(match self {
            Auth(_) => "Use a current token from your identity provider or `vigil token issue` as the password.",
            UserMismatch(_) => "Set user to the token's subject or email.",
            UnknownConnection(_) => "Set dbname to a connection name from Vigil's configuration.",
            ParamRefused(_) => "Vigil passes only: application_name, client_encoding, DateStyle, TimeZone, IntervalStyle, extra_float_digits, bytea_output, lc_monetary, lc_numeric, lc_time, statement_timeout, lock_timeout, idle_in_transaction_session_timeout; and takes its own vigil.approval (wait or nowait), also as options='-c vigil.approval=nowait'.",
            TlsRequired => "Connect with sslmode=require.",
            TokenExpired => "Reconnect with a fresh token.",
            UpstreamConnect { .. } | UpstreamGone => "The database may be down or restarting; try again shortly.",
            UpstreamRejected { .. } => "Vigil's credentials for this connection are wrong; tell the Vigil administrator.",
            _ => return None,
        })
    }

    /// Writes this error as a FATAL ErrorResponse.
    pub fn encode_fatal(&self, out: &mut bytes::BytesMut) -> Result<(), CodecError> {
        let message = format!("vigil: {self}");
        Notice {
            severity: "FATAL",
            code: self.sqlstate(),
            message: &message,
            detail: None,
            hint: self.hint(),
        }
        .encode_error(out)
    }

    /// Whether the client should be told (it may already be gone).
    pub fn tell_client(&self) -> bool {
        !matches!(self, SessionError::ClientGone)
    }

    pub fn from_client_io(e: io::Error) -> Self {
        tracing::debug!(error = %e, "client I/O error");
        SessionError::ClientGone
    }
}

impl From<CodecError> for SessionError {
    fn from(e: CodecError) -> Self {
        SessionError::ClientProtocol(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_errors_map_to_auth_codes() {
        assert_eq!(
            SessionError::Auth("token expired".into()).sqlstate(),
            "28P01"
        );
        assert_eq!(SessionError::UserMismatch("bob".into()).sqlstate(), "28000");
        assert_eq!(
            SessionError::UnknownConnection("x".into()).sqlstate(),
            "3D000"
        );
    }

    #[test]
    fn fatal_carries_message_and_hint() {
        let mut out = bytes::BytesMut::new();
        SessionError::UnknownConnection("nope".into())
            .encode_fatal(&mut out)
            .unwrap();
        let f = vigil_pgwire::decode_frame(&mut out, 1 << 16)
            .unwrap()
            .unwrap();
        let e = vigil_pgwire::backend::ErrorFields::parse(f.body()).unwrap();
        assert_eq!(e.get(b'S'), Some("FATAL"));
        assert!(e.message().unwrap().contains("\"nope\""));
        assert!(e.get(b'H').is_some());
    }
}
