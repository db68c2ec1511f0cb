//! The backend side of startup: connect (optionally over TLS), send a
//! startup message Vigil builds itself, and log in with Vigil's own
//! credentials (SCRAM-SHA-256, md5, cleartext or trust).

use crate::error::SessionError;
use crate::stream::MaybeTls;
use bytes::{Bytes, BytesMut};
use postgres_protocol::authentication::{md5_hash, sasl};
use postgres_protocol::message::frontend as pgfe;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use vigil_core::ConnectionInfo;
use vigil_pgwire::backend::{self, Authentication, ErrorFields};
use vigil_pgwire::startup::{encode_ssl_request, encode_startup};
use vigil_pgwire::{decode_frame, Frame};

/// TLS to the backend.
#[derive(Clone)]
pub enum UpstreamTls {
    Disable,
    /// Use TLS if the server agrees.
    Prefer(Arc<rustls::ClientConfig>),
    /// Refuse to continue without TLS.
    Require(Arc<rustls::ClientConfig>),
}

/// A configured database a client can name as its `dbname`.
#[derive(Clone)]
pub struct Target {
    pub info: ConnectionInfo,
    pub host: String,
    pub port: u16,
    pub database: String,
    pub user: String,
    pub password: Option<String>,
    pub tls: UpstreamTls,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("name", &self.info.name)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("database", &self.database)
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

/// A logged-in backend connection, ready for queries.
pub struct Upstream {
    pub stream: MaybeTls,
    /// ParameterStatus and NoticeResponse frames to relay to the client.
    pub greeting: Vec<Frame>,
    /// The backend's real cancel key.
    pub pid: i32,
    pub secret: i32,
    /// Bytes received after the first ReadyForQuery.
    pub buf: BytesMut,
}

impl Target {
    fn connect_error(&self, reason: impl ToString) -> SessionError {
        SessionError::UpstreamConnect {
            conn: self.info.name.clone(),
            reason: reason.to_string(),
        }
    }

    /// Connects and logs in. `params` are the client's pass-through
    /// startup parameters.
    pub async fn connect(
        &self,
        params: &[(String, String)],
        timeout: Duration,
        max_message: usize,
    ) -> Result<Upstream, SessionError> {
        let tcp =
            tokio::time::timeout(timeout, TcpStream::connect((self.host.as_str(), self.port)))
                .await
                .map_err(|_| self.connect_error("connect timed out"))?
                .map_err(|e| self.connect_error(e))?;
        let _ = tcp.set_nodelay(true);
        let stream = tokio::time::timeout(timeout, self.start_tls(tcp))
            .await
            .map_err(|_| self.connect_error("TLS negotiation timed out"))??;
        tokio::time::timeout(timeout, self.login(stream, params, max_message))
            .await
            .map_err(|_| self.connect_error("login timed out"))?
    }

    async fn start_tls(&self, mut tcp: TcpStream) -> Result<MaybeTls, SessionError> {
        let (cfg, required) = match &self.tls {
            UpstreamTls::Disable => return Ok(MaybeTls::Plain(tcp)),
            UpstreamTls::Prefer(c) => (c.clone(), false),
            UpstreamTls::Require(c) => (c.clone(), true),
        };
        let mut req = BytesMut::new();
        encode_ssl_request(&mut req);
        tcp.write_all(&req)
            .await
            .map_err(|e| self.connect_error(e))?;
        let mut answer = [0u8; 1];
        tcp.read_exact(&mut answer)
            .await
            .map_err(|e| self.connect_error(e))?;
        match answer[0] {
            b'S' => {
                let name = rustls::pki_types::ServerName::try_from(self.host.clone())
                    .map_err(|e| self.connect_error(e))?;
                let s = tokio_rustls::TlsConnector::from(cfg)
                    .connect(name, tcp)
                    .await
                    .map_err(|e| self.connect_error(format!("TLS: {e}")))?;
                Ok(MaybeTls::ClientTls(Box::new(s)))
            }
            b'N' if !required => Ok(MaybeTls::Plain(tcp)),
            b'N' => {
                Err(self.connect_error("the server does not support TLS, and tls = \"require\""))
            }
            _ => Err(SessionError::UpstreamProtocol(
                "bad reply to SSLRequest".into(),
            )),
        }
    }

