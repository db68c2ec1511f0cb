//! RowDescription → a per-column plan; DataRow → masked DataRow.
//!
//! A column the catalog classifies gets its strategy whatever alias the
//! query used (RowDescription carries the source table OID and attribute
//! number). Every other text value is still scanned by the detectors.

use super::types::TypeClass;
use super::{begin_frame, end_frame, Outcome};
use crate::catalog::Catalog;
use crate::rules::MaskRules;
use crate::stats::{MaskStats, RowTally};
use crate::strategy::Strategy;
use crate::text::{Masked, ValueMasker};
use crate::{Classification, MaskError};
use bytes::{BufMut, BytesMut};
use vigil_pgwire::cursor::Cursor;

/// How one result column is masked.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnPlan {
    /// The name (alias) RowDescription reported.
    pub name: String,
    pub table_oid: u32,
    pub attnum: i16,
    pub type_oid: u32,
    /// Binary format (1) rather than text (0).
    pub binary: bool,
    /// The column's classification, if catalogued (or a computed column
    /// masked wholesale).
    pub class: Option<Classification>,
    /// The strategy for `class` (`Reveal` when unclassified).
    pub strategy: Strategy,
    pub types: TypeClass,
}

/// The plan for the rows that follow one RowDescription.
#[derive(Debug, Clone)]
pub struct RowPlan {
    columns: Vec<ColumnPlan>,
    rules: MaskRules,
}

impl RowPlan {
    /// Builds the plan. `result_formats`: the Bind's result-format codes
    /// when the RowDescription answered a statement Describe (0 codes = all
    /// text, 1 = for all, n = per column); `None` uses RowDescription's own.
    /// `wholesale_computed`: the statement read a classified column, so
    /// computed columns (table OID 0) are masked whole.
    pub fn from_row_description(
        body: &[u8],
        catalog: &Catalog,
        result_formats: Option<&[i16]>,
        rules: &MaskRules,
        wholesale_computed: bool,
    ) -> Result<RowPlan, MaskError> {
        let mut c = Cursor::new(body, "RowDescription");
        let n = c.count16()?;
        let mut columns = Vec::with_capacity(n);
        for i in 0..n {
            let name = String::from_utf8_lossy(c.cbytes()?).into_owned();
            let table_oid = c.i32()? as u32;
            let attnum = c.i16()?;
            let type_oid = c.i32()? as u32;
            let _typlen = c.i16()?;
            let _typmod = c.i32()?;
            let own = c.i16()?;
            let binary = format_of(result_formats, i, n, own)?;
            let (class, strategy) = classify(catalog, rules, table_oid, attnum, wholesale_computed);
            columns.push(ColumnPlan {
                name,
                table_oid,
                attnum,
                type_oid,
                binary,
                class,
                strategy,
                types: TypeClass::of(type_oid),
            });
        }
        c.finish()?;
        Ok(RowPlan {
            columns,
            rules: rules.clone(),
        })
    }

    pub fn columns(&self) -> &[ColumnPlan] {
        &self.columns
    }
}

fn format_of(codes: Option<&[i16]>, i: usize, n: usize, own: i16) -> Result<bool, MaskError> {
    let code = match codes {
        None => own,
        Some([]) => 0,
        Some([one]) => *one,
        Some(all) if all.len() == n => all.get(i).copied().unwrap_or(0),
        Some(_) => {
            return Err(MaskError::malformed(
                "Bind",
                "result format count differs from columns",
            ))
        }
    };
    match code {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(MaskError::malformed(
            "RowDescription",
            "unknown format code",
        )),
    }
}

fn classify(
    catalog: &Catalog,
    rules: &MaskRules,
    table_oid: u32,
    attnum: i16,
    wholesale: bool,
) -> (Option<Classification>, Strategy) {
    if let Some(e) = catalog.lookup(table_oid, attnum) {
        let s = rules.for_column(&e.schema, &e.table, &e.column, &e.classification);
        return (Some(e.classification.clone()), s);
    }
    // A whole-row reference (`SELECT c FROM customers c`: attnum 0) of a
    // table with classified columns holds them all: masked whole. Computed
    // columns only when the statement read a classified column.
    let whole_row = attnum == 0 && catalog.has_table_oid(table_oid);
    if whole_row || (table_oid == 0 && wholesale) {
        let c = Classification::COMPUTED;
        let s = rules.for_class(&c);
        return (Some(c), s);
    }
    (None, Strategy::Reveal)
}

/// Masks one DataRow body. `Unchanged`: forward the original frame.
/// On an error nothing is left in `out`.
pub fn mask_data_row(
    plan: &RowPlan,
    body: &[u8],
    stats: &mut MaskStats,
    out: &mut BytesMut,
) -> Result<Outcome, MaskError> {
    let mark = out.len();
    let r = mask_row_into(plan, body, stats, out);
    if r.is_err() {
        out.truncate(mark);
    }
    r
}

