//! RowDescription/DataRow masking: round trips, formats, fail-closed.

mod common;
use bytes::BytesMut;
use common::*;
use vigil_mask::{mask_data_row, Classification, MaskError, MaskStats, Outcome, RowPlan, Strategy};

const TEXT: u32 = 25;
const INT4: u32 = 23;
const DATE: u32 = 1082;
const JSONB: u32 = 3802;

fn plan(cols: &[(&str, u32, i16, u32, i16)], pairs: &[(&str, &str)]) -> RowPlan {
    RowPlan::from_row_description(
        &row_description(cols),
        &catalog(),
        None,
        &rules(pairs),
        false,
    )
    .unwrap()
}

fn run(plan: &RowPlan, vals: &[Option<&[u8]>]) -> (Outcome, Vec<Option<Vec<u8>>>, MaskStats) {
    let mut stats = MaskStats::default();
    let mut out = BytesMut::new();
    let o = mask_data_row(plan, &data_row(vals), &mut stats, &mut out).unwrap();
    let vals = match o {
        Outcome::Unchanged => {
            assert!(out.is_empty());
            vals.iter().map(|v| v.map(<[u8]>::to_vec)).collect()
        }
        Outcome::Rewritten => {
            let (tag, body) = one_frame(&mut out);
            assert_eq!(tag, b'D');
            values(&body)
        }
    };
    (o, vals, stats)
}

#[test]
fn classified_columns_masked_under_any_alias_and_others_scanned() {
    let p = plan(
        &[
            ("id", 0, 0, INT4, 0),
            ("contact", CUSTOMERS, 3, TEXT, 0),
            ("notes", 0, 0, TEXT, 0),
            ("name", CUSTOMERS, 2, TEXT, 0),
        ],
        &[],
    );
    let (o, v, stats) = run(
        &p,
        &[
            Some(b"17"),
            Some(b"alice@example.com"),
            Some(b"card 4111 1111 1111 1111 ok"),
            Some(b"Maria \xc3\x9c"),
        ],
    );
    assert_eq!(o, Outcome::Rewritten);
    assert_eq!(s(&v[0]), "17");
    assert_eq!(s(&v[1]), "****@example.com");
    assert_eq!(s(&v[2]), "card ****1111 ok");
    assert_eq!(s(&v[3]), "Maria Ü", "untouched values stay byte-identical");
    assert_eq!(stats.rows_touched, 1);
    assert_eq!(stats.by_class[&Classification::EMAIL_ADDRESS].values, 1);
    assert_eq!(stats.by_class[&Classification::CREDIT_CARD].values, 1);
}

#[test]
fn clean_rows_are_unchanged_zero_copy() {
    let p = plan(&[("id", 0, 0, INT4, 0), ("status", 0, 0, TEXT, 0)], &[]);
    let (o, _, stats) = run(&p, &[Some(b"1"), Some(b"shipped 2024-05-01 12:00:00+00")]);
    assert_eq!(o, Outcome::Unchanged);
    assert_eq!(stats, MaskStats::default());
    let (o, _, _) = run(&p, &[None, None]);
    assert_eq!(o, Outcome::Unchanged);
}

#[test]
fn strategies_null_hash_reveal_and_refuse() {
    let cols = [("e", CUSTOMERS, 3, TEXT, 0), ("s", CUSTOMERS, 5, TEXT, 0)];
    let (_, v, stats) = run(
        &plan(
            &cols,
            &[("EMAIL_ADDRESS", "null"), ("public.customers.ssn", "hash")],
        ),
        &[Some(b"a@ex.com"), Some(b"123-45-6789")],
    );
    assert_eq!(v[0], None);
    assert!(s(&v[1]).starts_with("h:") && s(&v[1]).len() == 18);
    let (_, again, _) = run(
        &plan(&cols, &[("public.customers.ssn", "hash")]),
        &[Some(b"x@ex.com"), Some(b"123-45-6789")],
    );
    assert_eq!(v[1], again[1], "hash is deterministic for one key");
    assert_eq!(stats.by_class[&Classification::EMAIL_ADDRESS].values, 1);
    // Revealed for this caller: the value passes, other detectors still run.
    let (o, v, _) = run(
        &plan(&cols, &[("EMAIL_ADDRESS", "reveal"), ("US_SSN", "reveal")]),
        &[Some(b"a@ex.com"), Some(b"123-45-6789")],
    );
    assert_eq!((o, s(&v[0])), (Outcome::Unchanged, "a@ex.com".to_string()));
    let p = plan(&cols, &[("pii", "refuse")]);
    let err = mask_data_row(
        &p,
        &data_row(&[Some(b"a@ex.com"), None]),
        &mut MaskStats::default(),
        &mut BytesMut::new(),
    );
    assert!(matches!(err, Err(MaskError::Refused(_))));
}

#[test]
fn types_keep_valid_values() {
    // Binary date of a classified column → NULL; text int with a detected
    // card → NULL (no masked int exists); jsonb binary keeps its version byte.
    let cols = [
        ("dob", CUSTOMERS, 7, DATE, 1),
        ("n", 0, 0, 20, 0),
        ("doc", 0, 0, JSONB, 1),
        ("p", CUSTOMERS, 8, JSONB, 0),
    ];
    let p = plan(&cols, &[]);
    let (_, v, stats) = run(
        &p,
        &[
            Some(&[0, 0, 1, 0]),
            Some(b"4111111111111111"),
            Some(b"\x01{\"e\": \"bob@example.net\"}"),
            Some(b"{\"name\":\"Bob\"}"),
        ],
    );
    assert_eq!(v[0], None);
    assert_eq!(v[1], None);
    assert_eq!(s(&v[2]), "\u{1}{\"e\": \"****@example.net\"}");
    assert_eq!(
        s(&v[3]),
        "\"****\"",
        "a classified json value stays valid JSON"
    );
    assert_eq!(stats.nulled, 2);
    assert_eq!(p.columns()[0].strategy, Strategy::Redact);
}

