//! The default demo dataset, loaded into a real server and checked value by
//! value: what `vigil demo` shows must be what detectors would flag.

use vigil_pgtemp::demo::{
    demo_counts, demo_schema_sql, iban_valid, luhn_valid, ssn_valid, DEFAULT_ROWS,
};
use vigil_pgtemp::{ClusterOptions, TempCluster};

fn column(pg: &TempCluster, sql: &str) -> Vec<String> {
    pg.psql("demo", sql)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn default_demo_loads_with_valid_fake_pii() {
    let pg = TempCluster::start(ClusterOptions::default()).unwrap();
    pg.create_database("demo").unwrap();
    pg.psql("demo", &demo_schema_sql(DEFAULT_ROWS)).unwrap();

    let c = demo_counts(DEFAULT_ROWS);
    let counts = column(
        &pg,
        "SELECT count(*) FROM customers UNION ALL SELECT count(*) FROM orders \
         UNION ALL SELECT count(*) FROM payments UNION ALL SELECT count(*) FROM api_keys",
    );
    assert_eq!(counts, ["200", "600", "500", "50"]);
    assert_eq!((c.orders, c.payments, c.api_keys), (600, 500, 50));

    let cards = column(&pg, "SELECT card_number FROM customers");
    assert_eq!(cards.len(), 200);
    assert!(cards.iter().all(|n| luhn_valid(n)), "{cards:?}");
    for brand in ['3', '4', '5'] {
        assert!(
            cards.iter().any(|n| n.starts_with(brand)),
            "no card starting with {brand}"
        );
    }

    let ibans = column(&pg, "SELECT iban FROM payments");
    assert!(ibans.iter().all(|i| iban_valid(i)), "{ibans:?}");
    for country in ["DE", "GB", "FR"] {
        assert!(
            ibans.iter().any(|i| i.starts_with(country)),
            "no {country} IBAN"
        );
    }

    let ssns = column(&pg, "SELECT ssn FROM customers");
    assert!(ssns.iter().all(|s| ssn_valid(s)), "{ssns:?}");

    let bad_emails = column(
        &pg,
        "SELECT email FROM customers WHERE email !~ '^[a-z]+\\.[a-z]+[0-9]+@example\\.(com|org|net)$'",
    );
    assert!(bad_emails.is_empty(), "{bad_emails:?}");

    // Each payment's last4 is the paying customer's card.
    let mismatched = column(
        &pg,
        "SELECT p.id FROM payments p JOIN orders o ON o.id = p.order_id \
         JOIN customers c ON c.id = o.customer_id \
         WHERE right(replace(c.card_number, ' ', ''), 4) <> p.card_last4",
    );
    assert!(mismatched.is_empty(), "{mismatched:?}");

    let comment = column(&pg, "SELECT col_description('customers'::regclass, 5)");
    assert_eq!(comment, ["US social security number"]);

    // Sequences were moved past the explicit ids: new rows insert cleanly.
    pg.psql(
        "demo",
        "INSERT INTO customers (full_name, email) VALUES ('New Person', 'new.person1@example.com')",
    )
    .unwrap();

    // Loading twice replaces rather than duplicates.
    pg.psql("demo", &demo_schema_sql(10)).unwrap();
    assert_eq!(column(&pg, "SELECT count(*) FROM customers"), ["10"]);
}