    async fn login(
        &self,
        mut stream: MaybeTls,
        params: &[(String, String)],
        max_message: usize,
    ) -> Result<Upstream, SessionError> {
        let mut out = BytesMut::new();
        let mut all: Vec<(&str, &str)> = vec![("user", &self.user), ("database", &self.database)];
        all.extend(params.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        encode_startup(all, &mut out).map_err(|e| SessionError::Internal(e.to_string()))?;
        send(&mut stream, &out).await?;
        let mut buf = BytesMut::with_capacity(8 * 1024);
        let mut scram: Option<sasl::ScramSha256> = None;
        let mut greeting = Vec::new();
        let mut key = (0, 0);
        loop {
            let frame = read_frame(&mut stream, &mut buf, max_message).await?;
            match frame.tag() {
                backend::AUTHENTICATION => {
                    let auth = Authentication::parse(frame.body()).map_err(upstream_protocol)?;
                    self.answer_auth(auth, &mut scram, &mut stream).await?;
                }
                backend::ERROR_RESPONSE => {
                    let e = ErrorFields::parse(frame.body()).map_err(upstream_protocol)?;
                    return Err(SessionError::UpstreamRejected {
                        conn: self.info.name.clone(),
                        reason: format!(
                            "{} ({})",
                            e.message().unwrap_or("no message"),
                            e.code().unwrap_or("?????")
                        ),
                    });
                }
                backend::BACKEND_KEY_DATA => {
                    key = backend::parse_backend_key(frame.body()).map_err(upstream_protocol)?;
                }
                backend::PARAMETER_STATUS | backend::NOTICE_RESPONSE => greeting.push(frame),
                backend::NEGOTIATE_PROTOCOL_VERSION => {}
                backend::READY_FOR_QUERY => {
                    return Ok(Upstream {
                        stream,
                        greeting,
                        pid: key.0,
                        secret: key.1,
                        buf,
                    })
                }
                other => {
                    return Err(SessionError::UpstreamProtocol(format!(
                        "unexpected message {:?} during login",
                        other as char
                    )))
                }
            }
        }
    }

    async fn answer_auth(
        &self,
        auth: Authentication<'_>,
        scram: &mut Option<sasl::ScramSha256>,
        stream: &mut MaybeTls,
    ) -> Result<(), SessionError> {
        let mut out = BytesMut::new();
        let password = || {
            self.password
                .as_deref()
                .ok_or_else(|| SessionError::UpstreamRejected {
                    conn: self.info.name.clone(),
                    reason: "the server asks for a password and none is configured".into(),
                })
        };
        match auth {
            Authentication::Ok => return Ok(()),
            Authentication::CleartextPassword => {
                pgfe::password_message(password()?.as_bytes(), &mut out).map_err(internal)?
            }
            Authentication::Md5Password { salt } => {
                let hash = md5_hash(self.user.as_bytes(), password()?.as_bytes(), salt);
                pgfe::password_message(hash.as_bytes(), &mut out).map_err(internal)?
            }
            Authentication::Sasl { mechanisms } => {
                if !mechanisms.contains(&sasl::SCRAM_SHA_256) {
                    return Err(
                        self.connect_error("the server offers no SASL mechanism Vigil supports")
                    );
                }
                let s = sasl::ScramSha256::new(
                    password()?.as_bytes(),
                    sasl::ChannelBinding::unsupported(),
                );
                pgfe::sasl_initial_response(sasl::SCRAM_SHA_256, s.message(), &mut out)
                    .map_err(internal)?;
                *scram = Some(s);
            }
            Authentication::SaslContinue { data } => {
                let s = scram
                    .as_mut()
                    .ok_or_else(|| upstream_protocol("SASL continue without start"))?;
                s.update(data)
                    .map_err(|e| upstream_protocol(e.to_string()))?;
                pgfe::sasl_response(s.message(), &mut out).map_err(internal)?;
            }
            Authentication::SaslFinal { data } => {
                let s = scram
                    .as_mut()
                    .ok_or_else(|| upstream_protocol("SASL final without start"))?;
                s.finish(data)
                    .map_err(|e| upstream_protocol(format!("server signature: {e}")))?;
                return Ok(());
            }
            Authentication::Unsupported(code) => {
                return Err(self.connect_error(format!("unsupported authentication method {code}")))
            }
        }
        send(stream, &out).await
    }
}

fn upstream_protocol(e: impl ToString) -> SessionError {
    SessionError::UpstreamProtocol(e.to_string())
}

fn internal(e: impl ToString) -> SessionError {
    SessionError::Internal(e.to_string())
}

async fn send(stream: &mut MaybeTls, bytes: &[u8]) -> Result<(), SessionError> {
    stream
        .write_all(bytes)
        .await
        .map_err(|_| SessionError::UpstreamGone)
}

async fn read_frame(
    stream: &mut MaybeTls,
    buf: &mut BytesMut,
    max: usize,
) -> Result<Frame, SessionError> {
    loop {
        if let Some(f) = decode_frame(buf, max).map_err(upstream_protocol)? {
            return Ok(f);
        }
        if stream
            .read_buf(buf)
            .await
            .map_err(|_| SessionError::UpstreamGone)?
            == 0
        {
            return Err(SessionError::UpstreamGone);
        }
    }
}

/// Sends a CancelRequest for `pid`/`secret` to a backend, best effort.
pub async fn send_cancel(host: &str, port: u16, pid: i32, secret: i32) -> std::io::Result<()> {
    let mut tcp = tokio::time::timeout(Duration::from_secs(5), TcpStream::connect((host, port)))
        .await
        .map_err(|_| {
            std::io::Error::new(std::io::ErrorKind::TimedOut, "cancel connect timed out")
        })??;
    let mut out = BytesMut::new();
    vigil_pgwire::startup::encode_cancel(pid, secret, &mut out);
    tcp.write_all(&out).await?;
    // The server closes the connection when done; wait briefly for that.
    let mut sink = [0u8; 16];
    let _ = tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut sink)).await;
    Ok(())
}

/// Raw bytes of frames, for relaying the greeting.
pub fn concat(frames: &[Frame]) -> Bytes {
    let mut out = BytesMut::new();
    for f in frames {
        out.extend_from_slice(f.raw());
    }
    out.freeze()
}
