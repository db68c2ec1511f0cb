//! Canonical JSON: the one byte encoding that record hashes, checkpoint
//! signatures and retention signatures are computed over.
//!
//! The rules (docs/audit.md repeats them for third parties):
//! - objects: members sorted by key, comparing the keys' UTF-8 bytes;
//! - no whitespace anywhere;
//! - strings: UTF-8; only `"` `\` and U+0000–U+001F are escaped (`\b \f \n
//!   \r \t` by name, the rest as `\u00xx`, lowercase hex); nothing else;
//! - numbers: integers only, in plain decimal. A fraction or exponent is
//!   refused, because float formatting differs between implementations.
//!
//! This is exactly what Python's `json.dumps(v, sort_keys=True,
//! separators=(",", ":"), ensure_ascii=False)` produces for such values.
//! We encode it ourselves instead of relying on `serde_json::to_string`:
//! serde_json's key order depends on a cargo feature (`preserve_order`) that
//! any crate in the build could switch on, and a hash must not.

use crate::digest::Sha256;
use serde_json::Value;

mod direct;

/// The value cannot be encoded canonically.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not canonically encodable: {0}")]
pub struct EncodeError(pub String);

/// Appends the canonical encoding of `value` to `out`.
pub fn encode_into(value: &Value, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => encode_number(n, out)?,
        Value::String(s) => encode_str(s, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                encode_into(item, out)?;
            }
            out.push(b']');
        }
        Value::Object(map) => {
            // Sorted here, whatever order the map iterates in.
            let mut members: Vec<(&String, &Value)> = map.iter().collect();
            members.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push(b'{');
            for (i, (key, item)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                encode_str(key, out);
                out.push(b':');
                encode_into(item, out)?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}

/// The canonical encoding of `value`.
pub fn encode(value: &Value) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::with_capacity(256);
    encode_into(value, &mut out)?;
    Ok(out)
}

/// The canonical encoding as a `String` (it is always UTF-8).
pub fn to_string(value: &Value) -> Result<String, EncodeError> {
    String::from_utf8(encode(value)?).map_err(|e| EncodeError(e.to_string()))
}

/// The canonical encoding of a typed value, written straight from it: the
/// same text as [`to_string`] of its `serde_json::to_value`, without
/// building that tree (see [`direct`]).
pub fn to_text<T: serde::Serialize + ?Sized>(value: &T) -> Result<String, EncodeError> {
    let mut out = Vec::with_capacity(512);
    direct::encode_into(value, &mut out)?;
    String::from_utf8(out).map_err(|e| EncodeError(e.to_string()))
}

/// Lowercase hex SHA-256 of the canonical encoding.
pub fn sha256_hex(value: &Value) -> Result<String, EncodeError> {
    Ok(Sha256::hex_of(&encode(value)?))
}

fn encode_number(n: &serde_json::Number, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    if let Some(u) = n.as_u64() {
        out.extend_from_slice(u.to_string().as_bytes());
    } else if let Some(i) = n.as_i64() {
        out.extend_from_slice(i.to_string().as_bytes());
    } else {
        return Err(EncodeError(format!("number {n} is not an integer")));
    }
    Ok(())
}

/// Appends `s` as a canonical JSON string.
pub fn encode_str(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: Option<&[u8]> = match b {
            b'"' => Some(b"\\\""),
            b'\\' => Some(b"\\\\"),
            0x08 => Some(b"\\b"),
            0x0c => Some(b"\\f"),
            b'\n' => Some(b"\\n"),
            b'\r' => Some(b"\\r"),
            b'\t' => Some(b"\\t"),
            0x00..=0x1f => None,
            _ => continue,
        };
        out.extend_from_slice(bytes.get(start..i).unwrap_or_default());
        match escape {
            Some(e) => out.extend_from_slice(e),
            None => out.extend_from_slice(format!("\\u{b:04x}").as_bytes()),
        }
        start = i + 1;
    }
    out.extend_from_slice(bytes.get(start..).unwrap_or_default());
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn enc(v: &Value) -> String {
        to_string(v).unwrap()
    }

    #[test]
    fn keys_are_sorted_by_bytes_at_every_depth() {
        let v = json!({"b": 1, "a": {"z": [true, null], "Z": "x"}, "é": 0, "aa": -5});
        assert_eq!(
            enc(&v),
            r#"{"a":{"Z":"x","z":[true,null]},"aa":-5,"b":1,"é":0}"#
        );
    }

    #[test]
    fn strings_escape_only_quotes_backslash_and_controls() {
        let v = json!("q\"b\\n\nt\tc\u{1}d\u{7f}/é😀\u{8}\u{c}\r");
        assert_eq!(
            enc(&v),
            "\"q\\\"b\\\\n\\nt\\tc\\u0001d\u{7f}/é😀\\b\\f\\r\""
        );
    }

    #[test]
    fn integers_in_full_range_and_floats_refused() {
        assert_eq!(enc(&json!(u64::MAX)), "18446744073709551615");
        assert_eq!(enc(&json!(i64::MIN)), "-9223372036854775808");
        assert!(encode(&json!({"x": 1.5})).is_err());
        assert!(encode(&json!([1.0])).is_err());
    }

    #[test]
    fn round_trips_through_serde_json() {
        let v = json!({"sql": "SELECT '\u{0}' -- \"x\"", "n": [1, 2, {"k": null}]});
        let text = enc(&v);
        let back: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, v);
        assert_eq!(enc(&back), text);
    }
}
