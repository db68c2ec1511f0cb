//! One client connection from accept to close: the state machine
//! startup → authenticate → connect upstream → ready → query cycle →
//! terminate. Each step lives in its own module; this file only sequences
//! them and turns failures into one FATAL message.

use crate::error::SessionError;
use crate::handshake::{check_params, read_hello, read_token, Hello};
use crate::hook::SessionContext;
use crate::relay::{ClientPump, RelayEnd, ServerPump};
use crate::stream::MaybeTls;
use crate::upstream::{concat, send_cancel, Upstream};
use crate::{cancel::BackendKey, ProxyInner};
use bytes::BytesMut;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use vigil_core::SessionId;
use vigil_pgwire::backend;

/// Runs one connection to completion, logging how it ended.
pub async fn handle(tcp: TcpStream, peer: SocketAddr, proxy: Arc<ProxyInner>, id: SessionId) {
    let _ = tcp.set_nodelay(true);
    let hello = tokio::time::timeout(
        proxy.settings.handshake_timeout,
        read_hello(tcp, proxy.settings.tls.as_ref()),
    )
    .await;
    let (mut stream, startup, buf) = match hello {
        Ok(Ok(Hello::Startup {
            stream,
            startup,
            buf,
        })) => (stream, startup, buf),
        Ok(Ok(Hello::Cancel { pid, secret })) => return cancel(&proxy, pid, secret, peer).await,
        Ok(Err(e)) => {
            return tracing::info!(session = %id, %peer, error = %e, "connection ended before startup")
        }
        Err(_) => return tracing::info!(session = %id, %peer, "startup timed out"),
    };
    let result = run(&mut stream, startup, buf, peer, &proxy, id).await;
    match result {
        Ok(()) => tracing::info!(session = %id, "session ended"),
        Err(e) => {
            tracing::info!(session = %id, %peer, error = %e, side = ?e.source_side(), "session ended with error");
            if e.tell_client() {
                let mut out = BytesMut::new();
                if e.encode_fatal(&mut out).is_ok() {
                    let _ = stream.write_all(&out).await;
                }
            }
        }
    }
    let _ = stream.shutdown().await;
}

async fn cancel(proxy: &ProxyInner, pid: i32, secret: i32, peer: SocketAddr) {
    match proxy.cancels.resolve(pid, secret) {
        Some(k) => {
            if let Err(e) = send_cancel(&k.host, k.port, k.pid, k.secret).await {
                tracing::warn!(error = %e, "forwarding cancel request failed");
            }
        }
        None => tracing::warn!(%peer, pid, "cancel request with an unknown key ignored"),
    }
}

