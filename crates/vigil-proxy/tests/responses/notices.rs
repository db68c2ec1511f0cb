//! Notices from a held statement reach the client before its result.

use crate::hooks::{completes, stack};
use crate::raw::{rows, tags};
use vigil_pgwire::backend::ErrorFields;
use vigil_pgwire::frontend::encode_query;

#[test]
fn a_held_statement_tells_the_client_why_it_waits() {
    let (stack, log, release) = stack();
    let mut s = stack.raw();
    let sql = "SELECT 'hold_me' AS v";
    s.send(&encode_query(sql).unwrap());
    // The statement is not released until the client has the notice: it
    // cannot have been forwarded, so nothing of its result can come first.
    let first = s.read_frame().expect("a frame");
    assert_eq!(first.tag(), b'N', "got {:?}", first.tag() as char);
    let n = ErrorFields::parse(first.body()).unwrap();
    assert_eq!(n.message(), Some("vigil: waiting for approval"));
    assert_eq!(n.get(b'S'), Some("NOTICE"));
    release.notify_one();
    let rest = s.until_ready();
    assert_eq!(tags(&rest), "TDCZ");
    assert_eq!(rows(&rest), [["HOLD_ME"]]);
    // The tag given when the hold resolved comes back with the result.
    assert_eq!(
        completes(&log),
        [(Some(sql.to_owned()), "SELECT 1".to_owned(), 1)]
    );
    assert_eq!(tags(&s.query("SELECT 1")), "TDCZ");
}
