//! One client connection from accept to close: the state machine
//! startup → authenticate → connect upstream → ready → query cycle →
//! terminate. Each step lives in its own module; this file only sequences
//! them and turns failures into one FATAL message.

use crate::error::SessionError;
use crate::filter::ResponseFilter;
use crate::handshake::{check_params, read_hello, read_token, Hello, StartupParams};
use crate::hook::SessionContext;
use crate::observe::{AuthFailureInfo, Counted, SessionSummary};
use crate::relay::{ClientPump, RelayEnd, ServerPump};
use crate::stream::MaybeTls;
use crate::track::Requests;
use crate::upstream::{concat, send_cancel, Target, Upstream};
use crate::{
    cancel::{BackendKey, Cancel, CancelSignal},
    ProxyInner,
};
use bytes::BytesMut;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use vigil_core::{Principal, SessionId};
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
        Some(Cancel::Forward(k)) => {
            if let Err(e) = send_cancel(&k.host, k.port, k.pid, k.secret).await {
                tracing::warn!(error = %e, "forwarding cancel request failed");
            }
        }
        Some(Cancel::Withdrawn) => tracing::debug!(pid, "cancel withdrew a held statement"),
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
    let (principal, target) =
        match login(stream, &params, startup.minor, &mut buf, peer, proxy).await {
            Ok(found) => found,
            Err(e) => {
                refused(proxy, &e, &params, peer, stream.is_tls());
                return Err(e);
            }
        };
    let authenticated = Instant::now();
    let ctx = SessionContext::new(
        id,
        principal,
        target.info.clone(),
        params.application_name.clone(),
        peer,
        stream.is_tls(),
    )
    .with_options(params.vigil.clone());
    let upstream = match target
        .connect(&params.passthrough, s.connect_timeout, s.max_message)
        .await
    {
        Ok(upstream) => upstream,
        Err(e) => {
            unreached(proxy, &ctx, authenticated, &e);
            return Err(e);
        }
    };
    let guard = proxy.cancels.register(BackendKey {
        host: target.host.clone(),
        port: target.port,
        pid: upstream.pid,
        secret: upstream.secret,
    });
    let greeting_bytes = greet(stream, &upstream, guard.pid, guard.secret).await?;
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
    let observer = proxy.observer.get();
    if let Some(o) = observer {
        o.on_session_start(&ctx);
    }
    let (pid, secret) = (upstream.pid, upstream.secret);
    let relayed = relay(stream, buf, upstream, &ctx, proxy, &guard.cancelled).await;
    if let Some(o) = observer {
        let summary = SessionSummary {
            duration: authenticated.elapsed(),
            statements: ctx.statements_so_far(),
            bytes_in: relayed.bytes_in,
            bytes_out: relayed.bytes_out + greeting_bytes,
            reason: relayed.reason,
        };
        o.on_session_end(&ctx, &summary);
    }
    let result = relayed.result;
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

/// Tells the client it is in: AuthenticationOk, the server's greeting,
/// Vigil's cancel key, ReadyForQuery. Returns the bytes written.
async fn greet(
    stream: &mut MaybeTls,
    upstream: &Upstream,
    pid: i32,
    secret: i32,
) -> Result<u64, SessionError> {
    let mut out = BytesMut::new();
    backend::encode_auth_ok(&mut out)?;
    out.extend_from_slice(&concat(&upstream.greeting));
    backend::encode_backend_key(pid, secret, &mut out)?;
    backend::encode_ready(b'I', &mut out)?;
    stream
        .write_all(&out)
        .await
        .map_err(SessionError::from_client_io)?;
    Ok(out.len() as u64)
}

/// Authenticates the client: TLS rule, protocol negotiation, the token,
/// the user name and the connection it asks for.
async fn login(
    stream: &mut MaybeTls,
    params: &StartupParams,
    minor: u16,
    buf: &mut BytesMut,
    peer: SocketAddr,
    proxy: &ProxyInner,
) -> Result<(Principal, Arc<Target>), SessionError> {
    let s = &proxy.settings;
    if !cleartext_allowed(s.require_tls, stream.is_tls(), peer.ip()) {
        return Err(SessionError::TlsRequired);
    }
    if minor > 0 || !params.unsupported_options.is_empty() {
        let opts: Vec<&str> = params
            .unsupported_options
            .iter()
            .map(String::as_str)
            .collect();
        let mut out = BytesMut::new();
        backend::encode_negotiate(0, &opts, &mut out)?;
        stream
            .write_all(&out)
            .await
            .map_err(SessionError::from_client_io)?;
    }
    let token = tokio::time::timeout(s.handshake_timeout, read_token(stream, buf, s.max_message))
        .await
        .map_err(|_| SessionError::HandshakeTimeout)??;
    let principal = proxy
        .verifier
        .verify(&token)
        .await
        .map_err(|f| SessionError::Auth(f.0))?;
    drop(token);
    if !principal.is_named(&params.user) {
        return Err(SessionError::UserMismatch(params.user.clone()));
    }
    let target = proxy
        .targets
        .get(&params.connection)
        .cloned()
        .ok_or_else(|| SessionError::UnknownConnection(params.connection.clone()))?;
    Ok((principal, target))
}

