//! The column catalog: which columns hold which classification, keyed the
//! way RowDescription reports columns (table OID + attribute number), so a
//! classified column is masked whatever alias the query gave it.
//!
//! `vigil classify` writes it (JSON or TOML) with the OIDs it resolved
//! *and* the schema, table and column names, so a stale file (a table
//! dropped and recreated gets a new OID) is found by re-running classify.
//! Each entry may name the connection it was made on; a file can hold
//! several connections' entries, and each session uses only its own
//! ([`Catalog::for_connection`]): OIDs mean nothing in another database.

use crate::{Classification, MaskError};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// One classified column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogEntry {
    /// The `[[connections]]` name the OIDs belong to; `None` = every
    /// connection (a hand-written catalog).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection: Option<String>,
    pub schema: String,
    pub table: String,
    pub column: String,
    /// `pg_class.oid` of the table.
    pub table_oid: u32,
    /// `pg_attribute.attnum` of the column (1-based).
    pub attnum: i16,
    /// 1-based position among the table's live columns, as `COPY table TO
    /// STDOUT` and `SELECT *` order them (differs from `attnum` after a
    /// column was dropped); `None` = assume `attnum`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<u16>,
    pub classification: Classification,
    /// How sure the classifier (or the human) is, 0..1.
    #[serde(default = "one")]
    pub confidence: f64,
}

fn one() -> f64 {
    1.0
}

impl CatalogEntry {
    /// An entry for any connection, with full confidence.
    pub fn new(
        schema: &str,
        table: &str,
        column: &str,
        (table_oid, attnum): (u32, i16),
        classification: Classification,
    ) -> CatalogEntry {
        CatalogEntry {
            connection: None,
            schema: schema.to_owned(),
            table: table.to_owned(),
            column: column.to_owned(),
            table_oid,
            attnum,
            position: None,
            classification,
            confidence: 1.0,
        }
    }

    /// Where `COPY table TO STDOUT` puts this column (1-based).
    pub fn copy_position(&self) -> usize {
        match self.position {
            Some(p) => usize::from(p),
            None => usize::try_from(self.attnum).unwrap_or(0),
        }
    }
}

/// The file format: a version and the entries.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    version: u32,
    #[serde(default)]
    columns: Vec<CatalogEntry>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    tables: Vec<TableColumns>,
}

/// Every column of a table that has classified ones, so a statement
/// naming something else (`row_to_json(c)` names the alias `c`) is known
/// to read more than plain columns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableColumns {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection: Option<String>,
    pub schema: String,
    pub table: String,
    pub table_oid: u32,
    /// Live columns in position order.
    pub columns: Vec<String>,
}

/// Classified columns with lookups by OID and by name.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    entries: Vec<CatalogEntry>,
    tables: Vec<TableColumns>,
    by_oid: HashMap<(u32, i16), usize>,
    by_name: HashMap<(String, String, String), usize>,
}

fn name_key(schema: &str, table: &str, column: &str) -> (String, String, String) {
    (schema.to_string(), table.to_string(), column.to_string())
}

impl Catalog {
    /// A catalog from entries; a later entry for the same column wins.
    pub fn new(entries: Vec<CatalogEntry>) -> Catalog {
        let mut c = Catalog::default();
        for e in entries {
            c.insert(e);
        }
        c
    }

    fn insert(&mut self, e: CatalogEntry) {
        let key = name_key(&e.schema, &e.table, &e.column);
        let oid = (e.table_oid, e.attnum);
        let same = |i: &usize| {
            self.entries
                .get(*i)
                .is_some_and(|old| old.connection == e.connection)
        };
        let found = self.by_name.get(&key).filter(|i| same(i));
        let at = match found.or_else(|| self.by_oid.get(&oid).filter(|i| same(i))) {
            Some(&i) => {
                if let Some(slot) = self.entries.get_mut(i) {
                    *slot = e;
                }
                i
            }
            None => {
                self.entries.push(e);
                self.entries.len() - 1
            }
        };
        self.by_oid.insert(oid, at);
        self.by_name.insert(key, at);
    }

