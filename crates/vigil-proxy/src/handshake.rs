//! The client side of startup: TLS negotiation, the startup packet and its
//! parameters, and the token exchange. Nothing here talks to a backend.

use crate::error::SessionError;
use crate::stream::MaybeTls;
use bytes::BytesMut;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use vigil_pgwire::frontend::{parse_password, PASSWORD};
use vigil_pgwire::{backend, decode_frame, decode_startup, StartupFrame, StartupMessage};

/// Startup parameters Vigil forwards to the backend. Each only shapes how
/// results are formatted or bounds the session; none grants anything.
const PASSTHROUGH: &[&str] = &[
    "application_name",
    "client_encoding",
    "datestyle",
    "timezone",
    "intervalstyle",
    "extra_float_digits",
    "bytea_output",
    "lc_monetary",
    "lc_numeric",
    "lc_time",
    "statement_timeout",
    "lock_timeout",
    "idle_in_transaction_session_timeout",
];

/// The first thing a client said, after any TLS upgrade.
pub enum Hello {
    Cancel {
        pid: i32,
        secret: i32,
    },
    Startup {
        stream: MaybeTls,
        startup: StartupMessage,
        /// Bytes the client sent after the startup packet.
        buf: BytesMut,
    },
}

/// Reads SSLRequest / GSSENCRequest / CancelRequest / StartupMessage,
/// upgrading to TLS when asked and configured.
pub async fn read_hello(
    tcp: TcpStream,
    tls: Option<&Arc<rustls::ServerConfig>>,
) -> Result<Hello, SessionError> {
    let mut stream = MaybeTls::Plain(tcp);
    let mut buf = BytesMut::with_capacity(1024);
    loop {
        let frame = loop {
            if let Some(f) = decode_startup(&mut buf)? {
                break f;
            }
            if stream
                .read_buf(&mut buf)
                .await
                .map_err(SessionError::from_client_io)?
                == 0
            {
                return Err(SessionError::ClientGone);
            }
        };
        match frame {
            StartupFrame::Cancel { pid, secret } => return Ok(Hello::Cancel { pid, secret }),
            StartupFrame::Startup(startup) => {
                return Ok(Hello::Startup {
                    stream,
                    startup,
                    buf,
                })
            }
            StartupFrame::GssEncRequest => write_all(&mut stream, b"N").await?,
            StartupFrame::SslRequest => {
                if !buf.is_empty() {
                    // Bytes after SSLRequest would be read as if encrypted
                    // (CVE-2021-23222): refuse rather than guess.
                    return Err(SessionError::ClientViolation(
                        "data sent after SSLRequest before the reply",
                    ));
                }
                stream = negotiate_tls(stream, tls).await?;
            }
        }
    }
}

async fn negotiate_tls(
    stream: MaybeTls,
    tls: Option<&Arc<rustls::ServerConfig>>,
) -> Result<MaybeTls, SessionError> {
    match (stream, tls) {
        (MaybeTls::Plain(mut tcp), Some(cfg)) => {
            tcp.write_all(b"S")
                .await
                .map_err(SessionError::from_client_io)?;
            let acceptor = tokio_rustls::TlsAcceptor::from(cfg.clone());
            let s = acceptor.accept(tcp).await.map_err(|e| {
                tracing::info!(error = %e, "client TLS handshake failed");
                SessionError::ClientGone
            })?;
            Ok(MaybeTls::ServerTls(Box::new(s)))
        }
        (MaybeTls::Plain(mut tcp), None) => {
            tcp.write_all(b"N")
                .await
                .map_err(SessionError::from_client_io)?;
            Ok(MaybeTls::Plain(tcp))
        }
        _ => Err(SessionError::ClientViolation("SSLRequest inside TLS")),
    }
}

async fn write_all(stream: &mut MaybeTls, bytes: &[u8]) -> Result<(), SessionError> {
    stream
        .write_all(bytes)
        .await
        .map_err(SessionError::from_client_io)
}

/// The startup parameters, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartupParams {
    pub user: String,
    /// The connection name (`dbname`); defaults to the user, as in PostgreSQL.
    pub connection: String,
    /// Parameters forwarded to the backend, as sent.
    pub passthrough: Vec<(String, String)>,
    pub application_name: Option<String>,
    /// `_pq_.*` protocol options Vigil does not support (to negotiate away).
    pub unsupported_options: Vec<String>,
    /// Vigil's own session options (`vigil.approval=nowait`), name without
    /// the `vigil.` prefix; consumed here, never forwarded.
    pub vigil: Vec<(String, String)>,
}

/// Validates the startup packet: protocol 3.x, no duplicates, and only the
/// harmless parameters in `PASSTHROUGH`.
pub fn check_params(msg: &StartupMessage) -> Result<StartupParams, SessionError> {
    if msg.major != 3 {
        return Err(SessionError::UnsupportedProtocol(msg.major, msg.minor));
    }
    let mut seen = std::collections::HashSet::new();
    let mut out = StartupParams {
        user: String::new(),
        connection: String::new(),
        passthrough: Vec::new(),
        application_name: None,
        unsupported_options: Vec::new(),
        vigil: Vec::new(),
    };
    for (k, v) in &msg.params {
        let key = k.to_ascii_lowercase();
        if !seen.insert(key.clone()) {
            return Err(SessionError::DuplicateParam(k.clone()));
        }
        match key.as_str() {
            "user" => out.user = v.clone(),
            "database" => out.connection = v.clone(),
            _ if key.starts_with("_pq_.") => out.unsupported_options.push(k.clone()),
            _ if key.starts_with("vigil.") => {
                push_vigil_option(&mut out.vigil, &key["vigil.".len()..], v)?;
            }
            "options" => {
                for (name, value) in
                    vigil_options(v).ok_or_else(|| SessionError::ParamRefused(k.clone()))?
                {
                    push_vigil_option(&mut out.vigil, &name, &value)?;
                }
            }
            _ if PASSTHROUGH.contains(&key.as_str()) => {
                if key == "application_name" {
                    out.application_name = Some(v.clone());
                }
                out.passthrough.push((k.clone(), v.clone()));
            }
            _ => return Err(SessionError::ParamRefused(k.clone())),
        }
    }
    if out.user.is_empty() {
        return Err(SessionError::MissingUser);
    }
    if out.connection.is_empty() {
        out.connection = out.user.clone();
    }
    Ok(out)
}

