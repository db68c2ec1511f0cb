//! Reading the trail: search with filters, the newest records, following
//! new ones as they are written, and the list of chains. Filters run on the
//! indexed columns; what is returned is always the hashed record itself.

use super::rows::{self, Sql, RECORD_COLUMNS};
use super::AuditError;
use crate::Store;
use std::collections::BTreeMap;
use vigil_audit::Record;

/// One end of a range: a seq (per chain) or a time (Unix ms).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    Seq(u64),
    Time(i64),
}

/// Which records verify and export cover. Bounds are inclusive.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditRange {
    /// One chain, or all of them.
    pub chain: Option<String>,
    pub from: Option<Bound>,
    pub to: Option<Bound>,
}

impl AuditRange {
    /// Adds this range's conditions for a table whose columns are named
    /// `chain_id`, `seq` and `ts_ms`.
    pub(crate) fn apply(&self, sql: &mut Sql) {
        if let Some(chain) = &self.chain {
            let p = sql.text(chain.as_str());
            sql.and(&format!("chain_id = {p}"));
        }
        for (bound, op) in [(self.from, ">="), (self.to, "<=")] {
            match bound {
                Some(Bound::Seq(s)) => {
                    let p = sql.int(rows::to_i64(s));
                    sql.and(&format!("seq {op} {p}"));
                }
                Some(Bound::Time(t)) => {
                    let p = sql.int(t);
                    sql.and(&format!("ts_ms {op} {p}"));
                }
                None => {}
            }
        }
    }
}

/// Search criteria; every set field must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchFilter {
    /// The principal's `sub` or email (for `auth.failure`, the claimed user).
    pub user: Option<String>,
    pub connection: Option<String>,
    /// A table, qualified (`public.orders`) or not (`orders` matches both).
    pub table: Option<String>,
    /// `allow`, `review` or `deny`.
    pub verdict: Option<String>,
    pub event_type: Option<String>,
    pub session: Option<u64>,
    pub chain: Option<String>,
    /// Inclusive, Unix ms.
    pub since_ms: Option<i64>,
    /// Inclusive, Unix ms.
    pub until_ms: Option<i64>,
    /// Case-insensitive substring of the SQL text or the event.
    pub text: Option<String>,
}

/// A record's position in newest-first order: where the next page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub ts_ms: i64,
    pub chain_id: String,
    pub seq: u64,
}

impl From<&Record> for Cursor {
    fn from(r: &Record) -> Self {
        Cursor {
            ts_ms: r.ts_ms,
            chain_id: r.chain_id.clone(),
            seq: r.seq,
        }
    }
}

/// Which page of results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub limit: u32,
    pub offset: u64,
    /// Only records older than this one (keyset paging; cheaper than offset).
    pub before: Option<Cursor>,
}

impl Default for Page {
    fn default() -> Self {
        Page {
            limit: 100,
            offset: 0,
            before: None,
        }
    }
}

/// Records matching `filter`, newest first.
pub async fn search(
    store: &Store,
    filter: &SearchFilter,
    page: &Page,
) -> Result<Vec<Record>, AuditError> {
    store.audit_caught_up().await;
    let mut sql = Sql::new(&format!("SELECT {RECORD_COLUMNS} FROM audit_records"));
    apply_filter(&mut sql, filter);
    if let Some(c) = &page.before {
        let (t1, t2, c1, s1) = (
            sql.int(c.ts_ms),
            sql.int(c.ts_ms),
            sql.text(c.chain_id.as_str()),
            sql.int(rows::to_i64(c.seq)),
        );
        let c2 = sql.text(c.chain_id.as_str());
        sql.and(&format!(
            "(ts_ms < {t1} OR (ts_ms = {t2} AND (chain_id < {c1} OR (chain_id = {c2} AND seq < {s1}))))"
        ));
    }
    let limit = sql.int(i64::from(page.limit));
    let offset = sql.int(i64::try_from(page.offset).unwrap_or(i64::MAX));
    sql.push(&format!(
        "ORDER BY ts_ms DESC, chain_id DESC, seq DESC LIMIT {limit} OFFSET {offset}"
    ));
    fetch_records(store, &sql).await
}

fn apply_filter(sql: &mut Sql, f: &SearchFilter) {
    if let Some(user) = &f.user {
        let (a, b) = (sql.text(user.as_str()), sql.text(user.as_str()));
        sql.and(&format!("(user_sub = {a} OR user_email = {b})"));
    }
    let exact = [
        ("connection_name", &f.connection),
        ("verdict", &f.verdict),
        ("event_type", &f.event_type),
        ("chain_id", &f.chain),
    ];
    for (column, value) in exact {
        if let Some(v) = value {
            let p = sql.text(v.as_str());
            sql.and(&format!("{column} = {p}"));
        }
    }
    if let Some(table) = &f.table {
        let escaped = like_escape(table);
        let (a, b) = (
            sql.text(format!("%,{escaped},%")),
            sql.text(format!("%.{escaped},%")),
        );
        sql.and(&format!(
            "(table_names LIKE {a} ESCAPE '\\' OR table_names LIKE {b} ESCAPE '\\')"
        ));
    }
    if let Some(session) = f.session {
        let p = sql.int(rows::to_i64(session));
        sql.and(&format!("session_id = {p}"));
    }
    if let Some(t) = f.since_ms {
        let p = sql.int(t);
        sql.and(&format!("ts_ms >= {p}"));
    }
    if let Some(t) = f.until_ms {
        let p = sql.int(t);
        sql.and(&format!("ts_ms <= {p}"));
    }
    if let Some(text) = &f.text {
        let pattern = format!("%{}%", like_escape(&text.to_lowercase()));
        let (a, b) = (sql.text(pattern.as_str()), sql.text(pattern));
        sql.and(&format!(
            "(LOWER(sql_text) LIKE {a} ESCAPE '\\' OR LOWER(event) LIKE {b} ESCAPE '\\')"
        ));
    }
}

