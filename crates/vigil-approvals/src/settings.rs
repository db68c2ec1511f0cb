//! [`ApprovalSettings`]: plain data the server fills in from `[approvals]`.

use std::time::Duration;

/// How the approval service behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalSettings {
    /// Base URL of the web UI as reviewers reach it (no trailing slash
    /// needed); links are `{public_url}/requests/{id}`.
    pub public_url: String,
    /// How long a request waits for a decision when the caller gives no timeout.
    pub default_timeout: Duration,
    /// How often the store is polled while this process waits on at least
    /// one request, to see decisions made through other replicas.
    pub poll_interval: Duration,
    /// Where created and decided events are posted.
    pub webhooks: Vec<WebhookSettings>,
    /// Non-blocking mode: how long after its approval an identical retry
    /// may still use the grant.
    pub retry_grant_ttl: Duration,
}

impl Default for ApprovalSettings {
    fn default() -> Self {
        ApprovalSettings {
            public_url: "http://127.0.0.1:8080".to_owned(),
            default_timeout: Duration::from_secs(300),
            poll_interval: Duration::from_millis(25),
            webhooks: Vec::new(),
            retry_grant_ttl: Duration::from_secs(900),
        }
    }
}

impl ApprovalSettings {
    /// The reviewer-facing link to one request.
    pub fn request_url(&self, id: &crate::ApprovalId) -> String {
        format!("{}/requests/{id}", self.public_url.trim_end_matches('/'))
    }
}

/// One webhook target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookSettings {
    /// `http://` or `https://` URL that receives a JSON POST.
    pub url: String,
    pub format: WebhookFormat,
}

/// The body shape a webhook receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookFormat {
    /// Stable field names (see `webhooks::payload`).
    Generic,
    /// Slack incoming-webhook message: `blocks` plus a `text` fallback.
    Slack,
}

impl WebhookFormat {
    /// Parses `generic` or `slack`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "generic" => Some(WebhookFormat::Generic),
            "slack" => Some(WebhookFormat::Slack),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            WebhookFormat::Generic => "generic",
            WebhookFormat::Slack => "slack",
        }
    }
}
