use super::*;
use crate::{canonical, ChainHead};
use std::collections::BTreeMap;
use vigil_core::{FlagId, StatementKind, TableAccess, Verdict};

fn alice() -> AuditPrincipal {
    AuditPrincipal {
        sub: "alice".into(),
        email: Some("alice@example.com".into()),
        groups: vec!["dba".into()],
        kind: PrincipalKind::Human,
        issuer: "https://idp.example.com".into(),
    }
}

fn intent() -> StatementIntent {
    StatementIntent {
        session_id: 7,
        principal: alice(),
        connection: "prod".into(),
        environment: "production".into(),
        sql: "DELETE FROM orders WHERE id = $1".into(),
        sql_redacted: true,
        fingerprint: "a1b2".into(),
        kind: StatementKind::Write,
        tables: vec![AuditTable {
            name: "orders".into(),
            access: vec![TableAccess::Delete],
        }],
        flags: vec![FlagId::UnboundedWrite],
        protocol: Protocol::Extended,
        param_count: 1,
        decision: AuditDecision {
            verdict: Verdict::Review,
            rules: vec!["guardrail.unbounded_write".into()],
            reasons: vec!["DELETE without WHERE".into()],
            policy_version: None,
        },
        approval_id: Some("7c9e".into()),
    }
}

/// One event of every type.
pub(crate) fn samples() -> Vec<Event> {
    let masked = BTreeMap::from([("EMAIL".to_owned(), MaskedCount { values: 3, rows: 2 })]);
    vec![
        Event::SessionStart(SessionStart {
            session_id: 7,
            principal: alice(),
            client_addr: "10.0.0.5:51234".into(),
            application_name: Some("psql".into()),
            tls: true,
            connection: "prod".into(),
            environment: "production".into(),
        }),
        Event::SessionEnd(SessionEnd {
            session_id: 7,
            principal: alice(),
            client_addr: "10.0.0.5:51234".into(),
            application_name: None,
            tls: true,
            connection: "prod".into(),
            environment: "production".into(),
            duration_ms: 1500,
            statements: 3,
            bytes_in: 300,
            bytes_out: 4000,
            reason: Some("client closed".into()),
        }),
        Event::AuthFailure(AuthFailure {
            reason: "token expired".into(),
            client_addr: "10.0.0.9:4000".into(),
            claimed_user: Some("bob".into()),
            connection: Some("prod".into()),
            application_name: None,
            tls: false,
        }),
        Event::StatementIntent(intent()),
        Event::StatementOutcome(StatementOutcome {
            session_id: 7,
            intent: RecordRef {
                seq: 4,
                hash: "ab".repeat(32),
            },
            rows: Some(2),
            command_tag: Some("SELECT 2".into()),
            masked,
            duration_ms: 3,
            error_sqlstate: None,
            statement_index: 1,
            status: OutcomeStatus::Ok,
            withheld: false,
        }),
        Event::ApprovalCreated(ApprovalCreated {
            approval_id: "7c9e".into(),
            session_id: Some(7),
            principal: alice(),
            connection: "prod".into(),
            environment: "production".into(),
            sql: "DELETE FROM orders".into(),
            sql_redacted: false,
            statement_hash: "cd".repeat(32),
            fingerprint: "a1b2".into(),
            rules: vec!["guardrail.unbounded_write".into()],
            reasons: vec!["DELETE without WHERE".into()],
            approvers: Approvers {
                groups: vec!["dba".into()],
                count: 1,
            },
            expires_at_ms: 1_700_000_900_000,
            non_blocking: false,
        }),
        Event::ApprovalDecided(ApprovalDecided {
            approval_id: "7c9e".into(),
            status: ApprovalStatus::Approved,
            reviewer: Some(alice()),
            comment: Some("ok".into()),
        }),
        Event::PolicyLoaded(PolicyLoaded {
            version: "e3b0".into(),
            files: vec!["policies/default/main.rego".into()],
        }),
        Event::ConfigLoaded(ConfigLoaded {
            path: "/etc/vigil.toml".into(),
            sha256: "ef".repeat(32),
            connections: vec!["prod".into()],
        }),
        Event::Retention(Retention {
            cutoff_ts_ms: 1_690_000_000_000,
            deleted_records: 10,
            last_deleted_seq: 10,
            last_deleted_hash: "12".repeat(32),
            public_key_id: "0123456789abcdef".into(),
            signature: "00".repeat(64),
        }),
    ]
}

#[test]
fn every_type_round_trips_and_is_canonically_encodable() {
    let all = samples();
    let types: Vec<&str> = all.iter().map(Event::event_type).collect();
    assert_eq!(types, EVENT_TYPES);
    for ev in all {
        let body = ev.body().unwrap();
        assert!(canonical::encode(&body).is_ok(), "{}", ev.event_type());
        assert_eq!(Event::from_parts(ev.event_type(), &body).unwrap(), ev);
    }
}

