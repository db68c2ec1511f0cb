//! Storage errors. The proxy maps them to SQLSTATE (58030 for the audit
//! trail) and the HTTP API to 503; neither echoes connection secrets.

/// What can go wrong talking to the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The URL is not `sqlite://…`, a file path, or `postgres://…`.
    #[error("store url {0:?} is not sqlite://PATH or postgres://…")]
    BadUrl(String),
    #[error("cannot open the store: {0}")]
    Open(#[source] sqlx::Error),
    #[error("store migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("store query failed: {0}")]
    Query(#[from] sqlx::Error),
    /// A row that does not decode as expected (edited by hand, or a newer schema).
    #[error("store holds a malformed {what}: {detail}")]
    Corrupt { what: &'static str, detail: String },
    #[error("not found")]
    NotFound,
    /// A conditional update lost a race or the row was already decided.
    #[error("conflict: {0}")]
    Conflict(String),
}
