use super::*;
use vigil_audit::{AuditDecision, AuditPrincipal, AuditTable, Event, Protocol, StatementIntent};
use vigil_core::{PrincipalKind, StatementKind, TableAccess, Verdict};
use vigil_store::audit::{AuditLog, AuditSettings};

#[test]
fn bounds_are_seqs_when_all_digits_else_times() {
    assert_eq!(bound(Some("42"), 0).unwrap(), Some(Bound::Seq(42)));
    assert_eq!(
        bound(Some("1970-01-02"), 0).unwrap(),
        Some(Bound::Time(86_400_000))
    );
    assert_eq!(bound(Some("1h"), 3_600_000).unwrap(), Some(Bound::Time(0)));
    assert_eq!(bound(None, 0).unwrap(), None);
    assert!(bound(Some("4x2"), 0).is_err());
    assert!(bound(Some("99999999999999999999999"), 0).is_err());
}

fn intent(i: u64) -> Event {
    Event::StatementIntent(StatementIntent {
        session_id: 1,
        principal: AuditPrincipal {
            sub: "alice".into(),
            email: None,
            groups: vec![],
            kind: PrincipalKind::Agent,
            issuer: "vigil".into(),
        },
        connection: "prod".into(),
        environment: "production".into(),
        sql: format!("SELECT {i}\n  FROM t"),
        sql_redacted: false,
        fingerprint: String::new(),
        kind: StatementKind::Read,
        tables: vec![AuditTable {
            name: "t".into(),
            access: vec![TableAccess::Read],
        }],
        flags: vec![],
        protocol: Protocol::Simple,
        param_count: 0,
        decision: AuditDecision {
            verdict: Verdict::Deny,
            rules: vec!["guardrail.x".into()],
            reasons: vec![],
            policy_version: None,
        },
        approval_id: None,
    })
}

/// A store with 12 records and the key file that signed them.
async fn fixture(dir: &Path) -> AuditContext {
    let key_file = dir.join("audit.key");
    let key = AuditKey::load_or_create(&key_file).unwrap();
    let ctx = AuditContext {
        store_url: format!("sqlite://{}", dir.join("v.db").display()),
        key_file: Some(key_file),
        public_keys: vec![],
    };
    let store = Store::open(&ctx.store_url).await.unwrap();
    let log = AuditLog::start(store.clone(), "r1", key, AuditSettings::default())
        .await
        .unwrap();
    for i in 0..12 {
        log.append(&intent(i)).await.unwrap();
    }
    log.close().await.unwrap();
    store.close().await;
    ctx
}

fn verify_cmd(file: Option<PathBuf>, public_key: Vec<PathBuf>) -> AuditCommand {
    AuditCommand::Verify {
        from: None,
        to: None,
        chain: None,
        public_key,
        file,
        partial: false,
        json: false,
    }
}

#[tokio::test]
async fn verify_export_and_verify_the_file_with_the_public_key_alone() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = fixture(dir.path()).await;
    assert_eq!(run(verify_cmd(None, vec![]), &ctx).await.unwrap(), 0);

    let export = dir.path().join("out.jsonl");
    let cmd = AuditCommand::Export {
        format: ExportFormat::Jsonl,
        from: None,
        to: None,
        chain: None,
        output: Some(export.clone()),
    };
    assert_eq!(run(cmd, &ctx).await.unwrap(), 0);
    let text = std::fs::read_to_string(&export).unwrap();
    assert_eq!(
        text.lines().count(),
        13,
        "12 records and the checkpoint at close"
    );

    // The third party: the file and the public key, no store, no private key.
    let pem = dir.path().join("audit.pub");
    let key = AuditKey::load(ctx.key_file.as_deref().unwrap()).unwrap();
    std::fs::write(&pem, key.public_key_pem().unwrap()).unwrap();
    let nothing = AuditContext::default();
    assert_eq!(
        run(
            verify_cmd(Some(export.clone()), vec![pem.clone()]),
            &nothing
        )
        .await
        .unwrap(),
        0
    );

    // One character changed in the file: exit 1.
    std::fs::write(&export, text.replacen("SELECT 7", "SELECT 8", 1)).unwrap();
    assert_eq!(
        run(
            verify_cmd(Some(export.clone()), vec![pem.clone()]),
            &nothing
        )
        .await
        .unwrap(),
        1
    );
    // Another key: the checkpoint no longer verifies.
    std::fs::write(&export, &text).unwrap();
    let other = dir.path().join("other.pub");
    std::fs::write(&other, AuditKey::generate().public_key_pem().unwrap()).unwrap();
    assert_eq!(
        run(verify_cmd(Some(export), vec![other]), &nothing)
            .await
            .unwrap(),
        1
    );
}

#[tokio::test]
async fn verify_fails_with_exit_1_on_a_tampered_store() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = fixture(dir.path()).await;
    let store = Store::open(&ctx.store_url).await.unwrap();
    sqlx::query("UPDATE audit_records SET ts_ms = ts_ms + 1 WHERE seq = 4")
        .execute(store.pool())
        .await
        .unwrap();
    assert_eq!(run(verify_cmd(None, vec![]), &ctx).await.unwrap(), 1);
    let json = AuditCommand::Verify {
        from: Some("5".into()),
        to: None,
        chain: Some("r1".into()),
        public_key: vec![],
        file: None,
        partial: false,
        json: true,
    };
    // The range after the damage is intact.
    assert_eq!(run(json, &ctx).await.unwrap(), 0);
}

#[tokio::test]
async fn reading_commands_run() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = fixture(dir.path()).await;
    let search = AuditCommand::Search {
        user: Some("alice".into()),
        connection: Some("prod".into()),
        table: Some("t".into()),
        verdict: Some("deny".into()),
        event_type: None,
        session: None,
        chain: None,
        since: Some("1d".into()),
        until: Some("now".into()),
        text: Some("select 1".into()),
        limit: 5,
        json: false,
    };
    assert_eq!(run(search, &ctx).await.unwrap(), 0);
    let tail = AuditCommand::Tail {
        follow: false,
        lines: 3,
        json: true,
    };
    assert_eq!(run(tail, &ctx).await.unwrap(), 0);
    let summary = AuditCommand::Summary {
        since: None,
        until: None,
        json: false,
    };
    assert_eq!(run(summary, &ctx).await.unwrap(), 0);
    assert_eq!(run(AuditCommand::PublicKey, &ctx).await.unwrap(), 0);
    assert!(run(AuditCommand::PublicKey, &AuditContext::default())
        .await
        .is_err());
    let bad = AuditCommand::Summary {
        since: Some("yesterday".into()),
        until: None,
        json: false,
    };
    assert!(run(bad, &ctx).await.is_err());
}

#[test]
fn lines_render_from_the_event() {
    let mut head = vigil_audit::ChainHead::genesis("r1");
    let r = head.append(1_700_000_000_123, &intent(3)).unwrap();
    assert_eq!(
        render::record_line(&r),
        "2023-11-14T22:13:20.123Z r1#1 statement.intent alice prod DENY [guardrail.x] SELECT 3 FROM t"
    );
}
