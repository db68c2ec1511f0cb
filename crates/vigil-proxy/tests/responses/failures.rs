//! Fail closed: a row the hook cannot make safe is never sent; the client
//! gets 58000 and the session stays usable.

use crate::hooks::{completes, stack};
use crate::raw::{all_bytes, bind, contains, errors, execute, parse, rows, status, sync, tags};

#[test]
fn poisoned_row_in_a_simple_query() {
    let (stack, log, _) = stack();
    let mut s = stack.raw();
    let f = s.query("SELECT email FROM people ORDER BY id");
    assert_eq!(tags(&f), "TDDEZ");
    let e = &errors(&f)[0];
    assert_eq!(e.code(), Some("58000"));
    assert_eq!(e.message(), Some("vigil: masking failed: poisoned value"));
    assert!(!contains(&all_bytes(&f), b"poison@"));
    assert_eq!(status(&f), 'I');
    let c = completes(&log);
    assert_eq!(c[0].1, "failed 58000");
    assert_eq!(c[0].2, 2, "two rows were sent before the failure");
    // Usable afterwards.
    assert_eq!(rows(&s.query("SELECT 'next'")), [["NEXT"]]);
}

#[test]
fn poisoned_row_inside_a_block_aborts_it_for_the_client() {
    let (stack, _, _) = stack();
    let mut s = stack.raw();
    assert_eq!(status(&s.query("BEGIN")), 'T');
    let f = s.query("SELECT note, email FROM people WHERE id = 99");
    assert_eq!(tags(&f), "TEZ");
    assert_eq!(status(&f), 'E', "the client is told the block failed");
    assert_eq!(status(&s.query("ROLLBACK")), 'I');
    assert_eq!(rows(&s.query("SELECT 1")), [["1"]]);
}

#[test]
fn rest_of_the_query_string_is_withheld() {
    let (stack, log, _) = stack();
    let mut s = stack.raw();
    let f = s.query(
        "SELECT email FROM people WHERE id = 99; INSERT INTO marks VALUES (7, 'ran'); SELECT 'hidden'",
    );
    assert_eq!(tags(&f), "TEZ");
    assert!(!contains(&all_bytes(&f), b"HIDDEN"));
    // The trade-off, documented: the server did run the rest.
    assert_eq!(stack.admin("SELECT count(*) FROM marks").trim(), "1");
    let c = completes(&log);
    let outcomes: Vec<&str> = c.iter().map(|c| c.1.as_str()).collect();
    assert_eq!(outcomes, ["failed 58000", "INSERT 0 1", "SELECT 1"]);
}

#[test]
fn poisoned_row_in_a_pipeline_swallows_up_to_the_sync() {
    let (stack, _, _) = stack();
    let mut s = stack.raw();
    s.send(&parse(
        "",
        "SELECT email FROM people WHERE id >= 98 ORDER BY id",
    ));
    s.send(&bind("", "", &[], &[]));
    s.send(&execute("", 0));
    s.send(&parse("", "SELECT 'second'"));
    s.send(&bind("", "", &[], &[]));
    s.send(&execute("", 0));
    s.send(&sync());
    s.send(&parse("", "SELECT 'next batch'"));
    s.send(&bind("", "", &[], &[]));
    s.send(&execute("", 0));
    s.send(&sync());
    let f = s.until_ready();
    assert_eq!(tags(&f), "12DEZ");
    assert_eq!(rows(&f), [["BOB@EXAMPLE.COM"]]);
    assert!(!contains(&all_bytes(&f), b"SECOND"));
    let f = s.until_ready();
    assert_eq!(tags(&f), "12DCZ");
    assert_eq!(rows(&f), [["NEXT BATCH"]]);
}

#[test]
fn tokio_postgres_sees_58000_and_carries_on() {
    let (stack, _, _) = stack();
    stack.rt.block_on(async {
        let c = stack.driver().await;
        let e = c
            .query("SELECT id, email FROM people ORDER BY id", &[])
            .await
            .unwrap_err();
        assert_eq!(e.code().map(|c| c.code()), Some("58000"), "{e}");
        let r = c.query_one("SELECT $1::text", &[&"fine"]).await.unwrap();
        assert_eq!(r.get::<_, String>(0), "FINE");
    });
}

#[test]
fn poisoned_copy_out_ends_with_an_error() {
    let (stack, _, _) = stack();
    let mut s = stack.raw();
    let f = s.query("COPY (SELECT email FROM people ORDER BY id) TO STDOUT");
    assert_eq!(tags(&f), "HddEZ");
    assert!(!contains(&all_bytes(&f), b"poison@"));
    assert_eq!(errors(&f)[0].code(), Some("58000"));
    assert_eq!(rows(&s.query("SELECT 'ok'")), [["OK"]]);
}
