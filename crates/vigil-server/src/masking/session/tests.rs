//! The phases on hand-made messages: plans, policy rules, fail-closed,
//! encoding tracking, COPY set-up and accounting.

use super::*;
use bytes::Bytes;
use std::collections::BTreeMap;
use std::time::Duration;
use vigil_core::Decision;
use vigil_mask::{CatalogEntry, Classification, HashKey};
use vigil_policy::PolicyDecision;

pub(super) const CUSTOMERS: u32 = 16400;

pub(super) fn shared(wholesale: bool) -> Arc<Shared> {
    Arc::new(Shared {
        key: HashKey::new([9; 32]),
        default: BTreeMap::new(),
        wholesale_computed: wholesale,
    })
}

pub(super) fn catalog() -> Arc<Catalog> {
    Arc::new(Catalog::new(vec![
        CatalogEntry::new(
            "public",
            "customers",
            "full_name",
            (CUSTOMERS, 2),
            Classification::PERSON,
        ),
        CatalogEntry::new(
            "public",
            "customers",
            "phone",
            (CUSTOMERS, 3),
            Classification::PHONE_NUMBER,
        ),
    ]))
}

fn masker(wholesale: bool) -> SessionMasker {
    SessionMasker::new(shared(wholesale), catalog(), "UTF8")
}

pub(super) fn tag(sql: &str, mask: &[(&str, &str)]) -> StatementTag {
    // Built from a constructor and edited, so new fields keep defaults.
    let mut decision = PolicyDecision::error("unused", "test");
    decision.decision = Decision::allow();
    decision.mask = mask
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Arc::new(Decided::new(
        Arc::new(vigil_sql::classify(sql)),
        Arc::new(decision),
    ))
}

/// (name, table oid, attnum, type oid, format)
pub(super) fn layout(id: u64, cols: &[(&str, u32, i16, u32, i16)]) -> RowLayout {
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
    RowLayout::parse(id, Bytes::from(b)).unwrap()
}

pub(super) fn row(values: &[&str]) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&(values.len() as i16).to_be_bytes());
    for v in values {
        b.extend_from_slice(&(v.len() as i32).to_be_bytes());
        b.extend_from_slice(v.as_bytes());
    }
    b
}

fn replaced(r: Result<Rewrite, Failure>) -> String {
    match r.unwrap() {
        Rewrite::Replaced(b) => String::from_utf8_lossy(&b).into_owned(),
        Rewrite::Unchanged => "<unchanged>".into(),
    }
}

pub(super) fn done(m: &mut SessionMasker, tag: Option<&StatementTag>) {
    let outcome = Outcome {
        answering: Answering::Query,
        completion: vigil_proxy::respond::Completion::Command("SELECT 1"),
        rows: 1,
        elapsed: Duration::ZERO,
        withheld: false,
    };
    m.on_complete(tag, &outcome);
}

#[test]
fn classified_columns_by_oid_whatever_the_alias_and_counts_reach_the_tag() {
    let mut m = masker(false);
    let t = tag("SELECT full_name AS n, phone AS p FROM customers", &[]);
    let l = layout(1, &[("n", CUSTOMERS, 2, 25, 0), ("p", CUSTOMERS, 3, 25, 0)]);
    m.on_row_description(Some(&t), &l);
    let out = replaced(m.on_data_row(Some(&t), &l, &row(&["Jane Roe", "+1 415 555 0100"])));
    assert!(!out.contains("Jane") && !out.contains("555 0100"), "{out}");
    assert!(
        out.contains("****0100"),
        "partial keeps the last four: {out}"
    );
    done(&mut m, Some(&t));
    let counted = Decided::of(Some(&t)).unwrap().take_masked();
    assert_eq!(counted.rows_touched, 1);
    assert_eq!(counted.by_class[&Classification::PERSON].values, 1);
}

