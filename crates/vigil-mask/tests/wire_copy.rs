//! CopyData masking: text, CSV and binary, rows split across messages.

mod common;
use bytes::BytesMut;
use common::*;
use vigil_mask::{
    Classification, ColumnMask, CopyFormat, CopyMasker, MaskError, MaskStats, Outcome, Strategy,
};

fn copy_out(binary: bool, n: i16) -> Vec<u8> {
    let mut b = vec![u8::from(binary)];
    b.extend_from_slice(&n.to_be_bytes());
    for _ in 0..n {
        b.extend_from_slice(&i16::from(binary).to_be_bytes());
    }
    b
}

/// Feeds `chunks` as CopyData bodies; returns the bytes the client gets.
fn feed(m: &mut CopyMasker, chunks: &[&[u8]]) -> (Vec<u8>, MaskStats) {
    let mut stats = MaskStats::default();
    let mut client = Vec::new();
    for c in chunks {
        let mut out = BytesMut::new();
        match m.mask_copy_data(c, &mut stats, &mut out).unwrap() {
            Outcome::Unchanged => client.extend_from_slice(c),
            Outcome::Rewritten => {
                while !out.is_empty() {
                    let f = vigil_pgwire::decode_frame(&mut out, 1 << 24)
                        .unwrap()
                        .unwrap();
                    assert_eq!(f.tag(), b'd');
                    client.extend_from_slice(f.body());
                }
            }
        }
    }
    m.finish().unwrap();
    (client, stats)
}

fn text_masker(format: CopyFormat, n: i16, cols: Vec<Option<ColumnMask>>) -> CopyMasker {
    CopyMasker::new(&copy_out(false, n), format, cols, &rules(&[])).unwrap()
}

#[test]
fn text_rows_mask_fields_and_keep_escapes() {
    let mut m = text_masker(CopyFormat::TEXT, 3, vec![]);
    let clean: &[u8] = b"1\tshipped\t\\N\n";
    let mut out = BytesMut::new();
    assert_eq!(
        m.mask_copy_data(clean, &mut MaskStats::default(), &mut out)
            .unwrap(),
        Outcome::Unchanged
    );
    // A tab escape right before a card: decoded, masked, re-escaped.
    let (got, stats) = feed(
        &mut m,
        &[b"2\ta@example.com\tline\\t4111111111111111\\\\x\n"],
    );
    assert_eq!(got, b"2\t****@example.com\tline\\t****1111\\\\x\n");
    assert_eq!(stats.rows_touched, 1);
}

#[test]
fn a_trailing_backslash_keeps_every_field() {
    let mut m = text_masker(CopyFormat::TEXT, 3, vec![]);
    let (got, _) = feed(&mut m, &[b"1\tx\ty@example.com\\\n"]);
    assert_eq!(got, b"1\tx\t****@example.com\n");
}

#[test]
fn rows_split_across_messages_are_held_until_complete() {
    let mut m = text_masker(CopyFormat::TEXT, 2, vec![]);
    let (got, _) = feed(&mut m, &[b"1\talice@exa", b"mple.com\n2\tb", b"ob\n"]);
    assert_eq!(got, b"1\t****@example.com\n2\tbob\n");
    let mut m = text_masker(CopyFormat::TEXT, 2, vec![]);
    let mut out = BytesMut::new();
    m.mask_copy_data(b"1\talice@exa", &mut MaskStats::default(), &mut out)
        .unwrap();
    assert!(out.is_empty(), "a partial row is never forwarded");
    assert!(matches!(
        m.finish(),
        Err(MaskError::PartialCopyRow { pending: 11 })
    ));
}

#[test]
fn csv_quoting_edge_cases() {
    let mut m = text_masker(CopyFormat::CSV, 3, vec![]);
    let input: &[u8] = b"1,\"Smith, \"\"Bob\"\" <bob@example.com>\",\"multi\nline 4111 1111 1111 1111\"\n2,,\"\"\n";
    let (got, _) = feed(&mut m, &[input]);
    assert_eq!(
        got,
        b"1,\"Smith, \"\"Bob\"\" <****@example.com>\",\"multi\nline ****1111\"\n2,,\"\"\n".to_vec()
    );
    // A classified column, null strategy: CSV's NULL is an empty unquoted field.
    let cols = vec![
        None,
        Some(ColumnMask {
            class: Classification::EMAIL_ADDRESS,
            strategy: Strategy::Null,
        }),
        None,
    ];
    let mut m = text_masker(CopyFormat::CSV, 3, cols);
    let (got, _) = feed(&mut m, &[b"1,x@example.com,ok\n"]);
    assert_eq!(got, b"1,,ok\n");
    // A replacement holding the delimiter gets quoted.
    let star = CopyFormat::Csv {
        delimiter: b'*',
        quote: b'"',
        escape: b'"',
    };
    let mut m = text_masker(star, 2, vec![]);
    let (got, _) = feed(&mut m, &[b"1*123-45-6789\n"]);
    assert_eq!(got, b"1*\"****\"\n");
}

