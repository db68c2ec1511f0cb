//! Test hooks: a statement hook that tags, denies and holds; a response
//! hook that upper-cases text values, refuses "poison" and logs outcomes.

#![allow(dead_code)]

use bytes::{BufMut, Bytes, BytesMut};
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;
use vigil_pgwire::cursor::Cursor;
use vigil_proxy::{
    BindRequest, Completion, Denial, Failure, HookVerdict, Outcome, ResponseHook,
    ResponseHookFactory, Rewrite, RowLayout, SessionContext, StatementHook, StatementRequest,
    StatementTag,
};

/// The statement's text, as its tag.
#[derive(Debug)]
pub struct Sql(pub String);

/// Tags every statement with its text; a Bind with parameter `bind-tag`
/// gets its own tag; denies "forbidden"; holds "hold_me" until released,
/// telling the client it waits.
#[derive(Default)]
pub struct Tagger {
    pub release: Arc<Notify>,
}

impl StatementHook for Tagger {
    fn on_statement(&self, ctx: &SessionContext, req: &StatementRequest<'_>) -> HookVerdict {
        let tag: StatementTag = Arc::new(Sql(req.sql.to_owned()));
        if req.sql.contains("forbidden") {
            return HookVerdict::Deny(Denial::new("not here"));
        }
        if req.sql.contains("hold_me") {
            let notices = ctx.notices();
            let release = self.release.clone();
            return HookVerdict::Hold(Box::pin(async move {
                notices.notice("vigil: waiting for approval");
                release.notified().await;
                HookVerdict::AllowWith(tag)
            }));
        }
        HookVerdict::AllowWith(tag)
    }

    fn on_bind(&self, _: &SessionContext, req: &BindRequest<'_>) -> HookVerdict {
        if req.params.iter().any(|p| *p == Some(&b"bind-tag"[..])) {
            return HookVerdict::AllowWith(Arc::new(Sql("bind".into())));
        }
        HookVerdict::Allow
    }
}

/// What the response hook saw.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A new row layout: (type OID, format) per column.
    Layout(u64, Vec<(u32, i16)>),
    Complete {
        tag: Option<String>,
        outcome: String,
        rows: u64,
        withheld: bool,
    },
    CopyOut,
    CopyDone,
}

pub type Log = Arc<Mutex<Vec<Event>>>;

pub fn completes(log: &Log) -> Vec<(Option<String>, String, u64)> {
    log.lock()
        .unwrap()
        .iter()
        .filter_map(|e| match e {
            Event::Complete {
                tag, outcome, rows, ..
            } => Some((tag.clone(), outcome.clone(), *rows)),
            _ => None,
        })
        .collect()
}

pub fn layouts(log: &Log) -> Vec<Vec<(u32, i16)>> {
    log.lock()
        .unwrap()
        .iter()
        .filter_map(|e| match e {
            Event::Layout(_, cols) => Some(cols.clone()),
            _ => None,
        })
        .collect()
}

/// Makes one [`Upper`] per session, all logging to one place.
#[derive(Default, Clone)]
pub struct UpperFactory {
    pub log: Log,
}

impl ResponseHookFactory for UpperFactory {
    fn session(&self, _: &SessionContext) -> Option<Box<dyn ResponseHook>> {
        Some(Box::new(Upper {
            log: self.log.clone(),
            last_layout: 0,
        }))
    }
}

pub struct Upper {
    log: Log,
    last_layout: u64,
}

const TEXT_TYPES: [u32; 2] = [25, 1043];

impl Upper {
    fn event(&self, e: Event) {
        self.log.lock().unwrap().push(e);
    }
}

fn sql_of(tag: Option<&StatementTag>) -> Option<String> {
    tag.and_then(|t| t.downcast_ref::<Sql>())
        .map(|s| s.0.clone())
}

/// Upper-cases `v`, refusing anything poisoned.
fn upper(v: &[u8]) -> Result<Vec<u8>, Failure> {
    if v.windows(6).any(|w| w.eq_ignore_ascii_case(b"poison")) {
        return Err(Failure::new("poisoned value"));
    }
    Ok(v.to_ascii_uppercase())
}

impl ResponseHook for Upper {
    fn on_data_row(
        &mut self,
        _: Option<&StatementTag>,
        layout: &RowLayout,
        body: &[u8],
    ) -> Result<Rewrite, Failure> {
        if layout.id() != self.last_layout {
            self.last_layout = layout.id();
            let cols = layout
                .columns()
                .iter()
                .map(|c| (c.type_oid, c.format))
                .collect();
            self.event(Event::Layout(layout.id(), cols));
        }
        let bad = |e: vigil_pgwire::CodecError| Failure::new(e.to_string());
        let mut c = Cursor::new(body, "DataRow");
        let n = c.count16().map_err(bad)?;
        if n != layout.columns().len() {
            return Err(Failure::new("column count differs from the layout"));
        }
        let mut out = BytesMut::new();
        out.put_u8(b'D');
        out.put_i32(0);
        out.put_i16(n as i16);
        for col in layout.columns() {
            match c.nullable_bytes().map_err(bad)? {
                None => out.put_i32(-1),
                Some(v) if TEXT_TYPES.contains(&col.type_oid) => {
                    let u = upper(v)?;
                    out.put_i32(u.len() as i32);
                    out.extend_from_slice(&u);
                }
                Some(v) => {
                    out.put_i32(v.len() as i32);
                    out.extend_from_slice(v);
                }
            }
        }
        c.finish().map_err(bad)?;
        let len = (out.len() - 1) as i32;
        out[1..5].copy_from_slice(&len.to_be_bytes());
        Ok(Rewrite::Replaced(out.freeze()))
    }

    fn on_copy_out_response(&mut self, _: Option<&StatementTag>, _: &[u8]) -> Result<(), Failure> {
        self.event(Event::CopyOut);
        Ok(())
    }

    fn on_copy_data(&mut self, _: Option<&StatementTag>, body: &[u8]) -> Result<Rewrite, Failure> {
        let u = upper(body)?;
        let mut out = BytesMut::new();
        out.put_u8(b'd');
        out.put_i32(u.len() as i32 + 4);
        out.extend_from_slice(&u);
        Ok(Rewrite::Replaced(Bytes::from(out)))
    }

    fn on_copy_done(&mut self, _: Option<&StatementTag>) -> Result<(), Failure> {
        self.event(Event::CopyDone);
        Ok(())
    }

    fn on_complete(&mut self, tag: Option<&StatementTag>, o: &Outcome<'_>) {
        let outcome = match o.completion {
            Completion::Command(t) => t.to_owned(),
            Completion::Error { sqlstate } => format!("error {sqlstate}"),
            Completion::Failed { sqlstate } => format!("failed {sqlstate}"),
            c => format!("{c:?}"),
        };
        self.event(Event::Complete {
            tag: sql_of(tag),
            outcome,
            rows: o.rows,
            withheld: o.withheld,
        });
    }
}

/// The usual stack for these tests.
pub fn stack() -> (crate::harness::Stack, Log, Arc<Notify>) {
    let tagger = Tagger::default();
    let release = tagger.release.clone();
    let factory = UpperFactory::default();
    let log = factory.log.clone();
    let stack = crate::harness::Stack::start(Arc::new(tagger), Some(Arc::new(factory)));
    (stack, log, release)
}
