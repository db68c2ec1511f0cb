//! What a SQL statement does, as facts the policy can decide on. The
//! classifier (`vigil-sql`) produces these; policy, audit and `vigil explain`
//! consume them. Pure data: serde-serializable, no behaviour beyond helpers.

use serde::{Deserialize, Serialize};

/// The broad class of a statement. When several statements share one
/// message, the combined view carries the most dangerous one
/// (see [`StatementKind::severity`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StatementKind {
    /// SELECT, VALUES, TABLE, SHOW, EXPLAIN (without ANALYZE), COPY … TO STDOUT.
    Read,
    /// INSERT, UPDATE, DELETE, MERGE, COPY … FROM STDIN, SELECT INTO.
    Write,
    /// CREATE / ALTER / DROP / TRUNCATE / COMMENT and other schema changes.
    Ddl,
    /// GRANT, REVOKE, role management, ALTER DEFAULT PRIVILEGES.
    Privilege,
    /// SET, RESET, DISCARD and other per-session settings.
    Session,
    /// BEGIN, COMMIT, ROLLBACK, SAVEPOINT and friends.
    Transaction,
    /// VACUUM, ANALYZE, LISTEN, NOTIFY, CHECKPOINT, LOCK, …
    Utility,
    /// Code whose effect cannot be known from the text: DO, CALL, EXECUTE,
    /// or anything the parser rejected.
    Opaque,
}

impl StatementKind {
    /// Stable lowercase name, as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            StatementKind::Read => "read",
            StatementKind::Write => "write",
            StatementKind::Ddl => "ddl",
            StatementKind::Privilege => "privilege",
            StatementKind::Session => "session",
            StatementKind::Transaction => "transaction",
            StatementKind::Utility => "utility",
            StatementKind::Opaque => "opaque",
        }
    }

    /// How dangerous the class is, for picking a message's combined kind:
    /// read < transaction < utility < session < write < ddl < privilege < opaque.
    pub fn severity(self) -> u8 {
        match self {
            StatementKind::Read => 0,
            StatementKind::Transaction => 1,
            StatementKind::Utility => 2,
            StatementKind::Session => 3,
            StatementKind::Write => 4,
            StatementKind::Ddl => 5,
            StatementKind::Privilege => 6,
            StatementKind::Opaque => 7,
        }
    }
}

/// How a statement touches a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TableAccess {
    /// Rows are read (FROM, JOIN, subqueries, COPY … TO, USING, …).
    Read,
    /// Rows are inserted (INSERT, MERGE … INSERT, COPY … FROM).
    Insert,
    /// Rows are updated (UPDATE, ON CONFLICT DO UPDATE, MERGE … UPDATE).
    Update,
    /// Rows are deleted (DELETE, MERGE … DELETE).
    Delete,
    /// The table is emptied (TRUNCATE).
    Truncate,
    /// The table's definition changes (CREATE, ALTER, DROP, index, …).
    Ddl,
}

/// A table (or view, sequence, …) a statement names.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TableRef {
    /// The schema as written; `None` when the name was unqualified (the
    /// server's `search_path` decides then).
    pub schema: Option<String>,
    /// The relation name, normalised as PostgreSQL does: unquoted
    /// identifiers lowercased, quoted ones kept verbatim.
    pub name: String,
    /// Every way the message touches this table, sorted, without duplicates.
    pub access: Vec<TableAccess>,
    /// Columns attributed to this table (INSERT/UPDATE targets, qualified
    /// references, unqualified ones when only one table is in scope; `*` for
    /// a star). Best effort: a column missing here may still be read.
    pub columns: Vec<String>,
}

impl TableRef {
    /// `schema.name`, or just `name` when unqualified.
    pub fn qualified_name(&self) -> String {
        match &self.schema {
            Some(schema) => format!("{schema}.{}", self.name),
            None => self.name.clone(),
        }
    }
}

