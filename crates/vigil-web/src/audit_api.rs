//! `GET /api/audit`: the audit trail over HTTP, with the filters of
//! `vigil audit search` (user, connection, table, verdict, type, session,
//! chain, since, until, text), newest first, a page at a time.
//!
//! ```text
//! GET /api/audit?user=alice&verdict=deny&since=2h&limit=50
//! → {"records": [{"type":"record", …}, …], "next_cursor": "1700000000000-42-7669…"}
//! GET /api/audit?…&cursor=1700000000000-42-7669…   (the next page)
//! ```
//!
//! Records are shown exactly as stored and exported (the JSONL export's
//! `record` lines), so a page can be verified like an export. Reading the
//! trail needs group `auditor` or `admin`: 401 without a token, 403 with
//! one from another group.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use vigil_audit::ExportLine;
use vigil_core::Principal;
use vigil_store::audit::{self as store_audit, Cursor, Page, SearchFilter};
use vigil_store::Store;

use crate::auth::Reviewer;
use crate::{WebError, WebState};

/// Groups that may read the audit trail.
pub const AUDIT_GROUPS: [&str; 2] = ["auditor", "admin"];
/// Largest page one call returns.
pub const MAX_LIMIT: u32 = 1000;
const DEFAULT_LIMIT: u32 = 100;

/// `GET /api/audit` query. Every set filter must match.
#[derive(Debug, Default, Deserialize)]
pub struct AuditQuery {
    /// Subject or email (for `auth.failure`, the claimed user).
    pub user: Option<String>,
    pub connection: Option<String>,
    /// `orders` or `public.orders`.
    pub table: Option<String>,
    /// `allow`, `review` or `deny`.
    pub verdict: Option<String>,
    /// An event type, e.g. `statement.intent`.
    #[serde(rename = "type")]
    pub event_type: Option<String>,
    pub session: Option<u64>,
    pub chain: Option<String>,
    /// `2025-01-02`, `2025-01-02T03:04:05Z`, `2h` (ago), `now` or `@<unix ms>`.
    pub since: Option<String>,
    pub until: Option<String>,
    /// Case-insensitive text in the SQL or the event.
    pub text: Option<String>,
    /// 1 to [`MAX_LIMIT`]; 100 by default.
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Records to skip (after the cursor, if any).
    pub offset: Option<u64>,
}

/// One page of records.
#[derive(Debug, Serialize)]
pub struct AuditPage {
    pub records: Vec<ExportLine>,
    /// Pass as `cursor` for the next (older) page; `null` on the last page.
    pub next_cursor: Option<String>,
}

pub async fn search(
    State(state): State<WebState>,
    who: Reviewer,
    query: Result<Query<AuditQuery>, QueryRejection>,
) -> Result<Json<AuditPage>, WebError> {
    let store = audit_store(&state, &who.principal)?;
    let Query(q) = query.map_err(|e| WebError::BadRequest(e.body_text()))?;
    let (filter, page) = parse(&q, now_ms())?;
    let records = store_audit::search(store, &filter, &page)
        .await
        .map_err(|e| WebError::AuditStore(e.to_string()))?;
    let next_cursor = (records.len() == page.limit as usize)
        .then(|| records.last().map(|r| encode_cursor(&Cursor::from(r))))
        .flatten();
    Ok(Json(AuditPage {
        records: records.into_iter().map(ExportLine::Record).collect(),
        next_cursor,
    }))
}

/// The audit store, if `who` may read it: 403 outside the audit groups,
/// 404 when this Vigil keeps no audit trail.
pub(crate) fn audit_store<'a>(state: &'a WebState, who: &Principal) -> Result<&'a Store, WebError> {
    if !may_read_audit(who) {
        return Err(WebError::Forbidden(
            "reading the audit trail needs group auditor or admin".to_owned(),
        ));
    }
    state
        .audit
        .as_ref()
        .ok_or_else(|| WebError::NotFound("this Vigil keeps no audit trail".to_owned()))
}

pub(crate) fn may_read_audit(who: &Principal) -> bool {
    who.groups
        .iter()
        .any(|g| AUDIT_GROUPS.contains(&g.as_str()))
}