#[test]
fn malformed_copy_fails_closed() {
    let mut m = text_masker(CopyFormat::CSV, 2, vec![]);
    let r = m.mask_copy_data(
        b"1,\"abc\"x\n",
        &mut MaskStats::default(),
        &mut BytesMut::new(),
    );
    assert!(r.is_err());
    let cols = vec![None, None];
    let mut m = text_masker(CopyFormat::TEXT, 2, cols);
    let r = m.mask_copy_data(
        b"1\t2\t3\n",
        &mut MaskStats::default(),
        &mut BytesMut::new(),
    );
    assert!(r.is_err(), "field count must match known columns");
    assert!(CopyMasker::new(&copy_out(false, 1), CopyFormat::Binary, vec![], &rules(&[])).is_err());
    assert!(CopyMasker::new(b"\x00\x00", CopyFormat::TEXT, vec![], &rules(&[])).is_err());
}

fn binary_stream(rows: &[&[Option<&[u8]>]]) -> Vec<u8> {
    let mut b = b"PGCOPY\n\xff\r\n\0".to_vec();
    b.extend_from_slice(&[0; 8]);
    for r in rows {
        b.extend_from_slice(&(r.len() as i16).to_be_bytes());
        for v in *r {
            match v {
                None => b.extend_from_slice(&(-1i32).to_be_bytes()),
                Some(v) => {
                    b.extend_from_slice(&(v.len() as i32).to_be_bytes());
                    b.extend_from_slice(v);
                }
            }
        }
    }
    b.extend_from_slice(&[0xff, 0xff]);
    b
}

#[test]
fn binary_copy_masks_text_fields_and_rebuilds_lengths() {
    let input = binary_stream(&[
        &[Some(&[0, 0, 0, 1]), Some(b"alice@example.com"), None],
        &[
            Some(&[0, 0, 0, 2]),
            Some(b"plain"),
            Some(b"\xff\xfe\x00binary"),
        ],
    ]);
    let expected = binary_stream(&[
        &[Some(&[0, 0, 0, 1]), Some(b"****@example.com"), None],
        &[
            Some(&[0, 0, 0, 2]),
            Some(b"plain"),
            Some(b"\xff\xfe\x00binary"),
        ],
    ]);
    let mut m = CopyMasker::new(&copy_out(true, 3), CopyFormat::TEXT, vec![], &rules(&[])).unwrap();
    // Cut at every awkward place: inside the header, a length, a value.
    let (a, rest) = input.split_at(7);
    let (b, rest) = rest.split_at(17);
    let (c, d) = rest.split_at(30);
    let (got, stats) = feed(&mut m, &[a, b, c, d]);
    assert_eq!(got, expected);
    assert_eq!(stats.by_class[&Classification::EMAIL_ADDRESS].values, 1);
}

#[test]
fn binary_copy_fails_closed() {
    let mut m = CopyMasker::new(&copy_out(true, 1), CopyFormat::TEXT, vec![], &rules(&[])).unwrap();
    assert!(m
        .mask_copy_data(
            b"NOTCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0",
            &mut MaskStats::default(),
            &mut BytesMut::new()
        )
        .is_err());
    let mut m = CopyMasker::new(&copy_out(true, 1), CopyFormat::TEXT, vec![], &rules(&[])).unwrap();
    let mut s = binary_stream(&[&[Some(b"x")]]);
    s.truncate(s.len() - 2);
    m.mask_copy_data(&s, &mut MaskStats::default(), &mut BytesMut::new())
        .unwrap();
    assert!(m.finish().is_err(), "no trailer");
    let mut m = CopyMasker::new(&copy_out(true, 1), CopyFormat::TEXT, vec![], &rules(&[])).unwrap();
    let bad = binary_stream(&[&[Some(b"\xff\x00 alice@example.com")]]);
    let r = m.mask_copy_data(&bad, &mut MaskStats::default(), &mut BytesMut::new());
    assert!(matches!(r, Err(MaskError::Unmaskable(_))));
}

#[test]
fn a_header_line_is_not_masked_as_data_even_split() {
    let email = Some(ColumnMask {
        class: Classification::EMAIL_ADDRESS,
        strategy: Strategy::Redact,
    });
    let cols = vec![None, email];
    let mut m = text_masker(CopyFormat::CSV, 2, cols.clone()).with_header(true);
    let (got, _) = feed(&mut m, &[b"id,em", b"ail\n1,a@example.com\n"]);
    assert_eq!(String::from_utf8(got).unwrap(), "id,email\n1,****\n");
    // Without HEADER the first line is data: masked like the rest.
    let mut m = text_masker(CopyFormat::CSV, 2, cols.clone());
    let (got, _) = feed(&mut m, &[b"id,email\n"]);
    assert_eq!(String::from_utf8(got).unwrap(), "id,****\n");
    // Binary COPY has no header line to skip.
    let m = CopyMasker::new(&copy_out(true, 2), CopyFormat::Binary, cols, &rules(&[]));
    assert!(m.is_ok());
}