/// One pass: nothing is written until a value changes; then the values
/// before it are copied verbatim and the rest follow one by one.
fn mask_row_into(
    plan: &RowPlan,
    body: &[u8],
    stats: &mut MaskStats,
    out: &mut BytesMut,
) -> Result<Outcome, MaskError> {
    let mut vm = ValueMasker::new(&plan.rules)?;
    let mut tally = RowTally::default();
    let mut c = Cursor::new(body, "DataRow");
    let n = c.count16()?;
    if n != plan.columns.len() {
        return Err(MaskError::ColumnCount {
            expected: plan.columns.len(),
            got: n,
        });
    }
    // Where the rewritten frame starts in `out`, once something changed.
    let mut frame: Option<usize> = None;
    for col in &plan.columns {
        let value_at = c.position();
        let value = c.nullable_bytes()?;
        let masked = mask_value(col, value, &mut vm, &plan.rules, &mut tally)?;
        if frame.is_none() && masked != Masked::Unchanged {
            let at = begin_frame(out, b'D');
            // The count and every value so far, as they came.
            out.extend_from_slice(body.get(..value_at).unwrap_or_default());
            frame = Some(at);
        }
        if frame.is_some() {
            match masked {
                Masked::Text(t) => put_value(out, Some(&t))?,
                Masked::Null => put_value(out, None)?,
                Masked::Unchanged => put_value(out, value)?,
            }
        }
    }
    c.finish()?;
    stats.commit(&mut tally);
    match frame {
        Some(at) => {
            end_frame(out, at)?;
            Ok(Outcome::Rewritten)
        }
        None => Ok(Outcome::Unchanged),
    }
}

fn put_value(out: &mut BytesMut, v: Option<&[u8]>) -> Result<(), MaskError> {
    match v {
        None => out.put_i32(-1),
        Some(b) => {
            out.put_i32(i32::try_from(b.len()).map_err(|_| MaskError::TooLarge)?);
            out.extend_from_slice(b);
        }
    }
    Ok(())
}

/// The decision for one value of a column.
pub(crate) fn mask_value(
    col: &ColumnPlan,
    value: Option<&[u8]>,
    vm: &mut ValueMasker,
    rules: &MaskRules,
    tally: &mut RowTally,
) -> Result<Masked, MaskError> {
    let Some(v) = value else {
        return Ok(Masked::Unchanged);
    };
    match &col.class {
        Some(class) if col.strategy != Strategy::Reveal => whole(col, v, class, vm, rules, tally),
        _ => scan(col, v, vm, rules, tally),
    }
}

/// A classified value: replaced whole in a form valid for its type.
fn whole(
    col: &ColumnPlan,
    v: &[u8],
    class: &Classification,
    vm: &mut ValueMasker,
    rules: &MaskRules,
    tally: &mut RowTally,
) -> Result<Masked, MaskError> {
    if col.strategy == Strategy::Refuse {
        return Err(MaskError::Refused(class.to_string()));
    }
    let json = matches!(col.types, TypeClass::Json | TypeClass::Jsonb);
    let text_ok = if col.binary {
        matches!(
            col.types,
            TypeClass::Text | TypeClass::Json | TypeClass::Jsonb
        ) || (col.types == TypeClass::User && vm.is_text(v))
    } else {
        col.types.takes_text()
    };
    if !text_ok {
        tally.add_null(class);
        return Ok(Masked::Null);
    }
    let inner = if col.binary && col.types == TypeClass::Jsonb {
        jsonb_text(v)?
    } else {
        v
    };
    match vm.whole(inner, class, col.strategy, json, rules, tally)? {
        Masked::Text(t) if col.binary && col.types == TypeClass::Jsonb => {
            Ok(Masked::Text(jsonb_wrap(t)))
        }
        m => Ok(m),
    }
}

/// An unclassified value: detectors, in a form valid for its type.
fn scan(
    col: &ColumnPlan,
    v: &[u8],
    vm: &mut ValueMasker,
    rules: &MaskRules,
    tally: &mut RowTally,
) -> Result<Masked, MaskError> {
    match (col.binary, col.types) {
        (false, TypeClass::Scalar) => Ok(match vm.scan(v, true, rules, tally)? {
            Masked::Unchanged => Masked::Unchanged,
            _ => {
                tally.null();
                Masked::Null
            }
        }),
        (false, _) | (true, TypeClass::Text | TypeClass::Json) => vm.scan(v, true, rules, tally),
        (true, TypeClass::Jsonb) => Ok(match vm.scan(jsonb_text(v)?, true, rules, tally)? {
            Masked::Text(t) => Masked::Text(jsonb_wrap(t)),
            m => m,
        }),
        (true, TypeClass::Scalar) => Ok(Masked::Unchanged),
        (true, TypeClass::User) if vm.is_text(v) => vm.scan(v, true, rules, tally),
        (true, _) if vm.any_hit(v) => Err(MaskError::Unmaskable("binary-format")),
        (true, _) => Ok(Masked::Unchanged),
    }
}

fn jsonb_text(v: &[u8]) -> Result<&[u8], MaskError> {
    match v.split_first() {
        Some((1, rest)) => Ok(rest),
        _ => Err(MaskError::malformed(
            "DataRow",
            "unknown jsonb binary version",
        )),
    }
}

fn jsonb_wrap(t: Vec<u8>) -> Vec<u8> {
    let mut out = Vec::with_capacity(t.len() + 1);
    out.push(1);
    out.extend_from_slice(&t);
    out
}
