use super::*;
use crate::layout::tests::description;
use std::sync::Arc;

fn tracker() -> Tracker {
    Tracker::new(true)
}

fn req(kind: RequestKind) -> Request {
    Request::new(kind)
}

fn tagged(kind: RequestKind, tag: &'static str) -> Request {
    let mut r = Request::new(kind);
    r.tag = Some(Arc::new(tag));
    r
}

fn tag_of(t: &Tracker) -> Option<&'static str> {
    t.tag()
        .and_then(|t| t.downcast_ref::<&'static str>())
        .copied()
}

fn parse(name: &str) -> RequestKind {
    RequestKind::Parse {
        statement: name.as_bytes().to_vec(),
    }
}

fn bind(portal: &str, statement: &str, formats: &[i16]) -> RequestKind {
    RequestKind::Bind {
        portal: portal.as_bytes().to_vec(),
        statement: statement.as_bytes().to_vec(),
        result_formats: formats.to_vec(),
    }
}

fn describe(kind: u8, name: &str) -> RequestKind {
    RequestKind::Describe {
        kind,
        name: name.as_bytes().to_vec(),
    }
}

fn execute(portal: &str) -> RequestKind {
    RequestKind::Execute {
        portal: portal.as_bytes().to_vec(),
    }
}

fn two_columns() -> bytes::Bytes {
    description(&[("id", 16384, 1, 23, 0), ("email", 16384, 2, 25, 0)])
}

/// Places each message, expecting the placements given.
fn script(t: &mut Tracker, steps: &[(u8, &[u8], Placement)]) {
    for (i, (tag, body, want)) in steps.iter().enumerate() {
        let got = t.place(*tag, body);
        assert_eq!(got, Ok(*want), "step {i}: {:?}", *tag as char);
    }
}

#[test]
fn simple_query_with_two_results() {
    let mut t = tracker();
    t.push(tagged(RequestKind::Query, "q"));
    let d = two_columns();
    assert_eq!(t.place(b'T', &d), Ok(Placement::RowDescription));
    let first = t.layout().map(|l| l.id());
    assert_eq!(tag_of(&t), Some("q"));
    script(
        &mut t,
        &[
            (b'D', b"", Placement::DataRow),
            (b'C', b"SELECT 1\0", Placement::Complete),
            (b'T', &d, Placement::RowDescription),
        ],
    );
    assert_ne!(
        t.layout().map(|l| l.id()),
        first,
        "each result has its own layout"
    );
    script(
        &mut t,
        &[
            (b'D', b"", Placement::DataRow),
            (b'N', b"", Placement::Async),
            (b'C', b"SELECT 1\0", Placement::Complete),
            (b'Z', b"I", Placement::Ready { query: true }),
        ],
    );
    assert_eq!(t.pending(), 0);
}

#[test]
fn query_error_ends_the_query_at_its_ready() {
    let mut t = tracker();
    t.push(req(RequestKind::Query));
    t.push(req(RequestKind::Query));
    script(
        &mut t,
        &[
            (b'T', &two_columns(), Placement::RowDescription),
            (b'D', b"", Placement::DataRow),
            (b'E', b"", Placement::Error),
            (b'Z', b"I", Placement::Ready { query: true }),
            (b'I', b"", Placement::Complete),
            (b'Z', b"I", Placement::Ready { query: true }),
        ],
    );
}

#[test]
fn rows_without_a_description_do_not_fit_a_query() {
    let mut t = tracker();
    t.push(req(RequestKind::Query));
    assert!(t.place(b'D', b"").is_err());
    let mut t = tracker();
    t.push(req(RequestKind::Query));
    assert!(t.place(b'1', b"").is_err());
    let mut t = tracker();
    assert!(t.place(b'D', b"").is_err(), "nothing was asked");
    assert_eq!(t.place(b'E', b""), Ok(Placement::Async), "a FATAL may come");
    assert_eq!(t.place(b'S', b""), Ok(Placement::Async));
}