/// The store's filter and page for a query.
pub(crate) fn parse(q: &AuditQuery, now: i64) -> Result<(SearchFilter, Page), WebError> {
    if let Some(v) = q.verdict.as_deref() {
        if !matches!(v, "allow" | "review" | "deny") {
            return Err(WebError::BadRequest(format!(
                "verdict {v:?}: expected allow, review or deny"
            )));
        }
    }
    let time = |s: &Option<String>| {
        s.as_deref()
            .filter(|s| !s.trim().is_empty())
            .map(|s| vigil_audit::time::parse_time(s, now))
            .transpose()
            .map_err(|e| WebError::BadRequest(e.to_string()))
    };
    let filter = SearchFilter {
        user: nonempty(&q.user),
        connection: nonempty(&q.connection),
        table: nonempty(&q.table),
        verdict: nonempty(&q.verdict),
        event_type: nonempty(&q.event_type),
        session: q.session,
        chain: nonempty(&q.chain),
        since_ms: time(&q.since)?,
        until_ms: time(&q.until)?,
        text: nonempty(&q.text),
    };
    let before = match q.cursor.as_deref().filter(|c| !c.is_empty()) {
        Some(c) => Some(
            decode_cursor(c)
                .ok_or_else(|| WebError::BadRequest(format!("cursor {c:?} is not valid")))?,
        ),
        None => None,
    };
    let page = Page {
        limit: q.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT),
        offset: q.offset.unwrap_or(0),
        before,
    };
    Ok((filter, page))
}

/// Empty form fields mean "no filter".
fn nonempty(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// `ts_ms-seq-hex(chain_id)`: opaque to clients, safe in a URL.
pub(crate) fn encode_cursor(c: &Cursor) -> String {
    let chain: String = c.chain_id.bytes().map(|b| format!("{b:02x}")).collect();
    format!("{}-{}-{chain}", c.ts_ms, c.seq)
}

pub(crate) fn decode_cursor(s: &str) -> Option<Cursor> {
    // ts_ms may be negative: split the last two fields off the right.
    let (rest, chain_hex) = s.rsplit_once('-')?;
    let (ts, seq) = rest.rsplit_once('-')?;
    if chain_hex.len() % 2 != 0 {
        return None;
    }
    let bytes = (0..chain_hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(chain_hex.get(i..i + 2)?, 16).ok())
        .collect::<Option<Vec<u8>>>()?;
    Some(Cursor {
        ts_ms: ts.parse().ok()?,
        seq: seq.parse().ok()?,
        chain_id: String::from_utf8(bytes).ok()?,
    })
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        for c in [
            Cursor {
                ts_ms: 1_700_000_000_000,
                chain_id: "vigil-a.b".into(),
                seq: 42,
            },
            Cursor {
                ts_ms: -5,
                chain_id: "é-x".into(),
                seq: 1,
            },
        ] {
            assert_eq!(decode_cursor(&encode_cursor(&c)), Some(c));
        }
        for bad in ["", "1-2", "x-1-61", "1-x-61", "1-2-6", "1-2-zz", "1-2-ff"] {
            assert_eq!(decode_cursor(bad), None, "{bad}");
        }
    }

    #[test]
    fn queries_become_filters() {
        let q = AuditQuery {
            user: Some("alice".into()),
            connection: Some(" ".into()),
            verdict: Some("deny".into()),
            since: Some("2h".into()),
            until: Some("@5000".into()),
            limit: Some(100_000),
            ..AuditQuery::default()
        };
        let (f, p) = parse(&q, 10_000_000).unwrap();
        assert_eq!(f.user.as_deref(), Some("alice"));
        assert_eq!(f.connection, None, "blank means no filter");
        assert_eq!((f.since_ms, f.until_ms), (Some(2_800_000), Some(5000)));
        assert_eq!((p.limit, p.offset, p.before), (MAX_LIMIT, 0, None));
        let bad_verdict = AuditQuery {
            verdict: Some("maybe".into()),
            ..AuditQuery::default()
        };
        assert!(matches!(
            parse(&bad_verdict, 0),
            Err(WebError::BadRequest(_))
        ));
        let bad_time = AuditQuery {
            since: Some("someday".into()),
            ..AuditQuery::default()
        };
        assert!(matches!(parse(&bad_time, 0), Err(WebError::BadRequest(_))));
    }

    #[test]
    fn only_auditors_and_admins_read_the_trail() {
        let p = |groups: &[&str]| Principal {
            subject: "x".into(),
            email: None,
            groups: groups.iter().map(|g| (*g).to_owned()).collect(),
            issuer: "vigil".into(),
            token_id: None,
            expires_at: i64::MAX,
            kind: vigil_core::PrincipalKind::Human,
        };
        assert!(may_read_audit(&p(&["dev", "auditor"])));
        assert!(may_read_audit(&p(&["admin"])));
        assert!(!may_read_audit(&p(&["dba", "dev"])));
        assert!(!may_read_audit(&p(&["Auditor"])), "group names are exact");
    }
}
