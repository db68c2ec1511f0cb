//! One session's masking: the [`ResponseHook`] phases. Per result, the
//! RowDescription is turned into a [`RowPlan`] once (cached by layout id);
//! each DataRow then costs one pass of the detectors over its text values
//! and is forwarded untouched when nothing matched. Counts go to the
//! statement's [`Decided`] (the audit outcome reads them) and to metrics
//! when the statement completes.

use super::copy;
use super::reads::reads_classified;
use super::rules::RulesCache;
use super::settings::Shared;
use crate::tag::Decided;
use bytes::BytesMut;
use std::sync::Arc;
use vigil_mask::{
    mask_data_row, mask_error_or_notice, mask_notification, mask_parameter_status, Catalog,
    CopyMasker, MaskError, MaskRules, MaskStats, Outcome as Masked, RowPlan,
};
use vigil_pgwire::cursor::Cursor;
use vigil_pgwire::text::ClientEncoding;
use vigil_proxy::respond::{Answering, Failure, Outcome, ResponseHook, Rewrite};
use vigil_proxy::{RowLayout, StatementTag};

/// Row plans remembered per session; the older half is dropped beyond
/// this (a plan lives as long as its result or portal, and sessions rarely
/// hold many at once).
const PLANS: usize = 256;

/// The metric counting masked values, labelled by classification.
pub const VALUES_METRIC: &str = "vigil_masked_values_total";
/// Rows (or messages) in which something was masked.
pub const ROWS_METRIC: &str = "vigil_masked_rows_total";
/// Results failed closed because a message could not be masked.
pub const FAILURES_METRIC: &str = "vigil_masking_failures_total";

/// The masking phase of one session.
pub struct SessionMasker {
    shared: Arc<Shared>,
    catalog: Arc<Catalog>,
    encoding_name: String,
    /// `None` only if the configured defaults stopped parsing (checked at
    /// start): every message then fails closed.
    rules: Option<RulesCache>,
    /// By layout id, newest last: rows almost always hit the last one.
    plans: Vec<(u64, Result<RowPlan, Failure>)>,
    copy: Option<CopyMasker>,
    /// What the current request's responses masked so far.
    stats: MaskStats,
    /// Statements of the current simple Query completed so far (to find
    /// which of its statements a COPY is).
    progress: Option<(StatementTag, usize)>,
    out: BytesMut,
}

impl SessionMasker {
    /// `encoding`: the client_encoding the server announced at login.
    pub fn new(shared: Arc<Shared>, catalog: Arc<Catalog>, encoding: &str) -> Self {
        let rules = RulesCache::new(&shared, ClientEncoding::from_pg_name(encoding)).ok();
        SessionMasker {
            shared,
            catalog,
            encoding_name: encoding.to_owned(),
            rules,
            plans: Vec::new(),
            copy: None,
            stats: MaskStats::default(),
            progress: None,
            out: BytesMut::with_capacity(8192),
        }
    }

    /// Where the plan for these rows is, building it once per layout.
    fn plan(&mut self, tag: Option<&StatementTag>, layout: &RowLayout) -> Result<usize, Failure> {
        if let Some(at) = self.plans.iter().rposition(|(id, _)| *id == layout.id()) {
            return Ok(at);
        }
        if !layout.is_known() {
            return Err(Failure::new("rows arrived without a row description"));
        }
        let wholesale = self.wholesale(tag);
        let catalog = &self.catalog;
        let built = rules_for(&mut self.rules, tag).and_then(|rules| {
            RowPlan::from_row_description(
                layout.description(),
                catalog,
                layout.result_formats(),
                rules,
                wholesale,
            )
            .map_err(fail)
        });
        if self.plans.len() >= PLANS {
            self.plans.drain(..PLANS / 2);
        }
        self.plans.push((layout.id(), built));
        Ok(self.plans.len() - 1)
    }

    /// Whether computed columns of this statement are masked whole: it
    /// reads a classified column, and the config or the policy (a
    /// `COMPUTED` key in its `mask` output) asks for it.
    fn wholesale(&self, tag: Option<&StatementTag>) -> bool {
        let Some(d) = Decided::of(tag) else {
            return false;
        };
        let policy =
            d.decision.mask.iter().any(|(k, v)| {
                k.eq_ignore_ascii_case("computed") && !v.eq_ignore_ascii_case("reveal")
            });
        (self.shared.wholesale_computed || policy) && reads_classified(&d.msg, &self.catalog)
    }

