//! Masking one text value in the client's encoding: the step every wire
//! masker shares.
//!
//! UTF-8 and the ASCII-safe encodings (single-byte, EUC-JP) are scanned as
//! bytes: an ASCII byte there is always that ASCII character. In SJIS,
//! BIG5, GBK, GB18030 and UHC a trail byte can be `@`, a letter or `\`, so
//! those values are decoded to UTF-8, masked, and encoded back; a value
//! that does not survive the round trip fails closed.

use crate::detect::{Detectors, Span};
use crate::rules::MaskRules;
use crate::stats::RowTally;
use crate::strategy::{render, Strategy};
use crate::{Classification, MaskError};
use encoding_rs::Encoding;
use std::borrow::Cow;
use vigil_pgwire::text::ClientEncoding;

/// What happened to a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Masked {
    Unchanged,
    Text(Vec<u8>),
    Null,
}

/// How values of the session's encoding are scanned.
#[derive(Debug, Clone, Copy)]
enum Codec {
    Bytes,
    Transcode(&'static Encoding),
}

fn codec(enc: ClientEncoding) -> Result<Codec, MaskError> {
    Ok(match enc {
        ClientEncoding::Utf8 | ClientEncoding::SqlAscii | ClientEncoding::Latin1 => Codec::Bytes,
        ClientEncoding::Other(e) if embeds_ascii(e) => Codec::Transcode(e),
        ClientEncoding::Other(_) => Codec::Bytes,
        ClientEncoding::Unsupported => return Err(MaskError::UnsupportedEncoding),
    })
}

/// Encodings whose multi-byte characters can contain ASCII bytes.
fn embeds_ascii(e: &'static Encoding) -> bool {
    [
        encoding_rs::SHIFT_JIS,
        encoding_rs::BIG5,
        encoding_rs::GBK,
        encoding_rs::GB18030,
        encoding_rs::EUC_KR,
    ]
    .contains(&e)
}

/// Detectors plus rules, ready to mask values of one session.
#[derive(Debug)]
pub(crate) struct ValueMasker {
    det: &'static Detectors,
    codec: Codec,
    spans: Vec<Span>,
}

impl ValueMasker {
    pub(crate) fn new(rules: &MaskRules) -> Result<ValueMasker, MaskError> {
        Ok(ValueMasker {
            det: Detectors::global()?,
            codec: codec(rules.encoding())?,
            spans: Vec::new(),
        })
    }

    /// Masks what the detectors find in `value`. `may_null`: the value is a
    /// whole SQL value, so a `null` strategy covering all of it may null it.
    pub(crate) fn scan(
        &mut self,
        value: &[u8],
        may_null: bool,
        rules: &MaskRules,
        tally: &mut RowTally,
    ) -> Result<Masked, MaskError> {
        let enc = match self.codec {
            Codec::Transcode(e) if !value.is_ascii() => e,
            _ => {
                self.det.find_into(value, &mut self.spans);
                return apply(value, &self.spans, may_null, rules, tally);
            }
        };
        let text = decode(enc, value)?;
        self.det.find_into(text.as_bytes(), &mut self.spans);
        match apply(text.as_bytes(), &self.spans, may_null, rules, tally)? {
            Masked::Text(utf8) => Ok(Masked::Text(encode(enc, &utf8)?)),
            other => Ok(other),
        }
    }

    /// Replaces a classified value wholesale (`json`: keep it valid JSON).
    pub(crate) fn whole(
        &self,
        value: &[u8],
        class: &Classification,
        strategy: Strategy,
        json: bool,
        rules: &MaskRules,
        tally: &mut RowTally,
    ) -> Result<Masked, MaskError> {
        match strategy {
            Strategy::Refuse => return Err(MaskError::Refused(class.to_string())),
            Strategy::Null => {
                tally.add(class);
                return Ok(Masked::Null);
            }
            _ => {}
        }
        let plain: Cow<[u8]> = match self.codec {
            Codec::Transcode(e) if strategy == Strategy::Hash && !value.is_ascii() => {
                Cow::Owned(decode(e, value)?.into_owned().into_bytes())
            }
            _ => Cow::Borrowed(value),
        };
        let mut out = Vec::with_capacity(24);
        if json {
            out.push(b'"');
        }
        render(strategy, class, &plain, rules.key(), &mut out);
        if json {
            out.push(b'"');
        }
        tally.add(class);
        Ok(Masked::Text(out))
    }

