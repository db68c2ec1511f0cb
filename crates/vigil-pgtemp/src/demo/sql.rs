//! Rendering the demo dataset as one SQL script: DDL, column comments that
//! name the sensitive data, then batched multi-row INSERTs.

use crate::client::quote_literal;

/// Rows per INSERT statement: large enough to load fast, small enough to read.
const BATCH: usize = 100;

/// Drops and recreates the demo tables, so loading twice is harmless.
pub(crate) const DDL: &str = "\
SET search_path = public;
DROP TABLE IF EXISTS api_keys, payments, orders, customers CASCADE;
CREATE TABLE customers (
    id            serial PRIMARY KEY,
    full_name     text NOT NULL,
    email         text NOT NULL UNIQUE,
    phone         text,
    ssn           text,
    card_number   text,
    date_of_birth date,
    address       text,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE orders (
    id          serial PRIMARY KEY,
    customer_id integer NOT NULL REFERENCES customers(id),
    status      text NOT NULL,
    total_cents bigint NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE payments (
    id           serial PRIMARY KEY,
    order_id     integer NOT NULL REFERENCES orders(id),
    card_last4   text,
    amount_cents bigint NOT NULL,
    paid_at      timestamptz,
    iban         text
);
CREATE TABLE api_keys (
    id          serial PRIMARY KEY,
    customer_id integer REFERENCES customers(id),
    name        text NOT NULL,
    secret      text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
";

/// Comments a policy author (and Vigil's column-based detectors) can read.
pub(crate) const COMMENTS: &[(&str, &str)] = &[
    ("customers.full_name", "Customer full legal name (PII)"),
    ("customers.email", "Customer email address (PII)"),
    ("customers.phone", "Customer phone number (PII)"),
    ("customers.ssn", "US social security number"),
    (
        "customers.card_number",
        "Payment card number, PAN (PCI DSS)",
    ),
    ("customers.date_of_birth", "Date of birth (PII)"),
    ("customers.address", "Postal address (PII)"),
    (
        "payments.card_last4",
        "Last four digits of the card (PCI DSS, displayable)",
    ),
    (
        "payments.iban",
        "International bank account number (financial PII)",
    ),
    (
        "api_keys.secret",
        "API secret or access key id (credential)",
    ),
];

/// One SQL value, already a literal.
pub(crate) fn text(value: &str) -> String {
    quote_literal(value)
}

/// Appends `INSERT INTO table (columns) VALUES …;` in batches.
pub(crate) fn push_inserts(out: &mut String, table: &str, columns: &str, rows: &[Vec<String>]) {
    for chunk in rows.chunks(BATCH) {
        out.push_str(&format!("INSERT INTO {table} ({columns}) VALUES\n"));
        let lines: Vec<String> = chunk
            .iter()
            .map(|row| format!("  ({})", row.join(", ")))
            .collect();
        out.push_str(&lines.join(",\n"));
        out.push_str(";\n");
    }
}

/// Explicit ids were inserted, so move each sequence past them.
pub(crate) fn push_sequence_resets(out: &mut String) {
    for table in ["customers", "orders", "payments", "api_keys"] {
        out.push_str(&format!(
            "SELECT setval(pg_get_serial_sequence('{table}', 'id'), coalesce(max(id), 0) + 1, false) FROM {table};\n"
        ));
    }
}

/// `COMMENT ON COLUMN` for every sensitive column.
pub(crate) fn push_comments(out: &mut String) {
    for (column, comment) in COMMENTS {
        out.push_str(&format!(
            "COMMENT ON COLUMN {column} IS {};\n",
            quote_literal(comment)
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inserts_are_batched() {
        let rows: Vec<Vec<String>> = (0..250)
            .map(|i| vec![i.to_string(), text("O'Hara")])
            .collect();
        let mut out = String::new();
        push_inserts(&mut out, "t", "a, b", &rows);
        assert_eq!(out.matches("INSERT INTO t (a, b) VALUES").count(), 3);
        assert!(out.contains("(249, 'O''Hara');\n"));
    }
}
