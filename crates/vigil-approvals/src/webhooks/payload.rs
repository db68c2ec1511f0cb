//! Webhook bodies. The generic shape's field names are a stable contract
//! for receivers; the Slack shape is an incoming-webhook message whose
//! `text` is the notification fallback and whose `blocks` hold the context
//! and a link to the request.

use serde_json::{json, Value};

use crate::events::{ApprovalEvent, EventKind};
use crate::model::ApprovalRequest;
use crate::WebhookFormat;

/// Slack refuses a section text over 3000 characters.
const SLACK_SQL_CHARS: usize = 2800;
/// Slack refuses a field over 2000 characters.
const SLACK_FIELD_CHARS: usize = 1900;

/// The body for `event` in `format`; links point under `public_url`.
pub fn build(format: WebhookFormat, event: &ApprovalEvent, public_url: &str) -> Value {
    let url = format!(
        "{}/requests/{}",
        public_url.trim_end_matches('/'),
        event.request.id
    );
    match format {
        WebhookFormat::Generic => generic(event, &url),
        WebhookFormat::Slack => slack(event, &url),
    }
}

/// `approval.created`, `approval.decided`, …
pub fn event_name(kind: EventKind) -> String {
    format!("approval.{}", kind.as_str())
}

fn generic(event: &ApprovalEvent, url: &str) -> Value {
    let r = &event.request;
    let denial = r.denial();
    let last = denial.or(r.reviews.last());
    json!({
        "event": event_name(event.kind),
        "request_id": r.id,
        "url": url,
        "status": r.status,
        "principal": {
            "subject": r.requester.subject,
            "email": r.requester.email,
            "groups": r.requester.groups,
            "kind": r.requester.kind,
        },
        "connection": r.connection,
        "environment": r.environment,
        "sql": r.sql,
        "reasons": r.reasons,
        "rules": r.rules,
        "approvals": r.approvals(),
        "required_approvals": r.approvers.count,
        "reviewer": last.map(|rv| json!({"subject": rv.reviewer.subject, "email": rv.reviewer.email})),
        "comment": last.map(|rv| rv.comment.clone()),
        "created_at": r.created_at,
        "expires_at": r.expires_at,
        "decided_at": r.decided_at,
    })
}

fn slack(event: &ApprovalEvent, url: &str) -> Value {
    let r = &event.request;
    let who = esc(r.requester.email.as_deref().unwrap_or(&r.requester.subject));
    let title = match event.kind {
        EventKind::Created => "Approval requested".to_owned(),
        _ => format!("Request {}", r.status),
    };
    let text = format!(
        "{title}: {who} on {} ({}) — {url}",
        esc(&r.connection),
        esc(&r.environment)
    );
    let mut blocks = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": title}}),
        json!({"type": "section", "fields": fields(r, &who)}),
        json!({"type": "section", "text": {"type": "mrkdwn", "text": sql_block(&r.sql)}}),
    ];
    if !r.reasons.is_empty() {
        let why: Vec<String> = r.reasons.iter().map(|x| format!("• {}", esc(x))).collect();
        blocks.push(json!({"type": "section", "text": {"type": "mrkdwn",
            "text": clip(&format!("*Why*\n{}", why.join("\n")), SLACK_SQL_CHARS)}}));
    }
    if let Some(review) = r
        .denial()
        .or(r.reviews.last())
        .filter(|_| event.kind != EventKind::Created)
    {
        let by = review
            .reviewer
            .email
            .as_deref()
            .unwrap_or(&review.reviewer.subject);
        blocks.push(json!({"type": "section", "text": {"type": "mrkdwn",
            "text": clip(&format!("*{}* by {}: {}", r.status, esc(by), esc(&review.comment)), SLACK_SQL_CHARS)}}));
    }
    blocks.push(json!({"type": "actions", "elements": [{
        "type": "button", "text": {"type": "plain_text", "text": "Open in Vigil"}, "url": url,
    }]}));
    blocks.push(json!({"type": "context", "elements": [{"type": "mrkdwn",
        "text": format!("<{url}|Request {}> · rules: {}", r.id, esc(&r.rules.join(", ")))}]}));
    json!({"text": text, "blocks": blocks})
}

fn fields(r: &ApprovalRequest, who: &str) -> Vec<Value> {
    let field = |name: &str, value: String| json!({"type": "mrkdwn", "text": clip(&format!("*{name}*\n{value}"), SLACK_FIELD_CHARS)});
    vec![
        field("Requester", format!("{who} ({})", r.requester.kind)),
        field(
            "Connection",
            format!("{} ({})", esc(&r.connection), esc(&r.environment)),
        ),
        field("Status", r.status.to_string()),
        field(
            "Approvals",
            format!(
                "{} of {} from {}",
                r.approvals(),
                r.approvers.count,
                esc(&r.approvers.groups.join(", "))
            ),
        ),
    ]
}

/// The SQL in a code block. Slack has no escape inside one, so a fence in
/// the SQL is broken up rather than allowed to end the block early.
fn sql_block(sql: &str) -> String {
    let body = esc(&clip(sql, SLACK_SQL_CHARS)).replace("```", "`\u{200b}``");
    format!("```{body}```")
}

/// Slack's mrkdwn needs only these three escaped.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// At most `max` characters, with an ellipsis when cut (never mid-character).
fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{new_request, stored};

    fn event(kind: EventKind) -> ApprovalEvent {
        let mut r = stored(new_request("alice", Some("alice@x"), &["dba"], 1));
        r.sql = "SELECT '<b>&```' || 1".to_owned();
        ApprovalEvent {
            kind,
            remote: false,
            request: r,
        }
    }

    #[test]
    fn generic_has_stable_fields() {
        let e = event(EventKind::Created);
        let v = build(WebhookFormat::Generic, &e, "https://vigil.example/");
        assert_eq!(v["event"], "approval.created");
        assert_eq!(v["request_id"], e.request.id.as_str());
        assert_eq!(
            v["url"],
            format!("https://vigil.example/requests/{}", e.request.id)
        );
        assert_eq!(v["principal"]["email"], "alice@x");
        assert_eq!(
            v["sql"],
            e.request.sql.as_str(),
            "generic JSON carries the SQL verbatim"
        );
        assert_eq!(v["status"], "pending");
        assert!(v["reviewer"].is_null());
        for key in ["connection", "environment", "reasons", "rules", "comment"] {
            assert!(v.get(key).is_some(), "{key}");
        }
    }

    #[test]
    fn slack_escapes_and_links() {
        let v = build(
            WebhookFormat::Slack,
            &event(EventKind::Created),
            "https://v",
        );
        assert!(v["text"].as_str().unwrap().contains("https://v/requests/"));
        let blocks = v["blocks"].as_array().unwrap();
        let sql = blocks[2]["text"]["text"].as_str().unwrap();
        assert!(sql.starts_with("```") && sql.ends_with("```"));
        assert!(sql.contains("&lt;b&gt;&amp;"), "{sql}");
        assert_eq!(sql.matches("```").count(), 2, "no early fence: {sql}");
        assert!(blocks.iter().any(|b| b["type"] == "actions"));
    }

    #[test]
    fn clip_never_splits_characters() {
        assert_eq!(clip("ééé", 2), "é…");
        assert_eq!(clip("abc", 3), "abc");
    }
}