    /// A masker for text already transcoded to UTF-8 by [`Self::to_utf8`].
    pub(crate) fn utf8(&self) -> ValueMasker {
        ValueMasker {
            det: self.det,
            codec: Codec::Bytes,
            spans: Vec::new(),
        }
    }

    /// A whole line (COPY) in a form where ASCII bytes are characters.
    pub(crate) fn to_utf8<'a>(&self, line: &'a [u8]) -> Result<Cow<'a, [u8]>, MaskError> {
        match self.codec {
            Codec::Transcode(e) if !line.is_ascii() => {
                Ok(Cow::Owned(decode(e, line)?.into_owned().into_bytes()))
            }
            _ => Ok(Cow::Borrowed(line)),
        }
    }

    /// Back from [`Self::to_utf8`] to the client encoding.
    pub(crate) fn to_client(&self, text: Vec<u8>) -> Result<Vec<u8>, MaskError> {
        match self.codec {
            Codec::Transcode(e) if !text.is_ascii() => encode(e, &text),
            _ => Ok(text),
        }
    }

    /// Whether `value` is text in the session's encoding.
    pub(crate) fn is_text(&self, value: &[u8]) -> bool {
        match self.codec {
            Codec::Transcode(e) => e
                .decode_without_bom_handling_and_without_replacement(value)
                .is_some(),
            Codec::Bytes => std::str::from_utf8(value).is_ok(),
        }
    }

    /// Whether any detector fires on raw bytes (used for binary values
    /// Vigil cannot re-encode: a hit there fails closed).
    pub(crate) fn any_hit(&mut self, value: &[u8]) -> bool {
        self.det.find_into(value, &mut self.spans);
        !self.spans.is_empty()
    }
}

fn decode<'a>(enc: &'static Encoding, value: &'a [u8]) -> Result<Cow<'a, str>, MaskError> {
    enc.decode_without_bom_handling_and_without_replacement(value)
        .ok_or(MaskError::Encoding(enc.name()))
}

fn encode(enc: &'static Encoding, utf8: &[u8]) -> Result<Vec<u8>, MaskError> {
    let s = std::str::from_utf8(utf8).map_err(|_| MaskError::Encoding(enc.name()))?;
    let (bytes, _, unmappable) = enc.encode(s);
    if unmappable {
        return Err(MaskError::Encoding(enc.name()));
    }
    Ok(bytes.into_owned())
}

/// Replaces each span by its strategy's rendering.
fn apply(
    text: &[u8],
    spans: &[Span],
    may_null: bool,
    rules: &MaskRules,
    tally: &mut RowTally,
) -> Result<Masked, MaskError> {
    let mut out: Vec<u8> = Vec::new();
    let mut last = 0;
    for s in spans {
        let class = s.kind.classification();
        let strategy = rules.for_kind(s.kind);
        match strategy {
            Strategy::Reveal => continue,
            Strategy::Refuse => return Err(MaskError::Refused(class.to_string())),
            Strategy::Null if may_null && s.start == 0 && s.end == text.len() => {
                tally.add(&class);
                return Ok(Masked::Null);
            }
            _ => {}
        }
        if out.capacity() == 0 {
            out.reserve(text.len() + 16);
        }
        out.extend_from_slice(text.get(last..s.start).unwrap_or_default());
        let value = text.get(s.start..s.end).unwrap_or_default();
        render(strategy, &class, value, rules.key(), &mut out);
        tally.add(&class);
        last = s.end;
    }
    if last == 0 && out.is_empty() {
        return Ok(Masked::Unchanged);
    }
    out.extend_from_slice(text.get(last..).unwrap_or_default());
    Ok(Masked::Text(out))
}
