//! Cutting tagged frames out of a byte buffer.
//!
//! After startup every message is `tag: u8, len: i32 (includes itself), body`.
//! A [`Frame`] keeps the whole message as one `Bytes`, so forwarding it
//! unchanged is a plain write of [`Frame::raw`].

use crate::CodecError;
use bytes::{Buf, Bytes, BytesMut};

/// One complete tagged message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    raw: Bytes,
}

impl Frame {
    /// The message type byte, e.g. `b'Q'`.
    pub fn tag(&self) -> u8 {
        self.raw.first().copied().unwrap_or_default()
    }

    /// The body, after the tag and the length.
    pub fn body(&self) -> &[u8] {
        self.raw.get(5..).unwrap_or_default()
    }

    /// The whole message as received: tag, length and body.
    pub fn raw(&self) -> &Bytes {
        &self.raw
    }

    pub fn into_raw(self) -> Bytes {
        self.raw
    }

    /// Builds a frame from a tag and a body (used by encoders and tests).
    pub fn new(tag: u8, body: &[u8]) -> Result<Frame, CodecError> {
        let len = i32::try_from(body.len() + 4).map_err(|_| CodecError::TooLarge {
            len: body.len(),
            max: i32::MAX as usize,
        })?;
        let mut raw = BytesMut::with_capacity(body.len() + 5);
        raw.extend_from_slice(&[tag]);
        raw.extend_from_slice(&len.to_be_bytes());
        raw.extend_from_slice(body);
        Ok(Frame { raw: raw.freeze() })
    }
}

/// Length in bytes of the complete frame at the start of `buf`, if a whole
/// frame is there; `Ok(None)` means "need more bytes".
pub fn frame_len(buf: &[u8], max: usize) -> Result<Option<usize>, CodecError> {
    let Some(header) = buf.get(..5) else {
        return Ok(None);
    };
    let declared = i32::from_be_bytes([header[1], header[2], header[3], header[4]]);
    if declared < 4 {
        return Err(CodecError::BadLength(i64::from(declared)));
    }
    let total = declared as usize + 1;
    if total > max {
        return Err(CodecError::TooLarge { len: total, max });
    }
    Ok((buf.len() >= total).then_some(total))
}

/// Removes one complete frame from the front of `buf`.
pub fn decode_frame(buf: &mut BytesMut, max: usize) -> Result<Option<Frame>, CodecError> {
    match frame_len(buf, max)? {
        Some(n) => Ok(Some(Frame {
            raw: buf.split_to(n).freeze(),
        })),
        None => {
            // Reserve what the declared frame needs so the next read fits it.
            if let Some(mut len) = buf.get(1..5) {
                let declared = len.get_i32() as usize + 1;
                buf.reserve(declared.saturating_sub(buf.len()));
            }
            Ok(None)
        }
    }
}

/// Length of the longest prefix of `buf` made only of complete frames, up
/// to `limit` frames' worth of bytes. Lets a relay forward many frames with
/// one write.
pub fn complete_prefix(buf: &[u8], max: usize) -> Result<usize, CodecError> {
    let mut at = 0;
    while let Some(rest) = buf.get(at..) {
        match frame_len(rest, max)? {
            Some(n) => at += n,
            None => break,
        }
    }
    Ok(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn needs_more_bytes() {
        let mut b = BytesMut::from(&b"Q\x00\x00\x00"[..]);
        assert_eq!(decode_frame(&mut b, 1024).unwrap(), None);
        let mut b = BytesMut::from(&b"Q\x00\x00\x00\x09SEL"[..]);
        assert_eq!(decode_frame(&mut b, 1024).unwrap(), None);
    }

    #[test]
    fn decodes_and_leaves_rest() {
        let mut b = BytesMut::from(&b"Q\x00\x00\x00\x05xZ\x00\x00\x00\x05I"[..]);
        let f = decode_frame(&mut b, 1024).unwrap().unwrap();
        assert_eq!(f.tag(), b'Q');
        assert_eq!(f.body(), b"x");
        assert_eq!(b.len(), 6);
        let f = decode_frame(&mut b, 1024).unwrap().unwrap();
        assert_eq!(f.body(), b"I");
        assert!(b.is_empty());
    }

    #[test]
    fn rejects_bad_lengths() {
        let mut b = BytesMut::from(&b"Q\x00\x00\x00\x03"[..]);
        assert!(matches!(
            decode_frame(&mut b, 1024),
            Err(CodecError::BadLength(3))
        ));
        let mut b = BytesMut::from(&b"Q\xff\xff\xff\xff"[..]);
        assert!(decode_frame(&mut b, 1024).is_err());
        let mut b = BytesMut::from(&b"Q\x00\x01\x00\x00"[..]);
        assert!(matches!(
            decode_frame(&mut b, 1024),
            Err(CodecError::TooLarge { .. })
        ));
    }

    #[test]
    fn complete_prefix_stops_at_partial() {
        let buf = b"Z\x00\x00\x00\x05IZ\x00\x00\x00\x05IC\x00\x00";
        assert_eq!(complete_prefix(buf, 1024).unwrap(), 12);
    }

    #[test]
    fn new_round_trips() {
        let f = Frame::new(b'Q', b"select 1\0").unwrap();
        let mut b = BytesMut::from(&f.raw()[..]);
        assert_eq!(decode_frame(&mut b, 1024).unwrap().unwrap(), f);
    }
}
