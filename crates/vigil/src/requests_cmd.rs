//! `vigil requests`, `vigil approve`, `vigil deny`: the reviewer's side of
//! held statements, from a terminal. A thin client of the HTTP API (the
//! same rules apply: the server checks separation of duties and groups);
//! any refusal exits non-zero with the API's message.

use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};
use serde::Deserialize;
use serde_json::{json, Value};

/// Where the API is and who is calling.
#[derive(clap::Args, Debug, Clone)]
pub struct ApiArgs {
    /// Base URL of Vigil's HTTP API.
    #[arg(long, env = "VIGIL_URL", default_value = "http://127.0.0.1:7480")]
    pub url: String,
    /// Reviewer token (a JWT); prefer the VIGIL_TOKEN environment variable,
    /// which does not show in the process list.
    #[arg(long, env = "VIGIL_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
}

/// `vigil requests [--pending]`
#[derive(clap::Args, Debug, Clone)]
pub struct RequestsArgs {
    /// Only requests waiting for a decision.
    #[arg(long)]
    pub pending: bool,
    /// Print the API's JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub api: ApiArgs,
}

/// `vigil approve ID [--comment C]`
#[derive(clap::Args, Debug, Clone)]
pub struct ApproveArgs {
    /// The request id (from `vigil requests` or the client's notice).
    pub id: String,
    /// Why it is fine (stored with the review).
    #[arg(long, default_value = "")]
    pub comment: String,
    #[command(flatten)]
    pub api: ApiArgs,
}

/// `vigil deny ID --comment C`
#[derive(clap::Args, Debug, Clone)]
pub struct DenyArgs {
    /// The request id.
    pub id: String,
    /// Why not; the client sees it.
    #[arg(long)]
    pub comment: String,
    #[command(flatten)]
    pub api: ApiArgs,
}

/// The three reviewer commands.
#[derive(Debug, Clone)]
pub enum ReviewCommand {
    Requests(RequestsArgs),
    Approve(ApproveArgs),
    Deny(DenyArgs),
}

/// Runs `cmd`, printing to stdout.
pub async fn run(cmd: ReviewCommand) -> Result<()> {
    let mut out = std::io::stdout().lock();
    run_to(cmd, &mut out).await
}

/// Runs `cmd`, printing to `out`.
pub async fn run_to(cmd: ReviewCommand, out: &mut dyn Write) -> Result<()> {
    match cmd {
        ReviewCommand::Requests(a) => list(&a, out).await,
        ReviewCommand::Approve(a) => review(&a.api, &a.id, "approve", &a.comment, out).await,
        ReviewCommand::Deny(a) => review(&a.api, &a.id, "deny", &a.comment, out).await,
    }
}

#[derive(Debug, Deserialize)]
struct ListBody {
    requests: Vec<Request>,
}

/// The fields of an API request this command prints.
#[derive(Debug, Deserialize)]
struct Request {
    id: String,
    status: String,
    created_at: i64,
    requester: Who,
    connection: String,
    #[serde(default)]
    environment: String,
    sql: String,
    approvers: Approvers,
    #[serde(default)]
    reviews: Vec<Review>,
    #[serde(default)]
    url: String,
}

