//! Cancel requests: a client can cancel its own query through Vigil, and
//! never another session's.

use crate::common::Stack;
use crate::raw::{errors, Raw};
use bytes::BytesMut;
use std::io::Write;
use std::time::Duration;
use vigil_pgwire::frontend::encode_query;
use vigil_pgwire::startup::encode_cancel;

fn send_cancel(port: u16, pid: i32, secret: i32) {
    let mut s = Raw::connect_tcp(port);
    let mut out = BytesMut::new();
    encode_cancel(pid, secret, &mut out);
    s.write_all(&out).unwrap();
    // Vigil closes the connection once it has acted on the request.
    let mut sink = [0u8; 8];
    let _ = std::io::Read::read(&mut s, &mut sink);
}

/// Waits until the server shows `n` sessions running pg_sleep.
fn wait_for_sleepers(stack: &Stack, n: usize) {
    for _ in 0..600 {
        let count = stack.admin(
            "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE 'SELECT pg_sleep%'",
        );
        if count.trim().parse::<usize>().unwrap_or(0) >= n {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("pg_sleep never started");
}

#[test]
fn own_cancel_works_and_another_sessions_key_does_not() {
    let stack = Stack::start();
    let mut victim = stack.session();
    let attacker = stack.session();
    assert_ne!((victim.pid, victim.secret), (attacker.pid, attacker.secret));

    victim.send(&encode_query("SELECT pg_sleep(2)").unwrap());
    wait_for_sleepers(&stack, 1);
    // The victim's pid with the attacker's secret, and a guessed secret.
    send_cancel(stack.proxy_port(), victim.pid, attacker.secret);
    send_cancel(
        stack.proxy_port(),
        victim.pid,
        victim.secret.wrapping_add(1),
    );
    // The attacker's own key names the attacker's idle session, not the victim's.
    send_cancel(stack.proxy_port(), attacker.pid, attacker.secret);
    let frames = victim.until_ready();
    assert!(
        errors(&frames).is_empty(),
        "the sleep was cancelled by a foreign key"
    );

    victim.send(&encode_query("SELECT pg_sleep(30)").unwrap());
    wait_for_sleepers(&stack, 1);
    send_cancel(stack.proxy_port(), victim.pid, victim.secret);
    let frames = victim.until_ready();
    let errs = errors(&frames);
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].code(), Some("57014"));
    // Still usable.
    assert_eq!(
        crate::raw::first_column(&victim.query("SELECT 'after'")),
        vec!["after".to_string()]
    );
}

#[test]
fn driver_cancel_token_works() {
    // tokio-postgres is a real client: its cancel token carries the key
    // Vigil handed out.
    let stack = Stack::start();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let client = stack.driver().await;
        let token = client.cancel_token();
        let sleeper = tokio::spawn(async move { client.simple_query("SELECT pg_sleep(30)").await });
        tokio::task::block_in_place(|| wait_for_sleepers(&stack, 1));
        token.cancel_query(tokio_postgres::NoTls).await.unwrap();
        let err = sleeper.await.unwrap().unwrap_err();
        assert_eq!(
            err.code(),
            Some(&tokio_postgres::error::SqlState::QUERY_CANCELED)
        );
    });
}
