//! Shared helpers for the audit store tests: sample events, a store in a
//! temp dir, a controllable clock.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use vigil_audit::*;
use vigil_core::{FlagId, PrincipalKind, StatementKind, TableAccess, Verdict};
use vigil_store::audit::{AuditSettings, Clock};
use vigil_store::Store;

pub fn principal(sub: &str) -> AuditPrincipal {
    AuditPrincipal {
        sub: sub.into(),
        email: Some(format!("{sub}@example.com")),
        groups: vec!["dev".into()],
        kind: PrincipalKind::Human,
        issuer: "https://idp.example.com".into(),
    }
}

pub fn intent(user: &str, conn: &str, table: &str, verdict: Verdict, sql: &str) -> Event {
    Event::StatementIntent(StatementIntent {
        session_id: 1,
        principal: principal(user),
        connection: conn.into(),
        environment: "production".into(),
        sql: sql.into(),
        sql_redacted: false,
        fingerprint: "f00d".into(),
        kind: StatementKind::Read,
        tables: vec![AuditTable {
            name: table.into(),
            access: vec![TableAccess::Read],
        }],
        flags: if verdict == Verdict::Deny {
            vec![FlagId::Drop]
        } else {
            vec![]
        },
        protocol: Protocol::Simple,
        param_count: 0,
        decision: AuditDecision {
            verdict,
            rules: vec![],
            reasons: vec![],
            policy_version: None,
        },
        approval_id: None,
    })
}

pub fn simple(i: u64) -> Event {
    intent(
        "alice",
        "prod",
        "public.orders",
        Verdict::Allow,
        &format!("SELECT {i}"),
    )
}

pub fn outcome(intent: RecordRef, class: &str, values: u64) -> Event {
    let mut masked = BTreeMap::new();
    if values > 0 {
        masked.insert(
            class.to_owned(),
            MaskedCount {
                values,
                rows: values,
            },
        );
    }
    Event::StatementOutcome(StatementOutcome {
        session_id: 1,
        intent,
        rows: Some(values),
        command_tag: Some(format!("SELECT {values}")),
        masked,
        duration_ms: 2,
        error_sqlstate: None,
        statement_index: 0,
        status: vigil_audit::OutcomeStatus::Ok,
        withheld: false,
    })
}

/// A SQLite store in its own temp dir (kept alive by the returned guard).
pub async fn sqlite() -> (Store, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("audit.db").display());
    let store = Store::open(&url).await.unwrap();
    (store, url, dir)
}

/// A clock the test moves by hand.
pub struct TestClock(Arc<AtomicI64>);

impl TestClock {
    pub fn new(start: i64) -> TestClock {
        TestClock(Arc::new(AtomicI64::new(start)))
    }
    pub fn set(&self, t: i64) {
        self.0.store(t, Ordering::SeqCst);
    }
    pub fn clock(&self) -> Clock {
        let t = self.0.clone();
        Arc::new(move || t.load(Ordering::SeqCst))
    }
}

/// Checkpoints every `every` records, never by time (deterministic tests).
pub fn settings(every: u64, clock: Clock) -> AuditSettings {
    AuditSettings {
        checkpoint: CheckpointPolicy {
            every_records: every,
            every_ms: 0,
        },
        clock,
        ..AuditSettings::default()
    }
}