#[test]
fn statement_described_once_then_bound_binary() {
    // tokio-postgres / asyncpg: prepare = Parse + Describe S + Sync; run =
    // Bind (binary results) + Execute + Sync, with no RowDescription.
    let mut t = tracker();
    t.push(tagged(parse("s1"), "prep"));
    t.push(req(describe(b'S', "s1")));
    t.push(req(RequestKind::Sync));
    script(
        &mut t,
        &[
            (b'1', b"", Placement::Ack),
            (b't', b"", Placement::Ack),
            (b'T', &two_columns(), Placement::RowDescription),
            (b'Z', b"I", Placement::Ready { query: false }),
        ],
    );
    t.push(req(bind("", "s1", &[1])));
    t.push(req(execute("")));
    t.push(req(RequestKind::Sync));
    script(
        &mut t,
        &[(b'2', b"", Placement::Ack), (b'D', b"", Placement::DataRow)],
    );
    assert_eq!(
        tag_of(&t),
        Some("prep"),
        "the Bind inherits the Parse's tag"
    );
    let l = t.layout().unwrap();
    assert!(l.columns().iter().all(|c| c.is_binary()));
    assert_eq!(l.result_formats(), Some(&[1][..]));
    assert_eq!(l.columns()[1].attnum, 2);
    script(
        &mut t,
        &[
            (b'C', b"SELECT 1\0", Placement::Complete),
            (b'Z', b"I", Placement::Ready { query: false }),
        ],
    );
}

#[test]
fn libpq_style_describe_portal_and_own_bind_tag() {
    let mut t = tracker();
    t.push(tagged(parse(""), "parse"));
    t.push(tagged(bind("", "", &[]), "bind"));
    t.push(req(describe(b'P', "")));
    t.push(req(execute("")));
    t.push(req(RequestKind::Sync));
    script(
        &mut t,
        &[
            (b'1', b"", Placement::Ack),
            (b'2', b"", Placement::Ack),
            (b'T', &two_columns(), Placement::RowDescription),
            (b'D', b"", Placement::DataRow),
        ],
    );
    assert_eq!(tag_of(&t), Some("bind"));
    assert!(t.layout().is_some_and(|l| !l.columns()[0].is_binary()));
    script(
        &mut t,
        &[
            (b'D', b"", Placement::DataRow),
            (b's', b"", Placement::Complete),
            (b'Z', b"T", Placement::Ready { query: false }),
        ],
    );
}

#[test]
fn error_mid_batch_skips_to_sync() {
    let mut t = tracker();
    for r in [
        parse("a"),
        bind("", "a", &[]),
        execute(""),
        parse("b"),
        bind("", "b", &[]),
        execute(""),
        RequestKind::Sync,
        RequestKind::Query,
    ] {
        t.push(req(r));
    }
    script(
        &mut t,
        &[
            (b'1', b"", Placement::Ack),
            (b'2', b"", Placement::Ack),
            (b'E', b"", Placement::Error),
            (b'Z', b"I", Placement::Ready { query: false }),
        ],
    );
    let skipped: Vec<_> = t.take_skipped().map(|r| r.answering()).collect();
    assert_eq!(
        skipped,
        [Answering::Parse, Answering::Bind, Answering::Execute]
    );
    script(
        &mut t,
        &[
            (b'I', b"", Placement::Complete),
            (b'Z', b"I", Placement::Ready { query: true }),
        ],
    );
}

#[test]
fn skip_waits_for_requests_not_yet_sent() {
    // Parse, Flush; the error comes back before the client sends the rest.
    let mut t = tracker();
    t.push(req(parse("x")));
    assert_eq!(t.place(b'E', b""), Ok(Placement::Error));
    t.push(req(bind("", "x", &[])));
    t.push(req(execute("")));
    t.push(req(RequestKind::Sync));
    assert_eq!(t.place(b'Z', b"I"), Ok(Placement::Ready { query: false }));
    assert_eq!(t.take_skipped().count(), 2);
}

#[test]
fn injected_describe_is_internal_and_gives_the_layout() {
    let mut t = tracker();
    t.push(req(parse("")));
    t.push(req(bind("p", "", &[1, 0])));
    let mut d = req(describe(b'P', "p"));
    d.internal = true;
    t.push(d);
    t.push(req(execute("p")));
    t.push(req(RequestKind::Sync));
    let rd = description(&[("id", 1, 1, 23, 1), ("email", 1, 2, 25, 0)]);
    script(
        &mut t,
        &[
            (b'1', b"", Placement::Ack),
            (b'2', b"", Placement::Ack),
            (b'T', &rd, Placement::Internal),
            (b'D', b"", Placement::DataRow),
        ],
    );
    assert!(t.layout().unwrap().columns()[0].is_binary());
    script(
        &mut t,
        &[
            (b'C', b"SELECT 1\0", Placement::Complete),
            (b'Z', b"I", Placement::Ready { query: false }),
        ],
    );
}

