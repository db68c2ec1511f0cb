//! [`ApprovalService`]: the one handle the proxy's hook, the web API and
//! the CLI's server side use. It owns the repository, the waits of this
//! process, the event broadcast and the webhook queue; the operations
//! live in the `service/` files by theme.
//!
//! Replicas: every state change is a conditional UPDATE in the shared
//! store, so replicas never disagree on a request's status. A decision
//! resolves waits in the deciding process at once and in other processes
//! at their next poll (`poll_interval`). SQLite is meant for one replica.

mod decide;
mod lifecycle;
mod wait;

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use tokio::sync::broadcast;
use vigil_store::approvals::{ApprovalRepo, ListFilter};
use vigil_store::Store;

use crate::events::{ApprovalEvent, EventKind};
use crate::model::ApprovalStatus;
use crate::waiters::Waiters;
use crate::webhooks::Webhooks;
use crate::{codec, poller, ApprovalError, ApprovalId, ApprovalRequest, ApprovalSettings};

/// Events kept for slow subscribers before they see `Lagged`.
const EVENT_BUFFER: usize = 256;

/// Which requests [`ApprovalService::list`] returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestFilter {
    /// Only these statuses; empty means all.
    pub statuses: Vec<ApprovalStatus>,
    /// Only requests created before this time (Unix ms): the next page.
    pub created_before: Option<i64>,
    /// At most this many (0: 100).
    pub limit: u32,
    pub newest_first: bool,
}

impl RequestFilter {
    /// The review queue: pending, oldest first.
    pub fn pending() -> Self {
        RequestFilter {
            statuses: vec![ApprovalStatus::Pending],
            created_before: None,
            limit: 0,
            newest_first: false,
        }
    }

    /// Everything decided or ended, newest first.
    pub fn history() -> Self {
        RequestFilter {
            statuses: ApprovalStatus::decided(),
            created_before: None,
            limit: 0,
            newest_first: true,
        }
    }
}

/// The approval service. Clone it freely: clones share one state.
#[derive(Clone)]
pub struct ApprovalService {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) repo: ApprovalRepo,
    pub(crate) settings: ApprovalSettings,
    pub(crate) events: broadcast::Sender<ApprovalEvent>,
    pub(crate) waiters: Waiters,
    pub(crate) webhooks: Option<Webhooks>,
}

impl ApprovalService {
    /// Starts the service on `store`: validates the settings and spawns
    /// the poller (and the webhook sender when webhooks are configured).
    /// Must run inside a tokio runtime; the tasks end when the last clone
    /// of the service is dropped.
    pub fn start(store: &Store, settings: ApprovalSettings) -> Result<Self, ApprovalError> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(ApprovalError::Invalid(
                "the approval service must start inside a tokio runtime".to_owned(),
            ));
        }
        if settings.poll_interval.is_zero() || settings.default_timeout.is_zero() {
            return Err(ApprovalError::Invalid(
                "poll_interval and default_timeout must be positive".to_owned(),
            ));
        }
        let webhooks = Webhooks::start(&settings)?;
        let inner = Arc::new(Inner {
            repo: ApprovalRepo::new(store),
            events: broadcast::channel(EVENT_BUFFER).0,
            waiters: Waiters::default(),
            webhooks,
            settings,
        });
        poller::spawn(&inner);
        Ok(ApprovalService { inner })
    }

    /// One request with its reviews.
    pub async fn get(&self, id: &ApprovalId) -> Result<ApprovalRequest, ApprovalError> {
        self.inner.load(id).await
    }

    /// Requests matching `filter`.
    pub async fn list(
        &self,
        filter: &RequestFilter,
    ) -> Result<Vec<ApprovalRequest>, ApprovalError> {
        let f = ListFilter {
            statuses: filter
                .statuses
                .iter()
                .map(|s| s.as_str().to_owned())
                .collect(),
            created_before: filter.created_before,
            limit: filter.limit,
            newest_first: filter.newest_first,
        };
        let rows = self.inner.repo.list(&f).await?;
        Ok(rows
            .into_iter()
            .map(codec::request)
            .collect::<Result<_, _>>()?)
    }

    /// Every change made here, and changes made elsewhere to requests this
    /// process waits on. A slow receiver gets `Lagged` and should re-list.
    pub fn subscribe(&self) -> broadcast::Receiver<ApprovalEvent> {
        self.inner.events.subscribe()
    }

    pub fn settings(&self) -> &ApprovalSettings {
        &self.inner.settings
    }

    /// The reviewer-facing link to `id`.
    pub fn request_url(&self, id: &ApprovalId) -> String {
        self.inner.settings.request_url(id)
    }
}

impl Inner {
    pub(crate) async fn load(&self, id: &ApprovalId) -> Result<ApprovalRequest, ApprovalError> {
        let stored = self
            .repo
            .get(id.as_str())
            .await?
            .ok_or(ApprovalError::NotFound)?;
        Ok(codec::request(stored)?)
    }

    /// Tells subscribers, waiters and (for local creations and decisions)
    /// the webhooks.
    pub(crate) fn emit(&self, kind: EventKind, request: ApprovalRequest, remote: bool) {
        let ended = (request.status != ApprovalStatus::Pending).then(|| request.clone());
        let event = ApprovalEvent {
            kind,
            remote,
            request,
        };
        if !remote && matches!(kind, EventKind::Created | EventKind::Decided) {
            if let Some(w) = &self.webhooks {
                w.enqueue(&event);
            }
        }
        // Subscribers hear of a change before the waits it ends return.
        // No subscriber is fine: nobody is looking at the UI.
        let _ = self.events.send(event);
        if let Some(request) = ended {
            self.waiters.resolve(&request);
        }
    }
}

/// Unix milliseconds now. A clock before 1970 reads as 0, which only makes
/// requests look old (they expire), never valid for longer.
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
