//! Splitting COPY rows into fields and writing fields back: PostgreSQL's
//! text escapes and CSV quoting, decoded to values and re-encoded only for
//! fields whose value changed.

use super::copy::CopyFormat;
use crate::text::Masked;
use crate::MaskError;
use std::borrow::Cow;

/// One field: its raw bytes and its decoded value (`None` = NULL).
pub(crate) struct Field<'a> {
    pub(crate) raw: &'a [u8],
    pub(crate) value: Option<Cow<'a, [u8]>>,
    pub(crate) quoted: bool,
}

pub(crate) fn split(line: &[u8], format: CopyFormat) -> Result<Vec<Field<'_>>, MaskError> {
    match format {
        CopyFormat::Csv {
            delimiter,
            quote,
            escape,
        } => split_csv(line, delimiter, quote, escape),
        CopyFormat::Text { delimiter } => Ok(split_text(line, delimiter)),
        CopyFormat::Binary => Err(MaskError::malformed("CopyData", "binary data as text")),
    }
}

fn text_field(raw: &[u8]) -> Field<'_> {
    let value = (raw != b"\\N").then(|| unescape_text(raw));
    Field {
        raw,
        value,
        quoted: false,
    }
}

fn split_text(line: &[u8], delimiter: u8) -> Vec<Field<'_>> {
    let mut fields = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while let Some(found) = line
        .get(i..)
        .and_then(|rest| memchr::memchr2(b'\\', delimiter, rest))
    {
        let at = i + found;
        if line.get(at) == Some(&b'\\') {
            // An escaped byte (possibly the delimiter) belongs to the field.
            i = at + 2;
            continue;
        }
        fields.push(text_field(line.get(start..at).unwrap_or_default()));
        start = at + 1;
        i = at + 1;
    }
    fields.push(text_field(line.get(start..).unwrap_or_default()));
    fields
}

fn unescape_text(raw: &[u8]) -> Cow<'_, [u8]> {
    if memchr::memchr(b'\\', raw).is_none() {
        return Cow::Borrowed(raw);
    }
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while let Some(&b) = raw.get(i) {
        i += 1;
        if b != b'\\' {
            out.push(b);
            continue;
        }
        let Some(&e) = raw.get(i) else { break };
        i += 1;
        match e {
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'v' => out.push(11),
            b'0'..=b'7' => {
                let mut v = u32::from(e - b'0');
                for _ in 0..2 {
                    match raw.get(i).copied() {
                        Some(d @ b'0'..=b'7') => {
                            v = v * 8 + u32::from(d - b'0');
                            i += 1;
                        }
                        _ => break,
                    }
                }
                // Like the server: an octal escape is one byte.
                out.push((v & 0xff) as u8);
            }
            b'x' if raw.get(i).is_some_and(u8::is_ascii_hexdigit) => {
                let mut v = 0u32;
                for _ in 0..2 {
                    match raw.get(i).and_then(|&h| char::from(h).to_digit(16)) {
                        Some(d) => {
                            v = v * 16 + d;
                            i += 1;
                        }
                        None => break,
                    }
                }
                out.push((v & 0xff) as u8);
            }
            other => out.push(other),
        }
    }
    Cow::Owned(out)
}

fn split_csv(
    line: &[u8],
    delimiter: u8,
    quote: u8,
    escape: u8,
) -> Result<Vec<Field<'_>>, MaskError> {
    let mut fields = Vec::new();
    let mut i = 0;
    loop {
        let start = i;
        let field = if line.get(i) == Some(&quote) {
            let (end, value) = read_quoted(line, i + 1, quote, escape)?;
            i = end;
            Field {
                raw: line.get(start..end).unwrap_or_default(),
                value: Some(value),
                quoted: true,
            }
        } else {
            while line.get(i).is_some_and(|&b| b != delimiter) {
                i += 1;
            }
            let raw = line.get(start..i).unwrap_or_default();
            // An unquoted empty field is NULL (the default NULL string).
            let value = (!raw.is_empty()).then_some(Cow::Borrowed(raw));
            Field {
                raw,
                value,
                quoted: false,
            }
        };
        fields.push(field);
        match line.get(i) {
            None => return Ok(fields),
            Some(&b) if b == delimiter => i += 1,
            Some(_) => {
                return Err(MaskError::malformed(
                    "CopyData",
                    "text after a closing CSV quote",
                ))
            }
        }
    }
}

/// From just after an opening quote: (offset after the closing quote, value).
fn read_quoted(
    line: &[u8],
    mut i: usize,
    quote: u8,
    escape: u8,
) -> Result<(usize, Cow<'_, [u8]>), MaskError> {
    let mut value = Vec::new();
    loop {
        let Some(&b) = line.get(i) else {
            return Err(MaskError::malformed("CopyData", "unterminated CSV quote"));
        };
        let next = line.get(i + 1).copied();
        let escaped =
            b == escape && (next == Some(quote) || (escape != quote && next == Some(escape)));
        if escaped {
            value.extend(next);
            i += 2;
        } else if b == quote {
            return Ok((i + 1, Cow::Owned(value)));
        } else {
            value.push(b);
            i += 1;
        }
    }
}

pub(crate) fn encode_field(m: Masked, was_quoted: bool, format: CopyFormat, out: &mut Vec<u8>) {
    let text = match m {
        Masked::Text(t) => t,
        Masked::Null if matches!(format, CopyFormat::Csv { .. }) => return,
        Masked::Null => return out.extend_from_slice(b"\\N"),
        Masked::Unchanged => return,
    };
    match format {
        CopyFormat::Csv {
            delimiter,
            quote,
            escape,
        } => {
            let special = |b: &u8| [delimiter, quote, escape, b'\r', b'\n'].contains(b);
            if !(was_quoted || text.is_empty() || text.iter().any(special)) {
                return out.extend_from_slice(&text);
            }
            out.push(quote);
            for b in text {
                if b == quote || b == escape {
                    out.push(escape);
                }
                out.push(b);
            }
            out.push(quote);
        }
        CopyFormat::Text { delimiter } => escape_text(&text, delimiter, out),
        CopyFormat::Binary => out.extend_from_slice(&text),
    }
}

/// PostgreSQL's COPY text escaping (CopyAttributeOutText).
fn escape_text(text: &[u8], delimiter: u8, out: &mut Vec<u8>) {
    for &b in text {
        let esc = match b {
            b'\\' => b'\\',
            b'\n' => b'n',
            b'\r' => b'r',
            b'\t' => b't',
            8 => b'b',
            12 => b'f',
            11 => b'v',
            _ if b == delimiter => b,
            _ => {
                out.push(b);
                continue;
            }
        };
        out.push(b'\\');
        out.push(esc);
    }
}
