//! Text and CSV COPY rows: split into fields, decode each, mask, and
//! re-escape only the fields that changed.

use super::copy::{ColumnMask, CopyFormat};
use super::copy_fields::{encode_field, split, Field};
use crate::rules::MaskRules;
use crate::stats::{MaskStats, RowTally};
use crate::strategy::Strategy;
use crate::text::{Masked, ValueMasker};
use crate::MaskError;

/// How rows are read: the dialect and what is known about the columns.
pub(crate) struct Rows<'a> {
    pub(crate) format: CopyFormat,
    pub(crate) columns: &'a [Option<ColumnMask>],
    pub(crate) rules: &'a MaskRules,
    /// The next complete row is a header line (`HEADER`): column names,
    /// scanned by the detectors only.
    pub(crate) header: &'a mut bool,
}

/// How far an incomplete row was already scanned for its end (so a row
/// arriving in many small messages is not rescanned from its start).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Resume {
    scanned: usize,
    quoted: bool,
}

/// Masks every complete row in `data`; returns (bytes consumed, changed)
/// and leaves in `resume` the scan state of the incomplete rest. `out`
/// receives the consumed rows only if one of them changed.
pub(crate) fn process(
    data: &[u8],
    rows: &mut Rows<'_>,
    resume: &mut Resume,
    vm: &mut ValueMasker,
    stats: &mut MaskStats,
    out: &mut Vec<u8>,
) -> Result<(usize, bool), MaskError> {
    let mut pos = 0;
    let mut changed = false;
    loop {
        let end = match row_end(data, pos, rows.format, *resume) {
            Ok(end) => end,
            Err(state) => {
                *resume = state;
                return Ok((pos, changed));
            }
        };
        *resume = Resume::default();
        let line = data.get(pos..end).unwrap_or_default();
        let mut tally = RowTally::default();
        let masked = if std::mem::take(rows.header) {
            let header = Rows {
                columns: &[],
                header: &mut false,
                ..*rows
            };
            mask_line(line, &header, vm, &mut tally)?
        } else {
            mask_line(line, rows, vm, &mut tally)?
        };
        stats.commit(&mut tally);
        // Write only once something changed: until then the caller can
        // forward the original message.
        match masked {
            Some(new) => {
                if !changed {
                    out.extend_from_slice(data.get(..pos).unwrap_or_default());
                    changed = true;
                }
                out.extend_from_slice(&new);
                out.push(b'\n');
            }
            None if changed => {
                out.extend_from_slice(line);
                out.push(b'\n');
            }
            None => {}
        }
        pos = end + 1;
    }
}

/// Offset of the newline ending the row that starts at `pos` (CSV rows may
/// hold newlines inside quotes), or the scan state where the data ran out.
fn row_end(data: &[u8], pos: usize, format: CopyFormat, from: Resume) -> Result<usize, Resume> {
    let rest = data.get(pos..).unwrap_or_default();
    let CopyFormat::Csv { quote, escape, .. } = format else {
        let tail = rest.get(from.scanned..).unwrap_or_default();
        return memchr::memchr(b'\n', tail)
            .map(|i| pos + from.scanned + i)
            .ok_or(Resume {
                scanned: rest.len(),
                quoted: false,
            });
    };
    let mut quoted = from.quoted;
    let mut i = from.scanned;
    while let Some(&b) = rest.get(i) {
        if quoted && b == escape && escape != quote {
            match rest.get(i + 1) {
                // The escaped byte has not arrived yet: resume here.
                None => break,
                Some(&n) if n == quote || n == escape => {
                    i += 2;
                    continue;
                }
                Some(_) => {}
            }
        }
        if b == quote {
            quoted = !quoted;
        } else if b == b'\n' && !quoted {
            return Ok(pos + i);
        }
        i += 1;
    }
    Err(Resume { scanned: i, quoted })
}

/// One row without its newline; `None` if nothing in it changed.
fn mask_line(
    line: &[u8],
    rows: &Rows<'_>,
    vm: &mut ValueMasker,
    tally: &mut RowTally,
) -> Result<Option<Vec<u8>>, MaskError> {
    let Rows {
        format,
        columns,
        rules,
        ..
    } = *rows;
    let text = vm.to_utf8(line)?;
    let mut u = vm.utf8();
    if columns.is_empty() && all_clean(&text, format, rules, &mut u)? {
        return Ok(None);
    }
    let fields = split(&text, format)?;
    if !columns.is_empty() && columns.len() != fields.len() {
        return Err(MaskError::malformed(
            "CopyData",
            "field count differs from columns",
        ));
    }
    let mut outs: Vec<Option<Masked>> = Vec::with_capacity(fields.len());
    for (i, f) in fields.iter().enumerate() {
        let col = columns.get(i).and_then(Option::as_ref);
        outs.push(mask_field(f, col, rules, &mut u, tally)?);
    }
    if outs.iter().all(Option::is_none) {
        return Ok(None);
    }
    let delimiter = match format {
        CopyFormat::Text { delimiter } | CopyFormat::Csv { delimiter, .. } => delimiter,
        CopyFormat::Binary => b'\t',
    };
    let mut new = Vec::with_capacity(line.len() + 16);
    for (i, (f, o)) in fields.iter().zip(outs).enumerate() {
        if i > 0 {
            new.push(delimiter);
        }
        match o {
            None => new.extend_from_slice(f.raw),
            Some(m) => encode_field(m, f.quoted, format, &mut new),
        }
    }
    vm.to_client(new).map(Some)
}

/// The common case without allocation: no escapes or quotes in the line,
/// so every raw field is its value; true if no detector fires on any.
fn all_clean(
    line: &[u8],
    format: CopyFormat,
    rules: &MaskRules,
    u: &mut ValueMasker,
) -> Result<bool, MaskError> {
    let (delimiter, special) = match format {
        CopyFormat::Text { delimiter } => (delimiter, b'\\'),
        CopyFormat::Csv {
            delimiter, quote, ..
        } => (delimiter, quote),
        CopyFormat::Binary => return Ok(false),
    };
    if memchr::memchr(special, line).is_some() {
        return Ok(false);
    }
    let mut tally = RowTally::default();
    for field in line.split(|&b| b == delimiter) {
        if u.scan(field, false, rules, &mut tally)? != Masked::Unchanged {
            return Ok(false);
        }
    }
    Ok(true)
}

fn mask_field(
    f: &Field<'_>,
    col: Option<&ColumnMask>,
    rules: &MaskRules,
    u: &mut ValueMasker,
    tally: &mut RowTally,
) -> Result<Option<Masked>, MaskError> {
    let Some(value) = &f.value else {
        return Ok(None);
    };
    let m = match col {
        Some(c) if c.strategy != Strategy::Reveal => {
            u.whole(value, &c.class, c.strategy, false, rules, tally)?
        }
        _ => u.scan(value, true, rules, tally)?,
    };
    Ok((m != Masked::Unchanged).then_some(m))
}
