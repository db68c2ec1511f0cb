//! Whether a statement reads a classified column: then its computed
//! result columns (no source table: `upper(email)`, `row_to_json(c)`, a
//! UNION) may be masked wholesale. Judged from the classifier's facts,
//! which attribute columns to tables on a best-effort basis, so in doubt
//! the answer is yes.

use vigil_core::{ClassifiedMessage, TableRef};
use vigil_mask::Catalog;

/// True when the message touches a table with classified columns and
/// names one of them, names all of them (`*`), names something
/// that is not one of the table's columns (`row_to_json(c)` names the
/// alias `c`; without the table's column list in the catalog, any
/// unclassified name counts), or has several tables in scope (unqualified
/// columns are then not attributed).
pub fn reads_classified(msg: &ClassifiedMessage, catalog: &Catalog) -> bool {
    if catalog.is_empty() {
        return false;
    }
    let several = msg.tables.len() > 1 || msg.statements.iter().any(|s| s.tables.len() > 1);
    msg.tables.iter().any(|t| {
        let schema = t.schema.as_deref();
        let classified: Vec<&str> = catalog
            .table_columns(schema, &t.name)
            .map(|e| e.column.as_str())
            .collect();
        if classified.is_empty() {
            return false;
        }
        if several || unattributed(t) {
            return true;
        }
        let known = catalog.known_columns(schema, &t.name);
        t.columns.iter().any(|c| {
            classified.contains(&c.as_str()) || known.is_none_or(|k| !k.iter().any(|n| n == c))
        })
    })
}

/// `*`. (No column at all — `count(*)`, `SELECT 1 FROM t` — reads none:
/// with one table in scope, the classifier attributes every column.)
fn unattributed(t: &TableRef) -> bool {
    t.columns.iter().any(|c| c == "*")
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_mask::{CatalogEntry, Classification, TableColumns};

    fn catalog() -> Catalog {
        let email = CatalogEntry::new(
            "public",
            "customers",
            "email",
            (16400, 3),
            Classification::EMAIL_ADDRESS,
        );
        let all = TableColumns {
            connection: None,
            schema: "public".into(),
            table: "customers".into(),
            table_oid: 16400,
            columns: vec!["id".into(), "name".into(), "email".into()],
        };
        Catalog::new(vec![email]).with_tables(vec![all])
    }

    fn reads(sql: &str) -> bool {
        reads_classified(&vigil_sql::classify(sql), &catalog())
    }

    #[test]
    fn names_stars_and_joins_count_as_reading() {
        assert!(reads("SELECT upper(email) FROM customers"));
        assert!(reads("SELECT * FROM public.customers"));
        assert!(!reads("SELECT count(*) FROM customers"));
        assert!(reads("SELECT count(email) FROM customers"));
        assert!(reads("SELECT row_to_json(c) FROM customers c"));
        assert!(reads(
            "SELECT o.id FROM orders o JOIN customers c ON c.id = o.customer_id"
        ));
        assert!(reads("SELECT c FROM customers c"));
        assert!(!reads("SELECT id FROM customers"));
        assert!(!reads("SELECT id, name FROM customers WHERE id = 1"));
        assert!(!reads("SELECT email FROM staff"));
        assert!(!reads("SELECT email FROM other.customers"));
        assert!(!reads_classified(
            &vigil_sql::classify("SELECT email FROM customers"),
            &Catalog::default()
        ));
        // Without the table's column list, an unclassified name is in doubt.
        let bare = Catalog::new(catalog().entries().to_vec());
        assert!(reads_classified(
            &vigil_sql::classify("SELECT id FROM customers"),
            &bare
        ));
    }
}
