use super::*;
use crate::hook::StatementTag;
use crate::layout::tests::description;
use crate::track::{Request, RequestKind};
use std::sync::{Arc, Mutex};
use vigil_pgwire::backend::Notice;
use vigil_pgwire::Frame;

/// Upper-cases text values; fails at row number `fail_at` (1-based) and
/// on notices mentioning "secret"; logs every outcome.
#[derive(Default)]
struct Scripted {
    rows: usize,
    fail_at: Option<usize>,
    fail_notifications: bool,
    log: Arc<Mutex<Vec<String>>>,
}

impl ResponseHook for Scripted {
    fn on_data_row(
        &mut self,
        _: Option<&StatementTag>,
        layout: &RowLayout,
        body: &[u8],
    ) -> Result<Rewrite, Failure> {
        self.rows += 1;
        if Some(self.rows) == self.fail_at {
            return Err(Failure::new("detector broke"));
        }
        let mut c = vigil_pgwire::cursor::Cursor::new(body, "DataRow");
        let n = c.count16().map_err(|e| Failure::new(e.to_string()))?;
        let mut out = Vec::new();
        out.extend_from_slice(&(n as i16).to_be_bytes());
        for i in 0..n {
            let v = c
                .nullable_bytes()
                .map_err(|e| Failure::new(e.to_string()))?;
            let binary = layout.columns().get(i).is_some_and(|c| c.is_binary());
            match v {
                None => out.extend_from_slice(&(-1i32).to_be_bytes()),
                Some(v) => {
                    out.extend_from_slice(&(v.len() as i32).to_be_bytes());
                    match binary {
                        true => out.extend_from_slice(v),
                        false => out.extend(v.to_ascii_uppercase()),
                    }
                }
            }
        }
        let f = Frame::new(b'D', &out).map_err(|e| Failure::new(e.to_string()))?;
        Ok(Rewrite::Replaced(f.into_raw()))
    }

    fn on_error_or_notice(
        &mut self,
        _: Option<&StatementTag>,
        _: u8,
        body: &[u8],
    ) -> Result<Rewrite, Failure> {
        match body.windows(6).any(|w| w == b"secret") {
            true => Err(Failure::new("notice")),
            false => Ok(Rewrite::Unchanged),
        }
    }

    fn on_notification(&mut self, _: &[u8]) -> Result<Rewrite, Failure> {
        match self.fail_notifications {
            true => Err(Failure::new("payload")),
            false => Ok(Rewrite::Unchanged),
        }
    }

    fn on_complete(&mut self, tag: Option<&StatementTag>, o: &Outcome<'_>) {
        let tag = tag.and_then(|t| t.downcast_ref::<&str>()).copied();
        let line = format!(
            "{:?} {:?} {:?} rows={} withheld={}",
            tag, o.answering, o.completion, o.rows, o.withheld
        );
        if let Ok(mut l) = self.log.lock() {
            l.push(line);
        }
    }
}

fn filter(hook: Scripted) -> ResponseFilter {
    ResponseFilter::new(Some(Box::new(hook)))
}

fn row(values: &[&str]) -> Vec<u8> {
    let mut b = (values.len() as i16).to_be_bytes().to_vec();
    for v in values {
        b.extend_from_slice(&(v.len() as i32).to_be_bytes());
        b.extend_from_slice(v.as_bytes());
    }
    b
}

fn error(code: &str, message: &str) -> Vec<u8> {
    let mut out = BytesMut::new();
    let n = Notice {
        severity: "ERROR",
        code,
        message,
        detail: None,
        hint: None,
    };
    n.encode_error(&mut out).unwrap();
    out[5..].to_vec()
}

/// Runs server messages through `f`; returns what the client receives.
fn run(f: &mut ResponseFilter, messages: &[(u8, Vec<u8>)]) -> Vec<(u8, Vec<u8>)> {
    let mut wire = BytesMut::new();
    for (tag, body) in messages {
        match f.on_message(*tag, body, None, None).unwrap() {
            Action::Forward => wire.extend_from_slice(Frame::new(*tag, body).unwrap().raw()),
            Action::Drop => {}
            Action::Replace(b) => wire.extend_from_slice(&b),
        }
    }
    let mut out = Vec::new();
    while let Some(fr) = vigil_pgwire::decode_frame(&mut wire, 1 << 20).unwrap() {
        out.push((fr.tag(), fr.body().to_vec()));
    }
    out
}

fn tags(frames: &[(u8, Vec<u8>)]) -> String {
    frames.iter().map(|(t, _)| *t as char).collect()
}

fn push(f: &mut ResponseFilter, kind: RequestKind, tag: Option<&'static str>) {
    let mut r = Request::new(kind);
    r.tag = tag.map(|t| Arc::new(t) as StatementTag);
    f.tracker_mut().push(r);
}

