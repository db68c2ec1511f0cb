//! Views of server messages Vigil inspects, and encoders for the messages
//! Vigil writes to clients itself.

use crate::cursor::Cursor;
use crate::{CodecError, Frame};
use bytes::{BufMut, BytesMut};

pub const AUTHENTICATION: u8 = b'R';
pub const PARAMETER_STATUS: u8 = b'S';
pub const BACKEND_KEY_DATA: u8 = b'K';
pub const READY_FOR_QUERY: u8 = b'Z';
pub const ERROR_RESPONSE: u8 = b'E';
pub const NOTICE_RESPONSE: u8 = b'N';
pub const NOTIFICATION_RESPONSE: u8 = b'A';
pub const NEGOTIATE_PROTOCOL_VERSION: u8 = b'v';
pub const COPY_IN_RESPONSE: u8 = b'G';
pub const COPY_OUT_RESPONSE: u8 = b'H';
pub const COPY_BOTH_RESPONSE: u8 = b'W';

/// An Authentication request from the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Authentication<'a> {
    Ok,
    CleartextPassword,
    Md5Password {
        salt: [u8; 4],
    },
    Sasl {
        mechanisms: Vec<&'a str>,
    },
    SaslContinue {
        data: &'a [u8],
    },
    SaslFinal {
        data: &'a [u8],
    },
    /// Kerberos, GSS, SSPI and anything newer: Vigil does not speak them.
    Unsupported(i32),
}

impl<'a> Authentication<'a> {
    pub fn parse(body: &'a [u8]) -> Result<Self, CodecError> {
        let mut c = Cursor::new(body, "Authentication");
        Ok(match c.i32()? {
            0 => Authentication::Ok,
            3 => Authentication::CleartextPassword,
            5 => {
                let s = c.bytes(4)?;
                Authentication::Md5Password {
                    salt: [s[0], s[1], s[2], s[3]],
                }
            }
            10 => {
                let mut mechanisms = Vec::new();
                loop {
                    let m = c.cstr()?;
                    if m.is_empty() {
                        break;
                    }
                    mechanisms.push(m);
                }
                Authentication::Sasl { mechanisms }
            }
            11 => Authentication::SaslContinue {
                data: c.remaining(),
            },
            12 => Authentication::SaslFinal {
                data: c.remaining(),
            },
            other => Authentication::Unsupported(other),
        })
    }
}

/// BackendKeyData: the pid and secret a client uses to cancel.
pub fn parse_backend_key(body: &[u8]) -> Result<(i32, i32), CodecError> {
    let mut c = Cursor::new(body, "BackendKeyData");
    let pid = c.i32()?;
    let secret = c.i32()?;
    c.finish()?;
    Ok((pid, secret))
}

/// ParameterStatus: a run-time parameter's name and new value.
pub fn parse_parameter_status(body: &[u8]) -> Result<(&str, &str), CodecError> {
    let mut c = Cursor::new(body, "ParameterStatus");
    let k = c.cstr()?;
    let v = c.cstr()?;
    c.finish()?;
    Ok((k, v))
}

/// ReadyForQuery's transaction status: `I` idle, `T` in a block, `E` failed.
pub fn parse_ready_status(body: &[u8]) -> Result<u8, CodecError> {
    let mut c = Cursor::new(body, "ReadyForQuery");
    let s = c.u8()?;
    c.finish()?;
    match s {
        b'I' | b'T' | b'E' => Ok(s),
        _ => Err(CodecError::Malformed {
            message: "ReadyForQuery",
            problem: "unknown transaction status",
        }),
    }
}

/// The fields of an ErrorResponse or NoticeResponse, by field code.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ErrorFields {
    pub fields: Vec<(u8, String)>,
}

impl ErrorFields {
    pub fn parse(body: &[u8]) -> Result<Self, CodecError> {
        let mut c = Cursor::new(body, "ErrorResponse");
        let mut fields = Vec::new();
        loop {
            let code = c.u8()?;
            if code == 0 {
                break;
            }
            fields.push((code, c.cstr()?.to_owned()));
        }
        c.finish()?;
        Ok(ErrorFields { fields })
    }

    pub fn get(&self, code: u8) -> Option<&str> {
        self.fields
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(_, v)| v.as_str())
    }

    /// SQLSTATE (`C`).
    pub fn code(&self) -> Option<&str> {
        self.get(b'C')
    }

    /// Primary message (`M`).
    pub fn message(&self) -> Option<&str> {
        self.get(b'M')
    }
}

/// A message Vigil writes to the client as an ErrorResponse or notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice<'a> {
    /// `ERROR`, `FATAL`, `NOTICE`, …
    pub severity: &'a str,
    pub code: &'a str,
    pub message: &'a str,
    pub detail: Option<&'a str>,
    pub hint: Option<&'a str>,
}

