//! Builders for protocol bodies and a decoder for masked output.
#![allow(dead_code)]

use bytes::BytesMut;
use std::collections::BTreeMap;
use vigil_mask::{Catalog, CatalogEntry, Classification, HashKey, MaskRules};
use vigil_pgwire::text::ClientEncoding;

pub const CUSTOMERS: u32 = 16400;

pub fn catalog() -> Catalog {
    let e = |column: &str, attnum: i16, classification: Classification| {
        CatalogEntry::new(
            "public",
            "customers",
            column,
            (CUSTOMERS, attnum),
            classification,
        )
    };
    Catalog::new(vec![
        e("email", 3, Classification::EMAIL_ADDRESS),
        e("ssn", 5, Classification::US_SSN),
        e("date_of_birth", 7, Classification::DATE_OF_BIRTH),
        e("profile", 8, Classification::PERSON),
    ])
}

pub fn rules(pairs: &[(&str, &str)]) -> MaskRules {
    rules_in(pairs, ClientEncoding::Utf8)
}

pub fn rules_in(pairs: &[(&str, &str)], enc: ClientEncoding) -> MaskRules {
    let map: BTreeMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    MaskRules::new(&map, HashKey::new([42; 32]), enc).unwrap()
}

/// (name, table oid, attnum, type oid, format)
pub fn row_description(cols: &[(&str, u32, i16, u32, i16)]) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&(cols.len() as i16).to_be_bytes());
    for (name, oid, att, ty, fmt) in cols {
        b.extend_from_slice(name.as_bytes());
        b.push(0);
        b.extend_from_slice(&oid.to_be_bytes());
        b.extend_from_slice(&att.to_be_bytes());
        b.extend_from_slice(&ty.to_be_bytes());
        b.extend_from_slice(&(-1i16).to_be_bytes());
        b.extend_from_slice(&(-1i32).to_be_bytes());
        b.extend_from_slice(&fmt.to_be_bytes());
    }
    b
}

pub fn data_row(values: &[Option<&[u8]>]) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&(values.len() as i16).to_be_bytes());
    for v in values {
        match v {
            None => b.extend_from_slice(&(-1i32).to_be_bytes()),
            Some(v) => {
                b.extend_from_slice(&(v.len() as i32).to_be_bytes());
                b.extend_from_slice(v);
            }
        }
    }
    b
}

/// Decodes exactly one frame from `out` (checking its length) → (tag, body).
pub fn one_frame(out: &mut BytesMut) -> (u8, Vec<u8>) {
    let f = vigil_pgwire::decode_frame(out, 1 << 24)
        .unwrap()
        .expect("a whole frame");
    assert!(
        out.is_empty(),
        "exactly one frame expected, {} bytes left",
        out.len()
    );
    (f.tag(), f.body().to_vec())
}

/// A DataRow body's values.
pub fn values(body: &[u8]) -> Vec<Option<Vec<u8>>> {
    let mut c = vigil_pgwire::cursor::Cursor::new(body, "DataRow");
    let n = c.count16().unwrap();
    let v = (0..n)
        .map(|_| c.nullable_bytes().unwrap().map(<[u8]>::to_vec))
        .collect();
    c.finish().unwrap();
    v
}

pub fn s(v: &Option<Vec<u8>>) -> String {
    v.as_ref()
        .map_or("NULL".into(), |b| String::from_utf8_lossy(b).into_owned())
}
