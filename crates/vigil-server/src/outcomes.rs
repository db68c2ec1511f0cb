//! The audit outcome phase: a `statement.outcome` per completed statement,
//! linked to its write-ahead intent.
//!
//! ```text
//! request answered ─► on_complete ─► Decided::of(tag).intent? ─► statement.outcome (queued)
//! ```
//!
//! It only observes: it never rewrites a message and asks for no row
//! layouts. The outcome is queued without waiting for its commit (the
//! intent is already durable; the server pump must not stall on the store)
//! and the writer keeps queue order, so outcomes follow their intents.
//! A statement without an intent (the audit trail off, or `guardrails =
//! false`) records nothing here.

use crate::app::Services;
use crate::session_audit::queue;
use crate::tag::Decided;
use crate::ServerError;
use std::collections::BTreeMap;
use std::sync::Arc;
use vigil_audit::StatementOutcome;
use vigil_audit::{rows_from_command_tag, Event, MaskedCount, OutcomeStatus, RecordRef};
use vigil_config::Config;
use vigil_proxy::respond::{Answering, Completion, Outcome, ResponseHook, ResponseHookFactory};
use vigil_proxy::{SessionContext, StatementTag};
use vigil_store::audit::AuditLog;

/// Makes each session's outcome recorder.
pub struct Outcomes {
    log: AuditLog,
}

impl Outcomes {
    pub fn new(log: AuditLog) -> Self {
        Outcomes { log }
    }
}

/// The outcome phase for `cfg`, or `None` when no statement can have an
/// intent to link to: the audit trail is off, or no hook checks (and so
/// records) statements.
pub fn factory(
    cfg: &Config,
    services: &Services,
) -> Result<Option<Arc<dyn ResponseHookFactory>>, ServerError> {
    // Both engines write intents; with `guardrails = false` nothing is
    // checked and the config refuses the audit trail.
    let intents = cfg.policy.guardrails;
    Ok(match &services.audit {
        Some(log) if intents => Some(Arc::new(Outcomes::new(log.clone()))),
        _ => None,
    })
}

impl ResponseHookFactory for Outcomes {
    fn session(&self, ctx: &SessionContext) -> Option<Box<dyn ResponseHook>> {
        Some(Box::new(OutcomeHook {
            log: self.log.clone(),
            session_id: ctx.session_id.0,
            numbering: Numbering::default(),
        }))
    }
}

/// One session's recorder.
struct OutcomeHook {
    log: AuditLog,
    session_id: u64,
    numbering: Numbering,
}

/// Numbers the statements of a multi-statement Query: its outcomes arrive
/// one after another, all naming the Query's intent.
#[derive(Debug, Default)]
struct Numbering {
    /// The intent seq and index of the last Query outcome.
    last: Option<(u64, u32)>,
}

impl Numbering {
    fn next(&mut self, intent: &RecordRef, answering: Answering) -> u32 {
        if answering != Answering::Query {
            self.last = None;
            return 0;
        }
        let index = match self.last {
            Some((seq, i)) if seq == intent.seq => i.saturating_add(1),
            _ => 0,
        };
        self.last = Some((intent.seq, index));
        index
    }
}

impl ResponseHook for OutcomeHook {
    fn wants_layouts(&self) -> bool {
        false
    }

    fn on_complete(&mut self, tag: Option<&StatementTag>, outcome: &Outcome<'_>) {
        let Some(decided) = Decided::of(tag) else {
            return;
        };
        let Some(intent) = &decided.intent else {
            return;
        };
        let index = self.numbering.next(intent, outcome.answering);
        let masked = masked_counts(&decided.take_masked());
        let event = outcome_event(self.session_id, intent.clone(), index, masked, outcome);
        queue(&self.log, event);
    }
}

