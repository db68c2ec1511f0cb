//! The response filter (sans-I/O): tracking, the session's response hook
//! and the fail-closed rules, applied to one server message at a time.
//! The server pump asks it what to do with each frame; the rules are
//! documented on [`crate::respond`].

use crate::layout::RowLayout;
use crate::respond::{Answering, Completion, Failure, Outcome, ResponseHook, Rewrite};
use crate::track::{msg, Placement, Requests, TrackError, Tracker};
use bytes::{Bytes, BytesMut};
use std::time::Instant;
use vigil_pgwire::backend::{self, ErrorFields};

mod notices;
use notices::{encode_failure, encode_ready_after_failure};

/// What to send in place of one server message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// The original bytes.
    Forward,
    /// Nothing.
    Drop,
    /// These frames.
    Replace(Bytes),
}

/// Whether responses are withheld after a failure.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Withhold {
    Open,
    /// The current result failed: drop its data, replace its end.
    Result(Failure),
    /// Drop everything up to the ReadyForQuery of the Query
    /// (`query: true`) or of the next Sync.
    UntilReady {
        query: bool,
    },
}

/// Tracking plus the optional response hook of one session.
pub struct ResponseFilter {
    tracker: Tracker,
    hook: Option<Box<dyn ResponseHook>>,
    layouts: bool,
    withhold: Withhold,
    /// DataRows sent since the last reported outcome.
    rows: u64,
}

impl ResponseFilter {
    pub fn new(hook: Option<Box<dyn ResponseHook>>) -> Self {
        let layouts = hook.as_ref().is_some_and(|h| h.wants_layouts());
        ResponseFilter {
            tracker: Tracker::new(layouts),
            hook,
            layouts,
            withhold: Withhold::Open,
            rows: 0,
        }
    }

    /// Whether a hook listens (then requests are timed).
    pub fn has_hook(&self) -> bool {
        self.hook.is_some()
    }

    /// Whether row layouts are tracked (then the client pump describes
    /// portals the client did not).
    pub fn wants_layouts(&self) -> bool {
        self.layouts
    }

    pub fn refill(&mut self, from: &Requests) {
        self.tracker.refill(from);
    }

    pub fn tracker_mut(&mut self) -> &mut Tracker {
        &mut self.tracker
    }

    /// Decides one message. `denial`: Vigil's own ErrorResponse replacing
    /// this one (a denied statement's); it is tracked but not inspected.
    #[inline]
    pub fn on_message(
        &mut self,
        tag: u8,
        body: &[u8],
        now: Option<Instant>,
        denial: Option<Bytes>,
    ) -> Result<Action, TrackError> {
        // Without a hook only tracking runs: keep that path small enough
        // to inline into the pump's loop.
        if self.hook.is_none() {
            return Ok(match (self.tracker.place(tag, body)?, denial) {
                (Placement::Internal, _) => Action::Drop,
                (_, Some(d)) => Action::Replace(d),
                _ => Action::Forward,
            });
        }
        self.hooked(tag, body, now, denial)
    }

    fn hooked(
        &mut self,
        tag: u8,
        body: &[u8],
        now: Option<Instant>,
        denial: Option<Bytes>,
    ) -> Result<Action, TrackError> {
        let placed = self.tracker.place(tag, body)?;
        if placed == Placement::DataRow && self.withhold == Withhold::Open {
            return Ok(self.data_row(body));
        }
        let action = match (placed, &self.withhold) {
            (Placement::Async, _) => self.async_message(tag, body, denial),
            (Placement::Internal, _) => Action::Drop,
            (_, Withhold::Open) => self.open(placed, tag, body, now, denial),
            (_, Withhold::Result(_)) => self.failing(placed, body, now),
            (_, Withhold::UntilReady { query }) => {
                let query = *query;
                self.swallowing(placed, tag, body, now, query)
            }
        };
        if self.tracker.has_skipped() {
            self.report_skipped();
        }
        Ok(action)
    }

    fn open(
        &mut self,
        placed: Placement,
        tag: u8,
        body: &[u8],
        now: Option<Instant>,
        denial: Option<Bytes>,
    ) -> Action {
        let Some(hook) = self.hook.as_deref_mut() else {
            return Action::Forward;
        };
        let t = self.tracker.tag();
        let rewrite = match placed {
            Placement::RowDescription => {
                let l = self.tracker.layout().unwrap_or(RowLayout::unknown());
                hook.on_row_description(t, l);
                Ok(Rewrite::Unchanged)
            }
            Placement::CopyOut => hook
                .on_copy_out_response(t, body)
                .map(|()| Rewrite::Unchanged),
            Placement::CopyData => hook.on_copy_data(t, body),
            Placement::CopyDone => hook.on_copy_done(t).map(|()| Rewrite::Unchanged),
            Placement::Complete => {
                let text = command_tag(body);
                let completion = match tag {
                    msg::COMMAND_COMPLETE => Completion::Command(&text),
                    msg::EMPTY_QUERY => Completion::EmptyQuery,
                    _ => Completion::Suspended,
                };
                self.report(completion, now, false);
                return Action::Forward;
            }
            Placement::Error => return self.error(body, now, denial),
            _ => Ok(Rewrite::Unchanged),
        };
        self.apply(rewrite)
    }

