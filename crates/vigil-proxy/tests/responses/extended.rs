//! The extended protocol: prepared statements described once and run with
//! binary results, pipelines, errors mid-batch, Vigil's own Describe.

use crate::hooks::{completes, layouts, stack};
use crate::raw::{bind, describe, errors, execute, parse, rows, status, sync, tags, Raw};

#[test]
fn tokio_postgres_prepared_statements_with_binary_results() {
    let (stack, log, _) = stack();
    let sql = "SELECT id, email, note FROM people WHERE id < $1 ORDER BY id";
    stack.rt.block_on(async {
        let c = stack.driver().await;
        // Parse + Describe S + Sync once; then Bind (binary) + Execute + Sync.
        let st = c.prepare(sql).await.unwrap();
        for _ in 0..2 {
            let got = c.query(&st, &[&99i32]).await.unwrap();
            // id 97 is the byte 'a' in binary int4: upper-casing it would
            // turn it into 65, so it proves the layout was right.
            let ids: Vec<i32> = got.iter().map(|r| r.get(0)).collect();
            assert_eq!(ids, [97, 98]);
            let emails: Vec<String> = got.iter().map(|r| r.get(1)).collect();
            assert_eq!(emails, ["ALICE@EXAMPLE.COM", "BOB@EXAMPLE.COM"]);
            let notes: Vec<Option<String>> = got.iter().map(|r| r.get(2)).collect();
            assert_eq!(notes, [Some("FIRST".to_owned()), None]);
        }
        // tokio-postgres pipelines concurrent queries on one connection.
        let (a, b, d) = tokio::join!(
            c.query_one("SELECT $1::text", &[&"one"]),
            c.query_one("SELECT $1::int + 1", &[&96i32]),
            c.query_one("SELECT $1::varchar", &[&"three"]),
        );
        assert_eq!(a.unwrap().get::<_, String>(0), "ONE");
        assert_eq!(b.unwrap().get::<_, i32>(0), 97);
        assert_eq!(d.unwrap().get::<_, String>(0), "THREE");
    });
    let binary = vec![(23, 1), (25, 1), (1043, 1)];
    assert!(layouts(&log).contains(&binary), "{:?}", layouts(&log));
    let runs: Vec<_> = completes(&log)
        .into_iter()
        .filter(|c| c.0.as_deref() == Some(sql))
        .collect();
    assert_eq!(
        runs,
        vec![(Some(sql.to_owned()), "SELECT 2".to_owned(), 2); 2]
    );
}

#[test]
fn pipelined_batch_without_describe_keeps_order() {
    let (stack, log, _) = stack();
    let mut s = stack.raw();
    for i in 0..25 {
        s.send(&parse("", "SELECT $1::text AS v, $2::int AS n"));
        s.send(&bind("", "", &[&format!("v{i}"), &i.to_string()], &[0, 1]));
        s.send(&execute("", 0));
    }
    s.send(&sync());
    let f = s.until_ready();
    // The client never described: Vigil's own Describe was answered, but
    // its RowDescriptions never reach the client.
    assert_eq!(tags(&f), "12DC".repeat(25) + "Z");
    for (i, row) in f.iter().filter(|f| f.tag() == b'D').enumerate() {
        let b = row.body();
        let v = format!("V{i}");
        assert_eq!(&b[6..6 + v.len()], v.as_bytes(), "row {i}");
        let n = &b[b.len() - 4..];
        assert_eq!(n, (i as i32).to_be_bytes(), "binary int of row {i}");
    }
    let c = completes(&log);
    assert_eq!(c.len(), 25);
    assert!(c.iter().all(|c| c.1 == "SELECT 1" && c.2 == 1));
}