/// Where COPY moves data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CopyDirection {
    /// `COPY … TO STDOUT`: rows flow to the client through Vigil.
    ToClient,
    /// `COPY … FROM STDIN`: rows flow from the client through Vigil.
    FromClient,
    /// `COPY … TO '/path'`: the server writes a file.
    ToFile,
    /// `COPY … FROM '/path'`: the server reads a file.
    FromFile,
    /// `COPY … TO PROGRAM 'cmd'`: the server runs a shell command.
    ToProgram,
    /// `COPY … FROM PROGRAM 'cmd'`: the server runs a shell command.
    FromProgram,
}

/// The COPY part of a statement.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CopyInfo {
    /// Which way and through what.
    pub direction: CopyDirection,
    /// The file path or program command; `None` for STDIN/STDOUT.
    pub target: Option<String>,
}

/// Stable identifiers of the risks the classifier detects. Policies and
/// rule ids (`guardrail.<id>`) use these strings; never rename them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlagId {
    /// DROP of any object.
    Drop,
    /// TRUNCATE.
    Truncate,
    /// UPDATE/DELETE with no WHERE or a constant-true WHERE.
    UnboundedWrite,
    /// A WITH clause containing INSERT/UPDATE/DELETE/MERGE.
    DataModifyingCte,
    /// Data can leave through the server: files, programs, dblink, FDWs.
    Exfiltration,
    /// GRANT, REVOKE, role management, default privileges.
    PrivilegeChange,
    /// SET ROLE, SET SESSION AUTHORIZATION, `set_config('role', …)`.
    RoleSwitch,
    /// Settings that change how later statements are read or resolved.
    SessionTamper,
    /// Server-wide administration: ALTER SYSTEM, extensions, backends, …
    ServerAdmin,
    /// Code whose effect cannot be read from the text, or unparseable input.
    OpaqueCode,
    /// More than one statement in one message.
    MultiStatement,
}

impl FlagId {
    /// Every flag, in declaration order.
    pub const ALL: [FlagId; 11] = [
        FlagId::Drop,
        FlagId::Truncate,
        FlagId::UnboundedWrite,
        FlagId::DataModifyingCte,
        FlagId::Exfiltration,
        FlagId::PrivilegeChange,
        FlagId::RoleSwitch,
        FlagId::SessionTamper,
        FlagId::ServerAdmin,
        FlagId::OpaqueCode,
        FlagId::MultiStatement,
    ];

    /// The stable string id, as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            FlagId::Drop => "drop",
            FlagId::Truncate => "truncate",
            FlagId::UnboundedWrite => "unbounded_write",
            FlagId::DataModifyingCte => "data_modifying_cte",
            FlagId::Exfiltration => "exfiltration",
            FlagId::PrivilegeChange => "privilege_change",
            FlagId::RoleSwitch => "role_switch",
            FlagId::SessionTamper => "session_tamper",
            FlagId::ServerAdmin => "server_admin",
            FlagId::OpaqueCode => "opaque_code",
            FlagId::MultiStatement => "multi_statement",
        }
    }
}

/// One detected risk with a plain-English explanation.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RiskFlag {
    /// Which risk.
    pub id: FlagId,
    /// Why, e.g. `DELETE without a WHERE clause affects every row of public.orders`.
    pub detail: String,
}

