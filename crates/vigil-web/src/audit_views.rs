//! Audit records shaped for the pages: a row per session, and one
//! session's statements with their decisions, approvals, masked counts and
//! outcomes. Plain strings, so templates hold no logic and askama escapes
//! every value. Records are read from the hashed event, never the copies.

use std::collections::BTreeMap;

use vigil_audit::{
    AuditPrincipal, Event, MaskedCount, Record, SessionEnd, StatementIntent, StatementOutcome,
};
use vigil_store::audit::SessionRecords;

use crate::time::utc;
use crate::views::{name, preview};

/// One row of the session list.
pub struct SessionRowView {
    pub link: String,
    pub started: String,
    pub user: String,
    pub connection: String,
    pub environment: String,
    pub client: String,
    pub app: String,
    pub tls: bool,
    pub duration: String,
    pub statements: String,
    pub bytes: String,
    pub ended: String,
}

/// One session's page.
pub struct SessionView {
    pub title: String,
    pub user: String,
    pub kind: String,
    pub groups: String,
    pub issuer: String,
    pub connection: String,
    pub environment: String,
    pub client: String,
    pub app: String,
    pub tls: bool,
    pub started: String,
    pub ended: String,
    pub duration: String,
    pub statements_sent: String,
    pub bytes: String,
    pub chain: String,
    pub start_seq: u64,
    pub statements: Vec<StatementView>,
    /// More records than one page shows.
    pub truncated: bool,
}

/// One statement: its intent and every outcome naming it.
pub struct StatementView {
    pub seq: u64,
    pub at: String,
    pub sql: String,
    pub redacted: bool,
    pub kind: String,
    pub tables: String,
    pub verdict: String,
    /// The status badge's CSS class.
    pub verdict_class: &'static str,
    pub rules: Vec<String>,
    pub reasons: Vec<String>,
    pub approval_id: Option<String>,
    pub outcomes: Vec<OutcomeView>,
}

pub struct OutcomeView {
    pub index: u32,
    pub status: String,
    pub command_tag: String,
    pub rows: String,
    pub duration: String,
    pub error: Option<String>,
    pub masked: String,
    pub withheld: bool,
}

/// The session page's path: `/audit/sessions/{chain}/{seq}`.
pub fn session_link(chain_id: &str, seq: u64) -> String {
    format!("/audit/sessions/{}/{seq}", url_component(chain_id))
}

pub fn session_row(s: &SessionRecords) -> Option<SessionRowView> {
    let Ok(Event::SessionStart(start)) = s.start.decode_event() else {
        return None;
    };
    let end = end_of(s.end.as_ref());
    Some(SessionRowView {
        link: session_link(&s.start.chain_id, s.start.seq),
        started: utc(s.start.ts_ms),
        user: who(&start.principal),
        connection: start.connection,
        environment: start.environment,
        client: start.client_addr,
        app: start.application_name.unwrap_or_default(),
        tls: start.tls,
        duration: end
            .as_ref()
            .map_or_else(String::new, |e| millis(e.duration_ms)),
        statements: end
            .as_ref()
            .map_or_else(String::new, |e| e.statements.to_string()),
        bytes: end.as_ref().map_or_else(String::new, bytes),
        ended: ended(s.end.as_ref(), end.as_ref()),
    })
}

/// One session's page from its start, end and records.
pub fn session(s: &SessionRecords, records: &[Record], truncated: bool) -> Option<SessionView> {
    let Ok(Event::SessionStart(start)) = s.start.decode_event() else {
        return None;
    };
    let end = end_of(s.end.as_ref());
    Some(SessionView {
        title: format!("Session {} on {}", start.session_id, s.start.chain_id),
        user: who(&start.principal),
        kind: start.principal.kind.to_string(),
        groups: start.principal.groups.join(", "),
        issuer: start.principal.issuer.clone(),
        client: start.client_addr.clone(),
        app: start.application_name.clone().unwrap_or_default(),
        tls: start.tls,
        started: utc(s.start.ts_ms),
        ended: ended(s.end.as_ref(), end.as_ref()),
        duration: end
            .as_ref()
            .map_or_else(String::new, |e| millis(e.duration_ms)),
        statements_sent: end
            .as_ref()
            .map_or_else(String::new, |e| e.statements.to_string()),
        bytes: end.as_ref().map_or_else(String::new, bytes),
        chain: s.start.chain_id.clone(),
        start_seq: s.start.seq,
        statements: statements(records),
        truncated,
        connection: start.connection,
        environment: start.environment,
    })
}

