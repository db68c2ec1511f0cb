//! The query cycle: two pumps, one per direction, sharing the denial queue,
//! the request queue and the session context.
//!
//! Client → server ([`client`]): every frame is cut out and the ones that
//! carry SQL (Query, Parse, Bind, FunctionCall) go through the statement
//! hook before they are forwarded. Everything else is forwarded unchanged,
//! batched per read. Before a batch leaves, the requests it carries are
//! recorded in protocol order ([`crate::track::Requests`]).
//!
//! Server → client ([`server`]): each frame is placed against those
//! requests ([`crate::track`]) and goes through the session's response
//! hook, if any ([`crate::filter`]); ReadyForQuery updates the transaction
//! status and a substitute's error is replaced by Vigil's denial. Notices
//! that hooks queue ([`crate::notice`]) are written between frames.
//!
//! The directions run independently so a client that pipelines while the
//! server streams cannot deadlock them.

pub mod client;
mod record;
pub mod server;

pub use client::ClientPump;
pub use server::ServerPump;

/// How a relay ended without an error.
#[derive(Debug, PartialEq, Eq)]
pub enum RelayEnd {
    /// The client sent Terminate.
    Terminated,
    /// The client closed its socket without Terminate (maybe mid-query).
    Closed,
}