    /// Reads the JSON written by [`Catalog::to_json`].
    pub fn from_json(json: &str) -> Result<Catalog, MaskError> {
        let file: CatalogFile =
            serde_json::from_str(json).map_err(|e| MaskError::Catalog(e.to_string()))?;
        Catalog::from_file(file)
    }

    /// Reads the TOML written by [`Catalog::to_toml`].
    pub fn from_toml(text: &str) -> Result<Catalog, MaskError> {
        let file: CatalogFile =
            toml::from_str(text).map_err(|e| MaskError::Catalog(e.to_string()))?;
        Catalog::from_file(file)
    }

    /// TOML when the text looks like TOML (`version = …`), else JSON.
    pub fn parse(text: &str) -> Result<Catalog, MaskError> {
        if text.trim_start().starts_with('{') {
            Catalog::from_json(text)
        } else {
            Catalog::from_toml(text)
        }
    }

    fn from_file(file: CatalogFile) -> Result<Catalog, MaskError> {
        if file.version != 1 {
            return Err(MaskError::Catalog(format!(
                "unsupported catalog version {}",
                file.version
            )));
        }
        if let Some(e) = file
            .columns
            .iter()
            .find(|e| !(0.0..=1.0).contains(&e.confidence))
        {
            return Err(MaskError::Catalog(format!(
                "{}.{}.{}: confidence must be between 0 and 1",
                e.schema, e.table, e.column
            )));
        }
        Ok(Catalog::new(file.columns).with_tables(file.tables))
    }

    /// With the full column lists of the classified tables.
    pub fn with_tables(mut self, tables: Vec<TableColumns>) -> Catalog {
        self.tables = tables;
        self
    }

    /// All columns of a table, when the catalog lists them.
    pub fn known_columns(&self, schema: Option<&str>, table: &str) -> Option<&[String]> {
        self.tables
            .iter()
            .find(|t| t.table == table && schema.is_none_or(|s| t.schema == s))
            .map(|t| t.columns.as_slice())
    }

    fn file(&self) -> CatalogFile {
        CatalogFile {
            version: 1,
            columns: self.entries.clone(),
            tables: self.tables.clone(),
        }
    }

    pub fn to_json(&self) -> Result<String, MaskError> {
        serde_json::to_string_pretty(&self.file()).map_err(|e| MaskError::Catalog(e.to_string()))
    }

    pub fn to_toml(&self) -> Result<String, MaskError> {
        toml::to_string(&self.file()).map_err(|e| MaskError::Catalog(e.to_string()))
    }

    /// The entries that apply on connection `name` (its own and those
    /// naming no connection).
    pub fn for_connection(&self, name: &str) -> Catalog {
        let mine = |c: &Option<String>| c.as_deref().is_none_or(|c| c == name);
        Catalog::new(
            self.entries
                .iter()
                .filter(|e| mine(&e.connection))
                .cloned()
                .collect(),
        )
        .with_tables(
            self.tables
                .iter()
                .filter(|t| mine(&t.connection))
                .cloned()
                .collect(),
        )
    }

    /// This catalog with connection `name`'s entries and tables replaced
    /// (what `vigil classify` does to an existing file).
    pub fn replace_connection(
        &self,
        name: &str,
        entries: Vec<CatalogEntry>,
        tables: Vec<TableColumns>,
    ) -> Catalog {
        let other = |c: &Option<String>| c.as_deref() != Some(name);
        let mut kept: Vec<CatalogEntry> = self
            .entries
            .iter()
            .filter(|e| other(&e.connection))
            .cloned()
            .collect();
        kept.extend(entries);
        let mut kept_tables: Vec<TableColumns> = self
            .tables
            .iter()
            .filter(|t| other(&t.connection))
            .cloned()
            .collect();
        kept_tables.extend(tables);
        Catalog::new(kept).with_tables(kept_tables)
    }

    pub fn tables(&self) -> &[TableColumns] {
        &self.tables
    }

    /// Connection names the entries were made on.
    pub fn connections(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self
            .entries
            .iter()
            .filter_map(|e| e.connection.as_deref())
            .collect();
        names.sort_unstable();
        names.dedup();
        names
    }

    /// Whether the table with this OID has classified columns.
    pub fn has_table_oid(&self, table_oid: u32) -> bool {
        table_oid != 0 && self.entries.iter().any(|e| e.table_oid == table_oid)
    }

