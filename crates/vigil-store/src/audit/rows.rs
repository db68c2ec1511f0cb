//! SQL for audit rows, and the mapping between rows and records. Queries
//! are built with `$n` placeholders (they run unchanged on SQLite and
//! PostgreSQL) by [`Sql`], which numbers them as conditions are added.

use super::index::IndexFields;
use super::journal::Row as JRow;
use crate::Backend;
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::{Query, QueryAs};
use sqlx::{Any, AnyConnection, FromRow, Row};
use vigil_audit::{Checkpoint, Record};

/// Every column of `audit_records`, in the order [`decode_record`] reads.
pub(crate) const RECORD_COLUMNS: &str = "chain_id, seq, ts_ms, schema_version, event_type, event, \
     prev_hash, hash, session_id, user_sub, user_email, connection_name, verdict, table_names, \
     sql_text, masked";

pub(crate) const CHECKPOINT_COLUMNS: &str =
    "chain_id, seq, head_hash, ts_ms, public_key_id, signature";

/// A value bound to a placeholder.
#[derive(Debug, Clone)]
enum Arg {
    Int(i64),
    Text(String),
}

/// A query under construction: text plus its bound values, in order.
#[derive(Debug, Clone)]
pub(crate) struct Sql {
    text: String,
    args: Vec<Arg>,
    has_where: bool,
}

impl Sql {
    pub fn new(base: &str) -> Sql {
        Sql {
            text: base.to_owned(),
            args: Vec::new(),
            has_where: false,
        }
    }

    /// Binds an integer; returns its placeholder.
    pub fn int(&mut self, v: i64) -> String {
        self.args.push(Arg::Int(v));
        format!("${}", self.args.len())
    }

    /// Binds a text value; returns its placeholder.
    pub fn text(&mut self, v: impl Into<String>) -> String {
        self.args.push(Arg::Text(v.into()));
        format!("${}", self.args.len())
    }

    /// Appends `AND cond` (or `WHERE cond` the first time).
    pub fn and(&mut self, cond: &str) {
        self.text
            .push_str(if self.has_where { " AND " } else { " WHERE " });
        self.text.push_str(cond);
        self.has_where = true;
    }

    /// Appends raw text (ORDER BY, LIMIT …).
    pub fn push(&mut self, tail: &str) {
        self.text.push(' ');
        self.text.push_str(tail);
    }

    pub fn query(&self) -> Query<'_, Any, AnyArguments<'_>> {
        let mut q = sqlx::query(&self.text);
        for a in &self.args {
            q = match a {
                Arg::Int(i) => q.bind(*i),
                Arg::Text(s) => q.bind(s.as_str()),
            };
        }
        q
    }
}

impl Sql {
    pub fn query_as<T>(&self) -> QueryAs<'_, Any, T, AnyArguments<'_>>
    where
        T: for<'r> FromRow<'r, AnyRow>,
    {
        let mut q = sqlx::query_as(&self.text);
        for a in &self.args {
            q = match a {
                Arg::Int(i) => q.bind(*i),
                Arg::Text(s) => q.bind(s.as_str()),
            };
        }
        q
    }
}

/// Columns per record row.
const RECORD_PARAMS: usize = 16;
/// Records per INSERT: a whole default batch (256) in one statement instead
/// of 256 round trips (4096 parameters, below SQLite's 32766 and
/// PostgreSQL's 65535).
pub(crate) const ROWS_PER_INSERT: usize = 256;

