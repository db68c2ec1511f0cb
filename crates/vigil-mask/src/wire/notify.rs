//! NotificationResponse and ParameterStatus: a NOTIFY payload or an
//! application_name can carry whatever a client or trigger put there.

use super::{begin_frame, end_frame, Outcome};
use crate::rules::MaskRules;
use crate::stats::{MaskStats, RowTally};
use crate::text::{Masked, ValueMasker};
use crate::MaskError;
use bytes::{BufMut, BytesMut};
use vigil_pgwire::cursor::Cursor;

/// NotificationResponse: the channel and payload go through the detectors.
pub fn mask_notification(
    body: &[u8],
    rules: &MaskRules,
    stats: &mut MaskStats,
    out: &mut BytesMut,
) -> Result<Outcome, MaskError> {
    let mut c = Cursor::new(body, "NotificationResponse");
    let pid = c.i32()?;
    let channel = c.cbytes()?;
    let payload = c.cbytes()?;
    c.finish()?;
    let mut vm = ValueMasker::new(rules)?;
    let mut tally = RowTally::default();
    let ch = vm.scan(channel, false, rules, &mut tally)?;
    let pl = vm.scan(payload, false, rules, &mut tally)?;
    stats.commit(&mut tally);
    if ch == Masked::Unchanged && pl == Masked::Unchanged {
        return Ok(Outcome::Unchanged);
    }
    let at = begin_frame(out, b'A');
    out.put_i32(pid);
    put_cstr(out, &ch, channel);
    put_cstr(out, &pl, payload);
    end_frame(out, at)?;
    Ok(Outcome::Rewritten)
}

/// ParameterStatus: the value (e.g. an application_name echoing client
/// input) goes through the detectors; the name is the server's.
pub fn mask_parameter_status(
    body: &[u8],
    rules: &MaskRules,
    stats: &mut MaskStats,
    out: &mut BytesMut,
) -> Result<Outcome, MaskError> {
    let mut c = Cursor::new(body, "ParameterStatus");
    let name = c.cbytes()?;
    let value = c.cbytes()?;
    c.finish()?;
    let mut vm = ValueMasker::new(rules)?;
    let mut tally = RowTally::default();
    let v = vm.scan(value, false, rules, &mut tally)?;
    stats.commit(&mut tally);
    if v == Masked::Unchanged {
        return Ok(Outcome::Unchanged);
    }
    let at = begin_frame(out, b'S');
    out.extend_from_slice(name);
    out.put_u8(0);
    put_cstr(out, &v, value);
    end_frame(out, at)?;
    Ok(Outcome::Rewritten)
}

fn put_cstr(out: &mut BytesMut, m: &Masked, original: &[u8]) {
    match m {
        Masked::Text(t) => out.extend_from_slice(t),
        _ => out.extend_from_slice(original),
    }
    out.put_u8(0);
}
