//! The untagged messages a client may send first: StartupMessage,
//! SSLRequest, GSSENCRequest and CancelRequest. They are told apart by the
//! 32-bit code after the length.

use crate::cursor::Cursor;
use crate::CodecError;
use bytes::{BufMut, BytesMut};

const SSL_REQUEST: u32 = 80_877_103;
const GSSENC_REQUEST: u32 = 80_877_104;
const CANCEL_REQUEST: u32 = 80_877_102;
/// The largest startup packet PostgreSQL itself accepts.
pub const MAX_STARTUP_LEN: usize = 10_000;

/// A parsed StartupMessage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartupMessage {
    pub major: u16,
    pub minor: u16,
    /// Parameters in the order sent. Duplicates are kept so the caller can
    /// refuse them.
    pub params: Vec<(String, String)>,
}

impl StartupMessage {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// One of the untagged first messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartupFrame {
    Startup(StartupMessage),
    SslRequest,
    GssEncRequest,
    Cancel { pid: i32, secret: i32 },
}

/// Removes one untagged startup-phase message from `buf`.
pub fn decode_startup(buf: &mut BytesMut) -> Result<Option<StartupFrame>, CodecError> {
    let Some(head) = buf.get(..4) else {
        return Ok(None);
    };
    let len = i32::from_be_bytes([head[0], head[1], head[2], head[3]]);
    if len < 8 {
        return Err(CodecError::BadLength(i64::from(len)));
    }
    let len = len as usize;
    if len > MAX_STARTUP_LEN {
        return Err(CodecError::TooLarge {
            len,
            max: MAX_STARTUP_LEN,
        });
    }
    if buf.len() < len {
        return Ok(None);
    }
    let packet = buf.split_to(len);
    parse_packet(packet.get(4..).unwrap_or_default()).map(Some)
}

fn parse_packet(body: &[u8]) -> Result<StartupFrame, CodecError> {
    let mut c = Cursor::new(body, "startup packet");
    let code = c.i32()? as u32;
    match code {
        SSL_REQUEST => c.finish().map(|_| StartupFrame::SslRequest),
        GSSENC_REQUEST => c.finish().map(|_| StartupFrame::GssEncRequest),
        CANCEL_REQUEST => {
            let pid = c.i32()?;
            let secret = c.i32()?;
            c.finish()?;
            Ok(StartupFrame::Cancel { pid, secret })
        }
        _ if code >> 16 == 3 => parse_params(&mut c, code).map(StartupFrame::Startup),
        _ => Err(CodecError::UnknownStartupCode(code)),
    }
}

fn parse_params(c: &mut Cursor<'_>, code: u32) -> Result<StartupMessage, CodecError> {
    let mut params = Vec::new();
    loop {
        let key = c.cstr()?;
        if key.is_empty() {
            break;
        }
        let value = c.cstr()?;
        params.push((key.to_owned(), value.to_owned()));
    }
    c.finish()?;
    Ok(StartupMessage {
        major: (code >> 16) as u16,
        minor: (code & 0xffff) as u16,
        params,
    })
}

/// Encodes a protocol 3.0 StartupMessage with the given parameters.
pub fn encode_startup<'a>(
    params: impl IntoIterator<Item = (&'a str, &'a str)>,
    out: &mut BytesMut,
) -> Result<(), CodecError> {
    let start = out.len();
    out.put_i32(0);
    out.put_u32(196_608);
    for (k, v) in params {
        if k.contains('\0') || v.contains('\0') {
            return Err(CodecError::malformed("startup packet", "NUL in parameter"));
        }
        out.put_slice(k.as_bytes());
        out.put_u8(0);
        out.put_slice(v.as_bytes());
        out.put_u8(0);
    }
    out.put_u8(0);
    patch_len(out, start)
}

/// Encodes an SSLRequest.
pub fn encode_ssl_request(out: &mut BytesMut) {
    out.put_i32(8);
    out.put_u32(SSL_REQUEST);
}

/// Encodes a CancelRequest.
pub fn encode_cancel(pid: i32, secret: i32, out: &mut BytesMut) {
    out.put_i32(16);
    out.put_u32(CANCEL_REQUEST);
    out.put_i32(pid);
    out.put_i32(secret);
}

fn patch_len(out: &mut BytesMut, start: usize) -> Result<(), CodecError> {
    let len = i32::try_from(out.len() - start)
        .map_err(|_| CodecError::malformed("startup packet", "too long"))?;
    if let Some(slot) = out.get_mut(start..start + 4) {
        slot.copy_from_slice(&len.to_be_bytes());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_startup() {
        let mut b = BytesMut::new();
        encode_startup([("user", "alice"), ("database", "shop")], &mut b).unwrap();
        let Some(StartupFrame::Startup(m)) = decode_startup(&mut b).unwrap() else {
            panic!("not a startup");
        };
        assert_eq!((m.major, m.minor), (3, 0));
        assert_eq!(m.get("database"), Some("shop"));
        assert!(b.is_empty());
    }

    #[test]
    fn recognises_requests() {
        let mut b = BytesMut::new();
        encode_ssl_request(&mut b);
        encode_cancel(7, 9, &mut b);
        assert_eq!(
            decode_startup(&mut b).unwrap(),
            Some(StartupFrame::SslRequest)
        );
        assert_eq!(
            decode_startup(&mut b).unwrap(),
            Some(StartupFrame::Cancel { pid: 7, secret: 9 })
        );
    }

    #[test]
    fn refuses_garbage() {
        let mut b = BytesMut::from(&b"GET / HTTP/1.1\r\n\r\n"[..]);
        assert!(decode_startup(&mut b).is_err());
        let mut b = BytesMut::from(&b"\x00\x00\x00\x08\x00\x02\x00\x00"[..]);
        assert!(matches!(
            decode_startup(&mut b),
            Err(CodecError::UnknownStartupCode(_))
        ));
        let mut b = BytesMut::from(&b"\x00\x00\x00\x0c\x00\x03\x00\x00user"[..]);
        assert!(decode_startup(&mut b).is_err());
    }
}
