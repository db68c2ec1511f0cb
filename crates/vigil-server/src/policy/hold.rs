//! The `review` verdict with approvals enabled: the statement is held on
//! the wire while a person decides, and only the approved bytes run.
//!
//! ```text
//! review ─► create request ─► NOTICE "approval required (request …)"
//!        ─► wait ─┬ approved ─► mark executed (hash must match) ─► intent ─► forward
//!                 ├ denied   ─► 42501 with the reviewer's comment
//!                 ├ expired  ─► 57014
//!                 └ client cancels / disconnects ─► request withdrawn
//! ```
//!
//! Non-blocking mode (`vigil.approval=nowait` at startup, or the policy's
//! `approval_mode: "nowait"`): the client is refused at once with the
//! request id and URL; after approval, one byte-identical retry by the same
//! principal on the same connection runs.

use crate::auditor::Auditor;
use crate::tag::Decided;
use std::sync::Arc;
use std::time::Duration;
use vigil_approvals::{
    statement_hash, ApprovalError, ApprovalId, ApprovalRequest, ApprovalService, BoundParam,
    NewRequest, Requester, RequiredApprovers, Resolution,
};
use vigil_audit::Event;
use vigil_core::ClassifiedMessage;
use vigil_policy::PolicyDecision;
use vigil_proxy::{Denial, HookVerdict, NoticeSender, SessionContext};

/// The statement being held: its text, its parameters, and the hash of
/// both that binds an approval to exactly these bytes.
pub struct Held {
    pub sql: String,
    pub params: Vec<BoundParam>,
    pub hash: String,
    pub extended: bool,
}

impl Held {
    /// A Query's text.
    pub fn simple(sql: &str) -> Held {
        Held {
            sql: sql.to_owned(),
            params: Vec::new(),
            hash: statement_hash([sql.as_bytes()]),
            extended: false,
        }
    }

    /// A prepared statement's text with a Bind's values and formats.
    pub fn bound(sql: &str, params: &[Option<&[u8]>], formats: &[i16]) -> Held {
        let format_of = |i: usize| match formats {
            [] => 0,
            [one] => *one,
            many => many.get(i).copied().unwrap_or(0),
        };
        let format_bytes: Vec<[u8; 2]> = (0..params.len())
            .map(|i| format_of(i).to_be_bytes())
            .collect();
        // Each value is preceded by its format, and NULL differs from ''.
        let mut parts: Vec<&[u8]> = vec![sql.as_bytes()];
        for (i, p) in params.iter().enumerate() {
            parts.push(format_bytes.get(i).map_or(&[][..], |f| &f[..]));
            match p {
                Some(v) => {
                    parts.push(b"v");
                    parts.push(v);
                }
                None => parts.push(b"n"),
            }
        }
        Held {
            sql: sql.to_owned(),
            params: params
                .iter()
                .enumerate()
                .map(|(i, p)| BoundParam::from_wire(format_of(i), *p))
                .collect(),
            hash: statement_hash(parts),
            extended: true,
        }
    }
}

/// Holds statements for approval.
#[derive(Clone)]
pub struct Approvals {
    service: ApprovalService,
}

impl Approvals {
    pub fn new(service: ApprovalService) -> Self {
        Approvals { service }
    }

    /// The hold for a `review` verdict. `intent` is the audit event to
    /// write (with the approval id filled in) before the statement runs.
    pub fn hold(
        &self,
        ctx: &SessionContext,
        held: Held,
        msg: Arc<ClassifiedMessage>,
        d: Arc<PolicyDecision>,
        audit: Option<(Auditor, Event)>,
    ) -> HookVerdict {
        let nowait = match ctx.option("approval") {
            Some(m) => m.eq_ignore_ascii_case("nowait"),
            None => d.approval_nowait,
        };
        let new = new_request(ctx, &held, &msg, &d, nowait);
        let service = self.service.clone();
        let notices = ctx.notices();
        let fail_open = audit
            .as_ref()
            .is_some_and(|(a, _)| a.fail_open(&ctx.connection.name));
        let run = Run {
            service,
            held,
            msg,
            d,
            audit,
            fail_open,
        };
        HookVerdict::Hold(Box::pin(async move {
            if nowait {
                run.nowait(new).await
            } else {
                run.wait(new, notices).await
            }
        }))
    }
}

struct Run {
    service: ApprovalService,
    held: Held,
    msg: Arc<ClassifiedMessage>,
    d: Arc<PolicyDecision>,
    audit: Option<(Auditor, Event)>,
    fail_open: bool,
}