#[derive(Debug, Deserialize)]
struct Who {
    subject: String,
    email: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Approvers {
    count: u32,
}

#[derive(Debug, Deserialize)]
struct Review {
    decision: String,
}

impl Request {
    fn approvals(&self) -> usize {
        self.reviews
            .iter()
            .filter(|r| r.decision == "approve")
            .count()
    }
}

async fn list(a: &RequestsArgs, out: &mut dyn Write) -> Result<()> {
    let query = if a.pending { "?status=pending" } else { "" };
    let body = call(
        &a.api,
        reqwest::Method::GET,
        &format!("/api/requests{query}"),
        None,
    )
    .await?;
    if a.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&body)?)?;
        return Ok(());
    }
    let list: ListBody = serde_json::from_value(body).context("unexpected answer from the API")?;
    if list.requests.is_empty() {
        writeln!(
            out,
            "no {}requests",
            if a.pending { "pending " } else { "" }
        )?;
        return Ok(());
    }
    writeln!(
        out,
        "{:<36}  {:<9}  {:>8}  {:<24}  {:<20}  {:<9}  STATEMENT",
        "ID", "STATUS", "AGE", "BY", "CONNECTION", "APPROVALS"
    )?;
    let now = now_ms();
    for r in &list.requests {
        let who = r.requester.email.as_deref().unwrap_or(&r.requester.subject);
        let conn = if r.environment.is_empty() {
            r.connection.clone()
        } else {
            format!("{}/{}", r.connection, r.environment)
        };
        writeln!(
            out,
            "{:<36}  {:<9}  {:>8}  {:<24}  {:<20}  {:<9}  {}",
            r.id,
            r.status,
            age(now.saturating_sub(r.created_at)),
            clip(who, 24),
            clip(&conn, 20),
            format!("{}/{}", r.approvals(), r.approvers.count),
            clip(&one_line(&r.sql), 60)
        )?;
    }
    Ok(())
}

async fn review(
    api: &ApiArgs,
    id: &str,
    verb: &str,
    comment: &str,
    out: &mut dyn Write,
) -> Result<()> {
    if verb == "deny" && comment.trim().is_empty() {
        bail!("a denial needs --comment saying why (the client sees it)");
    }
    // Only uuid-shaped ids go into the URL path.
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        bail!("{id:?} is not a request id");
    }
    let path = format!("/api/requests/{id}/{verb}");
    let body = call(
        api,
        reqwest::Method::POST,
        &path,
        Some(json!({ "comment": comment })),
    )
    .await?;
    let r: Request = serde_json::from_value(body).context("unexpected answer from the API")?;
    let done = if verb == "approve" {
        "approval recorded"
    } else {
        "denied"
    };
    writeln!(
        out,
        "{done}: request {} is now {} ({} of {} approvals)",
        r.id,
        r.status,
        r.approvals(),
        r.approvers.count
    )?;
    if r.status == "pending" {
        let more = (r.approvers.count as usize).saturating_sub(r.approvals());
        writeln!(out, "waiting for {more} more approval(s); {}", r.url)?;
    }
    Ok(())
}

/// One API call; a non-2xx answer becomes an error carrying the API's message.
async fn call(
    api: &ApiArgs,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> Result<Value> {
    let token = api
        .token
        .as_deref()
        .filter(|t| !t.trim().is_empty())
        .context("no token: set VIGIL_TOKEN (or pass --token)")?;
    let url = format!("{}{path}", api.url.trim_end_matches('/'));
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()?;
    let mut req = client.request(method, &url).bearer_auth(token.trim());
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req
        .send()
        .await
        .with_context(|| format!("cannot reach Vigil at {}", api.url))?;
    let status = resp.status();
    let text = resp.text().await.context("reading the API's answer")?;
    let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    if !status.is_success() {
        let message = value
            .get("message")
            .and_then(Value::as_str)
            .map_or_else(|| clip(&text, 200), str::to_owned);
        bail!(
            "{} ({}): {message}",
            status.as_u16(),
            status.canonical_reason().unwrap_or("error")
        );
    }
    Ok(value)
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// At most `max` characters, `…` when cut.
fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// `42s`, `3m`, `5h`, `2d`.
fn age(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m", s / 60),
        3600..=86_399 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86_400),
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_and_clips() {
        assert_eq!(age(59_999), "59s");
        assert_eq!(age(120_000), "2m");
        assert_eq!(age(7_200_000), "2h");
        assert_eq!(age(-5), "0s");
        assert_eq!(clip("ééé", 2), "é…");
        assert_eq!(one_line("a\n  b"), "a b");
    }
}