/// Escapes LIKE's wildcards so user input matches literally.
fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The newest `n` records of all chains, oldest first.
pub async fn tail(store: &Store, n: u32) -> Result<Vec<Record>, AuditError> {
    store.audit_caught_up().await;
    let page = Page {
        limit: n,
        ..Page::default()
    };
    let mut records = search(store, &SearchFilter::default(), &page).await?;
    records.reverse();
    Ok(records)
}

pub(crate) async fn fetch_records(store: &Store, sql: &Sql) -> Result<Vec<Record>, AuditError> {
    let found = sql.query().fetch_all(store.pool()).await?;
    let mut out = Vec::with_capacity(found.len());
    for row in &found {
        let stored = rows::decode_record(row)?;
        match stored.record {
            Ok(r) => out.push(r),
            Err(detail) => {
                return Err(crate::StoreError::Corrupt {
                    what: "audit record",
                    detail: format!("chain {} seq {}: {detail}", stored.chain_id, stored.seq),
                }
                .into())
            }
        }
    }
    Ok(out)
}

/// One chain in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainInfo {
    pub chain_id: String,
    /// The last record's seq; `None` when the chain has no records.
    pub last_seq: Option<u64>,
}

/// Every chain a writer ever registered, with its last seq. Index seeks
/// only (no scan of the records): cheap enough to poll.
pub async fn chains(store: &Store) -> Result<Vec<ChainInfo>, AuditError> {
    store.audit_caught_up().await;
    let ids: Vec<(String,)> = sqlx::query_as("SELECT chain_id FROM audit_chains")
        .fetch_all(store.pool())
        .await?;
    let mut out = Vec::with_capacity(ids.len());
    for (chain_id,) in ids {
        let (last,): (Option<i64>,) =
            sqlx::query_as("SELECT MAX(seq) FROM audit_records WHERE chain_id = $1")
                .bind(chain_id.as_str())
                .fetch_one(store.pool())
                .await?;
        out.push(ChainInfo {
            chain_id,
            last_seq: last.map(rows::to_u64),
        });
    }
    out.sort_by(|a, b| a.chain_id.cmp(&b.chain_id));
    Ok(out)
}

/// Follows new records (`audit tail -f`). Tracks the last seq seen per
/// chain, which — unlike a timestamp or a row id — cannot skip a record
/// committed late by another replica.
#[derive(Debug, Clone, Default)]
pub struct Follower {
    seen: BTreeMap<String, u64>,
}

impl Follower {
    /// Starts after everything already stored.
    pub async fn from_now(store: &Store) -> Result<Follower, AuditError> {
        store.audit_caught_up().await;
        let seen = chains(store)
            .await?
            .into_iter()
            .map(|c| (c.chain_id, c.last_seq.unwrap_or(0)))
            .collect();
        Ok(Follower { seen })
    }

    /// Starts after these records (e.g. the ones `tail` just printed).
    pub fn after(records: &[Record]) -> Follower {
        let mut f = Follower::default();
        for r in records {
            f.mark(r);
        }
        f
    }

    fn mark(&mut self, r: &Record) {
        let seen = self.seen.entry(r.chain_id.clone()).or_insert(0);
        *seen = (*seen).max(r.seq);
    }

    /// Records written since the last poll, oldest first (at most `limit`
    /// per chain).
    pub async fn poll(&mut self, store: &Store, limit: u32) -> Result<Vec<Record>, AuditError> {
        store.audit_caught_up().await;
        let mut out = Vec::new();
        for chain in chains(store).await? {
            let after = self.seen.get(&chain.chain_id).copied().unwrap_or(0);
            if chain.last_seq.unwrap_or(0) <= after {
                continue;
            }
            let mut sql = Sql::new(&format!("SELECT {RECORD_COLUMNS} FROM audit_records"));
            let (c, s) = (
                sql.text(chain.chain_id.as_str()),
                sql.int(rows::to_i64(after)),
            );
            sql.and(&format!("chain_id = {c} AND seq > {s}"));
            let l = sql.int(i64::from(limit));
            sql.push(&format!("ORDER BY seq LIMIT {l}"));
            out.extend(fetch_records(store, &sql).await?);
        }
        for r in &out {
            self.mark(r);
        }
        out.sort_by(|a, b| (a.ts_ms, &a.chain_id, a.seq).cmp(&(b.ts_ms, &b.chain_id, b.seq)));
        Ok(out)
    }
}