#[test]
fn bind_result_formats_override_row_description() {
    let rd = row_description(&[("e", 0, 0, TEXT, 0), ("i", 0, 0, INT4, 0)]);
    let r = rules(&[]);
    let all_binary = RowPlan::from_row_description(&rd, &catalog(), Some(&[1]), &r, false).unwrap();
    assert!(all_binary.columns().iter().all(|c| c.binary));
    let per = RowPlan::from_row_description(&rd, &catalog(), Some(&[0, 1]), &r, false).unwrap();
    assert!(!per.columns()[0].binary && per.columns()[1].binary);
    assert!(RowPlan::from_row_description(&rd, &catalog(), Some(&[0, 1, 1]), &r, false).is_err());
    assert!(RowPlan::from_row_description(&rd, &catalog(), Some(&[2]), &r, false).is_err());
}

#[test]
fn computed_columns_masked_wholesale_when_asked() {
    let rd = row_description(&[("x", 0, 0, TEXT, 0), ("n", 0, 0, INT4, 0)]);
    let p = RowPlan::from_row_description(&rd, &catalog(), None, &rules(&[]), true).unwrap();
    let (_, v, _) = run(&p, &[Some(b"elpmaxe"), Some(b"5")]);
    assert_eq!(
        (s(&v[0]), s(&v[1])),
        ("****".to_string(), "NULL".to_string())
    );
}

#[test]
fn malformed_rows_fail_closed() {
    let p = plan(&[("a", 0, 0, TEXT, 0), ("b", 0, 0, TEXT, 0)], &[]);
    let mut st = MaskStats::default();
    let mut out = BytesMut::new();
    let good = data_row(&[Some(b"x"), Some(b"alice@example.com")]);
    let truncated = &good[..good.len() - 3];
    assert!(mask_data_row(&p, truncated, &mut st, &mut out).is_err());
    let wrong = data_row(&[Some(b"x")]);
    assert!(matches!(
        mask_data_row(&p, &wrong, &mut st, &mut out),
        Err(MaskError::ColumnCount {
            expected: 2,
            got: 1
        })
    ));
    let mut trailing = good.clone();
    trailing.push(0);
    assert!(mask_data_row(&p, &trailing, &mut st, &mut out).is_err());
    assert!(mask_data_row(&p, &[0xff, 0xff], &mut st, &mut out).is_err());
    assert!(out.is_empty(), "nothing is written on error");
    assert!(
        RowPlan::from_row_description(b"\x00\x01ab", &catalog(), None, &rules(&[]), false).is_err()
    );
}

#[test]
fn binary_containers_with_pii_fail_closed() {
    // A binary text[] (OID 1009) holding an email cannot be re-encoded.
    let p = plan(&[("arr", 0, 0, 1009, 1)], &[]);
    let arr = b"\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x19\x00\x00\x00\x01\x00\x00\x00\x01\x00\x00\x00\x11alice@example.com";
    let r = mask_data_row(
        &p,
        &data_row(&[Some(arr)]),
        &mut MaskStats::default(),
        &mut BytesMut::new(),
    );
    assert!(matches!(r, Err(MaskError::Unmaskable(_))));
}

#[test]
fn multibyte_encodings_transcode_and_fail_closed() {
    use vigil_pgwire::text::ClientEncoding;
    let sjis = ClientEncoding::from_pg_name("SJIS");
    let rd = row_description(&[("v", 0, 0, TEXT, 0)]);
    let p =
        RowPlan::from_row_description(&rd, &catalog(), None, &rules_in(&[], sjis), false).unwrap();
    // "表" (0x95 0x5c: trail byte is a backslash) then an email.
    let (enc, _, _) = encoding_rs::SHIFT_JIS.encode("表 alice@example.com");
    let (_, v, _) = run(&p, &[Some(&enc)]);
    let (back, _, bad) = encoding_rs::SHIFT_JIS.decode(v[0].as_ref().unwrap());
    assert!(!bad);
    assert_eq!(back, "表 ****@example.com");
    let r = mask_data_row(
        &p,
        &data_row(&[Some(b"\x95 a@example.com")]),
        &mut MaskStats::default(),
        &mut BytesMut::new(),
    );
    assert!(matches!(r, Err(MaskError::Encoding(_))));
    let bad = rules_in(&[], ClientEncoding::from_pg_name("MULE_INTERNAL"));
    let p = RowPlan::from_row_description(&rd, &catalog(), None, &bad, false).unwrap();
    let r = mask_data_row(
        &p,
        &data_row(&[Some(b"x")]),
        &mut MaskStats::default(),
        &mut BytesMut::new(),
    );
    assert!(matches!(r, Err(MaskError::UnsupportedEncoding)));
}

#[test]
fn whole_row_references_of_classified_tables_are_masked_whole() {
    // `SELECT c FROM customers c`: the table's OID, attribute number 0.
    let p = plan(&[("c", CUSTOMERS, 0, 16401, 0)], &[]);
    let row = b"(1,Jane Roe,x)".as_slice();
    let (outcome, vals, _) = run(&p, &[Some(row)]);
    assert_eq!(outcome, Outcome::Rewritten);
    assert_eq!(s(&vals[0]), "****");
    // Another table's whole row is only scanned.
    let p = plan(&[("o", 99_999, 0, 16402, 0)], &[]);
    assert_eq!(run(&p, &[Some(row)]).0, Outcome::Unchanged);
}
