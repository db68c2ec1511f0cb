//! vigil-approvals: the "hold" branch of the data path. When policy says
//! `review`, the statement hook creates an [`ApprovalRequest`] and waits;
//! reviewers approve or deny it (web UI, API, CLI); only the approved bytes
//! run, once.
//!
//! - [`model`]: requests, reviews, statuses, [`Resolution`].
//! - [`id`]: the [`ApprovalId`] newtype.
//! - [`service`]: [`ApprovalService`]: create, wait, approve/deny, withdraw,
//!   mark executed, retry grants, list, events.
//! - `rules`: separation of duties, groups, what a new request must hold.
//! - `waiters` and `poller`: waits in this process, and seeing decisions
//!   made by other replicas (store poll while a wait is active).
//! - [`events`]: [`ApprovalEvent`] broadcast for the UI's live queue.
//! - [`webhooks`]: generic JSON and Slack notifications, with retries.
//! - [`settings`]: the plain [`ApprovalSettings`] struct.
//! - [`error`]: every failure as an [`ApprovalError`].
//! - [`statement_hash`]: the hash that binds an approval to exact bytes.
//!
//! Storage is `vigil_store::approvals`. SQLite serves one replica;
//! replicas that share a PostgreSQL store see each other's decisions
//! within one `poll_interval`.

mod codec;
pub mod error;
pub mod events;
mod hash;
pub mod id;
pub mod model;
mod poller;
pub mod rules;
pub mod service;
pub mod settings;
mod waiters;
pub mod webhooks;

#[cfg(test)]
mod test_support;

pub use error::ApprovalError;
pub use events::{ApprovalEvent, EventKind};
pub use hash::statement_hash;
pub use id::ApprovalId;
pub use model::{
    ApprovalRequest, ApprovalStatus, BoundParam, NewRequest, ParamValue, Requester,
    RequiredApprovers, Resolution, Review, ReviewDecision, Reviewer,
};
pub use service::{ApprovalService, RequestFilter};
pub use settings::{ApprovalSettings, WebhookFormat, WebhookSettings};