fn desc() -> Vec<u8> {
    description(&[("email", 16384, 2, 25, 0)]).to_vec()
}

#[test]
fn rows_are_rewritten_and_counted_per_statement() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut f = filter(Scripted {
        log: log.clone(),
        ..Scripted::default()
    });
    push(&mut f, RequestKind::Query, Some("q"));
    let out = run(
        &mut f,
        &[
            (b'T', desc()),
            (b'D', row(&["a@x"])),
            (b'D', row(&["b@x"])),
            (b'C', b"SELECT 2\0".to_vec()),
            (b'T', desc()),
            (b'C', b"SELECT 0\0".to_vec()),
            (b'Z', b"I".to_vec()),
        ],
    );
    assert_eq!(tags(&out), "TDDCTCZ");
    assert_eq!(out[1].1, row(&["A@X"]));
    let log = log.lock().unwrap();
    assert_eq!(
        *log,
        [
            "Some(\"q\") Query Command(\"SELECT 2\") rows=2 withheld=false",
            "Some(\"q\") Query Command(\"SELECT 0\") rows=0 withheld=false",
        ]
    );
}

#[test]
fn failed_row_in_a_query_fails_closed_and_swallows_the_rest() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut f = filter(Scripted {
        fail_at: Some(2),
        log: log.clone(),
        ..Scripted::default()
    });
    push(&mut f, RequestKind::Query, None);
    let out = run(
        &mut f,
        &[
            (b'T', desc()),
            (b'D', row(&["ok"])),
            (b'D', row(&["leak"])),
            (b'D', row(&["leak2"])),
            (b'C', b"SELECT 3\0".to_vec()),
            (b'N', error("00000", "async notice").clone()),
            (b'T', desc()),
            (b'D', row(&["later"])),
            (b'C', b"SELECT 1\0".to_vec()),
            (b'Z', b"T".to_vec()),
        ],
    );
    assert_eq!(tags(&out), "TDENZ");
    let e = ErrorFields::parse(&out[2].1).unwrap();
    assert_eq!(e.code(), Some("58000"));
    assert_eq!(e.message(), Some("vigil: masking failed: detector broke"));
    assert_eq!(out[4].1, b"E", "an open block is reported failed");
    let all: Vec<u8> = out.iter().flat_map(|(_, b)| b.clone()).collect();
    assert!(!all.windows(4).any(|w| w.eq_ignore_ascii_case(b"leak")));
    assert!(!all.windows(5).any(|w| w.eq_ignore_ascii_case(b"later")));
    let log = log.lock().unwrap();
    assert_eq!(log.len(), 2);
    assert!(log[0].contains("Failed { sqlstate: \"58000\" } rows=1 withheld=false"));
    assert!(log[1].contains("Command(\"SELECT 1\") rows=0 withheld=true"));
    // The session goes on.
    drop(log);
    push(&mut f, RequestKind::Query, None);
    let out = run(
        &mut f,
        &[
            (b'T', desc()),
            (b'D', row(&["x"])),
            (b'C', b"SELECT 1\0".to_vec()),
            (b'Z', b"I".to_vec()),
        ],
    );
    assert_eq!(tags(&out), "TDCZ");
}

#[test]
fn failed_execute_swallows_up_to_the_sync() {
    let mut f = filter(Scripted {
        fail_at: Some(1),
        ..Scripted::default()
    });
    for k in [
        RequestKind::Bind {
            portal: vec![],
            statement: vec![],
            result_formats: vec![],
        },
        RequestKind::Describe {
            kind: b'P',
            name: vec![],
        },
        RequestKind::Execute { portal: vec![] },
        RequestKind::Query,
        RequestKind::Parse {
            statement: b"n".to_vec(),
        },
        RequestKind::Sync,
        RequestKind::Sync,
    ] {
        push(&mut f, k, None);
    }
    let out = run(
        &mut f,
        &[
            (b'2', vec![]),
            (b'T', desc()),
            (b'D', row(&["secret-row"])),
            (b'D', row(&["more"])),
            (b's', vec![]),
            (b'I', vec![]),
            (b'Z', b"T".to_vec()),
            (b'1', vec![]),
            (b'Z', b"T".to_vec()),
            (b'Z', b"I".to_vec()),
        ],
    );
    assert_eq!(tags(&out), "2TEZZ");
    assert_eq!(out[3].1, b"E");
    assert_eq!(out[4].1, b"I");
}

