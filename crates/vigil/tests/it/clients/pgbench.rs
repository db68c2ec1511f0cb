//! pgbench through Vigil: initialisation (client-side COPY, VACUUM, DDL),
//! then fixed-count runs in every query mode. Counts, not timings, are
//! asserted; the TPC-B invariants are checked on the server afterwards.

use super::Run;
use crate::common::Stack;
use std::process::Command;

const CLIENTS: u32 = 4;
const TXNS_PER_CLIENT: u32 = 200;

fn pgbench(dsn: &str, args: &[&str]) -> Run {
    let out = Command::new("pgbench")
        .args(args)
        .arg(dsn)
        .env_remove("PGPASSWORD")
        .output()
        .expect("spawn pgbench");
    Run::from_output(out)
}

/// One fixed-size run; asserts every transaction was processed, none failed.
fn run_mode(stack: &Stack, extra: &[&str]) {
    let clients = CLIENTS.to_string();
    let txns = TXNS_PER_CLIENT.to_string();
    let mut args = vec!["-t", &txns, "-c", &clients, "-j", "2"];
    args.extend_from_slice(extra);
    let run = pgbench(&stack.proxy_dsn(), &args);
    run.assert_ok(&format!("pgbench {args:?} through Vigil"));
    let total = CLIENTS * TXNS_PER_CLIENT;
    let out = run.out();
    let processed = format!("number of transactions actually processed: {total}/{total}");
    assert!(
        out.contains(&processed),
        "pgbench {extra:?}: {out}\n{}",
        run.err()
    );
    assert!(
        out.contains("number of failed transactions: 0 (0.000%)"),
        "pgbench {extra:?}: {out}"
    );
    let mode = extra
        .iter()
        .position(|a| *a == "-M")
        .and_then(|i| extra.get(i + 1));
    if let Some(mode) = mode {
        assert!(out.contains(&format!("query mode: {mode}")), "{out}");
    }
}

#[test]
fn pgbench_init_and_all_query_modes() {
    let stack = Stack::start();
    let init = pgbench(&stack.proxy_dsn(), &["-i", "-s", "1", "-q"]);
    init.assert_ok("pgbench -i through Vigil");
    assert!(init.err().contains("done in"), "{}", init.err());
    assert_eq!(
        stack.admin("SELECT count(*) FROM pgbench_accounts"),
        "100000"
    );
    // pgbench truncates pgbench_history when it vacuums before a run, so
    // only the first run vacuums (VACUUM through Vigil); the rest use -n
    // and the history accumulates across the three TPC-B runs.
    run_mode(&stack, &["-S", "-M", "simple"]);
    run_mode(&stack, &["-S", "-M", "prepared", "-n"]);
    for mode in ["simple", "extended", "prepared"] {
        run_mode(&stack, &["-M", mode, "-n"]);
    }
    let counts = stack.admin(
        "SELECT (SELECT count(*) FROM pgbench_branches) || ' ' || (SELECT count(*) FROM pgbench_tellers)
          || ' ' || (SELECT count(*) FROM pgbench_accounts) || ' ' || (SELECT count(*) FROM pgbench_history)",
    );
    let history = 3 * CLIENTS * TXNS_PER_CLIENT;
    assert_eq!(counts, format!("1 10 100000 {history}"));
    // TPC-B bookkeeping: every delta landed in all three balances.
    let sums = stack.admin(
        "SELECT (SELECT sum(abalance) FROM pgbench_accounts) = (SELECT sum(delta) FROM pgbench_history)
            AND (SELECT sum(bbalance) FROM pgbench_branches) = (SELECT sum(delta) FROM pgbench_history)
            AND (SELECT sum(tbalance) FROM pgbench_tellers) = (SELECT sum(delta) FROM pgbench_history)",
    );
    assert_eq!(sums, "t");
}
