//! `GET /api/requests/stream`: server-sent events for the live queue.
//! One `ready` event first (so a client knows it is subscribed), then one
//! event per change, named after its kind (`created`, `reviewed`,
//! `decided`, `expired`, `withdrawn`, `executed`) with a small JSON body;
//! `resync` when this subscriber fell behind and should re-list. The
//! stream ends when the reviewer's token expires.

use std::convert::Infallible;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream, StreamExt};
use tokio_stream::wrappers::BroadcastStream;
use vigil_approvals::ApprovalEvent;

use crate::auth::Reviewer;
use crate::WebState;

pub async fn stream(
    State(state): State<WebState>,
    who: Reviewer,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let changes = BroadcastStream::new(state.service.subscribe()).map(|item| match item {
        Ok(e) => change(&e),
        Err(_lagged) => Event::default().event("resync").data("{}"),
    });
    let ready = stream::once(async { Event::default().event("ready").data("{}") });
    let until = tokio::time::sleep(token_left(who.principal.expires_at));
    let events = ready.chain(changes).take_until(until).map(Ok);
    Sse::new(events).keep_alive(KeepAlive::default())
}

fn change(e: &ApprovalEvent) -> Event {
    let body = serde_json::json!({
        "kind": e.kind,
        "id": e.request.id,
        "status": e.request.status,
        "approvals": e.request.approvals(),
        "remote": e.remote,
    });
    Event::default()
        .event(e.kind.as_str())
        .data(body.to_string())
}

/// Time until `exp` (Unix seconds); zero when past.
fn token_left(exp: i64) -> Duration {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    Duration::from_secs(u64::try_from(exp).unwrap_or(0).saturating_sub(now))
}
