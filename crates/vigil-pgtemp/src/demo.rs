//! The fake-PII dataset `vigil demo` and integration tests load: customers
//! with emails, phones, SSNs and card numbers, orders, payments with IBANs,
//! and API keys. Deterministic (fixed seed), generated without network or
//! external crates, and checksum-valid so masking is tested against data
//! that real detectors would flag.

mod checks;
mod finance;
mod people;
mod rng;
mod secrets;
mod sql;

pub use checks::{iban_valid, luhn_valid, ssn_valid};

use finance::{card, iban, Card};
use people::{timestamp, PersonFactory};
use rng::Rng;
use sql::{push_comments, push_inserts, push_sequence_resets, text, DDL};

/// Customers in the default demo (gives ~600 orders, ~500 payments, ~50 keys).
pub const DEFAULT_ROWS: usize = 200;
/// Same seed, same dataset: docs and tests can quote values.
const SEED: u64 = 0x5649_4749_4C00_2026;

const PAID: &[&str] = &["paid", "shipped", "delivered", "refunded"];
const UNPAID: &[&str] = &["pending", "cancelled"];

/// How many rows `demo_schema_sql(rows)` inserts into each table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoCounts {
    /// `customers` rows (= the `rows` argument).
    pub customers: usize,
    /// `orders` rows: three per customer.
    pub orders: usize,
    /// `payments` rows: every order except each sixth (pending/cancelled ones).
    pub payments: usize,
    /// `api_keys` rows: one per four customers.
    pub api_keys: usize,
}

/// Row counts for a given customer count.
pub fn demo_counts(rows: usize) -> DemoCounts {
    let orders = rows.saturating_mul(3);
    DemoCounts {
        customers: rows,
        orders,
        payments: orders - orders / 6,
        api_keys: rows / 4,
    }
}

/// The whole dataset as one SQL script (one transaction) for schema `public`.
/// Drops existing demo tables first. `rows` is the number of customers.
pub fn demo_schema_sql(rows: usize) -> String {
    let mut rng = Rng::new(SEED);
    let counts = demo_counts(rows);
    let mut out =
        String::from("-- Vigil demo dataset: invented people, checksum-valid fake PII.\nBEGIN;\n");
    out.push_str(DDL);
    push_comments(&mut out);
    let (customers, cards) = customer_rows(&mut rng, counts.customers);
    push_inserts(&mut out, "customers", CUSTOMER_COLUMNS, &customers);
    let (orders, payments) = order_and_payment_rows(&mut rng, counts, &cards);
    push_inserts(
        &mut out,
        "orders",
        "id, customer_id, status, total_cents, created_at",
        &orders,
    );
    let payment_columns = "id, order_id, card_last4, amount_cents, paid_at, iban";
    push_inserts(&mut out, "payments", payment_columns, &payments);
    let keys = api_key_rows(&mut rng, counts);
    push_inserts(
        &mut out,
        "api_keys",
        "id, customer_id, name, secret, created_at",
        &keys,
    );
    push_sequence_resets(&mut out);
    out.push_str("COMMIT;\n");
    out
}

const CUSTOMER_COLUMNS: &str =
    "id, full_name, email, phone, ssn, card_number, date_of_birth, address, created_at";

fn customer_rows(rng: &mut Rng, n: usize) -> (Vec<Vec<String>>, Vec<Card>) {
    let mut factory = PersonFactory::new();
    let mut rows = Vec::with_capacity(n);
    let mut cards = Vec::with_capacity(n);
    for id in 1..=n {
        let p = factory.person(rng);
        let c = card(rng);
        rows.push(vec![
            id.to_string(),
            text(&p.full_name),
            text(&p.email),
            text(&p.phone),
            text(&p.ssn),
            text(&c.number),
            text(&p.date_of_birth),
            text(&p.address),
            text(&timestamp(rng)),
        ]);
        cards.push(c);
    }
    (rows, cards)
}

/// Orders spread randomly over customers; every order but each sixth is paid
/// with the customer's card and has a payout IBAN.
fn order_and_payment_rows(
    rng: &mut Rng,
    counts: DemoCounts,
    cards: &[Card],
) -> (Vec<Vec<String>>, Vec<Vec<String>>) {
    let mut orders = Vec::with_capacity(counts.orders);
    let mut payments = Vec::with_capacity(counts.payments);
    for id in 1..=counts.orders {
        let customer = rng.range(1, counts.customers as u64);
        let paid = id % 6 != 0;
        let status = rng.pick(if paid { PAID } else { UNPAID }, "pending");
        let total = rng.range(499, 49_999);
        let at = text(&timestamp(rng));
        orders.push(vec![
            id.to_string(),
            customer.to_string(),
            text(status),
            total.to_string(),
            at.clone(),
        ]);
        if paid {
            let last4 = usize::try_from(customer)
                .ok()
                .and_then(|c| cards.get(c.saturating_sub(1)))
                .map_or("0000", |c| c.last4.as_str());
            let pid = payments.len() + 1;
            let row = vec![
                pid.to_string(),
                id.to_string(),
                text(last4),
                total.to_string(),
                at,
                text(&iban(rng)),
            ];
            payments.push(row);
        }
    }
    (orders, payments)
}

fn api_key_rows(rng: &mut Rng, counts: DemoCounts) -> Vec<Vec<String>> {
    (1..=counts.api_keys)
        .map(|id| {
            let key = secrets::api_key(rng);
            let customer = rng.range(1, counts.customers as u64);
            let at = text(&timestamp(rng));
            vec![
                id.to_string(),
                customer.to_string(),
                text(key.name),
                text(&key.secret),
                at,
            ]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_counts_match_the_brief() {
        let c = demo_counts(DEFAULT_ROWS);
        assert_eq!(
            (c.customers, c.orders, c.payments, c.api_keys),
            (200, 600, 500, 50)
        );
    }

    #[test]
    fn deterministic_and_scales_with_rows() {
        assert_eq!(demo_schema_sql(20), demo_schema_sql(20));
        let small = demo_schema_sql(10);
        let big = demo_schema_sql(300);
        assert!(big.len() > small.len() * 10);
        assert!(small.starts_with("-- Vigil demo dataset"));
        assert!(small.trim_end().ends_with("COMMIT;"));
        assert!(small.contains("COMMENT ON COLUMN customers.ssn IS 'US social security number';"));
    }

    #[test]
    fn zero_rows_is_just_the_schema() {
        let sql = demo_schema_sql(0);
        assert!(!sql.contains("INSERT INTO"));
        assert!(sql.contains("CREATE TABLE customers"));
    }
}
