//! One readable line per record for `tail` and `search`, and the summary
//! table. Always rendered from the hashed event, never the index columns.

use super::time::format_ms;
use std::fmt::Write;
use vigil_audit::{AuditPrincipal, Event, Record};
use vigil_store::audit::Summary;

/// Longest SQL shown on one line.
const SQL_WIDTH: usize = 160;

/// `2025-01-02T03:04:05.123Z r1#57 statement.intent alice@x prod DENY …`
pub fn record_line(r: &Record) -> String {
    let what = match r.decode_event() {
        Ok(event) => describe(&event),
        Err(_) => r.event.to_string(),
    };
    format!(
        "{} {}#{} {} {}",
        format_ms(r.ts_ms),
        r.chain_id,
        r.seq,
        r.event_type,
        what
    )
}

fn who(p: &AuditPrincipal) -> &str {
    p.email.as_deref().unwrap_or(&p.sub)
}

/// SQL on one line, cut to [`SQL_WIDTH`] characters.
fn one_line(sql: &str) -> String {
    let flat: String = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(SQL_WIDTH) {
        Some((cut, _)) => format!("{}…", flat.get(..cut).unwrap_or_default()),
        None => flat,
    }
}

fn describe(event: &Event) -> String {
    match event {
        Event::SessionStart(e) => format!(
            "{} connected to {} from {}{}{}",
            who(&e.principal),
            e.connection,
            e.client_addr,
            e.application_name
                .as_deref()
                .map(|a| format!(" ({a})"))
                .unwrap_or_default(),
            if e.tls { " tls" } else { "" }
        ),
        Event::SessionEnd(e) => format!(
            "{} left {} after {} ms: {} statement(s), {} B in, {} B out",
            who(&e.principal),
            e.connection,
            e.duration_ms,
            e.statements,
            e.bytes_in,
            e.bytes_out
        ),
        Event::AuthFailure(e) => format!(
            "{} from {}: {}",
            e.claimed_user.as_deref().unwrap_or("(no user)"),
            e.client_addr,
            e.reason
        ),
        Event::StatementIntent(e) => {
            let mut s = format!(
                "{} {} {}",
                who(&e.principal),
                e.connection,
                e.decision.verdict.as_str().to_uppercase()
            );
            if !e.decision.rules.is_empty() {
                let _ = write!(s, " [{}]", e.decision.rules.join(","));
            }
            let _ = write!(s, " {}", one_line(&e.sql));
            s
        }
        Event::StatementOutcome(e) => {
            let mut s = format!(
                "of #{}: {} in {} ms",
                e.intent.seq,
                e.command_tag.as_deref().unwrap_or("-"),
                e.duration_ms
            );
            if let Some(code) = &e.error_sqlstate {
                let _ = write!(s, ", error {code}");
            }
            for (class, c) in &e.masked {
                let _ = write!(s, ", masked {class} {}", c.values);
            }
            s
        }
        Event::ApprovalCreated(e) => format!(
            "{} by {} on {}: {}",
            e.approval_id,
            who(&e.principal),
            e.connection,
            one_line(&e.sql)
        ),
        Event::ApprovalDecided(e) => format!(
            "{} {:?}{}",
            e.approval_id,
            e.status,
            e.reviewer
                .as_ref()
                .map(|r| format!(" by {}", who(r)))
                .unwrap_or_default()
        )
        .to_lowercase(),
        Event::PolicyLoaded(e) => format!("version {} ({} file(s))", e.version, e.files.len()),
        Event::ConfigLoaded(e) => format!("{} (sha256 {})", e.path, e.sha256),
        Event::Retention(e) => format!(
            "{} record(s) up to seq {} deleted (older than {})",
            e.deleted_records,
            e.last_deleted_seq,
            format_ms(e.cutoff_ts_ms)
        ),
    }
}

/// The summary as text.
pub fn summary_text(s: &Summary) -> String {
    let bound = |t: Option<i64>, open: &str| t.map_or(open.to_owned(), format_ms);
    let mut out = format!(
        "audit summary {} .. {}\n",
        bound(s.since_ms, "beginning"),
        bound(s.until_ms, "now")
    );
    let types: Vec<String> = s
        .by_event_type
        .iter()
        .map(|(t, n)| format!("{t} {n}"))
        .collect();
    let _ = writeln!(out, "  records: {} ({})", s.records, types.join(", "));
    let _ = writeln!(
        out,
        "  statements: {} allowed, {} reviewed, {} blocked",
        s.allowed, s.reviewed, s.blocked
    );
    if !s.top_users.is_empty() {
        let _ = writeln!(out, "  top users:");
        for u in &s.top_users {
            let _ = writeln!(
                out,
                "    {:<32} {:>8} statement(s), {} reviewed, {} blocked",
                u.user, u.statements, u.reviewed, u.blocked
            );
        }
    }
    if !s.masked.is_empty() {
        let _ = writeln!(out, "  masked:");
        for (class, c) in &s.masked {
            let _ = writeln!(
                out,
                "    {class:<16} {:>8} value(s) in {} row(s)",
                c.values, c.rows
            );
        }
    }
    out
}
