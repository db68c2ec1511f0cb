//! The mutable record one statement's analysis fills in: tables with their
//! access, functions and risk flags, deduplicated as they arrive.

use vigil_core::{FlagId, RiskFlag, TableAccess, TableRef};

/// What has been learned about one statement so far.
#[derive(Debug, Default)]
pub(crate) struct Facts {
    pub tables: Vec<TableRef>,
    pub functions: Vec<String>,
    pub flags: Vec<RiskFlag>,
}

impl Facts {
    /// Records a risk unless the same id and detail is already there.
    pub fn flag(&mut self, id: FlagId, detail: impl Into<String>) {
        let detail = detail.into();
        if !self.flags.iter().any(|f| f.id == id && f.detail == detail) {
            self.flags.push(RiskFlag { id, detail });
        }
    }

    /// Records a function name once.
    pub fn function(&mut self, name: String) {
        if !self.functions.contains(&name) {
            self.functions.push(name);
        }
    }

    /// Records one access to a table, merging with earlier mentions.
    pub fn table(&mut self, schema: Option<&str>, name: &str, access: TableAccess) -> usize {
        let idx = self.table_index(schema, name);
        if let Some(t) = self.tables.get_mut(idx) {
            if !t.access.contains(&access) {
                t.access.push(access);
                t.access.sort();
            }
        }
        idx
    }

    /// Records a column of the table at `idx` (from [`Facts::table`]).
    pub fn column(&mut self, idx: usize, column: &str) {
        if let Some(t) = self.tables.get_mut(idx) {
            if !t.columns.iter().any(|c| c == column) {
                t.columns.push(column.to_string());
            }
        }
    }

    /// Absorbs another statement's facts (used for PREPARE's inner
    /// statement, SQL function bodies and message-level merging).
    pub fn absorb(&mut self, other: Facts) {
        for t in other.tables {
            merge_table(&mut self.tables, t);
        }
        for f in other.functions {
            self.function(f);
        }
        for f in other.flags {
            self.flag(f.id, f.detail);
        }
    }

    fn table_index(&mut self, schema: Option<&str>, name: &str) -> usize {
        let found = self
            .tables
            .iter()
            .position(|t| t.name == name && t.schema.as_deref() == schema);
        match found {
            Some(i) => i,
            None => {
                self.tables.push(TableRef {
                    schema: schema.map(str::to_string),
                    name: name.to_string(),
                    access: Vec::new(),
                    columns: Vec::new(),
                });
                self.tables.len().saturating_sub(1)
            }
        }
    }
}

/// Merges `t` into `tables` by (schema, name), uniting access and columns.
pub(crate) fn merge_table(tables: &mut Vec<TableRef>, t: TableRef) {
    let existing = tables
        .iter_mut()
        .find(|x| x.name == t.name && x.schema == t.schema);
    match existing {
        Some(x) => {
            for a in t.access {
                if !x.access.contains(&a) {
                    x.access.push(a);
                }
            }
            x.access.sort();
            for c in t.columns {
                if !x.columns.contains(&c) {
                    x.columns.push(c);
                }
            }
        }
        None => tables.push(t),
    }
}

/// `schema.name` for messages, or `name` when unqualified.
pub(crate) fn display_name(schema: &str, name: &str) -> String {
    if schema.is_empty() {
        name.to_string()
    } else {
        format!("{schema}.{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_merge_access_and_columns() {
        let mut f = Facts::default();
        let a = f.table(Some("s"), "t", TableAccess::Update);
        f.column(a, "x");
        let b = f.table(Some("s"), "t", TableAccess::Read);
        f.column(b, "x");
        f.table(None, "t", TableAccess::Read);
        assert_eq!(a, b);
        assert_eq!(f.tables.len(), 2);
        assert_eq!(
            f.tables[0].access,
            vec![TableAccess::Read, TableAccess::Update]
        );
        assert_eq!(f.tables[0].columns, vec!["x".to_string()]);
    }

    #[test]
    fn flags_are_deduplicated_by_id_and_detail() {
        let mut f = Facts::default();
        f.flag(FlagId::Drop, "a");
        f.flag(FlagId::Drop, "a");
        f.flag(FlagId::Drop, "b");
        assert_eq!(f.flags.len(), 2);
    }
}