/// The `-c vigil.NAME=VALUE` (or `--vigil.NAME=VALUE`) entries of an
/// `options` startup parameter (libpq's `PGOPTIONS`). `None` if it holds
/// anything else: other server options stay refused.
fn vigil_options(options: &str) -> Option<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut words = options.split_ascii_whitespace();
    while let Some(w) = words.next() {
        let setting = if w == "-c" {
            words.next()?
        } else if let Some(rest) = w.strip_prefix("--") {
            rest
        } else {
            w.strip_prefix("-c")?
        };
        let (name, value) = setting.split_once('=')?;
        let name = name.to_ascii_lowercase();
        out.push((name.strip_prefix("vigil.")?.to_owned(), value.to_owned()));
    }
    Some(out)
}

fn push_vigil_option(
    to: &mut Vec<(String, String)>,
    name: &str,
    value: &str,
) -> Result<(), SessionError> {
    const KNOWN: &[&str] = &["approval"];
    if !KNOWN.contains(&name) || to.iter().any(|(n, _)| n == name) {
        return Err(SessionError::ParamRefused(format!("vigil.{name}")));
    }
    to.push((name.to_owned(), value.to_owned()));
    Ok(())
}

/// Asks for the password (the token) in cleartext and reads it.
pub async fn read_token(
    stream: &mut MaybeTls,
    buf: &mut BytesMut,
    max_message: usize,
) -> Result<String, SessionError> {
    let mut out = BytesMut::new();
    backend::encode_auth_cleartext(&mut out)?;
    write_all(stream, &out).await?;
    let frame = loop {
        if let Some(f) = decode_frame(buf, max_message.min(64 * 1024))? {
            break f;
        }
        if stream
            .read_buf(buf)
            .await
            .map_err(SessionError::from_client_io)?
            == 0
        {
            return Err(SessionError::ClientGone);
        }
    };
    if frame.tag() != PASSWORD {
        return Err(SessionError::ClientViolation("expected a password message"));
    }
    Ok(parse_password(frame.body())?.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(params: &[(&str, &str)]) -> StartupMessage {
        StartupMessage {
            major: 3,
            minor: 0,
            params: params
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn accepts_plain_startup() {
        let p = check_params(&msg(&[
            ("user", "alice"),
            ("database", "shop"),
            ("application_name", "psql"),
            ("DateStyle", "ISO"),
        ]))
        .unwrap();
        assert_eq!(p.connection, "shop");
        assert_eq!(p.application_name.as_deref(), Some("psql"));
        assert_eq!(p.passthrough.len(), 2);
    }

    #[test]
    fn refuses_guc_setting_params() {
        for bad in [
            "replication",
            "role",
            "search_path",
            "session_authorization",
        ] {
            let e = check_params(&msg(&[("user", "a"), (bad, "x")])).unwrap_err();
            assert!(matches!(e, SessionError::ParamRefused(_)), "{bad}");
        }
    }

    #[test]
    fn refuses_duplicates_and_missing_user() {
        let e = check_params(&msg(&[("user", "a"), ("User", "b")])).unwrap_err();
        assert!(matches!(e, SessionError::DuplicateParam(_)));
        assert!(matches!(
            check_params(&msg(&[("database", "x")])).unwrap_err(),
            SessionError::MissingUser
        ));
    }

    #[test]
    fn protocol_options_are_collected() {
        let p = check_params(&msg(&[("user", "a"), ("_pq_.foo", "1")])).unwrap();
        assert_eq!(p.unsupported_options, vec!["_pq_.foo".to_string()]);
    }

    #[test]
    fn vigil_options_are_taken_not_forwarded() {
        let p = check_params(&msg(&[("user", "a"), ("vigil.approval", "nowait")])).unwrap();
        assert_eq!(p.vigil, vec![("approval".into(), "nowait".into())]);
        assert!(p.passthrough.is_empty());
        for options in [
            "-c vigil.approval=nowait",
            "--vigil.approval=nowait",
            "-cvigil.approval=nowait",
        ] {
            let p = check_params(&msg(&[("user", "a"), ("options", options)])).unwrap();
            assert_eq!(
                p.vigil,
                vec![("approval".into(), "nowait".into())],
                "{options}"
            );
        }
        for bad in [
            "-c search_path=evil",
            "-c vigil.approval=nowait -c role=admin",
            "-c vigil.unknown=1",
            "-c vigil.approval=nowait --vigil.approval=wait",
            "-c",
            "-c vigil.approval",
        ] {
            let e = check_params(&msg(&[("user", "a"), ("options", bad)])).unwrap_err();
            assert!(matches!(e, SessionError::ParamRefused(_)), "{bad}");
        }
        let e = check_params(&msg(&[("user", "a"), ("vigil.nope", "1")])).unwrap_err();
        assert!(matches!(e, SessionError::ParamRefused(_)));
    }
}
