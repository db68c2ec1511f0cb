//! Decision cache correctness and policy swaps, against real bundles.

use super::*;
use vigil_core::PrincipalKind;

const DENY_ORDERS_FOR_DEV: &str = r#"package vigil
cacheable := true
decision := {"verdict": "deny", "rules": ["t.no"], "reasons": ["no"]} if {
	"dev" in input.principal.groups
	input.connection.name == "a"
}
decision := {"verdict": "allow"} if {
	not "dev" in input.principal.groups
}
decision := {"verdict": "allow"} if {
	input.connection.name != "a"
}
"#;

fn engine(src: &str) -> vigil_policy::PolicyEngine {
    vigil_policy::PolicyEngine::from_sources(&[("p.rego".into(), src.into())], None).unwrap()
}

fn who(groups: &[&str]) -> Principal {
    Principal {
        subject: "u".into(),
        email: None,
        groups: groups.iter().map(|g| g.to_string()).collect(),
        issuer: "i".into(),
        token_id: None,
        expires_at: 0,
        kind: PrincipalKind::Human,
    }
}

fn conn(name: &str) -> ConnectionInfo {
    ConnectionInfo {
        name: name.into(),
        engine: "postgres".into(),
        environment: "dev".into(),
        ..ConnectionInfo::default()
    }
}

fn verdict(hook: &PolicyHook, p: &Principal, c: &ConnectionInfo) -> Verdict {
    let asker = Asker {
        principal: p,
        connection: c,
        client: ClientInput::default(),
        session: SessionInput::default(),
    };
    hook.decide("SELECT * FROM orders", asker)
        .1
        .decision
        .verdict
}

#[test]
fn cached_decisions_follow_groups_connection_and_version() {
    let live = LivePolicy::fixed(engine(DENY_ORDERS_FOR_DEV));
    assert!(live.current().cacheable());
    let hook = PolicyHook::new(Arc::clone(&live), 64, 64, PolicyClock::utc());
    let (dev, ops, a, b) = (who(&["dev"]), who(&["ops"]), conn("a"), conn("b"));
    for _ in 0..2 {
        // Twice: the second round is served from the cache.
        assert_eq!(verdict(&hook, &dev, &a), Verdict::Deny);
        assert_eq!(verdict(&hook, &ops, &a), Verdict::Allow);
        assert_eq!(verdict(&hook, &dev, &b), Verdict::Allow);
    }
    // A new policy version must not be answered from the old version's entries.
    live.replace(engine(
        "package vigil\ncacheable := true\ndecision := {\"verdict\": \"allow\"}\n",
    ));
    assert_eq!(verdict(&hook, &dev, &a), Verdict::Allow);
}

#[test]
fn uncacheable_bundles_are_decided_every_time() {
    let src = DENY_ORDERS_FOR_DEV.replace("cacheable := true", "cacheable := false");
    let live = LivePolicy::fixed(engine(&src));
    assert!(!live.current().cacheable());
    let hook = PolicyHook::new(live, 64, 64, PolicyClock::utc());
    assert_eq!(verdict(&hook, &who(&["dev"]), &conn("a")), Verdict::Deny);
    assert_eq!(verdict(&hook, &who(&[]), &conn("a")), Verdict::Allow);
}

#[test]
fn an_in_flight_statement_keeps_the_engine_it_started_with() {
    let live = LivePolicy::fixed(engine(DENY_ORDERS_FOR_DEV));
    let held = live.current();
    live.replace(engine(
        "package vigil\ndecision := {\"verdict\": \"allow\"}\n",
    ));
    assert_ne!(held.version(), live.current().version());
    let msg = vigil_sql::classify("SELECT 1");
    let input = vigil_policy::PolicyInput::new(&who(&["dev"]), &conn("a"), &msg);
    assert_eq!(held.decide(&input).decision.verdict, Verdict::Deny);
}

#[test]
fn unparseable_statements_are_denied_whatever_the_policy_says() {
    let live = LivePolicy::fixed(engine(
        "package vigil\ndecision := {\"verdict\": \"allow\"}\n",
    ));
    let hook = PolicyHook::new(live, 64, 64, PolicyClock::utc());
    let (p, c) = (who(&[]), conn("a"));
    let asker = Asker {
        principal: &p,
        connection: &c,
        client: ClientInput::default(),
        session: SessionInput::default(),
    };
    let (_, d) = hook.decide("SELEC 1", asker);
    assert_eq!(d.decision.verdict, Verdict::Deny);
    assert_eq!(d.decision.rules, vec!["guardrail.opaque_code".to_string()]);
}

#[test]
fn every_version_put_in_force_is_announced() {
    let live = LivePolicy::fixed(engine(DENY_ORDERS_FOR_DEV));
    let mut versions = live.subscribe();
    let first = versions.borrow_and_update().clone();
    assert_eq!(first, live.current().version());
    assert!(!versions.has_changed().unwrap());
    let next = engine(
        r#"package vigil
decision := {"verdict": "allow"}
"#,
    );
    let v = next.version().to_owned();
    live.replace(next);
    assert!(versions.has_changed().unwrap());
    assert_eq!(*versions.borrow_and_update(), v);
    assert_ne!(v, first);
}
