//! Password clusters: SCRAM and md5 accept the right password and reject a
//! wrong or missing one, and md5 clusters really store md5 hashes.

use vigil_pgtemp::{AuthMethod, ClusterOptions, PgTempError, TempCluster};

const PASSWORD: &str = "s3cret pass'word";

fn assert_auth_enforced(pg: &TempCluster) {
    assert_eq!(
        pg.psql("postgres", "SELECT current_user").unwrap(),
        "postgres"
    );
    let ok = pg
        .psql_as("postgres", "postgres", Some(PASSWORD), "SELECT 1")
        .unwrap();
    assert_eq!(ok, "1");
    let wrong = pg
        .psql_as("postgres", "postgres", Some("not-it"), "SELECT 1")
        .unwrap_err();
    assert!(
        wrong.to_string().contains("password authentication failed"),
        "{wrong}"
    );
    let missing = pg
        .psql_as("postgres", "postgres", None, "SELECT 1")
        .unwrap_err();
    assert!(matches!(missing, PgTempError::Psql(_)), "{missing}");
}

fn stored_hash_prefix(pg: &TempCluster) -> String {
    pg.psql(
        "postgres",
        "SELECT left(rolpassword, 5) FROM pg_authid WHERE rolname = 'postgres'",
    )
    .unwrap()
}

#[test]
fn scram_cluster_checks_passwords() {
    let pg =
        TempCluster::start(ClusterOptions::with_password(AuthMethod::Scram, PASSWORD)).unwrap();
    assert_auth_enforced(&pg);
    assert!(stored_hash_prefix(&pg).starts_with("SCRAM"));
    assert!(pg
        .url("db")
        .starts_with("postgresql://postgres:s3cret%20pass%27word@127.0.0.1:"));
}

#[test]
fn md5_cluster_checks_passwords_with_md5_hashes() {
    let pg = TempCluster::start(ClusterOptions::with_password(AuthMethod::Md5, PASSWORD)).unwrap();
    assert_auth_enforced(&pg);
    assert!(stored_hash_prefix(&pg).starts_with("md5"));
    // Roles created later also get md5 hashes.
    pg.psql("postgres", "CREATE ROLE app LOGIN PASSWORD 'app-pw'")
        .unwrap();
    let hash = pg
        .psql(
            "postgres",
            "SELECT left(rolpassword, 3) FROM pg_authid WHERE rolname = 'app'",
        )
        .unwrap();
    assert_eq!(hash, "md5");
    assert_eq!(
        pg.psql_as("postgres", "app", Some("app-pw"), "SELECT current_user")
            .unwrap(),
        "app"
    );
}

#[test]
fn password_auth_without_password_is_rejected_up_front() {
    let opts = ClusterOptions {
        auth: AuthMethod::Md5,
        ..ClusterOptions::default()
    };
    let err = TempCluster::start(opts).unwrap_err();
    assert!(matches!(err, PgTempError::InvalidOptions(_)), "{err}");
}
