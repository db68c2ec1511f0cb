//! Real PostgreSQL clusters: lifecycle, fault injection, concurrency, TLS.

use std::time::Instant;

use vigil_pgtemp::demo::{demo_counts, demo_schema_sql};
use vigil_pgtemp::{ClusterOptions, PgTempError, TempCluster};

#[test]
fn trust_cluster_lifecycle_with_demo_data() {
    let started = Instant::now();
    let mut pg = TempCluster::start(ClusterOptions::default()).unwrap();
    eprintln!("cluster start took {:?}", started.elapsed());
    assert_eq!(pg.host(), "127.0.0.1");
    assert_eq!(pg.psql("postgres", "SELECT 1").unwrap(), "1");
    assert_eq!(
        pg.url("demo"),
        format!("postgresql://postgres@127.0.0.1:{}/demo", pg.port())
    );

    pg.create_database("demo").unwrap();
    pg.psql("demo", &demo_schema_sql(50)).unwrap();
    let counts = demo_counts(50);
    let got = pg
        .psql(
            "demo",
            "SELECT (SELECT count(*) FROM customers) || ',' || (SELECT count(*) FROM orders) \
             || ',' || (SELECT count(*) FROM payments) || ',' || (SELECT count(*) FROM api_keys)",
        )
        .unwrap();
    let expected = format!(
        "{},{},{},{}",
        counts.customers, counts.orders, counts.payments, counts.api_keys
    );
    assert_eq!(got, expected);

    // A clean stop and restart keeps data and port.
    let port = pg.port();
    pg.stop().unwrap();
    assert!(pg.psql("demo", "SELECT 1").is_err());
    pg.start_again().unwrap();
    assert_eq!(pg.port(), port);
    assert_eq!(
        pg.psql("demo", "SELECT count(*) FROM customers").unwrap(),
        "50"
    );

    // A crash: committed data survives recovery (fsync=off is fine: the OS did not crash).
    pg.psql(
        "demo",
        "CREATE TABLE after_restart(x int); INSERT INTO after_restart VALUES (7);",
    )
    .unwrap();
    pg.kill_hard().unwrap();
    let err = pg.psql("demo", "SELECT 1").unwrap_err();
    assert!(matches!(err, PgTempError::Psql(_)), "{err}");
    pg.start_again().unwrap();
    assert_eq!(pg.psql("demo", "SELECT x FROM after_restart").unwrap(), "7");
    assert!(pg
        .log_contents()
        .contains("database system was interrupted"));
}

#[test]
fn drop_stops_the_server_and_removes_the_directory() {
    let pg = TempCluster::start(ClusterOptions::default()).unwrap();
    let data_dir = pg.data_dir().to_path_buf();
    let port = pg.port();
    assert!(data_dir.join("PG_VERSION").is_file());
    drop(pg);
    assert!(!data_dir.exists());
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
}

#[test]
fn sql_errors_carry_the_server_message() {
    let pg = TempCluster::start(ClusterOptions::default()).unwrap();
    let err = pg
        .psql("postgres", "SELECT * FROM no_such_table")
        .unwrap_err();
    assert!(err.to_string().contains("no_such_table"), "{err}");
    // Stops at the first error: the second statement never runs.
    let err = pg
        .psql(
            "postgres",
            "CREATE TABLE t(x int); SELECT 1/0; CREATE TABLE u(x int);",
        )
        .unwrap_err();
    assert!(err.to_string().contains("division by zero"), "{err}");
    assert_eq!(
        pg.psql("postgres", "SELECT to_regclass('u') IS NULL")
            .unwrap(),
        "t"
    );
}

#[test]
fn settings_reach_the_server() {
    let opts = ClusterOptions::default()
        .setting("log_statement", "all")
        .setting("application_name", "it's vigil");
    let pg = TempCluster::start(opts).unwrap();
    assert_eq!(pg.psql("postgres", "SHOW log_statement").unwrap(), "all");
    pg.psql("postgres", "SELECT 'marker-4711'").unwrap();
    assert!(pg.log_contents().contains("marker-4711"));
}

#[test]
fn two_clusters_start_concurrently() {
    let handles: Vec<_> = (0..2)
        .map(|i| {
            std::thread::spawn(move || {
                let pg = TempCluster::start(ClusterOptions::default()).unwrap();
                pg.psql("postgres", &format!("CREATE TABLE mine_{i}(x int)"))
                    .unwrap();
                let tables = pg
                    .psql(
                        "postgres",
                        "SELECT string_agg(relname, ',') FROM pg_class WHERE relname LIKE 'mine_%'",
                    )
                    .unwrap();
                (pg.port(), pg.data_dir().to_path_buf(), tables, pg)
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_ne!(results[0].0, results[1].0);
    assert_ne!(results[0].1, results[1].1);
    assert_eq!(results[0].2, "mine_0");
    assert_eq!(results[1].2, "mine_1");
}

#[test]
fn ssl_cluster_serves_tls() {
    let opts = ClusterOptions {
        ssl: true,
        ..ClusterOptions::default()
    };
    let pg = TempCluster::start(opts).unwrap();
    assert!(pg.server_cert_pem().unwrap().contains("BEGIN CERTIFICATE"));
    let sql = "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()";
    assert_eq!(pg.psql("postgres", sql).unwrap(), "t");
}

#[test]
fn keep_leaves_the_directory_for_debugging() {
    let opts = ClusterOptions {
        keep: true,
        ..ClusterOptions::default()
    };
    let pg = TempCluster::start(opts).unwrap();
    let root = pg.socket_dir().to_path_buf();
    drop(pg);
    assert!(root.join("data").join("PG_VERSION").is_file());
    std::fs::remove_dir_all(&root).unwrap();
}