#[test]
fn copy_out_and_in() {
    let mut t = tracker();
    t.push(req(RequestKind::Query));
    t.push(req(RequestKind::Query));
    script(
        &mut t,
        &[
            (b'H', b"\0\0\0", Placement::CopyOut),
            (b'd', b"1\n", Placement::CopyData),
            (b'S', b"", Placement::Async),
            (b'd', b"2\n", Placement::CopyData),
            (b'c', b"", Placement::CopyDone),
            (b'C', b"COPY 2\0", Placement::Complete),
            (b'Z', b"I", Placement::Ready { query: true }),
            (b'G', b"\0\0\0", Placement::Ack),
            (b'C', b"COPY 2\0", Placement::Complete),
            (b'Z', b"I", Placement::Ready { query: true }),
        ],
    );
    let mut t = tracker();
    t.push(req(RequestKind::Query));
    assert!(t.place(b'd', b"").is_err(), "CopyData outside COPY OUT");
}

#[test]
fn close_forgets_a_statement() {
    let mut t = tracker();
    t.push(req(parse("s")));
    t.push(req(describe(b'S', "s")));
    t.push(req(RequestKind::Close {
        kind: b'S',
        name: b"s".to_vec(),
    }));
    t.push(req(bind("", "s", &[])));
    t.push(req(execute("")));
    t.push(req(RequestKind::Sync));
    script(
        &mut t,
        &[
            (b'1', b"", Placement::Ack),
            (b't', b"", Placement::Ack),
            (b'T', &two_columns(), Placement::RowDescription),
            (b'3', b"", Placement::Ack),
            (b'2', b"", Placement::Ack),
            (b'D', b"", Placement::DataRow),
        ],
    );
    assert!(t.layout().is_none(), "the statement was closed");
}

#[test]
fn portals_end_with_their_transaction() {
    let mut t = tracker();
    t.push(req(parse("s")));
    t.push(req(describe(b'S', "s")));
    t.push(req(bind("p", "s", &[])));
    t.push(req(RequestKind::Sync));
    t.push(req(execute("p")));
    t.push(req(RequestKind::Sync));
    script(
        &mut t,
        &[
            (b'1', b"", Placement::Ack),
            (b't', b"", Placement::Ack),
            (b'T', &two_columns(), Placement::RowDescription),
            (b'2', b"", Placement::Ack),
            (b'Z', b"I", Placement::Ready { query: false }),
            (b'E', b"", Placement::Error),
        ],
    );
    assert!(
        t.layout().is_none(),
        "portal p ended at the idle ReadyForQuery"
    );
}

#[test]
fn layouts_off_parses_nothing() {
    let mut t = Tracker::new(false);
    t.push(req(RequestKind::Query));
    // Not even a valid description: not read.
    script(
        &mut t,
        &[
            (b'T', b"junk", Placement::RowDescription),
            (b'D', b"", Placement::DataRow),
        ],
    );
    assert!(t.layout().is_none());
    let mut t = tracker();
    t.push(req(RequestKind::Query));
    assert!(matches!(
        t.place(b'T', b"junk"),
        Err(TrackError::Description(_))
    ));
}

/// A deterministic generator (no clock, no OS randomness in tests).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn pick<T: Copy>(&mut self, from: &[T]) -> T {
        from[(self.next() as usize) % from.len()]
    }
}

#[test]
fn hostile_sequences_never_panic() {
    let names = ["", "a", "b"];
    let tags = b"123tTnDCIsEZGHWdcNASKV?";
    let bodies: [&[u8]; 6] = [b"", b"I", b"T", b"\xff\xff", &[0, 1, 0], &[0, 0]];
    let desc = two_columns();
    let mut rng = Lcg(7);
    for round in 0..2000 {
        let mut t = Tracker::new(round % 3 != 0);
        for _ in 0..(rng.next() % 12) {
            let n = rng.pick(&names);
            let kind = match rng.next() % 8 {
                0 => RequestKind::Query,
                1 => parse(n),
                2 => bind(n, rng.pick(&names), &[rng.pick(&[0, 1, 2, -1])]),
                3 => describe(rng.pick(b"SP"), n),
                4 => execute(n),
                5 => RequestKind::Close {
                    kind: rng.pick(b"SP"),
                    name: n.as_bytes().to_vec(),
                },
                _ => RequestKind::Sync,
            };
            let mut r = req(kind);
            r.internal = rng.pick(&[true, false, false, false, false]);
            t.push(r);
        }
        for _ in 0..(rng.next() % 30) {
            let tag = rng.pick(tags);
            let body: &[u8] = if tag == b'T' && rng.pick(&[true, false]) {
                &desc
            } else {
                rng.pick(&bodies)
            };
            if t.place(tag, body).is_err() {
                break;
            }
            let _ = t.layout().map(|l| l.columns().len());
            let _ = t.take_skipped().count();
        }
    }
}
