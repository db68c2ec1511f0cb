//! The same real clients with no response hook (tracking only, the
//! pass-through configuration) and with the test hook: pgbench in every
//! query mode, including its client-side COPY at initialisation.

use crate::harness::Stack;
use crate::hooks::{Tagger, UpperFactory};
use crate::raw::{bind, execute, parse, rows, sync, tags};
use std::process::Command;
use std::sync::Arc;
use vigil_proxy::ResponseHookFactory;

fn pgbench(stack: &Stack, args: &[&str]) -> String {
    let out = Command::new("pgbench")
        .args(args)
        .arg(stack.dsn())
        .env_remove("PGPASSWORD")
        .output()
        .expect("spawn pgbench");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "pgbench {args:?}: {text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

fn clients_work(responses: Option<Arc<dyn ResponseHookFactory>>) {
    let stack = Stack::start(Arc::new(Tagger::default()), responses);
    pgbench(&stack, &["-i", "-s", "1", "-q"]);
    for mode in ["simple", "extended", "prepared"] {
        for select_only in [true, false] {
            let mut args = vec!["-n", "-t", "100", "-c", "3", "-j", "1", "-M", mode];
            if select_only {
                args.push("-S");
            }
            let out = pgbench(&stack, &args);
            assert!(
                out.contains("number of transactions actually processed: 300/300"),
                "{mode}: {out}"
            );
        }
    }
    let mut s = stack.raw();
    s.send(&parse("", "SELECT $1::int"));
    s.send(&bind("", "", &["7"], &[]));
    s.send(&execute("", 0));
    s.send(&sync());
    let f = s.until_ready();
    assert_eq!(tags(&f), "12DCZ");
    assert_eq!(rows(&f), [["7"]]);
}

#[test]
fn clients_work_without_a_response_hook() {
    clients_work(None);
}

#[test]
fn clients_work_with_the_test_response_hook() {
    clients_work(Some(Arc::new(UpperFactory::default())));
}