#[test]
fn error_mid_batch_skips_to_sync() {
    let (stack, log, _) = stack();
    let mut s = stack.raw();
    s.send(&parse("", "SELECT email FROM people WHERE id = 97"));
    s.send(&bind("", "", &[], &[]));
    s.send(&execute("", 0));
    s.send(&parse("", "SELEC broken"));
    s.send(&bind("", "", &[], &[]));
    s.send(&execute("", 0));
    s.send(&parse("", "INSERT INTO marks VALUES (9, 'skipped')"));
    s.send(&bind("", "", &[], &[]));
    s.send(&execute("", 0));
    s.send(&sync());
    let f = s.until_ready();
    assert_eq!(tags(&f), "12DCEZ");
    assert_eq!(rows(&f), [["ALICE@EXAMPLE.COM"]]);
    assert_eq!(errors(&f)[0].code(), Some("42601"));
    assert_eq!(stack.admin("SELECT count(*) FROM marks").trim(), "0");
    let c = completes(&log);
    let outcomes: Vec<&str> = c.iter().map(|c| c.1.as_str()).collect();
    assert_eq!(outcomes, ["SELECT 1", "error 42601", "Skipped", "Skipped"]);
    assert_eq!(c[1].0.as_deref(), Some("SELEC broken"));
    // The next batch runs normally.
    s.send(&parse("", "SELECT 'after'"));
    s.send(&bind("", "", &[], &[]));
    s.send(&describe(b'P', ""));
    s.send(&execute("", 0));
    s.send(&sync());
    let f = s.until_ready();
    assert_eq!(tags(&f), "12TDCZ");
    assert_eq!(rows(&f), [["AFTER"]]);
}

#[test]
fn named_statement_bound_later_without_any_describe() {
    let (stack, log, _) = stack();
    let mut s = stack.raw();
    s.send(&parse(
        "s1",
        "SELECT id, email FROM people WHERE id = $1::int",
    ));
    s.send(&sync());
    assert_eq!(tags(&s.until_ready()), "1Z");
    for (portal, param) in [("p1", "98"), ("", "97")] {
        s.send(&bind(portal, "s1", &[param], &[1]));
        s.send(&execute(portal, 0));
        s.send(&sync());
        let f = s.until_ready();
        assert_eq!(tags(&f), "2DCZ");
        let email = &rows(&f)[0][1];
        assert!(email.ends_with("@EXAMPLE.COM"), "{email}");
    }
    // A Bind with its own tag.
    s.send(&parse("s2", "SELECT $1::text"));
    s.send(&bind("", "s2", &["bind-tag"], &[]));
    s.send(&execute("", 0));
    s.send(&sync());
    assert_eq!(rows(&s.until_ready()), [["BIND-TAG"]]);
    assert_eq!(
        completes(&log).last().cloned(),
        Some((Some("bind".to_owned()), "SELECT 1".to_owned(), 1))
    );
    assert!(layouts(&log).contains(&vec![(23, 1), (25, 1)]));
}

#[test]
fn portal_fetched_in_chunks_inside_a_block() {
    let (stack, _, _) = stack();
    let mut s = stack.raw();
    assert_eq!(status(&s.query("BEGIN")), 'T');
    s.send(&parse(
        "",
        "SELECT email FROM people WHERE id < 99 ORDER BY id",
    ));
    s.send(&bind("c", "", &[], &[]));
    s.send(&describe(b'P', "c"));
    s.send(&execute("c", 1));
    s.send(&sync());
    let f = s.until_ready();
    assert_eq!(tags(&f), "12TDsZ");
    s.send(&execute("c", 1));
    s.send(&sync());
    let f = s.until_ready();
    assert_eq!(tags(&f), "DsZ");
    assert_eq!(rows(&f), [["BOB@EXAMPLE.COM"]]);
    s.send(&execute("c", 1));
    s.send(&sync());
    assert_eq!(tags(&s.until_ready()), "CZ");
    assert_eq!(status(&s.query("COMMIT")), 'I');
}

/// Keeps the helper used by other modules linked.
#[allow(dead_code)]
fn _uses(_: &Raw) {}
