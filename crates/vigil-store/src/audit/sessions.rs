//! Sessions as the trail shows them: each `session.start` with its
//! `session.end`, and everything one session recorded (intents, outcomes,
//! approvals), for the web UI's session list and drill-down.
//!
//! Session ids are unique within one run of one replica, not forever: a
//! restarted Vigil counts from 1 again on the same chain. So a session is
//! named by its chain and the seq of its `session.start`, and its records
//! are those of its chain with its id, after that start and before the next
//! `session.start` with the same id.

use super::read::{fetch_records, search, Page, SearchFilter};
use super::rows::{self, Sql, RECORD_COLUMNS};
use super::AuditError;
use crate::Store;
use vigil_audit::{Event, Record};

/// One session: its start and, once it ended cleanly, its end.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRecords {
    pub start: Record,
    /// `None` while the session runs, or when Vigil stopped without
    /// recording its end (a crash).
    pub end: Option<Record>,
}

impl SessionRecords {
    /// The session id of the start record.
    pub fn session_id(&self) -> Option<u64> {
        session_id_of(&self.start)
    }
}

/// Sessions whose `session.start` matches `filter` (its event type is
/// ignored), newest first, each with its end.
pub async fn sessions(
    store: &Store,
    filter: &SearchFilter,
    page: &Page,
) -> Result<Vec<SessionRecords>, AuditError> {
    store.audit_caught_up().await;
    let filter = SearchFilter {
        event_type: Some("session.start".to_owned()),
        ..filter.clone()
    };
    let starts = search(store, &filter, page).await?;
    let mut out = Vec::with_capacity(starts.len());
    for start in starts {
        let end = match session_id_of(&start) {
            Some(id) => match next_boundary(store, &start.chain_id, id, start.seq).await? {
                Some(r) if r.event_type == "session.end" => Some(r),
                _ => None,
            },
            None => None,
        };
        out.push(SessionRecords { start, end });
    }
    Ok(out)
}

/// The session that started at `start_seq` of `chain_id`, and up to
/// `limit` of its other records in chain order (its end included).
/// `None` when that record is not a `session.start`.
pub async fn session_records(
    store: &Store,
    chain_id: &str,
    start_seq: u64,
    limit: u32,
) -> Result<Option<(SessionRecords, Vec<Record>)>, AuditError> {
    store.audit_caught_up().await;
    let mut sql = Sql::new(&format!("SELECT {RECORD_COLUMNS} FROM audit_records"));
    let (c, s) = (sql.text(chain_id), sql.int(rows::to_i64(start_seq)));
    sql.and(&format!(
        "chain_id = {c} AND seq = {s} AND event_type = 'session.start'"
    ));
    let Some(start) = fetch_records(store, &sql).await?.into_iter().next() else {
        return Ok(None);
    };
    let Some(id) = session_id_of(&start) else {
        return Ok(None);
    };
    let next_start = next_start(store, chain_id, id, start_seq).await?;
    let mut sql = Sql::new(&format!("SELECT {RECORD_COLUMNS} FROM audit_records"));
    let (c, i, s) = (
        sql.text(chain_id),
        sql.int(rows::to_i64(id)),
        sql.int(rows::to_i64(start_seq)),
    );
    sql.and(&format!(
        "chain_id = {c} AND session_id = {i} AND seq > {s}"
    ));
    if let Some(bound) = next_start {
        let b = sql.int(rows::to_i64(bound));
        sql.and(&format!("seq < {b}"));
    }
    let l = sql.int(i64::from(limit));
    sql.push(&format!("ORDER BY seq LIMIT {l}"));
    let records = fetch_records(store, &sql).await?;
    let end = records
        .iter()
        .find(|r| r.event_type == "session.end")
        .cloned();
    Ok(Some((SessionRecords { start, end }, records)))
}

/// The first `session.start` or `session.end` after `seq` with this id.
async fn next_boundary(
    store: &Store,
    chain_id: &str,
    id: u64,
    seq: u64,
) -> Result<Option<Record>, AuditError> {
    let mut sql = Sql::new(&format!("SELECT {RECORD_COLUMNS} FROM audit_records"));
    let (c, i, s) = (
        sql.text(chain_id),
        sql.int(rows::to_i64(id)),
        sql.int(rows::to_i64(seq)),
    );
    sql.and(&format!(
        "chain_id = {c} AND session_id = {i} AND seq > {s} \
         AND event_type IN ('session.start', 'session.end')"
    ));
    sql.push("ORDER BY seq LIMIT 1");
    Ok(fetch_records(store, &sql).await?.into_iter().next())
}

/// The seq of the next `session.start` with this id (a later run's session).
async fn next_start(
    store: &Store,
    chain_id: &str,
    id: u64,
    seq: u64,
) -> Result<Option<u64>, AuditError> {
    let mut sql = Sql::new("SELECT MIN(seq) FROM audit_records");
    let (c, i, s) = (
        sql.text(chain_id),
        sql.int(rows::to_i64(id)),
        sql.int(rows::to_i64(seq)),
    );
    sql.and(&format!(
        "chain_id = {c} AND session_id = {i} AND seq > {s} AND event_type = 'session.start'"
    ));
    let (min,): (Option<i64>,) = sql.query_as().fetch_one(store.pool()).await?;
    Ok(min.map(rows::to_u64))
}

fn session_id_of(r: &Record) -> Option<u64> {
    match r.decode_event().ok()? {
        Event::SessionStart(s) => Some(s.session_id),
        Event::SessionEnd(s) => Some(s.session_id),
        _ => None,
    }
}