/// Tells the observer about a verified login whose backend could not be
/// reached or refused Vigil: the session starts and ends at once, with the
/// reason, so the attempt is on the record under the verified identity.
fn unreached(proxy: &ProxyInner, ctx: &SessionContext, since: Instant, e: &SessionError) {
    let Some(o) = proxy.observer.get() else {
        return;
    };
    o.on_session_start(ctx);
    o.on_session_end(
        ctx,
        &SessionSummary {
            duration: since.elapsed(),
            statements: 0,
            bytes_in: 0,
            bytes_out: 0,
            reason: e.to_string(),
        },
    );
}

/// Tells the observer about a refused login. A client that closed or
/// stalled before sending a token (psql asking for a password does) was
/// not refused: it never tried.
fn refused(
    proxy: &ProxyInner,
    e: &SessionError,
    params: &StartupParams,
    peer: SocketAddr,
    tls: bool,
) {
    let Some(o) = proxy.observer.get() else {
        return;
    };
    if !matches!(
        e,
        SessionError::TlsRequired
            | SessionError::Auth(_)
            | SessionError::UserMismatch(_)
            | SessionError::UnknownConnection(_)
    ) {
        return;
    }
    let reason = e.to_string();
    o.on_auth_failure(&AuthFailureInfo {
        reason: &reason,
        sqlstate: e.sqlstate(),
        client_addr: peer,
        claimed_user: Some(params.user.as_str()),
        connection: Some(params.connection.as_str()),
        application_name: params.application_name.as_deref(),
        tls,
    });
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

/// How the query cycle ended, and what crossed the client connection.
struct Relayed {
    result: Result<RelayEnd, SessionError>,
    bytes_in: u64,
    bytes_out: u64,
    reason: String,
}

async fn relay(
    client: &mut MaybeTls,
    client_buf: BytesMut,
    upstream: Upstream,
    ctx: &SessionContext,
    proxy: &ProxyInner,
    cancelled: &CancelSignal,
) -> Relayed {
    let (cr, cw) = tokio::io::split(client);
    let (mut cr, mut cw) = (Counted::new(cr), Counted::new(cw));
    let (mut sr, mut sw) = tokio::io::split(upstream.stream);
    let leftover = client_buf.len() as u64;
    let denials = crate::denials::Denials::new(rand::random());
    let requests = Requests::default();
    let max = proxy.settings.max_message;
    let responses = proxy.responses.as_ref().and_then(|f| f.session(ctx));
    let filter = ResponseFilter::new(responses);
    let c2s = ClientPump::new(
        ctx,
        proxy.hook.as_ref(),
        &denials,
        cancelled,
        max,
        &requests,
    )
    .tracking(filter.has_hook(), filter.wants_layouts());
    let mut s2c = ServerPump::new(ctx, &denials, &requests, filter, max);
    let notices = ctx.take_notices();
    let mut shutdown = proxy.shutdown.clone();
    let expiry = tokio::time::sleep(until_expiry(ctx.principal.expires_at));
    let mut result = tokio::select! {
        r = c2s.run(&mut cr, &mut sw, client_buf) => r,
        r = s2c.run(&mut sr, &mut cw, upstream.buf, notices) => r.map(|()| RelayEnd::Closed),
        _ = expiry => Err(SessionError::TokenExpired),
        _ = shutdown.wait_for(|stop| *stop) => Err(SessionError::Shutdown),
    };
    let reason = match &result {
        Ok(RelayEnd::Terminated) => "client terminated".to_owned(),
        Ok(RelayEnd::Closed) => "client closed".to_owned(),
        Err(SessionError::UpstreamGone) if s2c.last_was_error => {
            "the server ended the session".to_owned()
        }
        Err(e) => e.to_string(),
    };
    // The backend already explained itself with a FATAL: do not add ours.
    if matches!(result, Err(SessionError::UpstreamGone)) && s2c.last_was_error {
        result = Ok(RelayEnd::Closed);
    } else {
        let _ = sw.shutdown().await;
    }
    Relayed {
        result,
        bytes_in: leftover + cr.bytes(),
        bytes_out: cw.bytes(),
        reason,
    }
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
