//! Views of the client messages Vigil inspects. Each `parse` takes a frame
//! body and borrows from it; nothing is copied.

use crate::cursor::Cursor;
use crate::CodecError;

pub const QUERY: u8 = b'Q';
pub const PARSE: u8 = b'P';
pub const BIND: u8 = b'B';
pub const DESCRIBE: u8 = b'D';
pub const EXECUTE: u8 = b'E';
pub const CLOSE: u8 = b'C';
pub const SYNC: u8 = b'S';
pub const FLUSH: u8 = b'H';
pub const TERMINATE: u8 = b'X';
pub const COPY_DATA: u8 = b'd';
pub const COPY_DONE: u8 = b'c';
pub const COPY_FAIL: u8 = b'f';
pub const FUNCTION_CALL: u8 = b'F';
/// PasswordMessage, SASLInitialResponse and SASLResponse share this tag.
pub const PASSWORD: u8 = b'p';

/// Simple Query: one string that may hold several statements, in the
/// session's client_encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query<'a> {
    pub sql: &'a [u8],
}

impl<'a> Query<'a> {
    pub fn parse(body: &'a [u8]) -> Result<Self, CodecError> {
        let mut c = Cursor::new(body, "Query");
        let sql = c.cbytes()?;
        c.finish()?;
        Ok(Query { sql })
    }
}

/// Parse: names a prepared statement (empty = unnamed) and gives its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parse<'a> {
    pub statement: &'a [u8],
    pub sql: &'a [u8],
    pub param_types: Vec<u32>,
}

impl<'a> Parse<'a> {
    // The message is named Parse in the protocol docs; every view here has `parse`.
    #[allow(clippy::self_named_constructors)]
    pub fn parse(body: &'a [u8]) -> Result<Self, CodecError> {
        let mut c = Cursor::new(body, "Parse");
        let statement = c.cbytes()?;
        let sql = c.cbytes()?;
        let n = c.count16()?;
        let mut param_types = Vec::with_capacity(n.min(1024));
        for _ in 0..n {
            param_types.push(c.i32()? as u32);
        }
        c.finish()?;
        Ok(Parse {
            statement,
            sql,
            param_types,
        })
    }
}

/// Bind: creates a portal from a prepared statement and parameter values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bind<'a> {
    pub portal: &'a [u8],
    pub statement: &'a [u8],
    /// 0 = text, 1 = binary; empty means all text, one entry applies to all.
    pub param_formats: Vec<i16>,
    /// Parameter values; `None` is SQL NULL.
    pub params: Vec<Option<&'a [u8]>>,
    pub result_formats: Vec<i16>,
}

impl<'a> Bind<'a> {
    pub fn parse(body: &'a [u8]) -> Result<Self, CodecError> {
        let mut c = Cursor::new(body, "Bind");
        let portal = c.cbytes()?;
        let statement = c.cbytes()?;
        let param_formats = read_i16s(&mut c)?;
        let n = c.count16()?;
        let mut params = Vec::with_capacity(n.min(1024));
        for _ in 0..n {
            params.push(c.nullable_bytes()?);
        }
        let result_formats = read_i16s(&mut c)?;
        c.finish()?;
        Ok(Bind {
            portal,
            statement,
            param_formats,
            params,
            result_formats,
        })
    }

    /// The format code of parameter `i` (0 text, 1 binary).
    pub fn param_format(&self, i: usize) -> i16 {
        match self.param_formats.len() {
            0 => 0,
            1 => self.param_formats.first().copied().unwrap_or(0),
            _ => self.param_formats.get(i).copied().unwrap_or(0),
        }
    }
}

fn read_i16s(c: &mut Cursor<'_>) -> Result<Vec<i16>, CodecError> {
    let n = c.count16()?;
    let mut out = Vec::with_capacity(n.min(1024));
    for _ in 0..n {
        out.push(c.i16()?);
    }
    Ok(out)
}