/// Everything the classifier learned about one statement.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct StatementInfo {
    /// The broad class.
    pub kind: StatementKind,
    /// The command, as PostgreSQL names it in CommandComplete where it can:
    /// `SELECT`, `DELETE`, `CREATE TABLE`, `DROP TABLE`, …
    pub command_tag: String,
    /// Relations named anywhere in the statement (CTE names excluded).
    pub tables: Vec<TableRef>,
    /// Functions called anywhere, lowercased, schema-qualified when written.
    pub functions: Vec<String>,
    /// For UPDATE/DELETE: whether a WHERE clause exists; `None` otherwise.
    pub has_where: Option<bool>,
    /// The top-level UPDATE/DELETE WHERE clause may select every row: it is
    /// always true (`1=1`, `'a'='a'`, `NOT false`, `x OR true`, …) or does
    /// not depend on the row at all (`WHERE $1`, `WHERE now() > …`).
    pub where_constant_true: bool,
    /// The top-level LIMIT as written (`10`, `$1`, `ALL`, `expr`); `None` when absent.
    pub limit: Option<String>,
    /// Present for COPY statements.
    pub copy: Option<CopyInfo>,
    /// Fingerprint of the statement's shape (literals ignored), hex;
    /// empty when the statement could not be parsed.
    pub fingerprint: String,
    /// The statement text with literals replaced by `$n`; for unparseable
    /// input a fixed placeholder, never the raw text (it may hold secrets).
    pub redacted_sql: String,
    /// Detected risks, deduplicated.
    pub flags: Vec<RiskFlag>,
    /// The parser's error when the statement could not be parsed.
    pub parse_error: Option<String>,
}

impl StatementInfo {
    /// Whether a flag with this id was raised.
    pub fn has_flag(&self, id: FlagId) -> bool {
        self.flags.iter().any(|f| f.id == id)
    }
}

/// The classification of one client message (a simple Query may carry
/// several statements separated by `;`).
/// Equality compares the facts; the [`digest`](Self::digest) is derived
/// from them (and is 0 after deserializing).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClassifiedMessage {
    /// Each statement, in order. Empty for empty / comment-only input.
    pub statements: Vec<StatementInfo>,
    /// The most dangerous kind among the statements (`read` when empty).
    pub kind: StatementKind,
    /// Every statement's flags, deduplicated, plus `multi_statement` when
    /// there is more than one statement.
    pub flags: Vec<RiskFlag>,
    /// Every statement's tables, merged by name.
    pub tables: Vec<TableRef>,
    /// A hash of everything above, computed once by [`ClassifiedMessage::new`]
    /// so decision caches can key on the facts without rehashing them.
    /// Not collision-resistant: caches must still compare the facts.
    #[serde(skip)]
    pub digest: u64,
}

impl PartialEq for ClassifiedMessage {
    fn eq(&self, other: &Self) -> bool {
        self.statements == other.statements
            && self.kind == other.kind
            && self.flags == other.flags
            && self.tables == other.tables
    }
}

impl Eq for ClassifiedMessage {}

impl ClassifiedMessage {
    /// A message from its parts, with its [`digest`](Self::digest).
    pub fn new(
        statements: Vec<StatementInfo>,
        kind: StatementKind,
        flags: Vec<RiskFlag>,
        tables: Vec<TableRef>,
    ) -> Self {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (&statements, kind, &flags, &tables).hash(&mut h);
        ClassifiedMessage {
            digest: h.finish(),
            statements,
            kind,
            flags,
            tables,
        }
    }

    /// Whether any statement (or the message as a whole) raised this flag.
    pub fn has_flag(&self, id: FlagId) -> bool {
        self.flags.iter().any(|f| f.id == id)
    }

    /// Whether some statement could not be parsed.
    pub fn has_parse_error(&self) -> bool {
        self.statements.iter().any(|s| s.parse_error.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_ids_deserialize_from_their_stable_strings() {
        use serde::de::IntoDeserializer;
        for id in FlagId::ALL {
            let back: Result<FlagId, serde::de::value::Error> =
                FlagId::deserialize(id.as_str().into_deserializer());
            assert_eq!(back, Ok(id));
        }
    }

    #[test]
    fn severity_orders_opaque_highest_read_lowest() {
        assert!(StatementKind::Opaque.severity() > StatementKind::Privilege.severity());
        assert!(StatementKind::Write.severity() > StatementKind::Read.severity());
    }

    #[test]
    fn qualified_name_includes_schema_only_when_written() {
        let mut t = TableRef {
            schema: None,
            name: "orders".into(),
            access: vec![TableAccess::Read],
            columns: vec![],
        };
        assert_eq!(t.qualified_name(), "orders");
        t.schema = Some("public".into());
        assert_eq!(t.qualified_name(), "public.orders");
    }
}
