//! ErrorResponse / NoticeResponse: server texts that can echo data, such
//! as a unique violation's `Key (email)=(alice@…) already exists`.

use super::{begin_frame, end_frame, Outcome};
use crate::catalog::Catalog;
use crate::rules::MaskRules;
use crate::stats::{MaskStats, RowTally};
use crate::strategy::{render, Strategy};
use crate::text::{Masked, ValueMasker};
use crate::{Classification, MaskError};
use bytes::{BufMut, BytesMut};
use vigil_pgwire::cursor::Cursor;

/// Fields that are codes, numbers or server source locations.
const PLAIN_FIELDS: &[u8] = b"SVCPpFLR";

/// Masks an ErrorResponse (`tag` `E`) or NoticeResponse (`N`) body: the
/// detectors on every text field, and the values of a `Key (…)=(…)` or
/// `Failing row contains (…)` detail when the table has classified columns
/// or is unknown (when in doubt, mask).
pub fn mask_error_or_notice(
    tag: u8,
    body: &[u8],
    catalog: &Catalog,
    rules: &MaskRules,
    stats: &mut MaskStats,
    out: &mut BytesMut,
) -> Result<Outcome, MaskError> {
    let fields = parse_fields(body)?;
    let field = |code: u8| fields.iter().find(|(c, _)| *c == code).map(|(_, v)| *v);
    let vm = ValueMasker::new(rules)?;
    let schema = field(b's').map(|s| vm_text(&vm, s)).transpose()?;
    let table = field(b't').map(|t| vm_text(&vm, t)).transpose()?;
    let mut tally = RowTally::default();
    let mut changed: Vec<Option<Vec<u8>>> = Vec::with_capacity(fields.len());
    for (code, value) in &fields {
        if PLAIN_FIELDS.contains(code) {
            changed.push(None);
            continue;
        }
        let mut text = vm.to_utf8(value)?.into_owned();
        let mut touched = false;
        if *code == b'D' {
            let who = Echo {
                catalog,
                schema: schema.as_deref(),
                table: table.as_deref(),
            };
            touched = mask_echoes(&mut text, &who, rules, &mut tally);
        }
        let mut u = vm.utf8();
        if let Masked::Text(t) = u.scan(&text, false, rules, &mut tally)? {
            text = t;
            touched = true;
        }
        changed.push(if touched {
            Some(vm.to_client(text)?)
        } else {
            None
        });
    }
    stats.commit(&mut tally);
    if changed.iter().all(Option::is_none) {
        return Ok(Outcome::Unchanged);
    }
    let at = begin_frame(out, tag);
    for ((code, value), new) in fields.iter().zip(changed) {
        out.put_u8(*code);
        out.extend_from_slice(new.as_deref().unwrap_or(value));
        out.put_u8(0);
    }
    out.put_u8(0);
    end_frame(out, at)?;
    Ok(Outcome::Rewritten)
}

fn vm_text(vm: &ValueMasker, v: &[u8]) -> Result<String, MaskError> {
    Ok(String::from_utf8_lossy(&vm.to_utf8(v)?).into_owned())
}

fn parse_fields(body: &[u8]) -> Result<Vec<(u8, &[u8])>, MaskError> {
    let mut c = Cursor::new(body, "ErrorResponse");
    let mut fields = Vec::new();
    loop {
        let code = c.u8()?;
        if code == 0 {
            break;
        }
        fields.push((code, c.cbytes()?));
    }
    c.finish()?;
    Ok(fields)
}

/// The table an error names, to look its columns up.
struct Echo<'a> {
    catalog: &'a Catalog,
    schema: Option<&'a str>,
    table: Option<&'a str>,
}

impl Echo<'_> {
    /// The classification of a named column; `Some(UNKNOWN)` when the
    /// table is not named (in doubt), `None` when it is known and clean.
    fn column_class(&self, column: &str) -> Option<Classification> {
        let Some(table) = self.table else {
            return Some(Classification::UNKNOWN);
        };
        let column = column.trim().trim_matches('"');
        self.catalog
            .table_columns(self.schema, table)
            .find(|e| e.column == column)
            .map(|e| e.classification.clone())
    }

    fn table_classified(&self) -> bool {
        match self.table {
            None => true,
            Some(t) => self.catalog.table_columns(self.schema, t).next().is_some(),
        }
    }
}