#[test]
fn policy_reveal_unmasks_one_classification() {
    let mut m = masker(false);
    let t = tag(
        "SELECT full_name, phone FROM customers",
        &[("PHONE_NUMBER", "reveal")],
    );
    let l = layout(
        1,
        &[
            ("full_name", CUSTOMERS, 2, 25, 0),
            ("phone", CUSTOMERS, 3, 25, 0),
        ],
    );
    let out = replaced(m.on_data_row(Some(&t), &l, &row(&["Jane Roe", "+1 415 555 0100"])));
    assert!(
        out.contains("+1 415 555 0100") && !out.contains("Jane"),
        "{out}"
    );
}

#[test]
fn clean_rows_are_forwarded_untouched() {
    let mut m = masker(false);
    let l = layout(3, &[("id", 0, 0, 23, 0), ("status", 0, 0, 25, 0)]);
    assert_eq!(
        m.on_data_row(None, &l, &row(&["42", "shipped"])),
        Ok(Rewrite::Unchanged)
    );
    let leaked = replaced(m.on_data_row(None, &l, &row(&["43", "mail bob@example.com"])));
    assert!(!leaked.contains("bob@"), "{leaked}");
}

#[test]
fn computed_columns_wholesale_only_when_the_statement_reads_classified_data() {
    let sql = "SELECT upper(full_name) FROM customers";
    let l = layout(1, &[("upper", 0, 0, 25, 0)]);
    let mut off = masker(false);
    let t = tag(sql, &[]);
    assert_eq!(
        off.on_data_row(Some(&t), &l, &row(&["JANE ROE"])),
        Ok(Rewrite::Unchanged)
    );
    let mut on = masker(true);
    assert!(replaced(on.on_data_row(Some(&t), &l, &row(&["JANE ROE"]))).contains("****"));
    let by_policy = tag(sql, &[("COMPUTED", "redact")]);
    let mut m = masker(false);
    assert!(replaced(m.on_data_row(Some(&by_policy), &l, &row(&["JANE ROE"]))).contains("****"));
    let other = tag("SELECT upper(name) FROM products", &[]);
    let l2 = layout(2, &[("upper", 0, 0, 25, 0)]);
    assert_eq!(
        on.on_data_row(Some(&other), &l2, &row(&["JANE ROE"])),
        Ok(Rewrite::Unchanged)
    );
}

#[test]
fn malformed_rows_and_refusals_fail_closed_and_the_next_result_works() {
    let mut m = masker(false);
    let l = layout(1, &[("a", 0, 0, 25, 0), ("b", 0, 0, 25, 0)]);
    let f = m.on_data_row(None, &l, &row(&["only one"])).unwrap_err();
    assert_eq!(f.sqlstate, "58000");
    assert!(
        f.message().starts_with("vigil: masking failed"),
        "{}",
        f.message()
    );
    let mut truncated = row(&["x", "y"]);
    truncated.pop();
    assert!(m.on_data_row(None, &l, &truncated).is_err());
    let t = tag("SELECT phone FROM customers", &[("PHONE_NUMBER", "refuse")]);
    let p = layout(2, &[("phone", CUSTOMERS, 3, 25, 0)]);
    assert!(m
        .on_data_row(Some(&t), &p, &row(&["+1 415 555 0100"]))
        .is_err());
    assert_eq!(
        m.on_data_row(None, &l, &row(&["a", "b"])),
        Ok(Rewrite::Unchanged)
    );
    let bad = tag("SELECT 1", &[("pii", "scramble")]);
    let q = layout(3, &[("x", 0, 0, 25, 0)]);
    m.on_row_description(Some(&bad), &q);
    assert!(m.on_data_row(Some(&bad), &q, &row(&["1"])).is_err());
}

#[test]
fn errors_notifications_and_parameter_status_are_masked() {
    let mut m = masker(false);
    let mut err = Vec::new();
    for (code, text) in [
        (b'S', "ERROR"),
        (b'C', "23505"),
        (b'M', "duplicate key"),
        (b'D', "Key (email)=(jane@example.com) already exists."),
    ] {
        err.push(code);
        err.extend_from_slice(text.as_bytes());
        err.push(0);
    }
    err.push(0);
    let out = replaced(m.on_error_or_notice(None, b'E', &err));
    assert!(
        !out.contains("jane@example.com") && out.contains("23505"),
        "{out}"
    );
    let mut note = 7i32.to_be_bytes().to_vec();
    note.extend_from_slice(b"chan\0card 4111 1111 1111 1111\0");
    assert!(!replaced(m.on_notification(&note)).contains("4111 1111 1111 1111"));
    let app = b"application_name\0ops jane@example.com\0";
    assert!(!replaced(m.on_parameter_status(app)).contains("jane@"));
    assert_eq!(
        m.on_parameter_status(b"TimeZone\0UTC\0"),
        Ok(Rewrite::Unchanged)
    );
}

