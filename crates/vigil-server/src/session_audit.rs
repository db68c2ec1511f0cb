//! The audit trail's session observer: `session.start`, `session.end` (with
//! duration, statement count and bytes) and `auth.failure` (the reason and
//! what the client asked for; never the token).
//!
//! Events are queued in call order without waiting for their commit: a
//! session's start is queued before its first intent, its end after its
//! last outcome. They do not gate anything (only intents are write-ahead),
//! so a store that cannot take them costs a log line, not the session.

use std::sync::Arc;
use vigil_audit::{AuditPrincipal, AuthFailure, Event, SessionEnd, SessionStart};
use vigil_proxy::{AuthFailureInfo, SessionContext, SessionObserver, SessionSummary};
use vigil_store::audit::{AuditError, AuditLog};

/// Records sessions and refused logins in the audit trail.
pub struct SessionAudit {
    log: AuditLog,
}

impl SessionAudit {
    pub fn new(log: AuditLog) -> Arc<Self> {
        Arc::new(SessionAudit { log })
    }
}

impl SessionObserver for SessionAudit {
    fn on_session_start(&self, ctx: &SessionContext) {
        queue(&self.log, session_start(ctx));
    }

    fn on_session_end(&self, ctx: &SessionContext, summary: &SessionSummary) {
        queue(&self.log, session_end(ctx, summary));
    }

    fn on_auth_failure(&self, info: &AuthFailureInfo<'_>) {
        queue(&self.log, auth_failure(info));
    }
}

/// The `session.start` event for `ctx`.
pub fn session_start(ctx: &SessionContext) -> Event {
    Event::SessionStart(SessionStart {
        session_id: ctx.session_id.0,
        principal: AuditPrincipal::from(&ctx.principal),
        client_addr: ctx.client_addr.to_string(),
        application_name: ctx.application_name.clone(),
        tls: ctx.tls,
        connection: ctx.connection.name.clone(),
        environment: ctx.connection.environment.clone(),
    })
}

/// The `session.end` event for `ctx` with its totals.
pub fn session_end(ctx: &SessionContext, s: &SessionSummary) -> Event {
    Event::SessionEnd(SessionEnd {
        session_id: ctx.session_id.0,
        principal: AuditPrincipal::from(&ctx.principal),
        client_addr: ctx.client_addr.to_string(),
        application_name: ctx.application_name.clone(),
        tls: ctx.tls,
        connection: ctx.connection.name.clone(),
        environment: ctx.connection.environment.clone(),
        duration_ms: u64::try_from(s.duration.as_millis()).unwrap_or(u64::MAX),
        statements: s.statements,
        bytes_in: s.bytes_in,
        bytes_out: s.bytes_out,
        reason: Some(s.reason.clone()),
    })
}

/// The `auth.failure` event for a refused login.
pub fn auth_failure(info: &AuthFailureInfo<'_>) -> Event {
    Event::AuthFailure(AuthFailure {
        reason: info.reason.to_owned(),
        client_addr: info.client_addr.to_string(),
        claimed_user: info.claimed_user.map(str::to_owned),
        connection: info.connection.map(str::to_owned),
        application_name: info.application_name.map(str::to_owned),
        tls: info.tls,
    })
}

/// Queues `event` now, without waiting for its commit. When the writer's
/// queue is full it is handed to a task that waits for room (its order
/// among other events is then no longer guaranteed); other failures are
/// logged (the writer also counts failed batches).
pub(crate) fn queue(log: &AuditLog, event: Event) {
    match log.try_submit(&event) {
        Ok(ticket) => drop(ticket),
        Err(AuditError::QueueFull) => {
            let Ok(rt) = tokio::runtime::Handle::try_current() else {
                return tracing::warn!(event = event.event_type(), "audit queue full; event lost");
            };
            let log = log.clone();
            rt.spawn(async move {
                if let Err(e) = log.submit(&event).await {
                    tracing::warn!(event = event.event_type(), error = %e, "cannot record audit event");
                }
            });
        }
        Err(e) => {
            tracing::warn!(event = event.event_type(), error = %e, "cannot record audit event")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use vigil_core::{ConnectionInfo, Principal, PrincipalKind, SessionId};

    fn ctx() -> SessionContext {
        let principal = Principal {
            subject: "alice".into(),
            email: Some("alice@example.com".into()),
            groups: vec!["dev".into()],
            issuer: "vigil".into(),
            token_id: None,
            expires_at: i64::MAX,
            kind: PrincipalKind::Human,
        };
        let conn = ConnectionInfo {
            name: "app".into(),
            environment: "dev".into(),
            ..ConnectionInfo::default()
        };
        let addr = "10.0.0.5:5000".parse().unwrap();
        SessionContext::new(
            SessionId(4),
            principal,
            conn,
            Some("psql".into()),
            addr,
            true,
        )
    }

    #[test]
    fn session_events_carry_the_context_and_totals() {
        let c = ctx();
        let Event::SessionStart(s) = session_start(&c) else {
            panic!("not a start");
        };
        assert_eq!((s.session_id, s.principal.sub.as_str()), (4, "alice"));
        assert_eq!((s.client_addr.as_str(), s.tls), ("10.0.0.5:5000", true));
        assert_eq!(s.application_name.as_deref(), Some("psql"));
        let summary = SessionSummary {
            duration: Duration::from_millis(1500),
            statements: 3,
            bytes_in: 100,
            bytes_out: 2000,
            reason: "client terminated".into(),
        };
        let Event::SessionEnd(e) = session_end(&c, &summary) else {
            panic!("not an end");
        };
        assert_eq!((e.duration_ms, e.statements), (1500, 3));
        assert_eq!((e.bytes_in, e.bytes_out), (100, 2000));
        assert_eq!(e.reason.as_deref(), Some("client terminated"));
        assert_eq!(e.connection, "app");
    }

    #[test]
    fn auth_failures_name_what_was_asked() {
        let info = AuthFailureInfo {
            reason: "authentication failed: token expired",
            sqlstate: "28P01",
            client_addr: "10.0.0.9:4000".parse().unwrap(),
            claimed_user: Some("bob"),
            connection: Some("prod"),
            application_name: None,
            tls: false,
        };
        let Event::AuthFailure(f) = auth_failure(&info) else {
            panic!("not an auth failure");
        };
        assert_eq!(f.reason, "authentication failed: token expired");
        assert_eq!(
            (f.claimed_user.as_deref(), f.connection.as_deref()),
            (Some("bob"), Some("prod"))
        );
    }
}