    /// Which statement of the current Query a COPY belongs to.
    fn statement_index(&self, tag: Option<&StatementTag>) -> usize {
        match (&self.progress, tag) {
            (Some((t, n)), Some(tag)) if Arc::ptr_eq(t, tag) => *n,
            _ => 0,
        }
    }

    fn start_copy(&mut self, tag: Option<&StatementTag>, body: &[u8]) -> Result<(), Failure> {
        let columns = copy_columns(body).map_err(fail)?;
        let index = self.statement_index(tag);
        let wholesale = self.shared.wholesale_computed;
        let encoding = self.encoding_name.clone();
        let catalog = self.catalog.clone();
        let Some(d) = Decided::of(tag) else {
            return Err(Failure::new(
                "COPY TO STDOUT without a policy decision: its format cannot be read; \
                 use the Rego policy engine ([policy] engine) or SELECT",
            ));
        };
        let msg = d.msg.clone();
        let stmt = copy::statement(&msg, index)
            .ok_or_else(|| Failure::new("cannot tell which COPY statement this is"))?;
        let rules = rules_for(&mut self.rules, tag)?;
        let plan = copy::plan(stmt, &msg, &catalog, rules, columns, wholesale, &encoding)
            .map_err(Failure::new)?;
        let masker = CopyMasker::new(body, plan.format, plan.columns, rules)
            .map_err(fail)?
            .with_header(plan.header);
        self.copy = Some(masker);
        Ok(())
    }

    /// Hands the bytes a masker appended to `out` on.
    fn emit(&mut self, r: Result<Masked, MaskError>) -> Result<Rewrite, Failure> {
        match r {
            Ok(Masked::Unchanged) => Ok(Rewrite::Unchanged),
            Ok(Masked::Rewritten) => Ok(Rewrite::Replaced(self.out.split().freeze())),
            Err(e) => {
                self.out.clear();
                Err(fail(e))
            }
        }
    }

    /// Counts of a message that answers no statement.
    fn report_loose(stats: &MaskStats) {
        record_metrics(stats);
    }

    fn track_encoding(&mut self, body: &[u8]) {
        let mut c = Cursor::new(body, "ParameterStatus");
        let (Ok(name), Ok(value)) = (c.cstr(), c.cstr()) else {
            return;
        };
        if name != "client_encoding" {
            return;
        }
        let enc = ClientEncoding::from_pg_name(value);
        self.encoding_name = value.to_owned();
        self.rules = RulesCache::new(&self.shared, enc).ok();
        self.plans.clear();
    }
}

impl ResponseHook for SessionMasker {
    fn on_row_description(&mut self, tag: Option<&StatementTag>, layout: &RowLayout) {
        // A failure is remembered in the plan and returned by the rows.
        let _ = self.plan(tag, layout);
    }

    fn on_data_row(
        &mut self,
        tag: Option<&StatementTag>,
        layout: &RowLayout,
        body: &[u8],
    ) -> Result<Rewrite, Failure> {
        let at = self.plan(tag, layout)?;
        let r = match self.plans.get(at) {
            Some((_, Ok(plan))) => mask_data_row(plan, body, &mut self.stats, &mut self.out),
            Some((_, Err(f))) => return Err(f.clone()),
            None => return Err(Failure::new("no row plan")),
        };
        self.emit(r)
    }

    fn on_copy_out_response(
        &mut self,
        tag: Option<&StatementTag>,
        body: &[u8],
    ) -> Result<(), Failure> {
        self.copy = None;
        self.start_copy(tag, body).inspect_err(|_| count_failure())
    }

    fn on_copy_data(
        &mut self,
        _tag: Option<&StatementTag>,
        body: &[u8],
    ) -> Result<Rewrite, Failure> {
        let r = match self.copy.as_mut() {
            Some(m) => m.mask_copy_data(body, &mut self.stats, &mut self.out),
            None => return Err(Failure::new("CopyData outside a COPY")),
        };
        self.emit(r)
    }