#[test]
fn an_unsupported_client_encoding_fails_closed_until_changed_back() {
    let mut m = masker(false);
    let l = layout(1, &[("a", 0, 0, 25, 0)]);
    assert!(m
        .on_parameter_status(b"client_encoding\0MULE_INTERNAL\0")
        .is_err());
    assert!(m.on_data_row(None, &l, &row(&["x"])).is_err());
    assert_eq!(
        m.on_parameter_status(b"client_encoding\0UTF8\0"),
        Ok(Rewrite::Unchanged)
    );
    assert_eq!(
        m.on_data_row(None, &l, &row(&["x"])),
        Ok(Rewrite::Unchanged)
    );
}

fn copy_out(format: u8, columns: i16) -> Vec<u8> {
    let mut b = vec![format];
    b.extend_from_slice(&columns.to_be_bytes());
    for _ in 0..columns {
        b.extend_from_slice(&i16::from(format).to_be_bytes());
    }
    b
}

#[test]
fn copy_uses_the_statement_dialect_and_needs_a_decision() {
    let mut m = masker(false);
    assert!(m.on_copy_out_response(None, &copy_out(0, 3)).is_err());
    let t = tag(
        "COPY customers (id, full_name, phone) TO STDOUT (FORMAT csv)",
        &[],
    );
    m.on_copy_out_response(Some(&t), &copy_out(0, 3)).unwrap();
    let out = replaced(m.on_copy_data(Some(&t), b"1,\"Roe, Jane\",+1 415 555 0100\n"));
    assert!(!out.contains("Jane") && !out.contains("555 0100"), "{out}");
    assert!(
        out.starts_with("d") && out.contains("1,\"****\",****0100\n"),
        "{out}"
    );
    // A row left incomplete at CopyDone is never sent and fails.
    assert!(replaced(m.on_copy_data(Some(&t), b"2,half")).len() <= 5);
    assert!(m.on_copy_done(Some(&t)).is_err());
    assert!(m.on_copy_data(Some(&t), b"3,x,y\n").is_err());
}

#[test]
fn the_copy_of_a_multi_statement_query_is_found_by_progress() {
    let mut m = masker(false);
    let t = tag(
        "COPY customers (full_name) TO STDOUT; COPY customers (id) TO STDOUT CSV",
        &[],
    );
    m.on_copy_out_response(Some(&t), &copy_out(0, 1)).unwrap();
    assert!(replaced(m.on_copy_data(Some(&t), b"Jane\n")).contains("****"));
    m.on_copy_done(Some(&t)).unwrap();
    done(&mut m, Some(&t));
    m.on_copy_out_response(Some(&t), &copy_out(0, 1)).unwrap();
    assert_eq!(m.on_copy_data(Some(&t), b"\"7\"\n"), Ok(Rewrite::Unchanged));
}

#[test]
fn many_layouts_keep_their_own_plans() {
    let mut m = masker(false);
    let t = tag("SELECT full_name FROM customers", &[]);
    for id in 1..=(3 * PLANS as u64) {
        // Odd layouts are the classified column, even ones a plain one.
        let oid = if id % 2 == 1 { CUSTOMERS } else { 0 };
        let l = layout(id, &[("n", oid, 2, 25, 0)]);
        let r = m.on_data_row(Some(&t), &l, &row(&["Jane Roe"]));
        assert_eq!(r == Ok(Rewrite::Unchanged), id % 2 == 0, "layout {id}");
    }
    assert!(m.plans.len() <= PLANS);
}
