//! The engine's contract with any bundle: tri-state combination, loading
//! errors that name the file, and total evaluation (errors and invalid
//! output deny by `policy.error`).

use serde_json::json;
use std::fs;
use vigil_core::Verdict;
use vigil_policy::{sample_input, PolicyEngine, PolicyError, POLICY_ERROR_RULE};

fn src(name: &str, text: &str) -> Vec<(String, String)> {
    vec![(name.to_string(), text.to_string())]
}

fn engine(text: &str) -> PolicyEngine {
    PolicyEngine::from_sources(&src("p.rego", text), None).expect("policy loads")
}

/// A tiny bundle whose verdict follows `input.client.application_name`.
const TRI_STATE: &str = r#"
package vigil

deny contains "d" if input.client.application_name in {"deny", "both"}
review contains "r" if input.client.application_name in {"review", "both"}

verdict := "deny" if { count(deny) > 0 } else := "review" if { count(review) > 0 } else := "allow"

decision := {"verdict": verdict, "reasons": [], "rules": [r | some r in deny | review], "deny_rules": [r | some r in deny], "review_rules": [r | some r in review]}
"#;

fn with_app(app: &str) -> vigil_policy::PolicyInput {
    let mut input = sample_input();
    input.client.application_name = app.into();
    input
}

#[test]
fn tri_state_combination() {
    let e = engine(TRI_STATE);
    for (app, verdict) in [
        ("none", Verdict::Allow),
        ("review", Verdict::Review),
        ("deny", Verdict::Deny),
        ("both", Verdict::Deny),
    ] {
        assert_eq!(e.decide(&with_app(app)).decision.verdict, verdict, "{app}");
    }
}

#[test]
fn rust_double_checks_that_fired_deny_rules_win() {
    let e = engine(
        r#"package vigil
decision := {"verdict": "review", "rules": ["r"], "deny_rules": ["d"], "review_rules": ["r"]}"#,
    );
    let d = e.decide(&sample_input()).decision;
    assert_eq!(d.verdict, Verdict::Deny);
    assert_eq!(d.rules, vec!["d".to_string()]);
    let e = engine(
        r#"package vigil
decision := {"verdict": "allow", "review_rules": ["r"]}"#,
    );
    assert_eq!(e.decide(&sample_input()).decision.verdict, Verdict::Review);
}

#[test]
fn syntax_error_names_the_file_and_line() {
    let files = vec![
        (
            "ok.rego".to_string(),
            "package vigil\ndecision := {\"verdict\": \"allow\"}\n".to_string(),
        ),
        (
            "broken.rego".to_string(),
            "package vigil\n\nfoo if {\n  1 +\n".to_string(),
        ),
    ];
    let err = PolicyEngine::from_sources(&files, None).expect_err("syntax error");
    let text = err.to_string();
    assert!(matches!(err, PolicyError::Compile { .. }), "{text}");
    assert!(text.contains("broken.rego:"), "{text}");
}

#[test]
fn load_dir_reads_nested_files_and_data() {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::create_dir(dir.path().join("sub")).expect("mkdir");
    fs::write(
        dir.path().join("sub/decision.rego"),
        "package vigil\ndecision := {\"verdict\": data.vigil.v}\n",
    )
    .expect("write");
    fs::write(
        dir.path().join("data.json"),
        r#"{"vigil": {"v": "review"}}"#,
    )
    .expect("write");
    let e = PolicyEngine::load_dir(dir.path()).expect("loads");
    assert_eq!(e.decide(&sample_input()).decision.verdict, Verdict::Review);
    assert!(!e.cacheable());

    fs::write(dir.path().join("data.json"), "[1, 2").expect("write");
    let err = PolicyEngine::load_dir(dir.path()).expect_err("bad data");
    assert!(err.to_string().contains("data.json"), "{err}");
}

#[test]
fn version_changes_when_a_file_changes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("a.rego");
    fs::write(
        &path,
        "package vigil\ndecision := {\"verdict\": \"allow\"}\n",
    )
    .expect("write");
    let v1 = PolicyEngine::load_dir(dir.path())
        .expect("loads")
        .version()
        .to_string();
    let again = PolicyEngine::load_dir(dir.path())
        .expect("loads")
        .version()
        .to_string();
    assert_eq!(v1, again);
    fs::write(
        &path,
        "package vigil\ndecision := {\"verdict\": \"deny\"}\n",
    )
    .expect("write");
    let v2 = PolicyEngine::load_dir(dir.path())
        .expect("loads")
        .version()
        .to_string();
    assert_ne!(v1, v2);
    assert_eq!(v2.len(), 16);
}

#[test]
fn empty_dir_is_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    assert!(matches!(
        PolicyEngine::load_dir(dir.path()),
        Err(PolicyError::Empty(_))
    ));
}

#[test]
fn runtime_error_denies_by_policy_error() {
    // Divides by zero only for one client, so loading (sample input) passes.
    let e = engine(
        r#"package vigil
n := 0 if input.client.application_name == "boom"
n := 1 if input.client.application_name != "boom"
decision := {"verdict": "allow", "reasons": [sprintf("%v", [10 / n])]}"#,
    );
    assert_eq!(e.decide(&with_app("fine")).decision.verdict, Verdict::Allow);
    let d = e.decide(&with_app("boom"));
    assert_eq!(d.decision.verdict, Verdict::Deny, "{d:?}");
    assert_eq!(d.decision.rules, vec![POLICY_ERROR_RULE.to_string()]);
    assert!(
        d.decision.reasons[0].contains("data.vigil.decision"),
        "{d:?}"
    );
}