async fn run(
    stream: &mut MaybeTls,
    startup: vigil_pgwire::StartupMessage,
    mut buf: BytesMut,
    peer: SocketAddr,
    proxy: &Arc<ProxyInner>,
    id: SessionId,
) -> Result<(), SessionError> {
    let s = &proxy.settings;
    let params = check_params(&startup)?;
    if !cleartext_allowed(s.require_tls, stream.is_tls(), peer.ip()) {
        return Err(SessionError::TlsRequired);
    }
    let mut out = BytesMut::new();
    if startup.minor > 0 || !params.unsupported_options.is_empty() {
        let opts: Vec<&str> = params
            .unsupported_options
            .iter()
            .map(String::as_str)
            .collect();
        backend::encode_negotiate(0, &opts, &mut out)?;
        stream
            .write_all(&out)
            .await
            .map_err(SessionError::from_client_io)?;
        out.clear();
    }
    let token = tokio::time::timeout(
        s.handshake_timeout,
        read_token(stream, &mut buf, s.max_message),
    )
    .await
    .map_err(|_| SessionError::HandshakeTimeout)??;
    let principal = proxy
        .verifier
        .verify(&token)
        .await
        .map_err(|f| SessionError::Auth(f.0))?;
    drop(token);
    if !principal.is_named(&params.user) {
        return Err(SessionError::UserMismatch(params.user));
    }
    let target = proxy
        .targets
        .get(&params.connection)
        .cloned()
        .ok_or_else(|| SessionError::UnknownConnection(params.connection.clone()))?;
    let upstream = target
        .connect(&params.passthrough, s.connect_timeout, s.max_message)
        .await?;
    let guard = proxy.cancels.register(BackendKey {
        host: target.host.clone(),
        port: target.port,
        pid: upstream.pid,
        secret: upstream.secret,
    });
    backend::encode_auth_ok(&mut out)?;
    out.extend_from_slice(&concat(&upstream.greeting));
    backend::encode_backend_key(guard.pid, guard.secret, &mut out)?;
    backend::encode_ready(b'I', &mut out)?;
    stream
        .write_all(&out)
        .await
        .map_err(SessionError::from_client_io)?;
    let ctx = SessionContext::new(
        id,
        principal,
        target.info.clone(),
        params.application_name,
        peer,
        stream.is_tls(),
    );
    for f in upstream
        .greeting
        .iter()
        .filter(|f| f.tag() == backend::PARAMETER_STATUS)
    {
        if let Ok(("client_encoding", v)) = backend::parse_parameter_status(f.body()) {
            ctx.set_client_encoding(v);
        }
    }
    tracing::info!(session = %id, user = %ctx.principal.subject, connection = %ctx.connection.name, %peer, "session started");
    let (pid, secret) = (upstream.pid, upstream.secret);
    let result = relay(stream, buf, upstream, &ctx, proxy, &guard.cancelled).await;
    // A session that ends without Terminate may leave the backend busy with
    // a query nobody will read: cancel it rather than let it run on.
    if !matches!(
        result,
        Ok(RelayEnd::Terminated) | Err(SessionError::UpstreamGone)
    ) {
        if let Err(e) = send_cancel(&target.host, target.port, pid, secret).await {
            tracing::debug!(error = %e, "cancel on session end failed");
        }
    }
    result.map(|_| ())
}

/// Whether the token may travel now: over TLS always; in cleartext only
/// when TLS is not required or the client is on this machine.
fn cleartext_allowed(require_tls: bool, is_tls: bool, peer: std::net::IpAddr) -> bool {
    is_tls || !require_tls || peer.is_loopback()
}

fn until_expiry(expires_at: i64) -> Duration {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    Duration::from_secs(expires_at.saturating_sub(now).max(0) as u64)
}

async fn relay(
    client: &mut MaybeTls,
    client_buf: BytesMut,
    upstream: Upstream,
    ctx: &SessionContext,
    proxy: &ProxyInner,
    cancelled: &tokio::sync::Notify,
) -> Result<RelayEnd, SessionError> {
    let (mut cr, mut cw) = tokio::io::split(client);
    let (mut sr, mut sw) = tokio::io::split(upstream.stream);
    let denials = crate::denials::Denials::new(rand::random());
    let max = proxy.settings.max_message;
    let c2s = ClientPump::new(ctx, proxy.hook.as_ref(), &denials, cancelled, max);
    let mut s2c = ServerPump::new(ctx, &denials, max);
    let mut shutdown = proxy.shutdown.clone();
    let expiry = tokio::time::sleep(until_expiry(ctx.principal.expires_at));
    let result = tokio::select! {
        r = c2s.run(&mut cr, &mut sw, client_buf) => r,
        r = s2c.run(&mut sr, &mut cw, upstream.buf) => r.map(|()| RelayEnd::Closed),
        _ = expiry => Err(SessionError::TokenExpired),
        _ = shutdown.wait_for(|stop| *stop) => Err(SessionError::Shutdown),
    };
    // The backend already explained itself with a FATAL: do not add ours.
    if matches!(result, Err(SessionError::UpstreamGone)) && s2c.last_was_error {
        return Ok(RelayEnd::Closed);
    }
    let _ = sw.shutdown().await;
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn require_tls_refuses_remote_cleartext_only() {
        let remote: std::net::IpAddr = "10.1.2.3".parse().unwrap();
        let local: std::net::IpAddr = "127.0.0.1".parse().unwrap();
        let local6: std::net::IpAddr = "::1".parse().unwrap();
        assert!(!cleartext_allowed(true, false, remote));
        assert!(cleartext_allowed(true, true, remote));
        assert!(cleartext_allowed(true, false, local));
        assert!(cleartext_allowed(true, false, local6));
        assert!(cleartext_allowed(false, false, remote));
    }
}
