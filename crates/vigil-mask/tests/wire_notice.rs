//! ErrorResponse/NoticeResponse, NotificationResponse, ParameterStatus.

mod common;
use bytes::BytesMut;
use common::*;
use vigil_mask::{
    mask_error_or_notice, mask_notification, mask_parameter_status, Catalog, MaskStats, Outcome,
};
use vigil_pgwire::backend::ErrorFields;

fn error_body(fields: &[(u8, &str)]) -> Vec<u8> {
    let mut b = Vec::new();
    for (c, v) in fields {
        b.push(*c);
        b.extend_from_slice(v.as_bytes());
        b.push(0);
    }
    b.push(0);
    b
}

fn masked(fields: &[(u8, &str)], catalog: &Catalog) -> Option<ErrorFields> {
    let mut out = BytesMut::new();
    let o = mask_error_or_notice(
        b'E',
        &error_body(fields),
        catalog,
        &rules(&[]),
        &mut MaskStats::default(),
        &mut out,
    )
    .unwrap();
    (o == Outcome::Rewritten).then(|| {
        let (tag, body) = one_frame(&mut out);
        assert_eq!(tag, b'E');
        ErrorFields::parse(&body).unwrap()
    })
}

const UNIQUE: &[(u8, &str)] = &[
    (b'S', "ERROR"),
    (b'C', "23505"),
    (
        b'M',
        "duplicate key value violates unique constraint \"customers_email_key\"",
    ),
    (b'D', "Key (email)=(alice@example.com) already exists."),
    (b's', "public"),
    (b't', "customers"),
];

#[test]
fn unique_violation_echo_is_masked() {
    let e = masked(UNIQUE, &catalog()).unwrap();
    assert_eq!(
        e.get(b'D'),
        Some("Key (email)=(****@example.com) already exists.")
    );
    assert_eq!(e.code(), Some("23505"));
    assert_eq!(e.get(b't'), Some("customers"));
}

#[test]
fn key_values_of_classified_columns_masked_even_without_a_detector_hit() {
    let f = [
        (b'C', "23505"),
        (b'D', "Key (id, ssn)=(7, 123456789) already exists."),
        (b's', "public"),
        (b't', "customers"),
    ];
    let e = masked(&f, &catalog()).unwrap();
    assert_eq!(e.get(b'D'), Some("Key (id, ssn)=(7, ****) already exists."));
    // Unknown table: in doubt, the values are masked.
    let f = [(b'C', "23505"), (b'D', "Key (code)=(X-1) already exists.")];
    assert_eq!(
        masked(&f, &catalog()).unwrap().get(b'D'),
        Some("Key (code)=(****) already exists.")
    );
    // Known table without classified columns: left alone.
    let f = [
        (b'C', "23505"),
        (b'D', "Key (code)=(X-1) already exists."),
        (b't', "orders"),
    ];
    assert!(masked(&f, &catalog()).is_none());
}

#[test]
fn failing_row_and_message_texts() {
    let f = [
        (b'C', "23502"),
        (
            b'M',
            "null value in column \"x\" violates not-null constraint",
        ),
        (b'D', "Failing row contains (1, Maria, null)."),
        (b't', "customers"),
    ];
    assert_eq!(
        masked(&f, &catalog()).unwrap().get(b'D'),
        Some("Failing row contains (****).")
    );
    let f = [
        (b'C', "22P02"),
        (
            b'M',
            "invalid input syntax for type integer: \"bob@example.net\"",
        ),
        (b'H', "card 4111111111111111"),
    ];
    let e = masked(&f, &catalog()).unwrap();
    assert_eq!(
        e.message(),
        Some("invalid input syntax for type integer: \"****@example.net\"")
    );
    assert_eq!(e.get(b'H'), Some("card ****1111"));
    assert!(masked(
        &[(b'C', "42P01"), (b'M', "relation \"x\" does not exist")],
        &catalog()
    )
    .is_none());
}

#[test]
fn malformed_error_fields_fail_closed() {
    let r = |b: &[u8]| {
        mask_error_or_notice(
            b'N',
            b,
            &catalog(),
            &rules(&[]),
            &mut MaskStats::default(),
            &mut BytesMut::new(),
        )
    };
    assert!(r(b"Mno terminator").is_err());
    assert!(r(b"Mtext\0").is_err(), "missing final NUL");
    assert!(r(b"Mtext\0\0extra").is_err());
    assert!(r(b"").is_err());
}

#[test]
fn notifications_and_parameter_status() {
    let mut body = 4242i32.to_be_bytes().to_vec();
    body.extend_from_slice(b"signup\0{\"email\":\"carol@example.org\"}\0");
    let mut out = BytesMut::new();
    let mut stats = MaskStats::default();
    assert_eq!(
        mask_notification(&body, &rules(&[]), &mut stats, &mut out).unwrap(),
        Outcome::Rewritten
    );
    let (tag, b) = one_frame(&mut out);
    assert_eq!(tag, b'A');
    assert_eq!(&b[..4], &4242i32.to_be_bytes());
    assert_eq!(&b[4..], b"signup\0{\"email\":\"****@example.org\"}\0");
    assert!(mask_notification(&body[..body.len() - 1], &rules(&[]), &mut stats, &mut out).is_err());

    let ps = b"application_name\0psql ssn 123-45-6789\0";
    assert_eq!(
        mask_parameter_status(ps, &rules(&[]), &mut stats, &mut out).unwrap(),
        Outcome::Rewritten
    );
    let (tag, b) = one_frame(&mut out);
    assert_eq!(
        (tag, b.as_slice()),
        (b'S', &b"application_name\0psql ssn ****\0"[..])
    );
    let clean = b"TimeZone\0UTC\0";
    assert_eq!(
        mask_parameter_status(clean, &rules(&[]), &mut stats, &mut out).unwrap(),
        Outcome::Unchanged
    );
    assert_eq!(stats.rows_touched, 2);
}
