//! The searchable columns copied out of each event. They are derived data:
//! `of` is the single definition, used when writing and again by verify to
//! catch a column edited behind the event's back.

use vigil_audit::{AuditPrincipal, AuditTable, Event};

/// Columns after `hash` in `audit_records`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct IndexFields {
    pub session_id: Option<i64>,
    pub user_sub: Option<String>,
    pub user_email: Option<String>,
    pub connection: Option<String>,
    pub verdict: Option<String>,
    pub tables: Option<String>,
    pub sql: Option<String>,
    pub masked: Option<String>,
}

impl IndexFields {
    pub fn of(event: &Event) -> IndexFields {
        let mut f = IndexFields::default();
        match event {
            Event::SessionStart(e) => {
                f.session(e.session_id).principal(&e.principal);
                f.connection = Some(e.connection.clone());
            }
            Event::SessionEnd(e) => {
                f.session(e.session_id).principal(&e.principal);
                f.connection = Some(e.connection.clone());
            }
            Event::AuthFailure(e) => {
                // An unverified claim, but what an operator searches for.
                f.user_sub.clone_from(&e.claimed_user);
                f.connection.clone_from(&e.connection);
            }
            Event::StatementIntent(e) => {
                f.session(e.session_id).principal(&e.principal);
                f.connection = Some(e.connection.clone());
                f.verdict = Some(e.decision.verdict.as_str().to_owned());
                f.tables = table_list(&e.tables);
                f.sql = Some(e.sql.clone());
            }
            Event::StatementOutcome(e) => {
                f.session(e.session_id);
                if !e.masked.is_empty() {
                    f.masked = serde_json::to_string(&e.masked).ok();
                }
            }
            Event::ApprovalCreated(e) => {
                f.principal(&e.principal);
                f.session_id = e.session_id.and_then(|s| i64::try_from(s).ok());
                f.connection = Some(e.connection.clone());
                f.sql = Some(e.sql.clone());
            }
            Event::ApprovalDecided(e) => {
                if let Some(r) = &e.reviewer {
                    f.principal(r);
                }
            }
            Event::PolicyLoaded(_) | Event::ConfigLoaded(_) | Event::Retention(_) => {}
        }
        f
    }

    fn session(&mut self, id: u64) -> &mut Self {
        self.session_id = i64::try_from(id).ok();
        self
    }

    fn principal(&mut self, p: &AuditPrincipal) -> &mut Self {
        self.user_sub = Some(p.sub.clone());
        self.user_email.clone_from(&p.email);
        self
    }

    /// The first column that differs from `other`, with both values.
    pub fn first_difference(&self, other: &IndexFields) -> Option<(&'static str, String, String)> {
        let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "NULL".to_owned());
        let session = |v: Option<i64>| v.map_or("NULL".to_owned(), |n| n.to_string());
        if self.session_id != other.session_id {
            return Some((
                "session_id",
                session(self.session_id),
                session(other.session_id),
            ));
        }
        let text = [
            ("user_sub", &self.user_sub, &other.user_sub),
            ("user_email", &self.user_email, &other.user_email),
            ("connection_name", &self.connection, &other.connection),
            ("verdict", &self.verdict, &other.verdict),
            ("table_names", &self.tables, &other.tables),
            ("sql_text", &self.sql, &other.sql),
            ("masked", &self.masked, &other.masked),
        ];
        text.into_iter()
            .find(|(_, a, b)| a != b)
            .map(|(name, a, b)| (name, show(a), show(b)))
    }
}

/// `,schema.table,other,`: delimiters on both ends so a LIKE pattern can
/// match a whole name.
fn table_list(tables: &[AuditTable]) -> Option<String> {
    if tables.is_empty() {
        return None;
    }
    let mut out = String::from(",");
    for t in tables {
        out.push_str(&t.name);
        out.push(',');
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_audit::{AuthFailure, RecordRef, StatementOutcome};

    #[test]
    fn auth_failure_indexes_the_claimed_user() {
        let f = IndexFields::of(&Event::AuthFailure(AuthFailure {
            reason: "expired".into(),
            client_addr: "1.2.3.4:5".into(),
            claimed_user: Some("bob".into()),
            connection: Some("prod".into()),
            application_name: None,
            tls: false,
        }));
        assert_eq!(f.user_sub.as_deref(), Some("bob"));
        assert_eq!(f.connection.as_deref(), Some("prod"));
    }

    #[test]
    fn outcome_without_masking_has_no_masked_column() {
        let ev = Event::StatementOutcome(StatementOutcome {
            session_id: 3,
            intent: RecordRef {
                seq: 1,
                hash: "h".into(),
            },
            rows: None,
            command_tag: None,
            masked: Default::default(),
            duration_ms: 1,
            error_sqlstate: None,
            statement_index: 0,
            status: vigil_audit::OutcomeStatus::Ok,
            withheld: false,
        });
        let f = IndexFields::of(&ev);
        assert_eq!((f.session_id, f.masked), (Some(3), None));
        let g = IndexFields {
            session_id: Some(4),
            ..Default::default()
        };
        assert_eq!(
            IndexFields::of(&ev).first_difference(&g),
            Some(("session_id", "3".into(), "4".into()))
        );
    }
}
