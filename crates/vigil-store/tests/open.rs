//! The store opens, migrates and round-trips `$N` placeholders on both backends.

use vigil_pgtemp::{ClusterOptions, TempCluster};
use vigil_store::{Backend, Store};

async fn roundtrip(store: &Store) {
    sqlx::query("INSERT INTO vigil_meta (key, value) VALUES ($1, $2)")
        .bind("k")
        .bind("v")
        .execute(store.pool())
        .await
        .unwrap();
    let (v,): (String,) = sqlx::query_as("SELECT value FROM vigil_meta WHERE key = $1")
        .bind("k")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(v, "v");
}

#[tokio::test]
async fn sqlite_file_store_opens_twice() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("v.db").display());
    let store = Store::open(&url).await.unwrap();
    assert_eq!(store.backend(), Backend::Sqlite);
    roundtrip(&store).await;
    store.close().await;
    // Migrations are idempotent: a restart opens the same file.
    let again = Store::open(&url).await.unwrap();
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM vigil_meta")
        .fetch_one(again.pool())
        .await
        .unwrap();
    assert_eq!(n, 1);
}

#[tokio::test]
async fn postgres_store_opens() {
    let pg = TempCluster::start(ClusterOptions::default()).unwrap();
    let store = Store::open(&pg.url("postgres")).await.unwrap();
    assert_eq!(store.backend(), Backend::Postgres);
    roundtrip(&store).await;
}
