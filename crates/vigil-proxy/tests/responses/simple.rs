//! Simple Query: several statements per message, COPY both ways, denials.

use crate::hooks::{completes, stack};
use crate::raw::{errors, rows, status, tags};
use vigil_pgwire::frontend::encode_query;
use vigil_pgwire::Frame;

#[test]
fn several_statements_in_one_query_are_masked_and_counted() {
    let (stack, log, _) = stack();
    let mut s = stack.raw();
    let sql = "SELECT email FROM people WHERE id < 99 ORDER BY id; \
               SELECT id, note FROM people WHERE id = 97; \
               INSERT INTO marks VALUES (1, 'x'); SELECT 1 WHERE false";
    let f = s.query(sql);
    assert_eq!(tags(&f), "TDDCTDCCTCZ");
    assert_eq!(
        rows(&f),
        [
            vec!["ALICE@EXAMPLE.COM"],
            vec!["BOB@EXAMPLE.COM"],
            vec!["97", "FIRST"]
        ]
    );
    let tag = Some(sql.to_owned());
    assert_eq!(
        completes(&log),
        [
            (tag.clone(), "SELECT 2".into(), 2),
            (tag.clone(), "SELECT 1".into(), 1),
            (tag.clone(), "INSERT 0 1".into(), 0),
            (tag, "SELECT 0".into(), 0),
        ]
    );
    let f = s.query("");
    assert_eq!(tags(&f), "IZ");
}

#[test]
fn copy_to_stdout_and_from_stdin() {
    let (stack, log, _) = stack();
    let mut s = stack.raw();
    let f = s.query("COPY (SELECT id, email FROM people WHERE id < 99 ORDER BY id) TO STDOUT");
    assert_eq!(tags(&f), "HddcCZ");
    let data: Vec<&[u8]> = f
        .iter()
        .filter(|f| f.tag() == b'd')
        .map(|f| f.body())
        .collect();
    assert_eq!(
        data,
        [&b"97\tALICE@EXAMPLE.COM\n"[..], b"98\tBOB@EXAMPLE.COM\n"]
    );
    assert!(log.lock().unwrap().contains(&crate::hooks::Event::CopyDone));

    s.send(&encode_query("COPY marks FROM STDIN").unwrap());
    let g = s.read_frame().unwrap();
    assert_eq!(g.tag(), b'G');
    for line in ["5\tfive\n", "6\tsix\n"] {
        s.send(&Frame::new(b'd', line.as_bytes()).unwrap());
    }
    s.send(&Frame::new(b'c', &[]).unwrap());
    let f = s.until_ready();
    assert_eq!(tags(&f), "CZ");
    assert_eq!(
        stack
            .admin("SELECT count(*) FROM marks WHERE n IN (5, 6)")
            .trim(),
        "2"
    );
    let c = completes(&log);
    assert_eq!(c.last().map(|c| c.1.as_str()), Some("COPY 2"));

    // A COPY that fails on the client side still ends in order.
    s.send(&encode_query("COPY marks FROM STDIN").unwrap());
    assert_eq!(s.read_frame().unwrap().tag(), b'G');
    s.send(&Frame::new(b'f', b"client gave up\0").unwrap());
    let f = s.until_ready();
    assert_eq!(tags(&f), "EZ");
    assert_eq!(errors(&f)[0].code(), Some("57014"));
}

#[test]
fn denials_still_replace_the_servers_error() {
    let (stack, log, _) = stack();
    let mut s = stack.raw();
    let f = s.query("SELECT * FROM forbidden_table");
    assert_eq!(tags(&f), "EZ");
    assert_eq!(errors(&f)[0].code(), Some("42501"));
    assert_eq!(errors(&f)[0].message(), Some("vigil: not here"));
    assert_eq!(status(&f), 'I');
    assert_eq!(completes(&log), [(None, "error 42501".into(), 0)]);
    assert_eq!(rows(&s.query("SELECT 'still here'")), [["STILL HERE"]]);
}
