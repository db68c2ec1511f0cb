//! `vigil classify` suggestions from names, comments and samples.

use vigil_mask::classify::{suggest, ColumnFacts};
use vigil_mask::{Classification, Detectors};

fn facts(column: &str, comment: Option<&str>, samples: &[&str]) -> ColumnFacts {
    ColumnFacts {
        schema: "public".into(),
        table: "customers".into(),
        column: column.into(),
        table_oid: 16400,
        attnum: 2,
        position: Some(2),
        type_name: "text".into(),
        comment: comment.map(str::to_string),
        samples: samples.iter().map(|s| s.to_string()).collect(),
    }
}

fn class_of(f: &ColumnFacts) -> Option<(String, f64)> {
    suggest(f, Detectors::global().unwrap()).map(|e| (e.classification.to_string(), e.confidence))
}

#[test]
fn names_comments_and_samples_combine() {
    let (c, name_only) = class_of(&facts("email", None, &[])).unwrap();
    assert_eq!(c, "EMAIL_ADDRESS");
    let (_, with_samples) =
        class_of(&facts("email", None, &["a@example.com", "b@example.org"])).unwrap();
    assert!(with_samples > name_only, "{with_samples} > {name_only}");
    assert_eq!(
        class_of(&facts("customerEmail", None, &[])).unwrap().0,
        "EMAIL_ADDRESS"
    );
    assert_eq!(
        class_of(&facts(
            "card_number",
            Some("Payment card number, PAN (PCI DSS)"),
            &[]
        ))
        .unwrap()
        .0,
        "CREDIT_CARD"
    );
    assert_eq!(
        class_of(&facts("full_name", None, &[])).unwrap().0,
        "PERSON"
    );
    assert_eq!(
        class_of(&facts("date_of_birth", None, &[])).unwrap().0,
        "DATE_OF_BIRTH"
    );
    assert_eq!(
        class_of(&facts(
            "secret",
            Some("API secret or access key id (credential)"),
            &[]
        ))
        .unwrap()
        .0,
        "API_KEY"
    );
    // A vague name, but the values are SSNs.
    let f = facts(
        "col7",
        None,
        &["123-45-6789", "234-56-7890", "345-67-8901", "n/a"],
    );
    assert_eq!(class_of(&f).unwrap().0, Classification::US_SSN.to_string());
}

#[test]
fn ordinary_columns_get_no_suggestion() {
    assert!(class_of(&facts("status", None, &["shipped", "pending"])).is_none());
    assert!(class_of(&facts("total_cents", None, &["1299", "4500"])).is_none());
    assert!(class_of(&facts("created_at", None, &["2024-05-01 12:00:00+00"])).is_none());
    // A bare "mail" name over boolean samples: the name hint alone stays weak.
    let e = suggest(
        &facts("mail", None, &["true", "false"]),
        Detectors::global().unwrap(),
    )
    .unwrap();
    assert!(e.confidence < 0.8);
}
