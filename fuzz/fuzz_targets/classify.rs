//! Fuzzes the SQL classifier: it must never panic, and any input that
//! PostgreSQL's grammar rejects must come out as one opaque statement
//! flagged `opaque_code`. Run: `cargo +nightly fuzz run classify`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigil_core::{FlagId, StatementKind};

fuzz_target!(|data: &[u8]| {
    let Ok(sql) = std::str::from_utf8(data) else { return };
    let m = vigil_sql::classify(sql);
    if pg_query::parse(sql, 0).is_err() {
        assert_eq!(m.statements.len(), 1);
        assert_eq!(m.kind, StatementKind::Opaque);
        assert!(m.has_flag(FlagId::OpaqueCode));
        assert!(m.has_parse_error());
    }
    assert_eq!(m.statements.len() > 1, m.has_flag(FlagId::MultiStatement));
});