    /// A DataRow of a result that has not failed: the hot path.
    fn data_row(&mut self, body: &[u8]) -> Action {
        let Some(hook) = self.hook.as_deref_mut() else {
            return Action::Forward;
        };
        let t = self.tracker.tag();
        let rewrite = match (self.tracker.layout(), self.layouts) {
            (Some(l), _) => hook.on_data_row(t, l, body),
            (None, false) => hook.on_data_row(t, RowLayout::unknown(), body),
            (None, true) => Err(Failure::new("the rows' layout is unknown")),
        };
        if rewrite.is_ok() {
            self.rows += 1;
        }
        self.apply(rewrite)
    }

    /// A phase's answer as an action; a failure fails the result.
    fn apply(&mut self, rewrite: Result<Rewrite, Failure>) -> Action {
        match rewrite {
            Ok(Rewrite::Unchanged) => Action::Forward,
            Ok(Rewrite::Replaced(b)) => Action::Replace(b),
            Err(f) => {
                self.withhold = Withhold::Result(f);
                Action::Drop
            }
        }
    }

    /// An ErrorResponse answering a request: masked (unless it is Vigil's
    /// denial), then reported.
    fn error(&mut self, body: &[u8], now: Option<Instant>, denial: Option<Bytes>) -> Action {
        let (action, fields) = match denial {
            Some(d) => {
                let fields = d.get(5..).and_then(|b| ErrorFields::parse(b).ok());
                (Action::Replace(d), fields)
            }
            None => (
                self.mask_notice(backend::ERROR_RESPONSE, body, true),
                ErrorFields::parse(body).ok(),
            ),
        };
        let code = fields.as_ref().and_then(|f| f.code()).unwrap_or("");
        self.report(Completion::Error { sqlstate: code }, now, false);
        action
    }

    /// The current result failed: its data is dropped and its end becomes
    /// Vigil's error.
    fn failing(&mut self, placed: Placement, body: &[u8], now: Option<Instant>) -> Action {
        let query = self.tracker.answering() == Answering::Query;
        match placed {
            Placement::Complete | Placement::Error | Placement::Ready { .. } => {
                let Withhold::Result(f) =
                    std::mem::replace(&mut self.withhold, Withhold::UntilReady { query })
                else {
                    return Action::Drop;
                };
                self.report(
                    Completion::Failed {
                        sqlstate: &f.sqlstate,
                    },
                    now,
                    false,
                );
                let mut out = BytesMut::new();
                encode_failure(&f, &mut out);
                if let Placement::Ready { .. } = placed {
                    // The result ended without its own end: close it here.
                    self.withhold = Withhold::Open;
                    encode_ready_after_failure(body, &mut out);
                }
                Action::Replace(out.freeze())
            }
            _ => Action::Drop,
        }
    }

    /// After a failed result: the client expects nothing more until the
    /// ReadyForQuery that ends the Query or the batch.
    fn swallowing(
        &mut self,
        placed: Placement,
        tag: u8,
        body: &[u8],
        now: Option<Instant>,
        query: bool,
    ) -> Action {
        match placed {
            Placement::Ready { query: q } if q == query => {
                self.withhold = Withhold::Open;
                match body {
                    b"T" => {
                        let mut out = BytesMut::new();
                        encode_ready_after_failure(body, &mut out);
                        Action::Replace(out.freeze())
                    }
                    _ => Action::Forward,
                }
            }
            Placement::Complete => {
                let text = command_tag(body);
                let completion = match tag {
                    msg::COMMAND_COMPLETE => Completion::Command(&text),
                    msg::EMPTY_QUERY => Completion::EmptyQuery,
                    _ => Completion::Suspended,
                };
                self.report(completion, now, true);
                Action::Drop
            }
            Placement::Error => {
                let fields = ErrorFields::parse(body).ok();
                let code = fields.as_ref().and_then(|f| f.code()).unwrap_or("");
                self.report(Completion::Error { sqlstate: code }, now, true);
                Action::Drop
            }
            _ => Action::Drop,
        }
    }

    fn report(&mut self, completion: Completion<'_>, now: Option<Instant>, withheld: bool) {
        let Some(hook) = self.hook.as_deref_mut() else {
            return;
        };
        let outcome = Outcome {
            answering: self.tracker.answering(),
            completion,
            rows: std::mem::take(&mut self.rows),
            elapsed: elapsed(now, self.tracker.sent()),
            withheld,
        };
        hook.on_complete(self.tracker.tag(), &outcome);
    }

    /// Executes and Queries the server skipped after an error.
    fn report_skipped(&mut self) {
        let Some(hook) = self.hook.as_deref_mut() else {
            return;
        };
        let withheld = self.withhold != Withhold::Open;
        for r in self.tracker.take_skipped() {
            let answering = r.answering();
            if matches!(answering, Answering::Execute | Answering::Query) {
                let outcome = Outcome {
                    answering,
                    completion: Completion::Skipped,
                    rows: 0,
                    elapsed: std::time::Duration::ZERO,
                    withheld,
                };
                hook.on_complete(r.tag.as_ref(), &outcome);
            }
        }
    }
}

fn elapsed(now: Option<Instant>, sent: Option<Instant>) -> std::time::Duration {
    match (now, sent) {
        (Some(n), Some(s)) => n.saturating_duration_since(s),
        _ => std::time::Duration::ZERO,
    }
}

/// CommandComplete's tag text (ASCII in practice; lossy otherwise).
fn command_tag(body: &[u8]) -> std::borrow::Cow<'_, str> {
    let text = body.strip_suffix(&[0]).unwrap_or(body);
    String::from_utf8_lossy(text)
}

#[cfg(test)]
mod tests;
