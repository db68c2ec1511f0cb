//! Opening the store: URL → pool → migrations.

use crate::StoreError;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};
use std::str::FromStr;
use std::time::Duration;

/// Which database the store lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A handle to the store; cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Store {
    /// Opens (creating if needed) the store at `url` and runs migrations.
    ///
    /// `url` is `sqlite://PATH`, `sqlite::memory:`, a bare file path, or
    /// `postgres://…` / `postgresql://…`.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let (backend, url) = normalize(url)?;
        let opts = AnyConnectOptions::from_str(&url).map_err(StoreError::Open)?;
        let pool = pool_options(backend)
            .connect_with(opts)
            .await
            .map_err(StoreError::Open)?;
        let store = Store { pool, backend };
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&self.pool).await?,
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&self.pool).await?,
        }
        Ok(())
    }

    /// The pool, for the repositories in this crate and their tests.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes every connection (at shutdown).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn normalize(url: &str) -> Result<(Backend, String), StoreError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok((Backend::Postgres, url.to_owned()));
    }
    if url == "sqlite::memory:" {
        return Ok((Backend::Sqlite, url.to_owned()));
    }
    let path = url.strip_prefix("sqlite://").unwrap_or(url);
    if path.is_empty() || path.contains("://") {
        return Err(StoreError::BadUrl(url.to_owned()));
    }
    Ok((Backend::Sqlite, format!("sqlite://{path}?mode=rwc")))
}

fn pool_options(backend: Backend) -> AnyPoolOptions {
    let opts = AnyPoolOptions::new().acquire_timeout(Duration::from_secs(5));
    match backend {
        // One writer at a time is SQLite's model; WAL lets readers run
        // beside it, and FULL sync makes a commit durable before it returns.
        Backend::Sqlite => opts.max_connections(4).after_connect(|conn, _| {
            Box::pin(async move {
                conn.execute("PRAGMA journal_mode = WAL").await?;
                conn.execute("PRAGMA synchronous = FULL").await?;
                conn.execute("PRAGMA busy_timeout = 5000").await?;
                conn.execute("PRAGMA foreign_keys = ON").await?;
                Ok(())
            })
        }),
        Backend::Postgres => opts.max_connections(8),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_normalized() {
        assert_eq!(
            normalize("sqlite://vigil.db").unwrap(),
            (Backend::Sqlite, "sqlite://vigil.db?mode=rwc".to_owned())
        );
        assert_eq!(normalize("/var/lib/vigil.db").unwrap().0, Backend::Sqlite);
        assert_eq!(normalize("postgres://h/db").unwrap().0, Backend::Postgres);
        assert!(normalize("mysql://x").is_err());
        assert!(normalize("").is_err());
    }
}
