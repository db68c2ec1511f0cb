//! A period at a glance: who ran the most statements, how many were held
//! or blocked, how much was masked, by classification.

use super::rows::{self, Sql};
use super::AuditError;
use crate::Store;
use serde::Serialize;
use std::collections::BTreeMap;
use vigil_audit::MaskedCount;

/// How many users `top_users` lists.
const TOP_USERS: i64 = 10;
/// Outcome rows read per query when adding up masked counts.
const CHUNK: i64 = 1000;

/// Counts for a period.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub since_ms: Option<i64>,
    pub until_ms: Option<i64>,
    pub records: u64,
    pub by_event_type: BTreeMap<String, u64>,
    /// `statement.intent` records by verdict.
    pub allowed: u64,
    pub reviewed: u64,
    pub blocked: u64,
    /// Users with the most statements, most first.
    pub top_users: Vec<UserCount>,
    /// Masked values and rows by classification.
    pub masked: BTreeMap<String, MaskedCount>,
}

/// One user's statements.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserCount {
    /// The email, or the `sub` when there is none.
    pub user: String,
    pub statements: u64,
    pub reviewed: u64,
    pub blocked: u64,
}

/// Summarizes records with `since_ms <= ts_ms <= until_ms` (either open).
pub async fn summary(
    store: &Store,
    since_ms: Option<i64>,
    until_ms: Option<i64>,
) -> Result<Summary, AuditError> {
    store.audit_caught_up().await;
    let mut s = Summary {
        since_ms,
        until_ms,
        ..Summary::default()
    };
    let mut sql = period(
        since_ms,
        until_ms,
        "SELECT event_type, COUNT(*) FROM audit_records",
    );
    sql.push("GROUP BY event_type");
    let counts: Vec<(String, i64)> = sql.query_as().fetch_all(store.pool()).await?;
    for (event_type, n) in counts {
        s.records = s.records.saturating_add(rows::to_u64(n));
        s.by_event_type.insert(event_type, rows::to_u64(n));
    }
    let mut sql = period(
        since_ms,
        until_ms,
        "SELECT verdict, COUNT(*) FROM audit_records",
    );
    sql.and("event_type = 'statement.intent'");
    sql.push("GROUP BY verdict");
    let verdicts: Vec<(Option<String>, i64)> = sql.query_as().fetch_all(store.pool()).await?;
    for (verdict, n) in verdicts {
        match verdict.as_deref() {
            Some("allow") => s.allowed = s.allowed.saturating_add(rows::to_u64(n)),
            Some("review") => s.reviewed = s.reviewed.saturating_add(rows::to_u64(n)),
            Some("deny") => s.blocked = s.blocked.saturating_add(rows::to_u64(n)),
            _ => {}
        }
    }
    s.top_users = top_users(store, since_ms, until_ms).await?;
    s.masked = masked(store, since_ms, until_ms).await?;
    Ok(s)
}

fn period(since_ms: Option<i64>, until_ms: Option<i64>, base: &str) -> Sql {
    let mut sql = Sql::new(base);
    if let Some(t) = since_ms {
        let p = sql.int(t);
        sql.and(&format!("ts_ms >= {p}"));
    }
    if let Some(t) = until_ms {
        let p = sql.int(t);
        sql.and(&format!("ts_ms <= {p}"));
    }
    sql
}

async fn top_users(
    store: &Store,
    since_ms: Option<i64>,
    until_ms: Option<i64>,
) -> Result<Vec<UserCount>, AuditError> {
    let mut sql = period(
        since_ms,
        until_ms,
        "SELECT COALESCE(user_email, user_sub) AS who, COUNT(*) AS n, \
         SUM(CASE WHEN verdict = 'review' THEN 1 ELSE 0 END), \
         SUM(CASE WHEN verdict = 'deny' THEN 1 ELSE 0 END) FROM audit_records",
    );
    sql.and("event_type = 'statement.intent'");
    let limit = sql.int(TOP_USERS);
    sql.push(&format!("GROUP BY who ORDER BY n DESC, who LIMIT {limit}"));
    let found: Vec<(Option<String>, i64, i64, i64)> =
        sql.query_as().fetch_all(store.pool()).await?;
    Ok(found
        .into_iter()
        .map(|(who, n, reviewed, blocked)| UserCount {
            user: who.unwrap_or_else(|| "(unknown)".to_owned()),
            statements: rows::to_u64(n),
            reviewed: rows::to_u64(reviewed),
            blocked: rows::to_u64(blocked),
        })
        .collect())
}

/// Adds up outcome records' masked counts, a chunk at a time.
async fn masked(
    store: &Store,
    since_ms: Option<i64>,
    until_ms: Option<i64>,
) -> Result<BTreeMap<String, MaskedCount>, AuditError> {
    let mut total: BTreeMap<String, MaskedCount> = BTreeMap::new();
    let mut after: Option<(String, i64)> = None;
    loop {
        let mut sql = period(
            since_ms,
            until_ms,
            "SELECT chain_id, seq, masked FROM audit_records",
        );
        sql.and("masked IS NOT NULL");
        if let Some((chain, seq)) = &after {
            let (c1, c2, s) = (
                sql.text(chain.as_str()),
                sql.text(chain.as_str()),
                sql.int(*seq),
            );
            sql.and(&format!(
                "(chain_id > {c1} OR (chain_id = {c2} AND seq > {s}))"
            ));
        }
        let l = sql.int(CHUNK);
        sql.push(&format!("ORDER BY chain_id, seq LIMIT {l}"));
        let found: Vec<(String, i64, String)> = sql.query_as().fetch_all(store.pool()).await?;
        let Some((chain, seq, _)) = found.last() else {
            return Ok(total);
        };
        after = Some((chain.clone(), *seq));
        for (_, _, text) in &found {
            // The column is derived; verify reports an edited one. Here an
            // unreadable value is skipped rather than failing the summary.
            let Ok(counts) = serde_json::from_str::<BTreeMap<String, MaskedCount>>(text) else {
                continue;
            };
            for (class, c) in counts {
                let t = total.entry(class).or_default();
                t.values = t.values.saturating_add(c.values);
                t.rows = t.rows.saturating_add(c.rows);
            }
        }
    }
}
