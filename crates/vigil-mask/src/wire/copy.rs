//! COPY … TO STDOUT: CopyData masking for text, CSV and binary formats.
//!
//! Rows may be split across CopyData messages (PostgreSQL sends one row per
//! message, but nothing in the protocol promises it), so a partial row is
//! held back until it completes and [`CopyMasker::finish`] fails if one is
//! left over. Only whole rows are ever forwarded.

use super::copy_text::Rows;
use super::{copy_binary, copy_text, put_frame, Outcome};
use crate::catalog::CatalogEntry;
use crate::rules::MaskRules;
use crate::stats::MaskStats;
use crate::strategy::Strategy;
use crate::text::ValueMasker;
use crate::{Classification, MaskError};
use bytes::BytesMut;
use vigil_pgwire::cursor::Cursor;

/// The textual dialect of a COPY, from the COPY statement's options
/// (CopyOutResponse only says "textual" or "binary").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyFormat {
    Text {
        delimiter: u8,
    },
    Csv {
        delimiter: u8,
        quote: u8,
        escape: u8,
    },
    Binary,
}

impl CopyFormat {
    /// `FORMAT text` with its default tab delimiter.
    pub const TEXT: CopyFormat = CopyFormat::Text { delimiter: b'\t' };
    /// `FORMAT csv` with its defaults.
    pub const CSV: CopyFormat = CopyFormat::Csv {
        delimiter: b',',
        quote: b'"',
        escape: b'"',
    };
}

/// The mask for one copied column, when the copied table is known.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnMask {
    pub class: Classification,
    pub strategy: Strategy,
}

impl ColumnMask {
    pub fn from_entry(e: &CatalogEntry, rules: &MaskRules) -> ColumnMask {
        ColumnMask {
            class: e.classification.clone(),
            strategy: rules.for_column(&e.schema, &e.table, &e.column, &e.classification),
        }
    }
}

/// Masks one COPY OUT stream.
#[derive(Debug)]
pub struct CopyMasker {
    format: CopyFormat,
    columns: Vec<Option<ColumnMask>>,
    rules: MaskRules,
    pending: Vec<u8>,
    resume: copy_text::Resume,
    binary: copy_binary::State,
    /// Reused output buffer.
    scratch: Vec<u8>,
    /// The first textual row is a header line still to come.
    header: bool,
}

impl CopyMasker {
    /// `copy_out_response`: the CopyOutResponse body. `textual`: the dialect
    /// to use when the response says textual. `columns`: per-column masks
    /// when known (empty when not, e.g. `COPY (query) TO STDOUT`).
    pub fn new(
        copy_out_response: &[u8],
        textual: CopyFormat,
        columns: Vec<Option<ColumnMask>>,
        rules: &MaskRules,
    ) -> Result<CopyMasker, MaskError> {
        let mut c = Cursor::new(copy_out_response, "CopyOutResponse");
        let overall = c.u8()?;
        let n = c.count16()?;
        for _ in 0..n {
            c.i16()?;
        }
        c.finish()?;
        let format = match (overall, textual) {
            (1, _) => CopyFormat::Binary,
            (0, CopyFormat::Binary) => {
                return Err(MaskError::malformed(
                    "CopyOutResponse",
                    "textual, expected binary",
                ))
            }
            (0, t) => t,
            _ => return Err(MaskError::malformed("CopyOutResponse", "unknown format")),
        };
        if !columns.is_empty() && columns.len() != n {
            return Err(MaskError::malformed(
                "CopyOutResponse",
                "column count differs",
            ));
        }
        Ok(CopyMasker {
            format,
            columns,
            rules: rules.clone(),
            pending: Vec::new(),
            resume: copy_text::Resume::default(),
            binary: copy_binary::State::default(),
            scratch: Vec::new(),
            header: false,
        })
    }

    /// The stream starts with a header line (`COPY … (HEADER)` in text or
    /// CSV): column names, not values of the classified columns.
    pub fn with_header(mut self, header: bool) -> CopyMasker {
        self.header = header && self.format != CopyFormat::Binary;
        self
    }

    /// Masks one CopyData body. `Unchanged`: forward the original frame;
    /// `Rewritten`: forward what was appended to `out` (nothing while a row
    /// is incomplete).
    pub fn mask_copy_data(
        &mut self,
        body: &[u8],
        stats: &mut MaskStats,
        out: &mut BytesMut,
    ) -> Result<Outcome, MaskError> {
        let mut buf = std::mem::take(&mut self.pending);
        let had_pending = !buf.is_empty();
        if had_pending {
            buf.extend_from_slice(body);
        }
        let data: &[u8] = if had_pending { &buf } else { body };
        let mut vm = ValueMasker::new(&self.rules)?;
        let mut masked = std::mem::take(&mut self.scratch);
        masked.clear();
        let (used, changed) = match self.format {
            CopyFormat::Binary => self.binary.process(
                data,
                &self.columns,
                &self.rules,
                &mut vm,
                stats,
                &mut masked,
            )?,
            format => {
                let mut rows = Rows {
                    format,
                    columns: &self.columns,
                    rules: &self.rules,
                    header: &mut self.header,
                };
                copy_text::process(
                    data,
                    &mut rows,
                    &mut self.resume,
                    &mut vm,
                    stats,
                    &mut masked,
                )?
            }
        };
        if !had_pending && !changed && used == body.len() {
            self.scratch = masked;
            return Ok(Outcome::Unchanged);
        }
        if !changed && self.format != CopyFormat::Binary {
            // Text rows are written lazily: the consumed ones, unchanged.
            masked.extend_from_slice(data.get(..used).unwrap_or_default());
        }
        // Keep the incomplete rest; when nothing was consumed, keep the
        // buffer itself (no copy per message for a row arriving in pieces).
        self.pending = if had_pending {
            buf.drain(..used.min(buf.len()));
            buf
        } else {
            body.get(used..).unwrap_or_default().to_vec()
        };
        if !masked.is_empty() {
            put_frame(out, b'd', &masked)?;
        }
        self.scratch = masked;
        Ok(Outcome::Rewritten)
    }

    /// At CopyDone: fails if a row was left incomplete (its bytes were
    /// never forwarded, and must not be).
    pub fn finish(&mut self) -> Result<(), MaskError> {
        if !self.pending.is_empty() {
            return Err(MaskError::PartialCopyRow {
                pending: self.pending.len(),
            });
        }
        if self.format == CopyFormat::Binary {
            self.binary.finish()?;
        }
        Ok(())
    }
}