impl Notice<'_> {
    fn encode(&self, tag: u8, out: &mut BytesMut) -> Result<(), CodecError> {
        let mut body = BytesMut::with_capacity(64 + self.message.len());
        let mut field = |code: u8, v: &str| {
            body.put_u8(code);
            // A NUL inside would end the field early: drop it.
            body.extend(v.bytes().filter(|&b| b != 0));
            body.put_u8(0);
        };
        field(b'S', self.severity);
        field(b'V', self.severity);
        field(b'C', self.code);
        field(b'M', self.message);
        if let Some(d) = self.detail {
            field(b'D', d);
        }
        if let Some(h) = self.hint {
            field(b'H', h);
        }
        body.put_u8(0);
        out.extend_from_slice(Frame::new(tag, &body)?.raw());
        Ok(())
    }

    pub fn encode_error(&self, out: &mut BytesMut) -> Result<(), CodecError> {
        self.encode(ERROR_RESPONSE, out)
    }

    pub fn encode_notice(&self, out: &mut BytesMut) -> Result<(), CodecError> {
        self.encode(NOTICE_RESPONSE, out)
    }
}

fn put_frame(tag: u8, body: &[u8], out: &mut BytesMut) -> Result<(), CodecError> {
    out.extend_from_slice(Frame::new(tag, body)?.raw());
    Ok(())
}

pub fn encode_auth_ok(out: &mut BytesMut) -> Result<(), CodecError> {
    put_frame(AUTHENTICATION, &0i32.to_be_bytes(), out)
}

pub fn encode_auth_cleartext(out: &mut BytesMut) -> Result<(), CodecError> {
    put_frame(AUTHENTICATION, &3i32.to_be_bytes(), out)
}

pub fn encode_backend_key(pid: i32, secret: i32, out: &mut BytesMut) -> Result<(), CodecError> {
    let mut body = [0u8; 8];
    body[..4].copy_from_slice(&pid.to_be_bytes());
    body[4..].copy_from_slice(&secret.to_be_bytes());
    put_frame(BACKEND_KEY_DATA, &body, out)
}

pub fn encode_ready(status: u8, out: &mut BytesMut) -> Result<(), CodecError> {
    put_frame(READY_FOR_QUERY, &[status], out)
}

pub fn encode_parameter_status(k: &str, v: &str, out: &mut BytesMut) -> Result<(), CodecError> {
    let mut body = Vec::with_capacity(k.len() + v.len() + 2);
    body.extend_from_slice(k.as_bytes());
    body.push(0);
    body.extend_from_slice(v.as_bytes());
    body.push(0);
    put_frame(PARAMETER_STATUS, &body, out)
}

/// NegotiateProtocolVersion: the newest minor version Vigil speaks and the
/// protocol options (`_pq_.*`) it did not recognise.
pub fn encode_negotiate(
    minor: i32,
    unknown: &[&str],
    out: &mut BytesMut,
) -> Result<(), CodecError> {
    let mut body = Vec::new();
    body.extend_from_slice(&minor.to_be_bytes());
    body.extend_from_slice(&(unknown.len() as i32).to_be_bytes());
    for u in unknown {
        body.extend_from_slice(u.as_bytes());
        body.push(0);
    }
    put_frame(NEGOTIATE_PROTOCOL_VERSION, &body, out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode_frame;

    #[test]
    fn error_round_trips() {
        let mut out = BytesMut::new();
        Notice {
            severity: "ERROR",
            code: "42501",
            message: "vigil: no\0pe",
            detail: None,
            hint: Some("ask"),
        }
        .encode_error(&mut out)
        .unwrap();
        let f = decode_frame(&mut out, 1 << 20).unwrap().unwrap();
        let e = ErrorFields::parse(f.body()).unwrap();
        assert_eq!(e.code(), Some("42501"));
        assert_eq!(e.message(), Some("vigil: nope"));
        assert_eq!(e.get(b'H'), Some("ask"));
    }

    #[test]
    fn auth_messages_parse() {
        assert_eq!(
            Authentication::parse(&0i32.to_be_bytes()).unwrap(),
            Authentication::Ok
        );
        let md5 = [0, 0, 0, 5, 1, 2, 3, 4];
        assert_eq!(
            Authentication::parse(&md5).unwrap(),
            Authentication::Md5Password { salt: [1, 2, 3, 4] }
        );
        assert!(Authentication::parse(&[0, 0, 0, 5, 1]).is_err());
        let sasl = b"\x00\x00\x00\x0aSCRAM-SHA-256\x00\x00";
        assert_eq!(
            Authentication::parse(sasl).unwrap(),
            Authentication::Sasl {
                mechanisms: vec!["SCRAM-SHA-256"]
            }
        );
    }

    #[test]
    fn ready_status_checked() {
        assert_eq!(parse_ready_status(b"T").unwrap(), b'T');
        assert!(parse_ready_status(b"Q").is_err());
        assert!(parse_ready_status(b"").is_err());
    }
}
