//! A wrong `VIGIL_PG_BIN` fails fast with an actionable message. Its own test
//! binary, because it changes the process environment.

use vigil_pgtemp::{ClusterOptions, PgTempError, TempCluster, PG_BIN_ENV};

#[test]
fn wrong_bin_dir_override_names_the_fix() {
    std::env::set_var(PG_BIN_ENV, "/nonexistent/pg/bin");
    let err = TempCluster::start(ClusterOptions::default()).unwrap_err();
    assert!(matches!(err, PgTempError::BinariesNotFound { .. }), "{err}");
    let msg = err.to_string();
    assert!(msg.contains("apt-get install postgresql"), "{msg}");
    assert!(msg.contains("/nonexistent/pg/bin"), "{msg}");
}
