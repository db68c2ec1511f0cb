//! The shipped bundle `policies/default/`: it loads, its own Rego tests
//! pass, and it decides real classified statements as documented.

use std::path::PathBuf;
use vigil_core::{ConnectionInfo, Principal, PrincipalKind, Verdict};
use vigil_policy::{PolicyDecision, PolicyEngine, PolicyInput};

fn bundle_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../policies/default")
}

fn engine() -> PolicyEngine {
    PolicyEngine::load_dir(&bundle_dir()).expect("default bundle loads")
}

fn principal(kind: PrincipalKind) -> Principal {
    Principal {
        subject: "alice".into(),
        email: Some("alice@example.com".into()),
        groups: vec!["eng".into()],
        issuer: "https://idp.example.com".into(),
        token_id: None,
        expires_at: 0,
        kind,
    }
}

fn decide(engine: &PolicyEngine, env: &str, kind: PrincipalKind, sql: &str) -> PolicyDecision {
    let conn = ConnectionInfo {
        name: "db".into(),
        engine: "postgres".into(),
        environment: env.into(),
        ..ConnectionInfo::default()
    };
    let input = PolicyInput::new(&principal(kind), &conn, &vigil_sql::classify(sql));
    engine.decide(&input)
}

#[test]
fn default_bundle_rego_tests_all_pass() {
    let results = engine().run_tests();
    assert!(results.len() >= 20, "found only {} tests", results.len());
    let failed: Vec<_> = results.iter().filter(|r| !r.passed).collect();
    assert!(failed.is_empty(), "failing Rego tests: {failed:#?}");
}

#[test]
fn default_bundle_is_cacheable_and_versioned() {
    let e = engine();
    assert!(e.cacheable());
    assert_eq!(e.version().len(), 16);
}

#[test]
fn dev_delete_with_where_is_allowed() {
    let d = decide(
        &engine(),
        "dev",
        PrincipalKind::Human,
        "DELETE FROM t WHERE id = 1",
    );
    assert_eq!(d.decision.verdict, Verdict::Allow, "{d:?}");
    assert!(d.approvers.is_none());
    assert!(d.mask.is_empty());
}

#[test]
fn prod_delete_with_where_waits_for_a_dba() {
    let e = engine();
    let d = decide(
        &e,
        "production",
        PrincipalKind::Human,
        "DELETE FROM t WHERE id = 1",
    );
    assert_eq!(d.decision.verdict, Verdict::Review, "{d:?}");
    assert_eq!(
        d.decision.rules,
        vec!["review.production_change".to_string()]
    );
    let approvers = d.approvers.expect("approvers");
    assert_eq!(approvers.groups, vec!["dba".to_string()]);
    assert_eq!(approvers.count, 1);
    assert_eq!(d.review_timeout_secs, Some(1800));
    assert_eq!(d.policy_version, e.version());
}

#[test]
fn agent_write_on_dev_waits_for_a_human() {
    let d = decide(
        &engine(),
        "dev",
        PrincipalKind::Agent,
        "INSERT INTO t VALUES (1)",
    );
    assert_eq!(d.decision.verdict, Verdict::Review, "{d:?}");
    assert_eq!(d.decision.rules, vec!["review.agent_change".to_string()]);
}

#[test]
fn prod_drop_is_denied_like_the_guardrail() {
    let d = decide(
        &engine(),
        "production",
        PrincipalKind::Human,
        "DROP TABLE t",
    );
    assert_eq!(d.decision.verdict, Verdict::Deny, "{d:?}");
    assert_eq!(d.decision.rules, vec!["guardrail.drop".to_string()]);
    assert_eq!(
        d.decision.hint.as_deref(),
        Some(vigil_policy::hint_for(vigil_core::FlagId::Drop))
    );
}

#[test]
fn prod_read_is_allowed_with_pii_masked() {
    let d = decide(
        &engine(),
        "production",
        PrincipalKind::Human,
        "SELECT * FROM t WHERE id = 1",
    );
    assert_eq!(d.decision.verdict, Verdict::Allow, "{d:?}");
    assert_eq!(d.mask.get("pii").map(String::as_str), Some("redact"));
}