#[test]
fn conflicting_outputs_deny_by_policy_error() {
    let e = engine(
        r#"package vigil
decision := {"verdict": "allow"} if input.client.application_name != "x"
decision := {"verdict": "deny"} if input.client.application_name == "y" "#,
    );
    let d = e.decide(&with_app("y"));
    assert_eq!(d.decision.verdict, Verdict::Deny, "{d:?}");
    assert_eq!(d.decision.rules, vec![POLICY_ERROR_RULE.to_string()]);
}

#[test]
fn undefined_decision_denies() {
    let e = engine(
        r#"package vigil
decision := {"verdict": "allow"} if input.client.application_name != "gap""#,
    );
    let d = e.decide(&with_app("gap")).decision;
    assert_eq!(d.verdict, Verdict::Deny);
    assert!(d.reasons[0].contains("undefined"), "{d:?}");
}

#[test]
fn invalid_output_denies() {
    for (out, why) in [
        (r#"{"verdict": "maybe"}"#, "unknown verdict"),
        (r#"{"verdict": "allow", "reasons": "x"}"#, "reasons"),
        (r#"{"verdict": "allow", "extra": 1}"#, "unknown key"),
        (
            r#"{"verdict": "review", "approvers": {"groups": ["dba"], "count": 0}}"#,
            "approvers",
        ),
        (
            r#"{"verdict": "allow", "mask": {"pii": "scramble"}}"#,
            "mask.pii",
        ),
        (r#"{"verdict": "allow", "max_rows": -1}"#, "max_rows"),
        (
            r#"{"verdict": "review", "review_timeout": "soon"}"#,
            "review_timeout",
        ),
        (r#""allow""#, "must be an object"),
    ] {
        let text = format!(
            "package vigil\ndecision := {out} if input.client.application_name == \"bad\"\ndecision := {{\"verdict\": \"allow\"}} if input.client.application_name != \"bad\"\n"
        );
        let e = engine(&text);
        let d = e.decide(&with_app("bad")).decision;
        assert_eq!(d.verdict, Verdict::Deny, "{out}");
        assert_eq!(d.rules, vec![POLICY_ERROR_RULE.to_string()], "{out}");
        assert!(d.reasons[0].starts_with("invalid policy output: "), "{d:?}");
        assert!(d.reasons[0].contains(why), "{out}: {d:?}");
    }
}

#[test]
fn full_output_is_read() {
    let e = engine(
        r#"package vigil
decision := {"verdict": "review", "reasons": ["why"], "rules": ["r.1"], "hint": "wait",
  "approvers": {"groups": ["dba", "sre"], "count": 2}, "mask": {"public.users.email": "hash"},
  "max_rows": 500, "review_timeout": "2h"}"#,
    );
    let d = e.decide(&sample_input());
    assert_eq!(d.decision.verdict, Verdict::Review);
    assert_eq!(d.decision.hint.as_deref(), Some("wait"));
    let a = d.approvers.expect("approvers");
    assert_eq!((a.groups.len(), a.count), (2, 2));
    assert_eq!(
        d.mask.get("public.users.email").map(String::as_str),
        Some("hash")
    );
    assert_eq!(d.max_rows, Some(500));
    assert_eq!(d.review_timeout_secs, Some(7200));
    assert_eq!(d.policy_version, e.version());
}

#[test]
fn bundle_that_cannot_decide_the_sample_is_refused() {
    let err = PolicyEngine::from_sources(&src("p.rego", "package vigil\nx := 1\n"), None)
        .expect_err("no decision");
    assert!(matches!(err, PolicyError::Validate(_)), "{err}");
    let err = PolicyEngine::from_sources(
        &src(
            "p.rego",
            "package vigil\ndecision := {\"verdict\": \"allow\"}\n",
        ),
        Some(json!([1])),
    )
    .expect_err("data must be an object");
    assert!(matches!(err, PolicyError::Data { .. }), "{err}");
}

#[test]
fn run_tests_reports_pass_and_fail() {
    let e = engine(
        r#"package vigil
decision := {"verdict": "allow"}
test_good if decision.verdict == "allow"
test_bad if decision.verdict == "deny""#,
    );
    let r = e.run_tests();
    assert_eq!(r.len(), 2);
    assert!(r[0].passed && r[0].name == "data.vigil.test_good", "{r:?}");
    assert!(!r[1].passed && r[1].message.is_some(), "{r:?}");
}

#[test]
fn engine_is_shared_across_threads() {
    let e = std::sync::Arc::new(engine(TRI_STATE));
    let handles: Vec<_> = ["deny", "review", "none", "both"]
        .into_iter()
        .map(|app| {
            let e = e.clone();
            std::thread::spawn(move || (app, e.decide(&with_app(app)).decision.verdict))
        })
        .collect();
    for h in handles {
        let (app, v) = h.join().expect("thread");
        let want = match app {
            "deny" | "both" => Verdict::Deny,
            "review" => Verdict::Review,
            _ => Verdict::Allow,
        };
        assert_eq!(v, want, "{app}");
    }
}