/// Masks values echoed in a detail; returns whether anything changed.
fn mask_echoes(
    text: &mut Vec<u8>,
    who: &Echo<'_>,
    rules: &MaskRules,
    tally: &mut RowTally,
) -> bool {
    let mut changed = false;
    let mut from = 0;
    while let Some((cols, vals)) = next_key(text, from) {
        let replacement = key_values(text, cols, vals, who, rules, tally);
        from = vals.0 + replacement.as_ref().map_or(vals.1 - vals.0, Vec::len);
        if let Some(r) = replacement {
            text.splice(vals.0..vals.1, r);
            changed = true;
        }
    }
    if who.table_classified() {
        if let Some((s, e)) = failing_row(text) {
            text.splice(s..e, crate::strategy::REDACTED.iter().copied());
            tally.add(&Classification::UNKNOWN);
            changed = true;
        }
    }
    changed
}

type Range = (usize, usize);

/// `Key (cols)=(vals)`: the ranges of `cols` and `vals` (inside the parens).
fn next_key(text: &[u8], from: usize) -> Option<(Range, Range)> {
    let rest = text.get(from..)?;
    let k = memchr::memmem::find(rest, b"ey (")? + from + 4;
    let mid = memchr::memmem::find(text.get(k..)?, b")=(")? + k;
    let vals_start = mid + 3;
    // Values may contain parentheses: the echo ends at the last `)`
    // before the sentence goes on (or of the text). Masking more is safe.
    let tail = text.get(vals_start..)?;
    let end =
        memchr::memmem::find(tail, b") ").or_else(|| memchr::memrchr(b')', tail))? + vals_start;
    Some(((k, mid), (vals_start, end)))
}

fn key_values(
    text: &[u8],
    cols: Range,
    vals: Range,
    who: &Echo<'_>,
    rules: &MaskRules,
    tally: &mut RowTally,
) -> Option<Vec<u8>> {
    let cols = String::from_utf8_lossy(text.get(cols.0..cols.1)?).into_owned();
    let values = text.get(vals.0..vals.1)?;
    let names: Vec<&str> = cols.split(", ").collect();
    let classes: Vec<Option<Classification>> = names.iter().map(|c| who.column_class(c)).collect();
    if classes.iter().all(Option::is_none) {
        return None;
    }
    let parts: Vec<&[u8]> = values.split(|&b| b == b',').collect();
    let mut out = Vec::new();
    if parts.len() != classes.len() {
        // Cannot pair values with columns: mask them all.
        let class = classes
            .iter()
            .flatten()
            .next()
            .cloned()
            .unwrap_or(Classification::UNKNOWN);
        return Some(masked(values, &class, rules, tally));
    }
    for (i, (part, class)) in parts.iter().zip(&classes).enumerate() {
        if i > 0 {
            out.push(b',');
        }
        match class {
            Some(c) => {
                let lead = part.iter().take_while(|b| **b == b' ').count();
                out.extend_from_slice(part.get(..lead).unwrap_or_default());
                out.extend(masked(
                    part.get(lead..).unwrap_or_default(),
                    c,
                    rules,
                    tally,
                ));
            }
            None => out.extend_from_slice(part),
        }
    }
    Some(out)
}

fn masked(
    value: &[u8],
    class: &Classification,
    rules: &MaskRules,
    tally: &mut RowTally,
) -> Vec<u8> {
    let strategy = match rules.for_class(class) {
        Strategy::Reveal => return value.to_vec(),
        Strategy::Null | Strategy::Refuse => Strategy::Redact,
        s => s,
    };
    let mut out = Vec::new();
    render(strategy, class, value, rules.key(), &mut out);
    tally.add(class);
    out
}

/// `Failing row contains (…)`: the range inside the parentheses.
fn failing_row(text: &[u8]) -> Option<Range> {
    let start = memchr::memmem::find(text, b"Failing row contains (")? + 22;
    let end = memchr::memrchr(b')', text.get(start..)?)? + start;
    (end > start).then_some((start, end))
}