/// The `statement.outcome` for one completion.
pub fn outcome_event(
    session_id: u64,
    intent: RecordRef,
    statement_index: u32,
    masked: BTreeMap<String, MaskedCount>,
    o: &Outcome<'_>,
) -> Event {
    let sent = (o.rows > 0).then_some(o.rows);
    let (status, rows, command_tag, error) = match o.completion {
        Completion::Command(tag) => (
            OutcomeStatus::Ok,
            rows_from_command_tag(tag).or(sent),
            Some(tag.to_owned()),
            None,
        ),
        Completion::EmptyQuery => (OutcomeStatus::Empty, None, None, None),
        Completion::Suspended => (OutcomeStatus::Suspended, Some(o.rows), None, None),
        Completion::Error { sqlstate } => {
            (OutcomeStatus::Error, sent, None, Some(sqlstate.to_owned()))
        }
        Completion::Failed { sqlstate } => (
            OutcomeStatus::MaskingFailed,
            sent,
            None,
            Some(sqlstate.to_owned()),
        ),
        Completion::Skipped => (OutcomeStatus::Skipped, None, None, None),
    };
    Event::StatementOutcome(StatementOutcome {
        session_id,
        intent,
        rows,
        command_tag,
        masked,
        duration_ms: u64::try_from(o.elapsed.as_millis()).unwrap_or(u64::MAX),
        error_sqlstate: error,
        statement_index,
        status,
        withheld: o.withheld,
    })
}

/// Masking's counts as the audit trail records them, by classification.
fn masked_counts(stats: &vigil_mask::MaskStats) -> BTreeMap<String, MaskedCount> {
    stats
        .by_class
        .iter()
        .map(|(class, s)| {
            let count = MaskedCount {
                values: s.values,
                rows: s.rows,
            };
            (class.as_str().to_owned(), count)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn outcome(completion: Completion<'_>, rows: u64) -> Outcome<'_> {
        Outcome {
            answering: Answering::Query,
            completion,
            rows,
            elapsed: Duration::from_millis(7),
            withheld: false,
        }
    }

    fn body(o: &Outcome<'_>) -> StatementOutcome {
        let intent = RecordRef {
            seq: 3,
            hash: "ab".into(),
        };
        match outcome_event(9, intent, 1, BTreeMap::new(), o) {
            Event::StatementOutcome(b) => b,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn rows_come_from_the_tag_else_from_the_rows_sent() {
        let b = body(&outcome(Completion::Command("UPDATE 4"), 0));
        assert_eq!(
            (b.rows, b.command_tag.as_deref()),
            (Some(4), Some("UPDATE 4"))
        );
        assert_eq!((b.status, b.error_sqlstate), (OutcomeStatus::Ok, None));
        assert_eq!((b.session_id, b.intent.seq, b.statement_index), (9, 3, 1));
        assert_eq!(b.duration_ms, 7);
        let b = body(&outcome(Completion::Command("SHOW"), 1));
        assert_eq!(b.rows, Some(1));
        let b = body(&outcome(Completion::Command("CREATE TABLE"), 0));
        assert_eq!(b.rows, None);
    }

    #[test]
    fn errors_and_failures_carry_their_sqlstate() {
        let b = body(&outcome(Completion::Error { sqlstate: "23505" }, 0));
        assert_eq!(b.status, OutcomeStatus::Error);
        assert_eq!(b.error_sqlstate.as_deref(), Some("23505"));
        let b = body(&outcome(Completion::Failed { sqlstate: "58000" }, 2));
        assert_eq!(b.status, OutcomeStatus::MaskingFailed);
        assert_eq!(
            (b.rows, b.error_sqlstate.as_deref()),
            (Some(2), Some("58000"))
        );
        let b = body(&outcome(Completion::Skipped, 0));
        assert_eq!((b.status, b.rows), (OutcomeStatus::Skipped, None));
        let b = body(&outcome(Completion::Suspended, 50));
        assert_eq!((b.status, b.rows), (OutcomeStatus::Suspended, Some(50)));
        let mut withheld = outcome(Completion::Command("SELECT 1"), 1);
        withheld.withheld = true;
        assert!(body(&withheld).withheld);
    }

    #[test]
    fn statements_of_one_query_are_numbered() {
        let mut n = Numbering::default();
        let mut next = |seq, a| {
            let r = RecordRef {
                seq,
                hash: String::new(),
            };
            n.next(&r, a)
        };
        assert_eq!(next(5, Answering::Query), 0);
        assert_eq!(next(5, Answering::Query), 1);
        assert_eq!(next(5, Answering::Query), 2);
        assert_eq!(next(6, Answering::Query), 0);
        assert_eq!(next(6, Answering::Execute), 0);
        assert_eq!(next(6, Answering::Query), 0, "a new Query after an Execute");
    }
}
