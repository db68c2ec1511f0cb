//! SQL text arrives in the session's `client_encoding`, not necessarily
//! UTF-8. The bytes are forwarded untouched; this module decodes them to
//! UTF-8 the way the server will, so the classifier sees what the server
//! will parse.
//!
//! This matters for safety, not only for display: in the client-only
//! encodings (SJIS, BIG5, GBK, UHC, GB18030) the second byte of a character
//! can be `'` or `\`, so reading those bytes as ASCII would let a statement
//! parse differently for Vigil than for the server. An encoding Vigil
//! cannot decode faithfully is refused, never guessed.

use encoding_rs::Encoding;
use std::borrow::Cow;

/// A PostgreSQL client encoding, as announced in ParameterStatus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientEncoding {
    Utf8,
    /// No conversion: bytes ≥ 0x80 have no meaning to the server.
    SqlAscii,
    /// ISO-8859-1, decoded byte for byte.
    Latin1,
    /// Decoded by the WHATWG decoder of the same character set.
    Other(&'static Encoding),
    /// Known to PostgreSQL, but Vigil has no faithful decoder for it.
    Unsupported,
}

/// Why text could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("invalid byte sequence for encoding {0}")]
    Invalid(&'static str),
    #[error("this client encoding is not supported by Vigil; use UTF8 or a single-byte encoding")]
    Unsupported,
}

impl ClientEncoding {
    /// From the name PostgreSQL reports (`UTF8`, `LATIN1`, `WIN1252`, …).
    pub fn from_pg_name(name: &str) -> ClientEncoding {
        let upper = name.trim().to_ascii_uppercase().replace(['-', '_'], "");
        let label = match upper.as_str() {
            "UTF8" | "UNICODE" => return ClientEncoding::Utf8,
            "SQLASCII" => return ClientEncoding::SqlAscii,
            "LATIN1" | "ISO88591" => return ClientEncoding::Latin1,
            "LATIN2" | "ISO88592" => "iso-8859-2",
            "LATIN3" | "ISO88593" => "iso-8859-3",
            "LATIN4" | "ISO88594" => "iso-8859-4",
            "ISO88595" => "iso-8859-5",
            "ISO88596" => "iso-8859-6",
            "ISO88597" => "iso-8859-7",
            "ISO88598" => "iso-8859-8",
            "LATIN6" | "ISO885910" => "iso-8859-10",
            "LATIN7" | "ISO885913" => "iso-8859-13",
            "LATIN8" | "ISO885914" => "iso-8859-14",
            "LATIN9" | "ISO885915" => "iso-8859-15",
            "LATIN10" | "ISO885916" => "iso-8859-16",
            "WIN866" | "ALT" => "ibm866",
            "WIN874" => "windows-874",
            "WIN1250" => "windows-1250",
            "WIN1251" | "WIN" => "windows-1251",
            "WIN1252" => "windows-1252",
            "WIN1253" => "windows-1253",
            "WIN1254" | "LATIN5" | "ISO88599" => "windows-1254",
            "WIN1255" => "windows-1255",
            "WIN1256" => "windows-1256",
            "WIN1257" => "windows-1257",
            "WIN1258" => "windows-1258",
            "KOI8R" | "KOI8" => "koi8-r",
            "KOI8U" => "koi8-u",
            "EUCJP" => "euc-jp",
            "EUCKR" | "UHC" => "euc-kr",
            "EUCCN" | "GBK" | "CP936" => "gbk",
            "GB18030" => "gb18030",
            "SJIS" | "SHIFTJIS" | "MSKANJI" => "shift_jis",
            "BIG5" => "big5",
            _ => return ClientEncoding::Unsupported,
        };
        Encoding::for_label(label.as_bytes())
            .map_or(ClientEncoding::Unsupported, ClientEncoding::Other)
    }

    /// Decodes `bytes` as the server will read them.
    pub fn decode<'a>(self, bytes: &'a [u8]) -> Result<Cow<'a, str>, TextError> {
        match self {
            ClientEncoding::Utf8 => std::str::from_utf8(bytes)
                .map(Cow::Borrowed)
                .map_err(|_| TextError::Invalid("UTF8")),
            // The server attaches no meaning to high bytes: neither does the
            // classifier (they can only sit inside identifiers and strings).
            ClientEncoding::SqlAscii => Ok(String::from_utf8_lossy(bytes)),
            ClientEncoding::Latin1 => Ok(match std::str::from_utf8(bytes) {
                Ok(s) if s.is_ascii() => Cow::Borrowed(s),
                _ => Cow::Owned(bytes.iter().map(|&b| char::from(b)).collect()),
            }),
            ClientEncoding::Other(enc) => enc
                .decode_without_bom_handling_and_without_replacement(bytes)
                .ok_or(TextError::Invalid(enc.name())),
            ClientEncoding::Unsupported => Err(TextError::Unsupported),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin1_is_byte_for_byte() {
        let e = ClientEncoding::from_pg_name("LATIN1");
        assert_eq!(e.decode(b"SELECT '\xe9t\xe9'").unwrap(), "SELECT 'été'");
        assert_eq!(e.decode(b"\x80").unwrap(), "\u{80}");
    }

    #[test]
    fn utf8_must_be_valid() {
        let e = ClientEncoding::from_pg_name("UTF8");
        assert!(e.decode(b"SELECT '\xe9'").is_err());
        assert_eq!(e.decode("SELECT 'é'".as_bytes()).unwrap(), "SELECT 'é'");
    }

    #[test]
    fn sjis_quote_byte_inside_a_character_stays_inside() {
        // 0x83 0x5c is one SJIS character whose second byte is '\'.
        let e = ClientEncoding::from_pg_name("SJIS");
        let s = e.decode(b"SELECT '\x83\x5c'").unwrap();
        assert_eq!(s.chars().filter(|&c| c == '\\').count(), 0, "{s}");
        assert!(e.decode(b"SELECT '\x83").is_err());
    }

    #[test]
    fn unknown_encodings_are_refused() {
        assert!(ClientEncoding::from_pg_name("JOHAB").decode(b"x").is_err());
        assert!(ClientEncoding::from_pg_name("MULE_INTERNAL")
            .decode(b"x")
            .is_err());
    }

    #[test]
    fn names_are_normalised() {
        assert_eq!(ClientEncoding::from_pg_name("utf-8"), ClientEncoding::Utf8);
        assert!(matches!(
            ClientEncoding::from_pg_name("win1252"),
            ClientEncoding::Other(_)
        ));
    }
}
