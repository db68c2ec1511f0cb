//! Row layouts: what each DataRow's columns are (source table OID and
//! attribute number, type, text or binary), learned from RowDescription.
//!
//! A simple Query's rows follow their own RowDescription. Extended-protocol
//! rows may not: a client can Describe a statement once (asyncpg,
//! tokio-postgres) and later Bind it with binary result formats and Execute
//! it without any RowDescription, so a portal's layout is the statement's
//! description with the Bind's result-format codes applied.

use bytes::Bytes;
use vigil_pgwire::cursor::Cursor;
use vigil_pgwire::CodecError;

/// One result column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// The source table's OID, or 0 for a computed column.
    pub table_oid: u32,
    /// The column's attribute number in that table, or 0.
    pub attnum: i16,
    pub type_oid: u32,
    pub type_size: i16,
    pub type_modifier: i32,
    /// 0 = text, 1 = binary: the format the rows really use.
    pub format: i16,
    /// Byte range of the column name inside the description.
    name: (u32, u32),
}

impl Column {
    pub fn is_binary(&self) -> bool {
        self.format == 1
    }
}

static UNKNOWN: RowLayout = RowLayout {
    id: 0,
    description: Bytes::new(),
    result_formats: None,
    columns: Vec::new(),
};

/// The layout of the rows of one result (or of every Execute of a portal).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowLayout {
    id: u64,
    description: Bytes,
    result_formats: Option<Vec<i16>>,
    columns: Vec<Column>,
}

impl RowLayout {
    /// The layout a hook sees when layouts are not tracked
    /// ([`ResponseHook::wants_layouts`](crate::respond::ResponseHook::wants_layouts)
    /// is false): no columns, id 0.
    pub fn unknown() -> &'static RowLayout {
        &UNKNOWN
    }

    /// Parses a RowDescription body. `id` must be unique in the session.
    pub fn parse(id: u64, description: Bytes) -> Result<RowLayout, CodecError> {
        let mut c = Cursor::new(&description, "RowDescription");
        let n = c.count16()?;
        let mut columns = Vec::with_capacity(n);
        for _ in 0..n {
            let start = c.position();
            let name = c.cbytes()?;
            let name = (start as u32, (start + name.len()) as u32);
            columns.push(Column {
                name,
                table_oid: c.i32()? as u32,
                attnum: c.i16()?,
                type_oid: c.i32()? as u32,
                type_size: c.i16()?,
                type_modifier: c.i32()?,
                format: format_code(c.i16()?)?,
            });
        }
        c.finish()?;
        Ok(RowLayout {
            id,
            description,
            result_formats: None,
            columns,
        })
    }

    /// This (statement) description with a Bind's result-format codes
    /// applied: none = all text, one = for every column, else one per
    /// column. `None` when the codes do not fit (the server refuses such
    /// a Bind, so no rows can follow).
    pub fn with_formats(&self, id: u64, codes: &[i16]) -> Option<RowLayout> {
        let n = self.columns.len();
        let mut columns = self.columns.clone();
        for (i, col) in columns.iter_mut().enumerate() {
            let code = match codes {
                [] => 0,
                [one] => *one,
                all if all.len() == n => all.get(i).copied()?,
                _ => return None,
            };
            col.format = format_code(code).ok()?;
        }
        Some(RowLayout {
            id,
            description: self.description.clone(),
            result_formats: Some(codes.to_vec()),
            columns,
        })
    }

    /// Unique in the session (0 only for [`RowLayout::unknown`]): a hook can
    /// cache per-layout work (a masking plan) under it. Every Execute of a
    /// portal shares its portal's id.
    pub fn id(&self) -> u64 {
        self.id
    }

    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    pub fn is_known(&self) -> bool {
        self.id != 0
    }

    /// The column's name as the server sent it (client encoding).
    pub fn column_name(&self, i: usize) -> Option<&[u8]> {
        let (a, b) = self.columns.get(i)?.name;
        self.description.get(a as usize..b as usize)
    }

    /// The RowDescription body as the server sent it. When the layout came
    /// from a statement Describe, its format codes are all 0 and
    /// [`RowLayout::result_formats`] holds the Bind's codes.
    pub fn description(&self) -> &[u8] {
        &self.description
    }

    /// The Bind's result-format codes when they, not the description's own
    /// codes, apply (same convention as Bind: empty = all text, one = all).
    pub fn result_formats(&self) -> Option<&[i16]> {
        self.result_formats.as_deref()
    }
}

fn format_code(code: i16) -> Result<i16, CodecError> {
    match code {
        0 | 1 => Ok(code),
        _ => Err(CodecError::Malformed {
            message: "RowDescription",
            problem: "unknown format code",
        }),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A RowDescription body: (name, table oid, attnum, type oid, format).
    pub(crate) fn description(cols: &[(&str, u32, i16, u32, i16)]) -> Bytes {
        let mut b = Vec::new();
        b.extend_from_slice(&(cols.len() as i16).to_be_bytes());
        for (name, table, att, ty, fmt) in cols {
            b.extend_from_slice(name.as_bytes());
            b.push(0);
            b.extend_from_slice(&table.to_be_bytes());
            b.extend_from_slice(&att.to_be_bytes());
            b.extend_from_slice(&ty.to_be_bytes());
            b.extend_from_slice(&(-1i16).to_be_bytes());
            b.extend_from_slice(&(-1i32).to_be_bytes());
            b.extend_from_slice(&fmt.to_be_bytes());
        }
        Bytes::from(b)
    }

    #[test]
    fn parses_columns_and_names() {
        let d = description(&[("id", 16384, 1, 23, 0), ("email", 16384, 2, 25, 1)]);
        let l = RowLayout::parse(7, d).unwrap();
        assert_eq!(l.id(), 7);
        assert_eq!(l.columns().len(), 2);
        assert_eq!(l.column_name(1), Some(&b"email"[..]));
        let c = l.columns()[1];
        assert_eq!((c.table_oid, c.attnum, c.type_oid), (16384, 2, 25));
        assert!(c.is_binary());
        assert_eq!(l.result_formats(), None);
    }

    #[test]
    fn bind_formats_apply_like_the_server_applies_them() {
        let d = description(&[("a", 1, 1, 23, 0), ("b", 1, 2, 25, 0)]);
        let l = RowLayout::parse(1, d).unwrap();
        let all_bin = l.with_formats(2, &[1]).unwrap();
        assert!(all_bin.columns().iter().all(Column::is_binary));
        assert_eq!(all_bin.result_formats(), Some(&[1][..]));
        let mixed = l.with_formats(3, &[0, 1]).unwrap();
        assert_eq!(mixed.columns()[0].format, 0);
        assert_eq!(mixed.columns()[1].format, 1);
        assert!(l.with_formats(4, &[]).unwrap().columns()[1].format == 0);
        assert!(l.with_formats(5, &[0, 1, 1]).is_none());
        assert!(l.with_formats(6, &[2]).is_none());
    }

    #[test]
    fn malformed_descriptions_fail() {
        let d = description(&[("a", 1, 1, 23, 0)]);
        for cut in 0..d.len() {
            assert!(RowLayout::parse(1, d.slice(..cut)).is_err(), "cut {cut}");
        }
        let bad = description(&[("a", 1, 1, 23, 7)]);
        assert!(RowLayout::parse(1, bad).is_err());
    }
}
