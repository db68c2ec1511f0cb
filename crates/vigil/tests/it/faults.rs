//! Bad input and backend faults: one session ends cleanly with a reason,
//! the proxy and every other session keep working.

use crate::common::{Stack, CONNECTION, USER};
use crate::raw::{errors, first_column, Login, Raw};
use std::io::{Read, Write};
use vigil_pgwire::backend::ErrorFields;

fn still_serves(stack: &Stack) {
    let mut s = stack.session();
    assert_eq!(
        first_column(&s.query("SELECT 'alive'")),
        vec!["alive".to_string()]
    );
}

/// Reads to EOF and returns the FATAL, if any.
fn fatal_then_close(raw: &mut Raw) -> Option<ErrorFields> {
    let mut fatal = None;
    while let Some(f) = raw.read_frame() {
        if f.tag() == b'E' {
            fatal = Some(ErrorFields::parse(f.body()).unwrap());
        }
    }
    fatal
}

#[test]
fn garbage_and_truncation_end_only_that_session() {
    let stack = Stack::start();
    let mut bystander = stack.session();

    let mut http = Raw::connect_tcp(stack.proxy_port());
    http.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut sink = Vec::new();
    let _ = http.read_to_end(&mut sink);

    let mut half = Raw::connect_tcp(stack.proxy_port());
    half.write_all(&[0, 0, 0, 40, 0, 3, 0, 0, b'u']).unwrap();
    drop(half);

    // A session that sends a frame with an impossible length.
    let mut bad = stack.session();
    bad.send_bytes(&[b'Q', 0, 0, 0, 2]);
    let e = fatal_then_close(&mut bad).expect("FATAL for a bad frame");
    assert_eq!(e.code(), Some("08P01"));

    // An oversized frame (limit is 64 MiB by default) ends the session.
    let mut big = stack.session();
    big.send_bytes(&[b'Q', 0x7f, 0xff, 0xff, 0xff]);
    let e = fatal_then_close(&mut big).expect("FATAL for an oversized frame");
    assert_eq!(e.code(), Some("08P01"));
    assert!(e.message().unwrap().contains("exceeds"));

    // A client that disconnects mid-message.
    let mut gone = stack.session();
    gone.send_bytes(&[b'Q', 0, 0, 0, 100, b'S', b'E']);
    drop(gone);

    assert_eq!(
        first_column(&bystander.query("SELECT 'still here'")),
        vec!["still here".to_string()]
    );
    still_serves(&stack);
}

#[test]
fn gssenc_is_refused_and_ssl_is_declined_without_tls() {
    let stack = Stack::start();
    let mut s = Raw::connect_tcp(stack.proxy_port());
    s.write_all(&[0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x30]).unwrap(); // GSSENCRequest
    let mut answer = [0u8; 1];
    s.read_exact(&mut answer).unwrap();
    assert_eq!(&answer, b"N");
    s.write_all(&[0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]).unwrap(); // SSLRequest
    s.read_exact(&mut answer).unwrap();
    assert_eq!(&answer, b"N", "no TLS configured: decline");
}

#[test]
fn function_call_is_refused_and_session_continues() {
    let stack = Stack::start();
    let mut s = stack.session();
    // FunctionCall for oid 1 with no arguments.
    let body = [0, 0, 0, 1, 0, 0, 0, 0, 0, 0];
    s.send(&vigil_pgwire::Frame::new(b'F', &body).unwrap());
    let frames = s.until_ready();
    let errs = errors(&frames);
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].code(), Some("42501"));
    assert!(errs[0].message().unwrap().starts_with("vigil: "));
    assert_eq!(first_column(&s.query("SELECT 1")), vec!["1".to_string()]);
}

#[test]
fn backend_down_then_back() {
    let mut stack = Stack::start();
    let mut s = stack.session();
    stack.cluster.kill_hard().unwrap();
    s.send(&vigil_pgwire::frontend::encode_query("SELECT 1").unwrap());
    let e = fatal_then_close(&mut s).expect("an error when the backend dies");
    assert_eq!(e.get(b'S'), Some("FATAL"));
    assert!(
        matches!(
            e.code(),
            Some("08006") | Some("57P01") | Some("57P02") | Some("57P03")
        ),
        "{:?}",
        e.code()
    );

    // While it is down: a clear FATAL, not a hang.
    match Raw::login(
        stack.proxy_port(),
        &[("user", USER), ("database", CONNECTION)],
        &stack.token(),
    ) {
        Login::Refused(e) => {
            assert_eq!(e.code(), Some("08006"));
            assert!(e.message().unwrap().contains(CONNECTION));
        }
        Login::Ok(_) => panic!("connected to a dead backend"),
    }
    stack.cluster.start_again().unwrap();
    still_serves(&stack);
}

#[test]
fn graceful_backend_shutdown_passes_57p01() {
    let mut stack = Stack::start();
    let mut s = stack.session();
    stack.cluster.stop().unwrap();
    let e = fatal_then_close(&mut s).expect("FATAL on shutdown");
    assert_eq!(e.code(), Some("57P01"));
    stack.cluster.start_again().unwrap();
    still_serves(&stack);
}
