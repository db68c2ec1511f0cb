//! What the policy hook attaches to an allowed statement
//! ([`vigil_proxy::HookVerdict::AllowWith`]); the response phases (masking,
//! the audit outcome) get it back with every response to that statement.

use std::sync::{Arc, Mutex};
use vigil_audit::RecordRef;
use vigil_core::ClassifiedMessage;
use vigil_policy::PolicyDecision;
use vigil_proxy::StatementTag;

/// One allowed statement, as decided.
#[derive(Debug)]
pub struct Decided {
    /// The classified statement (tables and columns read, flags).
    pub msg: Arc<ClassifiedMessage>,
    /// The policy's decision, including its `mask` output.
    pub decision: Arc<PolicyDecision>,
    /// The write-ahead intent record the outcome links to.
    pub intent: Option<RecordRef>,
    /// The approval request this statement ran on, if it was held.
    pub approval_id: Option<String>,
    /// What masking did to this statement's responses since the last
    /// outcome was recorded (the masking phase adds, the audit outcome
    /// takes).
    pub masked: Mutex<vigil_mask::MaskStats>,
}

impl Decided {
    pub fn new(msg: Arc<ClassifiedMessage>, decision: Arc<PolicyDecision>) -> Self {
        Decided {
            msg,
            decision,
            intent: None,
            approval_id: None,
            masked: Mutex::new(vigil_mask::MaskStats::default()),
        }
    }

    /// The `Decided` behind a response's tag, if the policy hook set it.
    pub fn of(tag: Option<&StatementTag>) -> Option<&Decided> {
        tag?.downcast_ref::<Decided>()
    }

    /// Adds masking counts (called by the masking phase).
    pub fn add_masked(&self, stats: &vigil_mask::MaskStats) {
        if let Ok(mut m) = self.masked.lock() {
            m.merge(stats);
        }
    }

    /// Takes the counts added since the last call (the audit outcome).
    pub fn take_masked(&self) -> vigil_mask::MaskStats {
        self.masked
            .lock()
            .map(|mut m| std::mem::take(&mut *m))
            .unwrap_or_default()
    }
}