impl Run {
    async fn wait(self, new: NewRequest, notices: NoticeSender) -> HookVerdict {
        let timeout = new.timeout;
        // The request is created on its own task, so a client that cancels
        // or goes away while it is being stored still gets it withdrawn:
        // this future is dropped then, and the guard withdraws whatever the
        // task created.
        let creating = {
            let service = self.service.clone();
            tokio::spawn(async move { service.create(new).await })
        };
        let mut pending = WithdrawOnDrop {
            service: self.service.clone(),
            creating: Some(creating),
            id: None,
        };
        let created = match pending.creating.as_mut() {
            Some(task) => task.await,
            None => return self.refuse(Denial::new("approval request lost"), None),
        };
        pending.creating = None;
        let request = match created {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => return self.refuse(unavailable(&e), None),
            Err(e) => {
                let e = ApprovalError::Invalid(format!("creating the request failed: {e}"));
                return self.refuse(unavailable(&e), None);
            }
        };
        let id = request.id.clone();
        pending.id = Some(id.clone());
        let url = self.service.request_url(&id);
        let wait = timeout.unwrap_or(self.service.settings().default_timeout);
        notices.notice(&format!(
            "vigil: approval required (request {id}): {}. Waiting up to {}. Review at {url}",
            reasons(&self.d),
            human(wait),
        ));
        let resolution = self.service.wait(&id).await;
        if resolution.is_ok() {
            // Decided, expired or withdrawn: nothing left to withdraw. (A
            // failed wait keeps the guard armed: the request is withdrawn,
            // so nobody approves a statement that was refused.)
            pending.id = None;
        }
        match resolution {
            Ok(Resolution::Approved) => self.run_approved(id).await,
            Ok(Resolution::Denied { reviewer, comment }) => {
                let who = reviewer.email.unwrap_or(reviewer.subject);
                let denial = Denial::new(format!(
                    "request {id} was denied by {who}: {comment}"
                ))
                .with_hint("change the statement, or ask the reviewer; a new attempt creates a new request");
                self.refuse(denial, Some(&id))
            }
            Ok(Resolution::Expired) => {
                let denial = Denial::new(format!(
                    "approval request {id} expired after {} without a decision",
                    human(wait)
                ))
                .with_code("57014")
                .with_hint(format!(
                    "ask an approver to review it sooner, then retry; requests are at {url}"
                ));
                self.refuse(denial, Some(&id))
            }
            Ok(Resolution::Withdrawn) => {
                let denial =
                    Denial::new(format!("approval request {id} was withdrawn")).with_code("57014");
                self.refuse(denial, Some(&id))
            }
            Err(e) => self.refuse(unavailable(&e), Some(&id)),
        }
    }

    /// Non-blocking: an unused approval of these exact bytes runs them
    /// once; otherwise a request is created and the client refused at once.
    async fn nowait(self, new: NewRequest) -> HookVerdict {
        let grant = self
            .service
            .take_retry_grant(&new.requester.subject, &new.connection, &self.held.hash)
            .await;
        match grant {
            Ok(Some(id)) => return self.admit(id).await,
            Ok(None) => {}
            Err(e) => return self.refuse(unavailable(&e), None),
        }
        let request = match self.service.create(new).await {
            Ok(r) => r,
            Err(e) => return self.refuse(unavailable(&e), None),
        };
        let id = request.id;
        let url = self.service.request_url(&id);
        let denial = Denial::new(format!(
            "approval required (request {id}): {}",
            reasons(&self.d)
        ))
        .with_hint(format!(
            "request {id} is waiting for review at {url}; once approved, send exactly the same statement again on the same connection and it runs once"
        ));
        self.refuse(denial, Some(&id))
    }

    async fn run_approved(self, id: ApprovalId) -> HookVerdict {
        if let Err(e) = self.service.mark_executed(&id, &self.held.hash).await {
            let denial = match e {
                ApprovalError::Forbidden(why) | ApprovalError::Conflict(why) => {
                    Denial::new(format!("request {id} cannot run: {why}"))
                }
                e => unavailable(&e),
            };
            return self.refuse(denial, Some(&id));
        }
        self.admit(id).await
    }

    /// Writes the intent (with the approval id), then lets the held
    /// bytes through.
    async fn admit(self, id: ApprovalId) -> HookVerdict {
        let mut decided = Decided::new(self.msg, self.d);
        decided.approval_id = Some(id.to_string());
        if let Some((auditor, mut event)) = self.audit {
            set_approval(&mut event, &id);
            match auditor.log().append(&event).await {
                Ok(r) => decided.intent = Some(r),
                Err(e) if self.fail_open => {
                    tracing::warn!(error = %e, "audit unavailable; fail-open connection runs the approved statement");
                }
                Err(e) => {
                    tracing::error!(error = %e, "audit unavailable; approved statement refused");
                    return HookVerdict::Deny(crate::auditor::unavailable());
                }
            }
        }
        HookVerdict::AllowWith(Arc::new(decided))
    }