#[test]
fn copy_out_failure_ends_the_copy_with_an_error() {
    struct CopyFails;
    impl ResponseHook for CopyFails {
        fn on_copy_data(
            &mut self,
            _: Option<&StatementTag>,
            body: &[u8],
        ) -> Result<Rewrite, Failure> {
            match body.starts_with(b"bad") {
                true => Err(Failure::new("copy").with_code("58030")),
                false => Ok(Rewrite::Unchanged),
            }
        }
    }
    let mut f = ResponseFilter::new(Some(Box::new(CopyFails)));
    push(&mut f, RequestKind::Query, None);
    let out = run(
        &mut f,
        &[
            (b'H', vec![0, 0, 0]),
            (b'd', b"good\n".to_vec()),
            (b'd', b"bad\n".to_vec()),
            (b'd', b"good\n".to_vec()),
            (b'c', vec![]),
            (b'C', b"COPY 3\0".to_vec()),
            (b'Z', b"I".to_vec()),
        ],
    );
    assert_eq!(tags(&out), "HdEZ");
    assert_eq!(ErrorFields::parse(&out[2].1).unwrap().code(), Some("58030"));
}

#[test]
fn notice_masking_failure_keeps_the_severity_class() {
    let mut f = filter(Scripted {
        fail_notifications: true,
        ..Scripted::default()
    });
    push(&mut f, RequestKind::Query, None);
    let mut warning = BytesMut::new();
    Notice {
        severity: "WARNING",
        code: "01000",
        message: "the secret is 42",
        detail: None,
        hint: None,
    }
    .encode_notice(&mut warning)
    .unwrap();
    let out = run(
        &mut f,
        &[
            (b'N', warning[5..].to_vec()),
            (b'A', b"\0\0\0\x01chan\0payload\0".to_vec()),
            (b'E', error("23505", "secret key exists")),
            (b'Z', b"I".to_vec()),
        ],
    );
    assert_eq!(tags(&out), "NNEZ");
    let n = ErrorFields::parse(&out[0].1).unwrap();
    assert_eq!(
        (n.get(b'S'), n.message()),
        (Some("WARNING"), Some("vigil: masking failed"))
    );
    let w = ErrorFields::parse(&out[1].1).unwrap();
    assert!(w.message().unwrap().contains("notification was withheld"));
    let e = ErrorFields::parse(&out[2].1).unwrap();
    assert_eq!(
        (e.get(b'S'), e.message()),
        (Some("ERROR"), Some("vigil: masking failed"))
    );
}

#[test]
fn denial_replaces_the_error_without_inspection() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut f = filter(Scripted {
        log: log.clone(),
        ..Scripted::default()
    });
    push(&mut f, RequestKind::Query, None);
    let denial = crate::denials::encode_denial(&crate::hook::Denial::new("no secret"));
    let body = error("42601", "syntax error at vigil_denied_x");
    assert_eq!(
        f.on_message(b'E', &body, None, Some(denial.clone())),
        Ok(Action::Replace(denial))
    );
    assert!(log.lock().unwrap()[0].contains("Error { sqlstate: \"42501\" }"));
}

#[test]
fn without_a_hook_only_internal_answers_are_dropped() {
    let mut f = ResponseFilter::new(None);
    let mut d = Request::new(RequestKind::Describe {
        kind: b'P',
        name: vec![],
    });
    d.internal = true;
    f.tracker_mut().push(d);
    push(&mut f, RequestKind::Execute { portal: vec![] }, None);
    assert_eq!(f.on_message(b'n', b"", None, None), Ok(Action::Drop));
    assert_eq!(f.on_message(b'D', b"", None, None), Ok(Action::Forward));
    assert!(f.on_message(b'T', b"", None, None).is_err());
}

#[test]
fn hostile_server_messages_never_panic_with_a_hook() {
    let kinds = [
        RequestKind::Query,
        RequestKind::Sync,
        RequestKind::Execute { portal: vec![] },
        RequestKind::Bind {
            portal: vec![],
            statement: vec![],
            result_formats: vec![1],
        },
        RequestKind::Describe {
            kind: b'S',
            name: vec![],
        },
        RequestKind::Parse { statement: vec![] },
    ];
    let tags = b"123tTnDCIsEZHdcNAS";
    let d = desc();
    let r = row(&["poison"]);
    let bodies: [&[u8]; 7] = [b"", b"T", b"I", &d, &r, b"\x00\x01\xff", b"SELECT 1\0"];
    let mut x: u64 = 99;
    let mut next = move || {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (x >> 33) as usize
    };
    for _ in 0..1000 {
        let mut f = filter(Scripted {
            fail_at: Some(1 + next() % 4),
            fail_notifications: next() % 2 == 1,
            ..Scripted::default()
        });
        for _ in 0..(next() % 8) {
            push(&mut f, kinds[next() % kinds.len()].clone(), Some("t"));
        }
        for _ in 0..(next() % 20) {
            let tag = tags[next() % tags.len()];
            let body = bodies[next() % bodies.len()];
            if f.on_message(tag, body, Some(Instant::now()), None).is_err() {
                break;
            }
        }
    }
}
