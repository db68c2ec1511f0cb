//! The response phases of a configured Vigil, composed into the one
//! [`ResponseHookFactory`] the proxy takes.
//!
//! One phase may rewrite (masking: it owns DataRow, CopyData, errors,
//! notices, notifications and ParameterStatus); the others observe (the
//! audit outcome): they see each RowDescription and each completion, after
//! the rewriting phase, so they read what masking counted.

use std::sync::Arc;
use vigil_proxy::respond::{Failure, Outcome, ResponseHook, ResponseHookFactory, Rewrite};
use vigil_proxy::{RowLayout, SessionContext, StatementTag};

/// A rewriting phase plus observers.
pub struct Responses {
    pub rewrite: Option<Arc<dyn ResponseHookFactory>>,
    pub observers: Vec<Arc<dyn ResponseHookFactory>>,
}

impl Responses {
    /// `None` when there is nothing to run (the pass-through fast path).
    pub fn into_factory(self) -> Option<Arc<dyn ResponseHookFactory>> {
        if self.rewrite.is_none() && self.observers.is_empty() {
            return None;
        }
        if self.observers.is_empty() {
            return self.rewrite;
        }
        Some(Arc::new(self))
    }
}

impl ResponseHookFactory for Responses {
    fn session(&self, ctx: &SessionContext) -> Option<Box<dyn ResponseHook>> {
        let rewrite = self.rewrite.as_ref().and_then(|f| f.session(ctx));
        let observers: Vec<_> = self
            .observers
            .iter()
            .filter_map(|f| f.session(ctx))
            .collect();
        if observers.is_empty() {
            return rewrite;
        }
        Some(Box::new(Composed { rewrite, observers }))
    }
}

struct Composed {
    rewrite: Option<Box<dyn ResponseHook>>,
    observers: Vec<Box<dyn ResponseHook>>,
}

impl ResponseHook for Composed {
    fn wants_layouts(&self) -> bool {
        self.rewrite.as_ref().is_some_and(|r| r.wants_layouts())
            || self.observers.iter().any(|o| o.wants_layouts())
    }

    fn on_row_description(&mut self, tag: Option<&StatementTag>, layout: &RowLayout) {
        if let Some(r) = &mut self.rewrite {
            r.on_row_description(tag, layout);
        }
        for o in &mut self.observers {
            o.on_row_description(tag, layout);
        }
    }

    fn on_data_row(
        &mut self,
        tag: Option<&StatementTag>,
        layout: &RowLayout,
        body: &[u8],
    ) -> Result<Rewrite, Failure> {
        match &mut self.rewrite {
            Some(r) => r.on_data_row(tag, layout, body),
            None => Ok(Rewrite::Unchanged),
        }
    }

    fn on_copy_out_response(
        &mut self,
        tag: Option<&StatementTag>,
        body: &[u8],
    ) -> Result<(), Failure> {
        match &mut self.rewrite {
            Some(r) => r.on_copy_out_response(tag, body),
            None => Ok(()),
        }
    }

    fn on_copy_data(
        &mut self,
        tag: Option<&StatementTag>,
        body: &[u8],
    ) -> Result<Rewrite, Failure> {
        match &mut self.rewrite {
            Some(r) => r.on_copy_data(tag, body),
            None => Ok(Rewrite::Unchanged),
        }
    }

    fn on_copy_done(&mut self, tag: Option<&StatementTag>) -> Result<(), Failure> {
        match &mut self.rewrite {
            Some(r) => r.on_copy_done(tag),
            None => Ok(()),
        }
    }

    fn on_error_or_notice(
        &mut self,
        tag: Option<&StatementTag>,
        msg: u8,
        body: &[u8],
    ) -> Result<Rewrite, Failure> {
        match &mut self.rewrite {
            Some(r) => r.on_error_or_notice(tag, msg, body),
            None => Ok(Rewrite::Unchanged),
        }
    }

    fn on_notification(&mut self, body: &[u8]) -> Result<Rewrite, Failure> {
        match &mut self.rewrite {
            Some(r) => r.on_notification(body),
            None => Ok(Rewrite::Unchanged),
        }
    }

    fn on_parameter_status(&mut self, body: &[u8]) -> Result<Rewrite, Failure> {
        match &mut self.rewrite {
            Some(r) => r.on_parameter_status(body),
            None => Ok(Rewrite::Unchanged),
        }
    }

    fn on_complete(&mut self, tag: Option<&StatementTag>, outcome: &Outcome<'_>) {
        if let Some(r) = &mut self.rewrite {
            r.on_complete(tag, outcome);
        }
        for o in &mut self.observers {
            o.on_complete(tag, outcome);
        }
    }
}