    fn refuse(self, denial: Denial, id: Option<&ApprovalId>) -> HookVerdict {
        if let Some((auditor, mut event)) = self.audit {
            if let Some(id) = id {
                set_approval(&mut event, id);
            }
            auditor.record_refusal(event);
        }
        HookVerdict::Deny(denial)
    }
}

fn set_approval(event: &mut Event, id: &ApprovalId) {
    if let Event::StatementIntent(i) = event {
        i.approval_id = Some(id.to_string());
    }
}

/// Withdraws a request whose wait was abandoned (the hold future was
/// dropped: the client cancelled or disconnected), including one still
/// being created.
struct WithdrawOnDrop {
    service: ApprovalService,
    creating: Option<tokio::task::JoinHandle<Result<ApprovalRequest, ApprovalError>>>,
    id: Option<ApprovalId>,
}

impl Drop for WithdrawOnDrop {
    fn drop(&mut self) {
        let (id, creating) = (self.id.take(), self.creating.take());
        if id.is_none() && creating.is_none() {
            return;
        }
        let service = self.service.clone();
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return;
        };
        rt.spawn(async move {
            let id = match (id, creating) {
                (Some(id), _) => id,
                (None, Some(task)) => match task.await {
                    Ok(Ok(r)) => r.id,
                    _ => return,
                },
                (None, None) => return,
            };
            match service
                .withdraw(&id, "the client cancelled the statement or disconnected")
                .await
            {
                Ok(()) | Err(ApprovalError::Conflict(_)) => {}
                Err(e) => {
                    tracing::warn!(%id, error = %e, "cannot withdraw an abandoned approval request")
                }
            }
        });
    }
}

fn new_request(
    ctx: &SessionContext,
    held: &Held,
    msg: &ClassifiedMessage,
    d: &PolicyDecision,
    nowait: bool,
) -> NewRequest {
    let approvers = d.approvers.as_ref().map_or_else(
        || RequiredApprovers {
            groups: vec!["dba".to_owned()],
            count: 1,
        },
        |a| RequiredApprovers {
            groups: a.groups.clone(),
            count: a.count,
        },
    );
    NewRequest {
        requester: Requester::from(&ctx.principal),
        connection: ctx.connection.name.clone(),
        environment: ctx.connection.environment.clone(),
        labels: ctx
            .connection
            .labels
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        sql: held.sql.clone(),
        params: held.params.clone(),
        statement_hash: held.hash.clone(),
        statement: serde_json::to_value(msg).unwrap_or(serde_json::Value::Null),
        reasons: d.decision.reasons.clone(),
        rules: d.decision.rules.clone(),
        policy_version: d.bundle_version().map(str::to_owned),
        approvers,
        client_application: ctx.application_name.clone(),
        client_address: Some(ctx.client_addr.ip().to_string()),
        timeout: d.review_timeout_secs.map(Duration::from_secs),
        non_blocking: nowait,
    }
}

fn reasons(d: &PolicyDecision) -> String {
    if d.decision.reasons.is_empty() {
        "the policy asks for review".to_owned()
    } else {
        d.decision.reasons.join("; ")
    }
}

/// `90s`, `30m`, `2h` — how a person reads a wait.
fn human(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 && s.is_multiple_of(3600) {
        format!("{}h", s / 3600)
    } else if s >= 60 && s.is_multiple_of(60) {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}

/// The approval service could not take or answer the request: fail closed.
fn unavailable(e: &ApprovalError) -> Denial {
    tracing::error!(error = %e, "approval service unavailable; held statement refused");
    Denial::new(format!(
        "approval unavailable: the statement needs review and the request could not be handled ({e})"
    ))
    .with_code("58030")
    .with_hint("retry shortly; if it persists, ask an admin to check Vigil's store")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_binds_text_values_formats_and_nulls() {
        let a = Held::bound("select $1", &[Some(b"1")], &[]);
        assert_eq!(a.hash, Held::bound("select $1", &[Some(b"1")], &[0]).hash);
        assert_ne!(a.hash, Held::bound("select $1", &[Some(b"2")], &[]).hash);
        assert_ne!(a.hash, Held::bound("select $1", &[Some(b"1")], &[1]).hash);
        assert_ne!(
            Held::bound("select $1", &[None], &[]).hash,
            Held::bound("select $1", &[Some(b"")], &[]).hash
        );
        assert_ne!(a.hash, Held::simple("select $1").hash);
        assert_eq!(a.params.len(), 1);
    }

    #[test]
    fn waits_read_like_people_write_them() {
        assert_eq!(human(Duration::from_secs(1800)), "30m");
        assert_eq!(human(Duration::from_secs(7200)), "2h");
        assert_eq!(human(Duration::from_secs(90)), "90s");
    }
}
