//! A bounds-checked reader over a message body. Every read returns an error
//! instead of panicking when the body is shorter than it claims.

use crate::CodecError;

/// Reads big-endian integers and NUL-terminated strings from a body.
#[derive(Debug, Clone)]
pub struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
    what: &'static str,
}

impl<'a> Cursor<'a> {
    /// `what` names the message for error texts.
    pub fn new(buf: &'a [u8], what: &'static str) -> Self {
        Cursor { buf, pos: 0, what }
    }

    fn err(&self, problem: &'static str) -> CodecError {
        CodecError::malformed(self.what, problem)
    }

    pub fn position(&self) -> usize {
        self.pos
    }

    pub fn remaining(&self) -> &'a [u8] {
        self.buf.get(self.pos..).unwrap_or_default()
    }

    pub fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], CodecError> {
        let end = self
            .pos
            .checked_add(n)
            .ok_or_else(|| self.err("length overflow"))?;
        let out = self
            .buf
            .get(self.pos..end)
            .ok_or_else(|| self.err("truncated"))?;
        self.pos = end;
        Ok(out)
    }

    pub fn u8(&mut self) -> Result<u8, CodecError> {
        Ok(self.bytes(1)?.first().copied().unwrap_or_default())
    }

    pub fn i16(&mut self) -> Result<i16, CodecError> {
        let b = self.bytes(2)?;
        Ok(i16::from_be_bytes([b[0], b[1]]))
    }

    pub fn i32(&mut self) -> Result<i32, CodecError> {
        let b = self.bytes(4)?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A count that must not be negative (array lengths).
    pub fn count16(&mut self) -> Result<usize, CodecError> {
        usize::try_from(self.i16()?).map_err(|_| self.err("negative count"))
    }

    /// A NUL-terminated string as raw bytes, without the NUL. Client text
    /// is in the session's client_encoding, so it is not checked here.
    pub fn cbytes(&mut self) -> Result<&'a [u8], CodecError> {
        let rest = self.remaining();
        let nul = rest
            .iter()
            .position(|&b| b == 0)
            .ok_or_else(|| self.err("unterminated string"))?;
        let s = rest.get(..nul).ok_or_else(|| self.err("truncated"))?;
        self.pos += nul + 1;
        Ok(s)
    }

    /// A NUL-terminated string that must be UTF-8 (server messages and
    /// protocol keywords).
    pub fn cstr(&mut self) -> Result<&'a str, CodecError> {
        let b = self.cbytes()?;
        std::str::from_utf8(b).map_err(|_| self.err("string is not UTF-8"))
    }

    /// A length-prefixed value: `-1` is NULL.
    pub fn nullable_bytes(&mut self) -> Result<Option<&'a [u8]>, CodecError> {
        let len = self.i32()?;
        if len == -1 {
            return Ok(None);
        }
        let n = usize::try_from(len).map_err(|_| self.err("negative value length"))?;
        self.bytes(n).map(Some)
    }

    /// Fails unless every byte was consumed.
    pub fn finish(&self) -> Result<(), CodecError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(self.err("trailing bytes"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncated_reads_fail() {
        let mut c = Cursor::new(&[0, 1], "t");
        assert!(c.i32().is_err());
        let mut c = Cursor::new(b"abc", "t");
        assert!(c.cstr().is_err());
        let mut c = Cursor::new(&[0xff, 0xff, 0xff, 0xfe], "t");
        assert!(c.nullable_bytes().is_err());
    }

    #[test]
    fn reads_values() {
        let mut c = Cursor::new(b"\x00\x02hi\x00\xff\xff\xff\xff", "t");
        assert_eq!(c.i16().unwrap(), 2);
        assert_eq!(c.cstr().unwrap(), "hi");
        assert_eq!(c.nullable_bytes().unwrap(), None);
        assert!(c.finish().is_ok());
    }
}