    fn on_copy_done(&mut self, _tag: Option<&StatementTag>) -> Result<(), Failure> {
        match self.copy.take() {
            Some(mut m) => m.finish().map_err(fail),
            None => Err(Failure::new("CopyDone outside a COPY")),
        }
    }

    fn on_error_or_notice(
        &mut self,
        tag: Option<&StatementTag>,
        msg: u8,
        body: &[u8],
    ) -> Result<Rewrite, Failure> {
        let cache = self.rules.as_mut().ok_or_else(no_rules)?;
        // A policy `mask` that does not parse fails its rows; its errors
        // still go out, masked by the defaults.
        let mask = Decided::of(tag).map(|d| &d.decision.mask);
        let rules = match cache.get(mask) {
            Ok(r) => r,
            Err(_) => cache.base(),
        };
        let mut stats = MaskStats::default();
        let r = mask_error_or_notice(msg, body, &self.catalog, rules, &mut stats, &mut self.out);
        match tag {
            Some(_) => self.stats.merge(&stats),
            None => Self::report_loose(&stats),
        }
        self.emit(r)
    }

    fn on_notification(&mut self, body: &[u8]) -> Result<Rewrite, Failure> {
        let rules = self.rules.as_ref().ok_or_else(no_rules)?.base();
        let mut stats = MaskStats::default();
        let r = mask_notification(body, rules, &mut stats, &mut self.out);
        Self::report_loose(&stats);
        self.emit(r)
    }

    fn on_parameter_status(&mut self, body: &[u8]) -> Result<Rewrite, Failure> {
        self.track_encoding(body);
        let rules = self.rules.as_ref().ok_or_else(no_rules)?.base();
        let mut stats = MaskStats::default();
        let r = mask_parameter_status(body, rules, &mut stats, &mut self.out);
        Self::report_loose(&stats);
        self.emit(r)
    }

    fn on_complete(&mut self, tag: Option<&StatementTag>, outcome: &Outcome<'_>) {
        if outcome.answering == Answering::Query {
            self.progress = match (self.progress.take(), tag) {
                (Some((t, n)), Some(tag)) if Arc::ptr_eq(&t, tag) => Some((t, n + 1)),
                (_, Some(tag)) => Some((tag.clone(), 1)),
                (_, None) => None,
            };
        }
        self.copy = None;
        if self.stats.rows_touched == 0 && self.stats.by_class.is_empty() {
            return;
        }
        let stats = std::mem::take(&mut self.stats);
        if let Some(d) = Decided::of(tag) {
            d.add_masked(&stats);
        }
        record_metrics(&stats);
    }
}

/// The rules for a statement's responses (its decision's `mask` output
/// over the defaults).
fn rules_for<'a>(
    rules: &'a mut Option<RulesCache>,
    tag: Option<&StatementTag>,
) -> Result<&'a MaskRules, Failure> {
    let cache = rules.as_mut().ok_or_else(no_rules)?;
    let mask = Decided::of(tag).map(|d| &d.decision.mask);
    cache.get(mask).map_err(fail)
}

/// How many columns a CopyOutResponse announces.
fn copy_columns(body: &[u8]) -> Result<usize, MaskError> {
    let mut c = Cursor::new(body, "CopyOutResponse");
    c.u8()?;
    Ok(c.count16()?)
}

fn no_rules() -> Failure {
    count_failure();
    Failure::new("masking rules unavailable")
}

fn fail(e: MaskError) -> Failure {
    count_failure();
    tracing::debug!(error = %e, "masking failed; result withheld");
    Failure::new(e.to_string())
}

fn count_failure() {
    metrics::counter!(FAILURES_METRIC).increment(1);
}

fn record_metrics(stats: &MaskStats) {
    for (class, s) in &stats.by_class {
        metrics::counter!(VALUES_METRIC, "class" => class.to_string()).increment(s.values);
    }
    if stats.rows_touched > 0 {
        metrics::counter!(ROWS_METRIC).increment(stats.rows_touched);
    }
}

#[cfg(test)]
mod metrics_tests;
#[cfg(test)]
mod tests;