#[test]
fn the_direct_text_is_the_canonical_encoding_of_the_body() {
    let mut all = samples();
    // Escapes, an empty and an absent optional, and a busier masked map.
    let mut odd = intent();
    odd.sql = "SELECT '\"\\\n\t\u{1}é😀' -- x".into();
    odd.approval_id = None;
    odd.tables.clear();
    all.push(Event::StatementIntent(odd));
    for ev in all {
        let body = ev.body().unwrap();
        assert_eq!(
            ev.canonical_text().unwrap(),
            canonical::to_string(&body).unwrap(),
            "{}",
            ev.event_type()
        );
    }
}

#[test]
fn optional_fields_may_be_absent_in_older_records() {
    let body = serde_json::json!({
        "reason": "bad signature", "client_addr": "1.2.3.4:5", "tls": false
    });
    let Event::AuthFailure(f) = Event::from_parts("auth.failure", &body).unwrap() else {
        panic!("wrong type");
    };
    assert_eq!(f.claimed_user, None);
    // An outcome written before statement_index/status/withheld existed.
    let body = serde_json::json!({
        "session_id": 1, "intent": {"seq": 2, "hash": "ab"}, "duration_ms": 4,
    });
    let Event::StatementOutcome(o) = Event::from_parts("statement.outcome", &body).unwrap() else {
        panic!("wrong type");
    };
    assert_eq!(
        (o.statement_index, o.status, o.withheld, o.rows),
        (0, OutcomeStatus::Ok, false, None)
    );
}

#[test]
fn unknown_types_and_wrong_bodies_are_errors() {
    let body = serde_json::json!({});
    assert!(matches!(
        Event::from_parts("nope", &body),
        Err(EventError::UnknownType(_))
    ));
    assert!(matches!(
        Event::from_parts("statement.intent", &body),
        Err(EventError::Malformed { .. })
    ));
}

#[test]
fn field_names_are_stable_snake_case() {
    let body = Event::StatementIntent(intent()).body().unwrap();
    let text = canonical::to_string(&body).unwrap();
    assert_eq!(
        text,
        r#"{"approval_id":"7c9e","connection":"prod","decision":{"policy_version":null,"reasons":["DELETE without WHERE"],"rules":["guardrail.unbounded_write"],"verdict":"review"},"environment":"production","fingerprint":"a1b2","flags":["unbounded_write"],"kind":"write","param_count":1,"principal":{"email":"alice@example.com","groups":["dba"],"issuer":"https://idp.example.com","kind":"human","sub":"alice"},"protocol":"extended","session_id":7,"sql":"DELETE FROM orders WHERE id = $1","sql_redacted":true,"tables":[{"access":["delete"],"name":"orders"}]}"#
    );
}

/// Pins the hash of a fixed record: if this changes, every stored chain
/// stops verifying. Recomputed independently with Python's hashlib and
/// `json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)`.
#[test]
fn golden_hash_is_stable() {
    let mut head = ChainHead::genesis("vigil-a");
    let first = head.append(1_700_000_000_000, &samples()[0]).unwrap();
    let second = head
        .append(1_700_000_000_001, &Event::StatementIntent(intent()))
        .unwrap();
    assert_eq!(first.hash, GOLDEN_1);
    assert_eq!(second.prev_hash, GOLDEN_1);
    assert_eq!(second.hash, GOLDEN_2);
}

const GOLDEN_1: &str = "b6d3b634b95add3df203d518fc4ab2753fa3fe091f266421073423300ec5074a";
const GOLDEN_2: &str = "0b29b1cfd1598a512f6ba5a47c35925a747e622702516e9fba5fc4f5ed6b9125";

#[test]
fn outcome_rows_come_from_the_command_tag() {
    assert_eq!(rows_from_command_tag("SELECT 5"), Some(5));
    assert_eq!(rows_from_command_tag("INSERT 0 12"), Some(12));
    assert_eq!(rows_from_command_tag("CREATE TABLE"), None);
    assert_eq!(rows_from_command_tag("5"), None);
    assert_eq!(rows_from_command_tag(""), None);
}

/// docs/audit.md shows one example per event type, under a heading naming
/// the type; each must decode as that type, so the docs cannot drift.
#[test]
fn docs_examples_decode_as_their_types() {
    let docs = include_str!("../../../../docs/audit.md");
    let mut seen = Vec::new();
    let mut sections = docs.split("\n#### `").skip(1);
    for section in sections.by_ref() {
        let Some((event_type, rest)) = section.split_once('`') else {
            continue;
        };
        let json = rest
            .split_once("```json\n")
            .and_then(|(_, r)| r.split_once("\n```"))
            .map(|(j, _)| j)
            .unwrap_or_else(|| panic!("{event_type}: no json block"));
        let body: serde_json::Value =
            serde_json::from_str(json).unwrap_or_else(|e| panic!("{event_type}: {e}"));
        let ev = Event::from_parts(event_type, &body).unwrap_or_else(|e| panic!("{e}"));
        // Every documented field is a schema field: re-encoding keeps them all.
        assert_eq!(ev.body().unwrap(), body, "{event_type}");
        seen.push(event_type.to_owned());
    }
    assert_eq!(seen, EVENT_TYPES);
}
