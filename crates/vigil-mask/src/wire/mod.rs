//! Maskers for the server messages that carry data to the client. Each
//! takes a frame BODY (after the 5-byte header) and either says
//! [`Outcome::Unchanged`] (forward the original bytes, zero-copy) or
//! appends complete re-encoded frames to the caller's buffer.
//! On any error nothing of the message may be forwarded.

pub mod copy;
mod copy_binary;
mod copy_fields;
mod copy_text;
pub mod notice;
pub mod notify;
pub mod row;
pub mod types;

use crate::MaskError;
use bytes::{BufMut, BytesMut};

/// What a masker did with one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Forward the original frame as it is.
    Unchanged,
    /// The frames appended to `out` (possibly none) replace the original.
    Rewritten,
}

/// Starts a frame in `out`; returns its offset for [`end_frame`].
pub(crate) fn begin_frame(out: &mut BytesMut, tag: u8) -> usize {
    let at = out.len();
    out.put_u8(tag);
    out.put_i32(0);
    at
}

/// Writes the length of the frame begun at `at`.
pub(crate) fn end_frame(out: &mut BytesMut, at: usize) -> Result<(), MaskError> {
    let len = out.len() - at - 1;
    let len = i32::try_from(len).map_err(|_| MaskError::TooLarge)?;
    let slot = out.get_mut(at + 1..at + 5).ok_or(MaskError::TooLarge)?;
    slot.copy_from_slice(&len.to_be_bytes());
    Ok(())
}

/// A whole frame from a tag and body.
pub(crate) fn put_frame(out: &mut BytesMut, tag: u8, body: &[u8]) -> Result<(), MaskError> {
    let at = begin_frame(out, tag);
    out.extend_from_slice(body);
    end_frame(out, at)
}
