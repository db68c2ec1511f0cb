//! A deterministic, dependency-free stand-in for the `classify` fuzz target
//! (fuzz/fuzz_targets/classify.rs) so CI exercises the same properties:
//! classify never panics, and whatever PostgreSQL's grammar rejects is
//! classified as one opaque statement flagged `opaque_code`.

use vigil_core::{FlagId, StatementKind};
use vigil_sql::classify;

const SEEDS: &[&str] = &[
    "SELECT a, b FROM t WHERE id = 1 LIMIT 10",
    "WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d",
    "UPDATE t SET a = 1 WHERE 1=1",
    "INSERT INTO t (id) VALUES (1) ON CONFLICT (id) DO UPDATE SET id = EXCLUDED.id",
    "COPY (SELECT * FROM t) TO PROGRAM 'x'",
    "SELECT set_config('role', 'x', false); DROP TABLE t",
    "DO $$ BEGIN NULL; END $$",
    "CREATE FUNCTION f() RETURNS int AS $b$ SELECT 1 $b$ LANGUAGE sql",
    "SELECT E'\\'' /* /* */ */ -- c\n, U&\"d\\0061t\\+000061\"",
    "EXPLAIN ANALYZE MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE",
];

const FRAGMENTS: &[&str] = &[
    ";",
    "'",
    "\"",
    "$$",
    "$a$",
    "/*",
    "*/",
    "--",
    "\n",
    "(",
    ")",
    ",",
    "\\",
    "\0",
    " OR true",
    " WHERE ",
    "SELECT ",
    "DELETE FROM ",
    "DROP TABLE x",
    " 1=1",
    "E'",
    "U&'",
    "::bool",
    "é",
    "💥",
    "WITH x AS (",
    "LATERAL ",
    "((((((((((",
    "))))))))))",
    "CREATE FUNCTION ",
    "COPY ",
    "PROGRAM ",
];

/// xorshift64*: tiny, seeded, deterministic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % (n.max(1) as u64)) as usize
    }
}

fn mutate(rng: &mut Rng, input: &str) -> String {
    let mut chars: Vec<char> = input.chars().collect();
    for _ in 0..=rng.below(4) {
        let at = rng.below(chars.len() + 1);
        match rng.below(5) {
            0 if !chars.is_empty() => {
                let end = (at + rng.below(8)).min(chars.len());
                chars.drain(at.min(end)..end);
            }
            1 => {
                let frag = FRAGMENTS[rng.below(FRAGMENTS.len())];
                chars.splice(at..at, frag.chars());
            }
            2 => chars.insert(at, char::from_u32(rng.below(0x80) as u32).unwrap_or('?')),
            3 => chars.truncate(at),
            _ => {
                let other: Vec<char> = SEEDS[rng.below(SEEDS.len())].chars().collect();
                let from = rng.below(other.len());
                chars.splice(at..at, other[from..].iter().copied());
            }
        }
    }
    chars.into_iter().collect()
}

fn check(sql: &str) {
    let m = classify(sql);
    if pg_query::parse(sql, 0).is_err() {
        assert_eq!(m.statements.len(), 1, "{sql:?}");
        assert_eq!(m.kind, StatementKind::Opaque, "{sql:?}");
        assert!(m.has_flag(FlagId::OpaqueCode), "{sql:?}");
        assert!(m.has_parse_error(), "{sql:?}");
    }
    assert_eq!(
        m.statements.len() > 1,
        m.has_flag(FlagId::MultiStatement),
        "{sql:?}"
    );
}

#[test]
fn mutated_inputs_never_panic_and_unparseable_is_opaque() {
    let mut rng = Rng(0x5EED_1234_ABCD_0001);
    let mut unparseable = 0;
    for i in 0..3000 {
        let seed = SEEDS[i % SEEDS.len()];
        let sql = mutate(&mut rng, seed);
        check(&sql);
        if pg_query::parse(&sql, 0).is_err() {
            unparseable += 1;
        }
    }
    // The mutations must actually reach the error path to test anything.
    assert!(unparseable > 500, "only {unparseable} unparseable inputs");
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng(42);
    for _ in 0..1000 {
        let len = rng.below(64);
        let bytes: Vec<u8> = (0..len).map(|_| (rng.next() & 0xff) as u8).collect();
        check(&String::from_utf8_lossy(&bytes));
    }
}

#[test]
fn deep_nesting_is_handled() {
    for depth in [10usize, 100, 1000, 10_000] {
        let sql = format!("SELECT {}1{}", "(".repeat(depth), ")".repeat(depth));
        check(&sql);
        let sub = format!(
            "SELECT * FROM {}t{}",
            "(SELECT * FROM ".repeat(depth.min(2000)),
            ") s".repeat(depth.min(2000))
        );
        check(&sub);
    }
    let long_or = format!("DELETE FROM t WHERE {}", vec!["id = 1"; 5000].join(" OR "));
    check(&long_or);
}