    /// The entry for a RowDescription column (`table_oid` 0 = computed).
    pub fn lookup(&self, table_oid: u32, attnum: i16) -> Option<&CatalogEntry> {
        if table_oid == 0 {
            return None;
        }
        self.by_oid
            .get(&(table_oid, attnum))
            .and_then(|&i| self.entries.get(i))
    }

    pub fn lookup_name(&self, schema: &str, table: &str, column: &str) -> Option<&CatalogEntry> {
        self.by_name
            .get(&name_key(schema, table, column))
            .and_then(|&i| self.entries.get(i))
    }

    /// Classified columns of a table (by name; `schema` None = any schema).
    pub fn table_columns<'a>(
        &'a self,
        schema: Option<&'a str>,
        table: &'a str,
    ) -> impl Iterator<Item = &'a CatalogEntry> + 'a {
        self.entries
            .iter()
            .filter(move |e| e.table == table && schema.is_none_or(|s| e.schema == s))
    }

    pub fn entries(&self) -> &[CatalogEntry] {
        &self.entries
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(column: &str, attnum: i16, class: Classification) -> CatalogEntry {
        let mut e = CatalogEntry::new("public", "customers", column, (16400, attnum), class);
        e.confidence = 0.9;
        e
    }

    #[test]
    fn json_round_trip_and_lookups() {
        let c = Catalog::new(vec![
            entry("email", 3, Classification::EMAIL_ADDRESS),
            entry("ssn", 5, Classification::US_SSN),
        ]);
        let back = Catalog::from_json(&c.to_json().unwrap()).unwrap();
        assert_eq!(back.entries(), c.entries());
        let e = back.lookup(16400, 3).unwrap();
        assert_eq!(e.classification, Classification::EMAIL_ADDRESS);
        assert!(back.lookup(0, 3).is_none());
        assert!(back.lookup(16400, 4).is_none());
        assert_eq!(
            back.lookup_name("public", "customers", "ssn")
                .unwrap()
                .attnum,
            5
        );
        assert_eq!(back.table_columns(None, "customers").count(), 2);
    }

    #[test]
    fn toml_round_trip_and_connections() {
        let mut a = entry("email", 3, Classification::EMAIL_ADDRESS);
        a.connection = Some("prod".into());
        a.position = Some(2);
        let mut b = entry("ssn", 5, Classification::US_SSN);
        b.connection = Some("dev".into());
        b.table_oid = 20000;
        let any = entry("phone", 4, Classification::PHONE_NUMBER);
        let table = TableColumns {
            connection: Some("prod".into()),
            schema: "public".into(),
            table: "customers".into(),
            table_oid: 16400,
            columns: vec!["id".into(), "email".into()],
        };
        let c = Catalog::new(vec![a.clone(), b, any]).with_tables(vec![table]);
        let text = c.to_toml().unwrap();
        assert!(text.contains("confidence = 0.9"), "{text}");
        let back = Catalog::parse(&text).unwrap();
        assert_eq!(back.entries(), c.entries());
        assert_eq!(
            Catalog::parse(&c.to_json().unwrap()).unwrap().entries(),
            c.entries()
        );
        let prod = back.for_connection("prod");
        assert_eq!(prod.entries().len(), 2);
        assert_eq!(prod.lookup(16400, 3).unwrap().copy_position(), 2);
        assert!(prod.lookup(20000, 5).is_none());
        assert_eq!(back.connections(), vec!["dev", "prod"]);
        let replaced = back.replace_connection("prod", vec![], vec![]);
        assert_eq!(replaced.for_connection("prod").entries().len(), 1);
        assert!(replaced.has_table_oid(20000) && !replaced.has_table_oid(0));
    }

    #[test]
    fn bad_files_are_rejected() {
        assert!(Catalog::from_json("{\"version\":2,\"columns\":[]}").is_err());
        assert!(Catalog::from_json("{\"version\":1,\"columns\":[],\"x\":1}").is_err());
        let bad = r#"{"version":1,"columns":[{"schema":"s","table":"t","column":"c",
            "table_oid":1,"attnum":1,"classification":"X","confidence":2}]}"#;
        assert!(Catalog::from_json(bad).is_err());
    }
}