/// The Rego guardrails agree with the Rust floor on production, where
/// the floor applies; reasons come from the same classifier details.
#[test]
fn rego_guardrails_match_the_rust_floor_on_production() {
    let e = engine();
    let conn = ConnectionInfo {
        name: "db".into(),
        engine: "postgres".into(),
        environment: "production".into(),
        ..ConnectionInfo::default()
    };
    for sql in [
        "DROP TABLE t",
        "TRUNCATE t",
        "DELETE FROM public.orders",
        "UPDATE t SET a = 1 WHERE 1=1",
        "COPY t TO PROGRAM 'curl x'",
        "GRANT ALL ON t TO bob",
        "SET ROLE admin",
        "SET search_path = evil",
        "ALTER SYSTEM SET fsync = off",
        "DO $$ BEGIN PERFORM 1; END $$",
        "SELEC * FRM t",
        "SELECT 1; DROP TABLE t; SELECT 2",
    ] {
        let msg = vigil_sql::classify(sql);
        let floor = vigil_policy::guardrail_decision(&msg, &conn);
        let input = PolicyInput::new(&principal(PrincipalKind::Human), &conn, &msg);
        let d = e.decide(&input).decision;
        assert_eq!(d.verdict, floor.verdict, "{sql}");
        let mut rules = floor.rules.clone();
        rules.sort();
        assert_eq!(d.rules, rules, "{sql}");
        let mut reasons = floor.reasons.clone();
        reasons.sort();
        let mut got = d.reasons.clone();
        got.sort();
        assert_eq!(got, reasons, "{sql}");
    }
}

#[test]
fn agent_read_of_a_sensitive_table_waits_for_a_human() {
    let e = engine();
    let d = decide(
        &e,
        "dev",
        PrincipalKind::Agent,
        "SELECT email FROM public.users WHERE id = 1",
    );
    assert_eq!(d.decision.verdict, Verdict::Review, "{d:?}");
    assert_eq!(
        d.decision.rules,
        vec!["review.agent_sensitive_read".to_string()]
    );
    let d = decide(
        &e,
        "dev",
        PrincipalKind::Human,
        "SELECT email FROM public.users WHERE id = 1",
    );
    assert_eq!(d.decision.verdict, Verdict::Allow, "{d:?}");
}

/// Engines are reused between evaluations: nothing of one decision may
/// leak into the next (inputs alternate on one engine, across threads).
#[test]
fn reused_engines_keep_no_state_between_decisions() {
    let e = std::sync::Arc::new(engine());
    let cases = [
        (
            "production",
            PrincipalKind::Human,
            "DELETE FROM t WHERE id = 1",
            Verdict::Review,
        ),
        ("dev", PrincipalKind::Human, "SELECT 1", Verdict::Allow),
        (
            "production",
            PrincipalKind::Human,
            "DROP TABLE t",
            Verdict::Deny,
        ),
        (
            "dev",
            PrincipalKind::Agent,
            "UPDATE t SET a = 1 WHERE id = 2",
            Verdict::Review,
        ),
    ];
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let e = std::sync::Arc::clone(&e);
            std::thread::spawn(move || {
                for i in 0..40 {
                    let (env, kind, sql, want) = cases[(i + t) % cases.len()];
                    let d = decide(&e, env, kind, sql);
                    assert_eq!(d.decision.verdict, want, "{env} {sql}: {:?}", d.decision);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

#[test]
fn approval_mode_follows_nowait_kinds() {
    let d = decide(
        &engine(),
        "production",
        PrincipalKind::Agent,
        "DELETE FROM t WHERE id = 1",
    );
    assert_eq!(d.decision.verdict, Verdict::Review);
    assert!(
        !d.approval_nowait,
        "the default bundle lists no nowait kinds"
    );
}
