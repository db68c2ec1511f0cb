//! Opening the store: URL → pool → migrations.

use crate::StoreError;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex};
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
    /// The SQLite database file (not for `sqlite::memory:` or PostgreSQL):
    /// audit journals live beside it.
    sqlite_path: Option<Arc<PathBuf>>,
    /// The audit writers' ingest gates in this process: readers wait on
    /// them so they see every record already committed to a journal.
    gates: Arc<Mutex<Vec<Arc<crate::audit::Gate>>>>,
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
        let sqlite_path = sqlite_file(backend, &url).map(Arc::new);
        let opts = AnyConnectOptions::from_str(&url).map_err(StoreError::Open)?;
        let pool = pool_options(backend)
            .connect_with(opts)
            .await
            .map_err(StoreError::Open)?;
        let store = Store {
            pool,
            backend,
            sqlite_path,
            gates: Arc::default(),
        };
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

    /// The SQLite database file, when the store is one.
    pub fn sqlite_path(&self) -> Option<&Path> {
        self.sqlite_path.as_deref().map(PathBuf::as_path)
    }

    pub(crate) fn add_gate(&self, gate: Arc<crate::audit::Gate>) {
        if let Ok(mut g) = self.gates.lock() {
            g.push(gate);
        }
    }

    pub(crate) fn remove_gate(&self, gate: &Arc<crate::audit::Gate>) {
        if let Ok(mut g) = self.gates.lock() {
            g.retain(|x| !Arc::ptr_eq(x, gate));
        }
    }

    /// Waits until every record this process's audit writers committed to
    /// their journals is in the database too (readers call it first).
    pub(crate) async fn audit_caught_up(&self) {
        let gates: Vec<_> = self.gates.lock().map(|g| g.clone()).unwrap_or_default();
        for gate in gates {
            gate.wait_caught_up(crate::audit::READER_WAIT).await;
        }
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

/// The database file of a normalized SQLite URL (`sqlite://PATH?mode=rwc`).
fn sqlite_file(backend: Backend, url: &str) -> Option<PathBuf> {
    if backend != Backend::Sqlite || url.contains(":memory:") {
        return None;
    }
    let path = url.strip_prefix("sqlite://")?;
    let path = path.split('?').next().unwrap_or(path);
    (!path.is_empty()).then(|| PathBuf::from(path))
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
