//! The input document a policy sees as `input`: who is asking, where, from
//! what client, what the statement does, the session so far, the time and
//! any just-in-time grants. Every field is computed by the caller; this
//! crate reads no clock and no socket.

use serde::Serialize;
use std::collections::BTreeMap;
use vigil_core::{
    ClassifiedMessage, ConnectionInfo, CopyInfo, FlagId, Principal, StatementInfo, StatementKind,
    TableRef,
};

/// The whole `input` document.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PolicyInput {
    pub principal: PrincipalInput,
    pub connection: ConnectionInput,
    pub client: ClientInput,
    pub statement: StatementInput,
    pub session: SessionInput,
    pub time: TimeInput,
    /// Just-in-time grants; always present, empty until JIT access lands.
    pub grants: Vec<serde_json::Value>,
}

/// `input.principal`: the verified identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct PrincipalInput {
    pub sub: String,
    pub email: Option<String>,
    pub groups: Vec<String>,
    pub issuer: String,
    /// `human`, `service` or `agent`.
    pub kind: String,
}

/// `input.connection`: the named target and its labels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct ConnectionInput {
    pub name: String,
    pub engine: String,
    pub environment: String,
    /// Config labels; `allow_opaque_code` is `"true"` when the connection
    /// allows opaque code, so policies read one place.
    pub labels: BTreeMap<String, String>,
}

/// `input.client`: what the client said about itself (untrusted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct ClientInput {
    pub application_name: String,
    pub address: String,
    pub tls: bool,
}

/// `input.statement`: the classified message, with flags as plain ids so
/// Rego can write `"drop" in input.statement.flags`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatementInput {
    /// The most dangerous kind among the statements.
    pub kind: StatementKind,
    /// Every flag id raised by the message.
    pub flags: Vec<FlagId>,
    /// Flag id → plain-English detail, for reasons.
    pub flag_details: BTreeMap<FlagId, String>,
    /// Every table, merged by name.
    pub tables: Vec<TableRef>,
    pub statements: Vec<StatementFacts>,
}

/// One statement of the message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatementFacts {
    pub kind: StatementKind,
    pub command_tag: String,
    pub tables: Vec<TableRef>,
    pub functions: Vec<String>,
    pub flags: Vec<FlagId>,
    pub fingerprint: String,
    pub has_where: Option<bool>,
    pub where_constant_true: bool,
    pub limit: Option<String>,
    pub copy: Option<CopyInfo>,
    /// The parser's error; `null` when the statement parsed.
    pub parse_error: Option<String>,
}

/// `input.session`: what happened before this statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct SessionInput {
    pub in_transaction: bool,
    pub statements_so_far: u64,
}

/// `input.time`: the caller's clock, already split for Rego.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TimeInput {
    pub rfc3339: String,
    /// `monday` … `sunday`.
    pub weekday: String,
    /// 0–23.
    pub hour: u8,
}

impl Default for TimeInput {
    fn default() -> Self {
        TimeInput {
            rfc3339: "1970-01-01T00:00:00Z".into(),
            weekday: "thursday".into(),
            hour: 0,
        }
    }
}

impl PolicyInput {
    /// The input for a message from `principal` on `connection`; client,
    /// session and time start empty (epoch) and are set with the `with_*`
    /// methods by the caller, who owns the clock.
    pub fn new(
        principal: &Principal,
        connection: &ConnectionInfo,
        msg: &ClassifiedMessage,
    ) -> Self {
        PolicyInput {
            principal: PrincipalInput::from(principal),
            connection: ConnectionInput::from(connection),
            client: ClientInput::default(),
            statement: StatementInput::from(msg),
            session: SessionInput::default(),
            time: TimeInput::default(),
            grants: Vec::new(),
        }
    }

    pub fn with_client(mut self, client: ClientInput) -> Self {
        self.client = client;
        self
    }

    pub fn with_session(mut self, session: SessionInput) -> Self {
        self.session = session;
        self
    }

    pub fn with_time(mut self, time: TimeInput) -> Self {
        self.time = time;
        self
    }
}

impl From<&Principal> for PrincipalInput {
    fn from(p: &Principal) -> Self {
        PrincipalInput {
            sub: p.subject.clone(),
            email: p.email.clone(),
            groups: p.groups.clone(),
            issuer: p.issuer.clone(),
            kind: p.kind.as_str().to_string(),
        }
    }
}

impl From<&ConnectionInfo> for ConnectionInput {
    fn from(c: &ConnectionInfo) -> Self {
        let mut labels = c.labels.clone();
        if c.allow_opaque_code {
            labels.insert("allow_opaque_code".into(), "true".into());
        }
        ConnectionInput {
            name: c.name.clone(),
            engine: c.engine.clone(),
            environment: c.environment.clone(),
            labels,
        }
    }
}

impl From<&ClassifiedMessage> for StatementInput {
    fn from(msg: &ClassifiedMessage) -> Self {
        StatementInput {
            kind: msg.kind,
            flags: msg.flags.iter().map(|f| f.id).collect(),
            flag_details: msg.flags.iter().map(|f| (f.id, f.detail.clone())).collect(),
            tables: msg.tables.clone(),
            statements: msg.statements.iter().map(StatementFacts::from).collect(),
        }
    }
}

impl From<&StatementInfo> for StatementFacts {
    fn from(s: &StatementInfo) -> Self {
        StatementFacts {
            kind: s.kind,
            command_tag: s.command_tag.clone(),
            tables: s.tables.clone(),
            functions: s.functions.clone(),
            flags: s.flags.iter().map(|f| f.id).collect(),
            fingerprint: s.fingerprint.clone(),
            has_where: s.has_where,
            where_constant_true: s.where_constant_true,
            limit: s.limit.clone(),
            copy: s.copy.clone(),
            parse_error: s.parse_error.clone(),
        }
    }
}
