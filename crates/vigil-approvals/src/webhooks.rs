//! Webhooks: a JSON POST to each configured URL when a request is created
//! and when it is decided. Delivery runs in background tasks with retries
//! and exponential backoff; it never blocks or fails the request, and a
//! delivery that finally fails is logged and counted in
//! `vigil_webhook_failures_total`. URLs are secrets (Slack puts its token
//! in the path), so logs name only the host.

pub mod payload;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, Semaphore};

use crate::events::ApprovalEvent;
use crate::{ApprovalError, ApprovalSettings, WebhookSettings};

/// Attempts per delivery, the first included.
pub const ATTEMPTS: u32 = 5;
/// Wait before the second attempt; doubled before each next one.
pub const FIRST_BACKOFF: Duration = Duration::from_millis(250);
/// One attempt's whole-request timeout.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// Events queued before new ones are dropped (and counted).
const QUEUE: usize = 1024;
/// Deliveries in flight at once, across targets.
const IN_FLIGHT: usize = 16;
/// The counter of deliveries given up.
pub const FAILURES_METRIC: &str = "vigil_webhook_failures_total";

/// The sending side of the webhook queue.
pub(crate) struct Webhooks {
    tx: mpsc::Sender<ApprovalEvent>,
}

#[derive(Clone)]
struct Target {
    settings: WebhookSettings,
    /// For logs: the URL without its secret path.
    host: String,
}

impl Webhooks {
    /// Validates the targets and starts the dispatcher; `None` without targets.
    pub(crate) fn start(settings: &ApprovalSettings) -> Result<Option<Self>, ApprovalError> {
        if settings.webhooks.is_empty() {
            return Ok(None);
        }
        let targets = settings
            .webhooks
            .iter()
            .map(target)
            .collect::<Result<Vec<_>, _>>()?;
        let client = reqwest::Client::builder()
            .timeout(ATTEMPT_TIMEOUT)
            .build()
            .map_err(|e| ApprovalError::Invalid(format!("webhook HTTP client: {e}")))?;
        let (tx, rx) = mpsc::channel(QUEUE);
        let public_url = settings.public_url.clone();
        tokio::spawn(dispatch(rx, client, targets, public_url));
        Ok(Some(Webhooks { tx }))
    }

    /// Queues `event` without waiting; a full queue drops it (counted).
    pub(crate) fn enqueue(&self, event: &ApprovalEvent) {
        if self.tx.try_send(event.clone()).is_err() {
            tracing::error!(id = %event.request.id, "webhook queue full; event dropped");
            metrics::counter!(FAILURES_METRIC, "reason" => "queue_full").increment(1);
        }
    }
}

fn target(s: &WebhookSettings) -> Result<Target, ApprovalError> {
    let url = reqwest::Url::parse(&s.url)
        .map_err(|e| ApprovalError::Invalid(format!("webhook url is not a URL: {e}")))?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(ApprovalError::Invalid(format!(
            "webhook url must be http:// or https://, not {}://",
            url.scheme()
        )));
    }
    let host = url.host_str().unwrap_or("?").to_owned();
    Ok(Target {
        settings: s.clone(),
        host,
    })
}

async fn dispatch(
    mut rx: mpsc::Receiver<ApprovalEvent>,
    client: reqwest::Client,
    targets: Vec<Target>,
    public_url: String,
) {
    let slots = Arc::new(Semaphore::new(IN_FLIGHT));
    while let Some(event) = rx.recv().await {
        for t in &targets {
            let body = payload::build(t.settings.format, &event, &public_url);
            let Ok(permit) = Arc::clone(&slots).acquire_owned().await else {
                return;
            };
            let (client, t) = (client.clone(), t.clone());
            tokio::spawn(async move {
                deliver(&client, &t, &body).await;
                drop(permit);
            });
        }
    }
}

/// Posts `body` until it is accepted or [`ATTEMPTS`] are spent. Client
/// errors other than 408/429 are final: the same body will not fare better.
async fn deliver(client: &reqwest::Client, t: &Target, body: &serde_json::Value) {
    let mut backoff = FIRST_BACKOFF;
    for attempt in 1..=ATTEMPTS {
        let outcome = client.post(&t.settings.url).json(body).send().await;
        let retry = match outcome {
            Ok(resp) if resp.status().is_success() => return,
            Ok(resp) => {
                let code = resp.status();
                tracing::warn!(host = %t.host, status = code.as_u16(), attempt, "webhook refused");
                code.is_server_error() || code.as_u16() == 408 || code.as_u16() == 429
            }
            Err(e) => {
                tracing::warn!(host = %t.host, attempt, error = %without_url(e), "webhook failed");
                true
            }
        };
        if !retry || attempt == ATTEMPTS {
            break;
        }
        tokio::time::sleep(backoff).await;
        backoff = backoff.saturating_mul(2);
    }
    tracing::error!(host = %t.host, format = t.settings.format.as_str(), "webhook delivery given up");
    metrics::counter!(FAILURES_METRIC, "format" => t.settings.format.as_str()).increment(1);
}

/// reqwest's errors print the URL; the URL may hold a secret.
fn without_url(e: reqwest::Error) -> String {
    e.without_url().to_string().chars().take(300).collect()
}