/// Describe or Close: `S` for a statement, `P` for a portal, and its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target<'a> {
    pub kind: u8,
    pub name: &'a [u8],
}

impl<'a> Target<'a> {
    pub fn parse(body: &'a [u8]) -> Result<Self, CodecError> {
        let mut c = Cursor::new(body, "Describe/Close");
        let kind = c.u8()?;
        if kind != b'S' && kind != b'P' {
            return Err(CodecError::Malformed {
                message: "Describe/Close",
                problem: "target is neither S nor P",
            });
        }
        let name = c.cbytes()?;
        c.finish()?;
        Ok(Target { kind, name })
    }
}

/// Execute: runs a portal, returning at most `max_rows` rows (0 = all).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Execute<'a> {
    pub portal: &'a [u8],
    pub max_rows: i32,
}

impl<'a> Execute<'a> {
    pub fn parse(body: &'a [u8]) -> Result<Self, CodecError> {
        let mut c = Cursor::new(body, "Execute");
        let portal = c.cbytes()?;
        let max_rows = c.i32()?;
        c.finish()?;
        Ok(Execute { portal, max_rows })
    }
}

/// The cleartext PasswordMessage: a NUL-terminated UTF-8 string (a token).
pub fn parse_password(body: &[u8]) -> Result<&str, CodecError> {
    let mut c = Cursor::new(body, "PasswordMessage");
    let pw = c.cstr()?;
    c.finish()?;
    Ok(pw)
}

/// Encodes a Query message (used to send substitute statements).
pub fn encode_query(sql: &str) -> Result<crate::Frame, CodecError> {
    let mut body = Vec::with_capacity(sql.len() + 1);
    body.extend_from_slice(sql.as_bytes());
    body.push(0);
    crate::Frame::new(QUERY, &body)
}

/// Encodes a Parse message with no parameter types.
pub fn encode_parse(statement: &[u8], sql: &str) -> Result<crate::Frame, CodecError> {
    let mut body = Vec::with_capacity(statement.len() + sql.len() + 4);
    body.extend_from_slice(statement);
    body.push(0);
    body.extend_from_slice(sql.as_bytes());
    body.push(0);
    body.extend_from_slice(&0i16.to_be_bytes());
    crate::Frame::new(PARSE, &body)
}

/// Encodes a Bind of `statement` into the unnamed portal with no parameters.
pub fn encode_bind(portal: &[u8], statement: &str) -> Result<crate::Frame, CodecError> {
    let mut body = Vec::new();
    body.extend_from_slice(portal);
    body.push(0);
    body.extend_from_slice(statement.as_bytes());
    body.push(0);
    body.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    crate::Frame::new(BIND, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_parse_and_bind() {
        let f = encode_parse(b"s1", "select $1").unwrap();
        let p = Parse::parse(f.body()).unwrap();
        assert_eq!((p.statement, p.sql), (&b"s1"[..], &b"select $1"[..]));
        let body = b"p\0s1\0\x00\x01\x00\x01\x00\x02\x00\x00\x00\x02hi\xff\xff\xff\xff\x00\x00";
        let b = Bind::parse(body).unwrap();
        assert_eq!(b.params, vec![Some(&b"hi"[..]), None]);
        assert_eq!(b.param_format(1), 1);
    }

    #[test]
    fn bind_with_lying_counts_fails() {
        assert!(Bind::parse(b"p\0s\0\x00\x00\x7f\xff").is_err());
        assert!(Bind::parse(b"p\0s\0\xff\xff").is_err());
    }

    #[test]
    fn query_needs_terminator() {
        assert!(Query::parse(b"select 1").is_err());
        assert_eq!(Query::parse(b"select 1\0").unwrap().sql, b"select 1");
        // Not UTF-8: still a valid Query (LATIN1 clients send such bytes).
        assert_eq!(
            Query::parse(b"select '\xe9'\0").unwrap().sql,
            b"select '\xe9'"
        );
    }
}