/// Inserts records with their index columns, several rows per statement.
/// With `skip_present`, a row whose (chain, seq) is already stored is left
/// as it is (replaying a journal twice is harmless; verify judges content).
pub(crate) async fn insert_rows(
    conn: &mut AnyConnection,
    backend: Backend,
    rows: &[&JRow],
    skip_present: bool,
) -> Result<(), sqlx::Error> {
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let sql = insert_sql(chunk.len(), backend, skip_present);
        let mut q = sqlx::query(&sql);
        for s in chunk {
            let (r, idx) = (&s.link, &s.index);
            q = q
                .bind(r.chain_id.as_str())
                .bind(to_i64(r.seq))
                .bind(r.ts_ms)
                .bind(i64::from(r.schema_version))
                .bind(r.event_type.as_str())
                .bind(r.event_text.as_str())
                .bind(r.prev_hash.as_str())
                .bind(r.hash.as_str())
                .bind(idx.session_id)
                .bind(idx.user_sub.as_deref())
                .bind(idx.user_email.as_deref())
                .bind(idx.connection.as_deref())
                .bind(idx.verdict.as_deref())
                .bind(idx.tables.as_deref())
                .bind(idx.sql.as_deref())
                .bind(idx.masked.as_deref());
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// `INSERT … VALUES ($1, …, $16), ($17, …)` for `rows` rows. SQLite gets
/// anonymous `?` placeholders instead: sqlx looks up every numbered
/// parameter's name, and SQLite finds a name by a linear scan, which made
/// binding a 1024-parameter insert quadratic (the top of the profile).
fn insert_sql(rows: usize, backend: Backend, skip_present: bool) -> String {
    let mut sql = format!("INSERT INTO audit_records ({RECORD_COLUMNS}) VALUES ");
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for col in 0..RECORD_PARAMS {
            if col > 0 {
                sql.push_str(", ");
            }
            match backend {
                Backend::Sqlite => sql.push('?'),
                Backend::Postgres => sql.push_str(&format!("${}", row * RECORD_PARAMS + col + 1)),
            }
        }
        sql.push(')');
    }
    if skip_present {
        sql.push_str(" ON CONFLICT (chain_id, seq) DO NOTHING");
    }
    sql
}

pub(crate) async fn insert_checkpoint(
    conn: &mut AnyConnection,
    cp: &Checkpoint,
    skip_present: bool,
) -> Result<(), sqlx::Error> {
    let sql = if skip_present {
        "INSERT INTO audit_checkpoints (chain_id, seq, head_hash, ts_ms, public_key_id, signature) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (chain_id, seq) DO NOTHING"
    } else {
        "INSERT INTO audit_checkpoints (chain_id, seq, head_hash, ts_ms, public_key_id, signature) \
         VALUES ($1, $2, $3, $4, $5, $6)"
    };
    sqlx::query(sql)
        .bind(cp.chain_id.as_str())
        .bind(to_i64(cp.seq))
        .bind(cp.head_hash.as_str())
        .bind(cp.ts_ms)
        .bind(cp.public_key_id.as_str())
        .bind(cp.signature.as_str())
        .execute(conn)
        .await?;
    Ok(())
}

/// A row as read back: the record, or why its content is unreadable (an
/// edited row), plus the stored index columns.
pub(crate) struct StoredRow {
    pub chain_id: String,
    pub seq: u64,
    pub record: Result<Record, String>,
    pub index: IndexFields,
}

/// Reads a row selected with [`RECORD_COLUMNS`]. Only an unreadable
/// chain id or seq is an error; anything else wrong with the row (a value
/// of the wrong type, an event that is not JSON: a hand edit) becomes the
/// row's `record` error, so verify can name the record.
pub(crate) fn decode_record(row: &AnyRow) -> Result<StoredRow, sqlx::Error> {
    let chain_id: String = row.try_get(0)?;
    let seq = to_u64(row.try_get(1)?);
    let (record, index) = match decode_rest(row, &chain_id, seq) {
        Ok((record, index)) => (record, index),
        Err(e) => (Err(format!("unreadable row: {e}")), IndexFields::default()),
    };
    Ok(StoredRow {
        chain_id,
        seq,
        record,
        index,
    })
}

type Decoded = (Result<Record, String>, IndexFields);

fn decode_rest(row: &AnyRow, chain_id: &str, seq: u64) -> Result<Decoded, sqlx::Error> {
    let event_text: String = row.try_get(5)?;
    let index = IndexFields {
        session_id: row.try_get(8)?,
        user_sub: row.try_get(9)?,
        user_email: row.try_get(10)?,
        connection: row.try_get(11)?,
        verdict: row.try_get(12)?,
        tables: row.try_get(13)?,
        sql: row.try_get(14)?,
        masked: row.try_get(15)?,
    };
    let schema_version: i64 = row.try_get(3)?;
    let record = match serde_json::from_str(&event_text) {
        Ok(event) => Ok(Record {
            schema_version: u32::try_from(schema_version).unwrap_or(u32::MAX),
            chain_id: chain_id.to_owned(),
            seq,
            ts_ms: row.try_get(2)?,
            event_type: row.try_get(4)?,
            event,
            prev_hash: row.try_get(6)?,
            hash: row.try_get(7)?,
        }),
        Err(e) => Err(format!("the stored event is not JSON: {e}")),
    };
    Ok((record, index))
}

/// Reads a row selected with [`CHECKPOINT_COLUMNS`].
pub(crate) fn decode_checkpoint(row: &AnyRow) -> Result<Checkpoint, sqlx::Error> {
    Ok(Checkpoint {
        chain_id: row.try_get(0)?,
        seq: to_u64(row.try_get(1)?),
        head_hash: row.try_get(2)?,
        ts_ms: row.try_get(3)?,
        public_key_id: row.try_get(4)?,
        signature: row.try_get(5)?,
    })
}

/// Seqs are positive and far below 2^63; saturate rather than wrap.
pub(crate) fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// A negative seq can only be a hand edit: map it far out of range so the
/// verifier reports it instead of silently accepting a wrapped value.
pub(crate) fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_row_insert_numbers_every_placeholder() {
        assert_eq!(
            insert_sql(3, Backend::Sqlite, false).matches('?').count(),
            48
        );
        let sql = insert_sql(2, Backend::Postgres, false);
        assert!(sql.ends_with(
            "($17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31, $32)"
        ));
        assert_eq!(sql.matches('$').count(), 32);
        assert_eq!(RECORD_COLUMNS.split(',').count(), RECORD_PARAMS);
    }
}