/// Intents in chain order, each with the outcomes that name it.
fn statements(records: &[Record]) -> Vec<StatementView> {
    let mut out: Vec<StatementView> = Vec::new();
    let mut by_seq: BTreeMap<u64, usize> = BTreeMap::new();
    for r in records {
        match r.decode_event() {
            Ok(Event::StatementIntent(i)) => {
                by_seq.insert(r.seq, out.len());
                out.push(intent(r, i));
            }
            Ok(Event::StatementOutcome(o)) => {
                if let Some(s) = by_seq.get(&o.intent.seq).and_then(|&i| out.get_mut(i)) {
                    s.outcomes.push(outcome(o));
                }
            }
            _ => {}
        }
    }
    out
}

fn intent(r: &Record, i: StatementIntent) -> StatementView {
    let verdict = i.decision.verdict.as_str().to_owned();
    StatementView {
        seq: r.seq,
        at: utc(r.ts_ms),
        sql: i.sql,
        redacted: i.sql_redacted,
        kind: serde_json::to_value(i.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        tables: preview(
            &i.tables
                .iter()
                .map(|t| t.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        ),
        verdict_class: match verdict.as_str() {
            "allow" => "approved",
            "review" => "pending",
            _ => "denied",
        },
        verdict,
        rules: i.decision.rules,
        reasons: i.decision.reasons,
        approval_id: i.approval_id,
        outcomes: Vec::new(),
    }
}

fn outcome(o: StatementOutcome) -> OutcomeView {
    OutcomeView {
        index: o.statement_index,
        status: serde_json::to_value(o.status)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        command_tag: o.command_tag.unwrap_or_default(),
        rows: o.rows.map(|r| r.to_string()).unwrap_or_default(),
        duration: millis(o.duration_ms),
        error: o.error_sqlstate,
        masked: masked(&o.masked),
        withheld: o.withheld,
    }
}

/// `EMAIL: 3 values in 2 rows; PHONE: 1 value in 1 row`.
fn masked(m: &BTreeMap<String, MaskedCount>) -> String {
    let plural = |n: u64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    m.iter()
        .map(|(class, c)| {
            format!(
                "{class}: {} in {}",
                plural(c.values, "value", "values"),
                plural(c.rows, "row", "rows")
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn end_of(r: Option<&Record>) -> Option<SessionEnd> {
    match r?.decode_event().ok()? {
        Event::SessionEnd(e) => Some(e),
        _ => None,
    }
}

/// When and why it ended, or that no end is recorded.
fn ended(r: Option<&Record>, e: Option<&SessionEnd>) -> String {
    match (r, e) {
        (Some(r), Some(e)) => match &e.reason {
            Some(reason) => format!("{} ({reason})", utc(r.ts_ms)),
            None => utc(r.ts_ms),
        },
        _ => "no end recorded (still running, or Vigil stopped)".to_owned(),
    }
}

fn who(p: &AuditPrincipal) -> String {
    name(p.email.as_deref(), &p.sub)
}

fn bytes(e: &SessionEnd) -> String {
    format!("{} in / {} out", size(e.bytes_in), size(e.bytes_out))
}

fn size(n: u64) -> String {
    match n {
        0..=9_999 => format!("{n} B"),
        10_000..=9_999_999 => format!("{:.1} kB", n as f64 / 1e3),
        _ => format!("{:.1} MB", n as f64 / 1e6),
    }
}

fn millis(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms} ms")
    } else {
        format!("{:.1} s", ms as f64 / 1000.0)
    }
}

/// Percent-encodes everything but unreserved characters.
pub(crate) fn url_component(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_escape_the_chain() {
        assert_eq!(session_link("vigil-a", 7), "/audit/sessions/vigil-a/7");
        assert_eq!(session_link("a/b c", 1), "/audit/sessions/a%2Fb%20c/1");
    }

    #[test]
    fn sizes_durations_and_masks_read_well() {
        assert_eq!(size(300), "300 B");
        assert_eq!(size(12_345), "12.3 kB");
        assert_eq!(size(25_000_000), "25.0 MB");
        assert_eq!(millis(3), "3 ms");
        assert_eq!(millis(1500), "1.5 s");
        let m = BTreeMap::from([
            ("EMAIL".to_owned(), MaskedCount { values: 3, rows: 2 }),
            ("PHONE".to_owned(), MaskedCount { values: 1, rows: 1 }),
        ]);
        assert_eq!(
            masked(&m),
            "EMAIL: 3 values in 2 rows; PHONE: 1 value in 1 row"
        );
    }
}
