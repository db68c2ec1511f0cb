//! What the client pump records: the request each forwarded message makes,
//! and which statements and portals the client has described (so Vigil
//! describes the rest itself when a response hook needs row layouts).

use crate::error::SessionError;
use crate::track::RequestKind;
use std::collections::HashSet;
use vigil_pgwire::frontend::{self as fe, Execute, Target};
use vigil_pgwire::Frame;

/// Statements and portals whose row layout the server will have told us.
#[derive(Debug, Default)]
pub(super) struct Described {
    statements: HashSet<Vec<u8>>,
    portals: HashSet<Vec<u8>>,
}

impl Described {
    /// Follows what the client described; returns the portal Vigil must
    /// describe before this Execute.
    pub(super) fn note(&mut self, kind: &RequestKind) -> Option<Vec<u8>> {
        match kind {
            RequestKind::Query => {
                self.statements.remove(&b""[..]);
                self.portals.remove(&b""[..]);
            }
            RequestKind::Parse { statement } => {
                self.statements.remove(statement);
            }
            RequestKind::Bind {
                portal, statement, ..
            } => {
                if self.statements.contains(statement) {
                    self.portals.insert(portal.clone());
                } else {
                    self.portals.remove(portal);
                }
            }
            RequestKind::Describe { kind: b'S', name } => {
                self.statements.insert(name.clone());
            }
            RequestKind::Describe { name, .. } => {
                self.portals.insert(name.clone());
            }
            RequestKind::Execute { portal } => {
                if self.portals.insert(portal.clone()) {
                    return Some(portal.clone());
                }
            }
            RequestKind::Close { kind: b'S', name } => {
                self.statements.remove(name);
            }
            RequestKind::Close { name, .. } => {
                self.portals.remove(name);
            }
            RequestKind::Sync => {}
        }
        None
    }
}

/// The request a message that the statement hook does not see makes.
pub(super) fn request_kind(frame: &Frame) -> Result<Option<RequestKind>, SessionError> {
    Ok(match frame.tag() {
        fe::DESCRIBE => {
            let t = Target::parse(frame.body())?;
            Some(RequestKind::Describe {
                kind: t.kind,
                name: t.name.to_vec(),
            })
        }
        fe::CLOSE => {
            let t = Target::parse(frame.body())?;
            Some(RequestKind::Close {
                kind: t.kind,
                name: t.name.to_vec(),
            })
        }
        fe::EXECUTE => Some(RequestKind::Execute {
            portal: Execute::parse(frame.body())?.portal.to_vec(),
        }),
        fe::SYNC => Some(RequestKind::Sync),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> RequestKind {
        RequestKind::Parse {
            statement: s.into(),
        }
    }

    fn bind(p: &str, s: &str) -> RequestKind {
        RequestKind::Bind {
            portal: p.into(),
            statement: s.into(),
            result_formats: vec![1],
        }
    }

    fn execute(p: &str) -> RequestKind {
        RequestKind::Execute { portal: p.into() }
    }

    fn describe(kind: u8, name: &str) -> RequestKind {
        RequestKind::Describe {
            kind,
            name: name.into(),
        }
    }

    #[test]
    fn described_statements_and_portals_need_nothing() {
        let mut d = Described::default();
        for k in [parse("s"), describe(b'S', "s"), bind("p", "s")] {
            assert_eq!(d.note(&k), None);
        }
        assert_eq!(d.note(&execute("p")), None, "asyncpg style");
        for k in [parse(""), bind("", ""), describe(b'P', "")] {
            assert_eq!(d.note(&k), None);
        }
        assert_eq!(d.note(&execute("")), None, "libpq style");
    }

    #[test]
    fn undescribed_portals_are_described_once() {
        let mut d = Described::default();
        d.note(&parse(""));
        d.note(&bind("", ""));
        assert_eq!(d.note(&execute("")), Some(Vec::new()));
        assert_eq!(
            d.note(&execute("")),
            None,
            "the next chunk of the same portal"
        );
        // A new Parse invalidates what was known of the statement.
        d.note(&describe(b'S', "s"));
        d.note(&parse("s"));
        d.note(&bind("q", "s"));
        assert_eq!(d.note(&execute("q")), Some(b"q".to_vec()));
        d.note(&RequestKind::Close {
            kind: b'P',
            name: b"q".to_vec(),
        });
        assert_eq!(d.note(&execute("q")), Some(b"q".to_vec()));
        d.note(&RequestKind::Query);
        assert_eq!(
            d.note(&execute("")),
            Some(Vec::new()),
            "a Query drops the unnamed portal"
        );
    }
}
