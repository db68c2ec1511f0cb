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
    let text = vm.to_utf8(line)?;
    let mut u = vm.utf8();
    let changed = match plain_delimiter(&text, rows.format) {
        Some(delimiter) => mask_plain(&text, delimiter, rows, &mut u, tally)?,
        None => mask_split(&text, rows, &mut u, tally)?,
    };
    changed.map(|new| vm.to_client(new)).transpose()
}

/// The delimiter, when no field of `line` is escaped or quoted: then every
/// raw field is its value and the row needs no decoding.
fn plain_delimiter(line: &[u8], format: CopyFormat) -> Option<u8> {
    let (delimiter, special) = match format {
        CopyFormat::Text { delimiter } => (delimiter, b'\\'),
        CopyFormat::Csv {
            delimiter, quote, ..
        } => (delimiter, quote),
        CopyFormat::Binary => return None,
    };
    memchr::memchr(special, line).is_none().then_some(delimiter)
}

/// [`mask_line`] for a row without escapes or quotes: each field is
/// masked once, in place order, and the row is rebuilt only if one changed.
fn mask_plain(
    line: &[u8],
    delimiter: u8,
    rows: &Rows<'_>,
    u: &mut ValueMasker,
    tally: &mut RowTally,
) -> Result<Option<Vec<u8>>, MaskError> {
    let (format, columns, rules) = (rows.format, rows.columns, rows.rules);
    let csv = matches!(format, CopyFormat::Csv { .. });
    let mut new: Option<Vec<u8>> = None;
    // Bytes of `line` before `copied` are already in `new`.
    let mut copied = 0;
    // Where the current field starts in `line`.
    let mut at = 0;
    let mut count = 0;
    for (i, raw) in line.split(|&b| b == delimiter).enumerate() {
        count += 1;
        let start = at;
        at += raw.len() + 1;
        // CSV: an unquoted empty field is NULL (the default NULL string).
        let value = (!(csv && raw.is_empty())).then_some(raw);
        let field = Field {
            raw,
            value: value.map(std::borrow::Cow::Borrowed),
            quoted: false,
        };
        let Some(m) = mask_field(
            &field,
            columns.get(i).and_then(Option::as_ref),
            rules,
            u,
            tally,
        )?
        else {
            continue;
        };
        let out = new.get_or_insert_with(|| Vec::with_capacity(line.len() + 16));
        out.extend_from_slice(line.get(copied..start).unwrap_or_default());
        encode_field(m, false, format, out);
        copied = start + raw.len();
    }
    check_columns(columns, count)?;
    Ok(new.map(|mut out| {
        out.extend_from_slice(line.get(copied..).unwrap_or_default());
        out
    }))
}

/// A row of a known table has one field per column.
fn check_columns(columns: &[Option<ColumnMask>], fields: usize) -> Result<(), MaskError> {
    if columns.is_empty() || columns.len() == fields {
        return Ok(());
    }
    Err(MaskError::malformed(
        "CopyData",
        "field count differs from columns",
    ))
}

/// [`mask_line`] for a row with escapes or quotes: decode every field.
fn mask_split(
    line: &[u8],
    rows: &Rows<'_>,
    u: &mut ValueMasker,
    tally: &mut RowTally,
) -> Result<Option<Vec<u8>>, MaskError> {
    let (format, columns) = (rows.format, rows.columns);
    let fields = split(line, format)?;
    check_columns(columns, fields.len())?;
    let mut outs: Vec<Option<Masked>> = Vec::with_capacity(fields.len());
    for (i, f) in fields.iter().enumerate() {
        let col = columns.get(i).and_then(Option::as_ref);
        outs.push(mask_field(f, col, rows.rules, u, tally)?);
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
    Ok(Some(new))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::MaskRules;
    use crate::strategy::HashKey;
    use vigil_pgwire::text::ClientEncoding;

    /// Pieces that are PII, look like it, or are plain.
    const PIECES: &[&str] = &[
        "",
        "42",
        "alice@example.com",
        "+1-555-0100123",
        "4111 1111 1111 1111",
        "Customer 7 lives at 12 Example Street",
        "3f2a9c81d4e5b6a79c8d1e2f3a4b5c6d3f2a9c81d4e5b6a79c8d1e2f3a4b5c6d",
        "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
        "DE89 3704 0044 0532 0130 00",
        "10.0.0.1",
        "shipped",
        "12.50",
        "a,b",
    ];

    fn line(seed: &mut u64, fields: usize, delimiter: u8) -> Vec<u8> {
        let mut out = Vec::new();
        for i in 0..fields {
            if i > 0 {
                out.push(delimiter);
            }
            *seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let a = PIECES[(*seed >> 33) as usize % PIECES.len()];
            let b = PIECES[(*seed >> 45) as usize % PIECES.len()];
            out.extend_from_slice(a.as_bytes());
            if *seed & 1 == 0 {
                out.extend_from_slice(b" ");
                out.extend_from_slice(b.as_bytes());
            }
        }
        out
    }

    /// The one-pass path for rows without escapes or quotes gives the same
    /// row and the same counts as decoding every field.
    #[test]
    fn plain_rows_mask_as_decoded_rows_do() {
        let rules = MaskRules::defaults(HashKey::new([7; 32]), ClientEncoding::Utf8);
        let vm = ValueMasker::new(&rules).unwrap();
        let mut seed = 1;
        for format in [CopyFormat::TEXT, CopyFormat::CSV] {
            let delimiter = match format {
                CopyFormat::Text { delimiter } | CopyFormat::Csv { delimiter, .. } => delimiter,
                CopyFormat::Binary => unreachable!(),
            };
            let mut changed = 0;
            for n in 0..4000 {
                let l = line(&mut seed, 1 + n % 6, delimiter);
                let Some(d) = plain_delimiter(&l, format) else {
                    continue;
                };
                let (mut u1, mut u2) = (vm.utf8(), vm.utf8());
                let (mut t1, mut t2) = (RowTally::default(), RowTally::default());
                let rows = Rows {
                    format,
                    columns: &[],
                    rules: &rules,
                    header: &mut false,
                };
                let plain = mask_plain(&l, d, &rows, &mut u1, &mut t1).unwrap();
                let split = mask_split(&l, &rows, &mut u2, &mut t2).unwrap();
                assert_eq!(plain, split, "{}", String::from_utf8_lossy(&l));
                let (mut s1, mut s2) = (MaskStats::default(), MaskStats::default());
                s1.commit(&mut t1);
                s2.commit(&mut t2);
                assert_eq!(s1, s2, "{}", String::from_utf8_lossy(&l));
                changed += usize::from(plain.is_some());
            }
            assert!(
                changed > 1000,
                "{changed} rows changed: the corpus holds too little PII"
            );
        }
    }
}
