//! Binary COPY: the `PGCOPY` header, then tuples of length-prefixed fields,
//! then a `-1` trailer. There is no type information, so a field is
//! treated as text when it is valid in the client encoding and masked by
//! the detectors; a field that is not valid text is left as it is unless a
//! detector fires on its raw bytes, which fails closed.

use super::copy::ColumnMask;
use crate::rules::MaskRules;
use crate::stats::{MaskStats, RowTally};
use crate::strategy::Strategy;
use crate::text::{Masked, ValueMasker};
use crate::MaskError;

const SIGNATURE: &[u8] = b"PGCOPY\n\xff\r\n\0";

/// Where the stream is.
#[derive(Debug, Default)]
pub(crate) struct State {
    header_done: bool,
    trailer_seen: bool,
}

fn err(problem: &'static str) -> MaskError {
    MaskError::malformed("binary CopyData", problem)
}

fn i32_at(data: &[u8], at: usize) -> Option<i32> {
    let b = data.get(at..at + 4)?;
    Some(i32::from_be_bytes([
        *b.first()?,
        *b.get(1)?,
        *b.get(2)?,
        *b.get(3)?,
    ]))
}

fn i16_at(data: &[u8], at: usize) -> Option<i16> {
    let b = data.get(at..at + 2)?;
    Some(i16::from_be_bytes([*b.first()?, *b.get(1)?]))
}

impl State {
    /// Masks the complete tuples in `data`; returns (consumed, changed).
    pub(crate) fn process(
        &mut self,
        data: &[u8],
        columns: &[Option<ColumnMask>],
        rules: &MaskRules,
        vm: &mut ValueMasker,
        stats: &mut MaskStats,
        out: &mut Vec<u8>,
    ) -> Result<(usize, bool), MaskError> {
        let mut pos = 0;
        if !self.header_done {
            match header_len(data)? {
                Some(n) => {
                    out.extend_from_slice(data.get(..n).unwrap_or_default());
                    pos = n;
                    self.header_done = true;
                }
                None => return Ok((0, false)),
            }
        }
        let mut changed = false;
        while pos < data.len() {
            if self.trailer_seen {
                return Err(err("data after the trailer"));
            }
            let fields = match tuple_at(data, pos)? {
                TupleAt::Incomplete => break,
                TupleAt::Trailer => {
                    out.extend_from_slice(&[0xff, 0xff]);
                    self.trailer_seen = true;
                    pos += 2;
                    continue;
                }
                TupleAt::Tuple(fields) => fields,
            };
            if !columns.is_empty() && fields.len() != columns.len() {
                return Err(err("field count differs from columns"));
            }
            let mut tally = RowTally::default();
            changed |= write_tuple(data, &fields, columns, rules, vm, &mut tally, out)?;
            stats.commit(&mut tally);
            pos = fields.last().map_or(pos + 2, |f| f.end);
        }
        Ok((pos, changed))
    }

    pub(crate) fn finish(&self) -> Result<(), MaskError> {
        if self.trailer_seen {
            Ok(())
        } else {
            Err(err("stream ended without its trailer"))
        }
    }
}

/// A field's value range (`None` = NULL) and where the field ends.
struct FieldAt {
    value: Option<(usize, usize)>,
    end: usize,
}

fn header_len(data: &[u8]) -> Result<Option<usize>, MaskError> {
    let fixed = SIGNATURE.len() + 8;
    if data.len() < fixed {
        let seen = data.len().min(SIGNATURE.len());
        if data.get(..seen) != SIGNATURE.get(..seen) {
            return Err(err("bad signature"));
        }
        return Ok(None);
    }
    if data.get(..SIGNATURE.len()) != Some(SIGNATURE) {
        return Err(err("bad signature"));
    }
    let ext = i32_at(data, SIGNATURE.len() + 4).ok_or_else(|| err("truncated header"))?;
    let ext = usize::try_from(ext).map_err(|_| err("negative header extension"))?;
    Ok((data.len() >= fixed + ext).then_some(fixed + ext))
}

/// What starts at a position of the tuple stream.
enum TupleAt {
    Incomplete,
    Trailer,
    Tuple(Vec<FieldAt>),
}

fn tuple_at(data: &[u8], pos: usize) -> Result<TupleAt, MaskError> {
    let Some(count) = i16_at(data, pos) else {
        return Ok(TupleAt::Incomplete);
    };
    if count == -1 {
        return Ok(TupleAt::Trailer);
    }
    let count = usize::try_from(count).map_err(|_| err("negative field count"))?;
    let mut at = pos + 2;
    let mut fields = Vec::with_capacity(count);
    for _ in 0..count {
        let Some(len) = i32_at(data, at) else {
            return Ok(TupleAt::Incomplete);
        };
        at += 4;
        let value = match len {
            -1 => None,
            n if n < 0 => return Err(err("negative field length")),
            n => {
                let end = at + n as usize;
                if end > data.len() {
                    return Ok(TupleAt::Incomplete);
                }
                let v = (at, end);
                at = end;
                Some(v)
            }
        };
        fields.push(FieldAt { value, end: at });
    }
    Ok(TupleAt::Tuple(fields))
}

fn write_tuple(
    data: &[u8],
    fields: &[FieldAt],
    columns: &[Option<ColumnMask>],
    rules: &MaskRules,
    vm: &mut ValueMasker,
    tally: &mut RowTally,
    out: &mut Vec<u8>,
) -> Result<bool, MaskError> {
    let mut changed = false;
    out.extend_from_slice(&(fields.len() as i16).to_be_bytes());
    for (i, f) in fields.iter().enumerate() {
        let Some((s, e)) = f.value else {
            out.extend_from_slice(&(-1i32).to_be_bytes());
            continue;
        };
        let v = data.get(s..e).unwrap_or_default();
        let col = columns.get(i).and_then(Option::as_ref);
        let m = mask_field(v, col, rules, vm, tally)?;
        changed |= m != Masked::Unchanged;
        let bytes = match &m {
            Masked::Unchanged => Some(v),
            Masked::Text(t) => Some(t.as_slice()),
            Masked::Null => None,
        };
        match bytes {
            Some(b) => {
                let len = i32::try_from(b.len()).map_err(|_| MaskError::TooLarge)?;
                out.extend_from_slice(&len.to_be_bytes());
                out.extend_from_slice(b);
            }
            None => out.extend_from_slice(&(-1i32).to_be_bytes()),
        }
    }
    Ok(changed)
}

fn mask_field(
    v: &[u8],
    col: Option<&ColumnMask>,
    rules: &MaskRules,
    vm: &mut ValueMasker,
    tally: &mut RowTally,
) -> Result<Masked, MaskError> {
    match col {
        Some(c) if c.strategy == Strategy::Refuse => Err(MaskError::Refused(c.class.to_string())),
        Some(c) if c.strategy != Strategy::Reveal => {
            if vm.is_text(v) {
                vm.whole(v, &c.class, c.strategy, false, rules, tally)
            } else {
                tally.add_null(&c.class);
                Ok(Masked::Null)
            }
        }
        _ if vm.is_text(v) => vm.scan(v, true, rules, tally),
        _ if vm.any_hit(v) => Err(MaskError::Unmaskable("binary COPY")),
        _ => Ok(Masked::Unchanged),
    }
}
