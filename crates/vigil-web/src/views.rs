//! Requests shaped for the pages: plain strings and lists, so templates
//! hold no logic and askama escapes every value. The statement info is
//! read leniently (it is whatever the classifier produced).

use serde_json::Value;
use vigil_approvals::{ApprovalRequest, ParamValue, ReviewDecision};

use crate::highlight::{highlight, Token};
use crate::time::utc;

/// Characters of SQL shown in a queue row.
const PREVIEW_CHARS: usize = 140;

/// One row of the queue or history table.
pub struct RowView {
    pub id: String,
    pub requester: String,
    pub connection: String,
    pub environment: String,
    pub kind: String,
    pub sql: String,
    pub created: String,
    pub expires: String,
    pub status: String,
    pub approvals: String,
}

/// Everything the request page shows.
pub struct DetailView {
    pub id: String,
    pub status: String,
    pub status_reason: Option<String>,
    pub requester: String,
    pub requester_kind: String,
    pub requester_groups: String,
    pub connection: String,
    pub environment: String,
    pub labels: Vec<(String, String)>,
    pub sql: Vec<Token>,
    pub params: Vec<ParamView>,
    pub kind: String,
    pub tables: Vec<String>,
    pub flags: Vec<(String, String)>,
    pub reasons: Vec<String>,
    pub rules: Vec<String>,
    pub policy_version: Option<String>,
    pub approvers: String,
    pub approvals: String,
    pub reviews: Vec<ReviewView>,
    pub client_app: String,
    pub client_addr: String,
    pub created: String,
    pub expires: String,
    pub decided: Option<String>,
    pub executed: Option<String>,
    pub non_blocking: bool,
    pub statement_hash: String,
    pub pending: bool,
}

pub struct ParamView {
    pub n: usize,
    pub format: &'static str,
    pub value: String,
    /// `NULL`, `hex` or empty.
    pub note: &'static str,
}

pub struct ReviewView {
    pub who: String,
    pub decision: &'static str,
    pub comment: String,
    pub at: String,
}

pub fn row(r: &ApprovalRequest) -> RowView {
    RowView {
        id: r.id.to_string(),
        requester: name(r.requester.email.as_deref(), &r.requester.subject),
        connection: r.connection.clone(),
        environment: r.environment.clone(),
        kind: text_at(&r.statement, "kind"),
        sql: preview(&r.sql),
        created: utc(r.created_at),
        expires: utc(r.expires_at),
        status: r.status.to_string(),
        approvals: format!("{} of {}", r.approvals(), r.approvers.count),
    }
}

pub fn detail(r: &ApprovalRequest) -> DetailView {
    DetailView {
        id: r.id.to_string(),
        status: r.status.to_string(),
        status_reason: r.status_reason.clone(),
        requester: name(r.requester.email.as_deref(), &r.requester.subject),
        requester_kind: r.requester.kind.to_string(),
        requester_groups: r.requester.groups.join(", "),
        connection: r.connection.clone(),
        environment: r.environment.clone(),
        labels: r
            .labels
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        sql: highlight(&r.sql),
        params: r
            .params
            .iter()
            .enumerate()
            .map(|(i, p)| param(i, p))
            .collect(),
        kind: text_at(&r.statement, "kind"),
        tables: tables(&r.statement),
        flags: flags(&r.statement),
        reasons: r.reasons.clone(),
        rules: r.rules.clone(),
        policy_version: r.policy_version.clone(),
        approvers: format!(
            "{} of: {}",
            r.approvers.count,
            r.approvers.groups.join(", ")
        ),
        approvals: format!("{} of {}", r.approvals(), r.approvers.count),
        reviews: r.reviews.iter().map(review).collect(),
        client_app: r.client_application.clone().unwrap_or_default(),
        client_addr: r.client_address.clone().unwrap_or_default(),
        created: utc(r.created_at),
        expires: utc(r.expires_at),
        decided: r.decided_at.map(utc),
        executed: r.executed_at.map(utc),
        non_blocking: r.non_blocking,
        statement_hash: r.statement_hash.clone(),
        pending: r.status == vigil_approvals::ApprovalStatus::Pending,
    }
}

fn review(rv: &vigil_approvals::Review) -> ReviewView {
    ReviewView {
        who: name(rv.reviewer.email.as_deref(), &rv.reviewer.subject),
        decision: match rv.decision {
            ReviewDecision::Approve => "approved",
            ReviewDecision::Deny => "denied",
        },
        comment: rv.comment.clone(),
        at: utc(rv.at),
    }
}

fn param(i: usize, p: &vigil_approvals::BoundParam) -> ParamView {
    let (value, note) = match &p.value {
        None => (String::new(), "NULL"),
        Some(ParamValue::Text(t)) => (t.clone(), ""),
        Some(ParamValue::Hex(h)) => (h.clone(), "hex"),
    };
    ParamView {
        n: i + 1,
        format: if p.format == 0 { "text" } else { "binary" },
        value,
        note,
    }
}

pub(crate) fn name(email: Option<&str>, subject: &str) -> String {
    match email {
        Some(e) if e != subject => format!("{e} ({subject})"),
        _ => subject.to_owned(),
    }
}

pub(crate) fn preview(sql: &str) -> String {
    let flat = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= PREVIEW_CHARS {
        return flat;
    }
    let mut cut: String = flat.chars().take(PREVIEW_CHARS).collect();
    cut.push('…');
    cut
}

fn text_at(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// `schema.name (read, write)` for each table the classifier saw.
fn tables(statement: &Value) -> Vec<String> {
    let Some(list) = statement.get("tables").and_then(Value::as_array) else {
        return Vec::new();
    };
    list.iter()
        .map(|t| {
            let name = match (t.get("schema").and_then(Value::as_str), text_at(t, "name")) {
                (Some(s), n) => format!("{s}.{n}"),
                (None, n) => n,
            };
            let access: Vec<&str> = t
                .get("access")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            if access.is_empty() {
                name
            } else {
                format!("{name} ({})", access.join(", "))
            }
        })
        .collect()
}

/// `(id, detail)` for each risk flag.
fn flags(statement: &Value) -> Vec<(String, String)> {
    statement
        .get("flags")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .map(|f| (text_at(f, "id"), text_at(f, "detail")))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn statement_info_is_read_leniently() {
        let info = json!({
            "kind": "write",
            "tables": [{"schema": "public", "name": "orders", "access": ["write"]}, {"name": "t"}, 5],
            "flags": [{"id": "unbounded_write", "detail": "no WHERE"}],
        });
        assert_eq!(
            tables(&info),
            vec![
                "public.orders (write)".to_owned(),
                "t".to_owned(),
                String::new()
            ]
        );
        assert_eq!(
            flags(&info),
            vec![("unbounded_write".to_owned(), "no WHERE".to_owned())]
        );
        assert!(tables(&json!("garbage")).is_empty());
        assert_eq!(text_at(&json!(null), "kind"), "");
    }

    #[test]
    fn previews_are_flat_and_short() {
        assert_eq!(preview("select\n  1"), "select 1");
        assert_eq!(preview(&"é".repeat(500)).chars().count(), PREVIEW_CHARS + 1);
    }
}
