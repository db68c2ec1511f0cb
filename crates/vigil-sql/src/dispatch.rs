//! Top-level statement analysis: what kind of statement this is, its
//! command tag, and the risks that depend on the statement type rather than
//! on something buried in the tree. Reads, writes, COPY, sessions,
//! transactions and utilities live here; schema, privilege and server
//! administration statements live in [`crate::ddl`].

use crate::constant::may_match_every_row;
use crate::ddl;
use crate::facts::Facts;
use crate::functions::setting_risk;
use crate::walk::Walker;
use pg_query::protobuf::{self as pb, ReindexObjectType, TransactionStmtKind, VariableSetKind};
use pg_query::NodeEnum;
use vigil_core::{CopyDirection, CopyInfo, FlagId, StatementKind, TableAccess};

/// Recursion limit for statements inside statements (EXPLAIN, PREPARE,
/// SQL function bodies).
const MAX_NESTING: u32 = 16;

/// The statement-level facts, before the deep walk adds its own.
#[derive(Debug)]
pub(crate) struct Head {
    pub kind: StatementKind,
    pub tag: String,
    pub has_where: Option<bool>,
    pub where_constant_true: bool,
    pub limit: Option<String>,
    pub copy: Option<CopyInfo>,
}

impl Head {
    pub fn new(kind: StatementKind, tag: impl Into<String>) -> Self {
        Head {
            kind,
            tag: tag.into(),
            has_where: None,
            where_constant_true: false,
            limit: None,
            copy: None,
        }
    }
}

/// Everything learned about one parsed statement.
#[derive(Debug)]
pub(crate) struct Analysis {
    pub head: Head,
    pub facts: Facts,
}

/// Analyses one statement node: its head, then the whole tree below it.
pub(crate) fn analyze(stmt: &NodeEnum, nesting: u32) -> Analysis {
    if nesting > MAX_NESTING {
        let mut facts = Facts::default();
        facts.flag(FlagId::OpaqueCode, "statements nest too deeply to analyse");
        return Analysis {
            head: Head::new(StatementKind::Opaque, "UNKNOWN"),
            facts,
        };
    }
    let next = nesting.saturating_add(1);
    match stmt {
        NodeEnum::ExplainStmt(e) => explain(e, next),
        NodeEnum::PrepareStmt(p) => prepare(p, next),
        _ => {
            let mut walker = Walker::default();
            let mut head = top(stmt, &mut walker, next);
            walker.walk(stmt.to_ref());
            let facts = walker.finish();
            // `WITH d AS (DELETE …) SELECT …` writes, whatever its last word.
            if head.kind == StatementKind::Read
                && facts.flags.iter().any(|f| f.id == FlagId::DataModifyingCte)
            {
                head.kind = StatementKind::Write;
            }
            Analysis { head, facts }
        }
    }
}

fn top(stmt: &NodeEnum, w: &mut Walker<'_>, nesting: u32) -> Head {
    use StatementKind::{Read, Session, Utility, Write};
    match stmt {
        NodeEnum::SelectStmt(s) => select(s, w),
        NodeEnum::InsertStmt(_) => Head::new(Write, "INSERT"),
        NodeEnum::UpdateStmt(s) => filtered(Head::new(Write, "UPDATE"), s.where_clause.as_deref()),
        NodeEnum::DeleteStmt(s) => filtered(Head::new(Write, "DELETE"), s.where_clause.as_deref()),
        NodeEnum::MergeStmt(_) => Head::new(Write, "MERGE"),
        NodeEnum::CopyStmt(s) => copy(s, w),
        NodeEnum::VariableShowStmt(_) => Head::new(Read, "SHOW"),
        NodeEnum::VariableSetStmt(s) => set(s, &mut w.facts),
        NodeEnum::DiscardStmt(_) => Head::new(Session, "DISCARD"),
        NodeEnum::DeallocateStmt(_) => Head::new(Session, "DEALLOCATE"),
        NodeEnum::TransactionStmt(s) => transaction(s),
        NodeEnum::VacuumStmt(s) => vacuum(s, &mut w.facts),
        NodeEnum::ReindexStmt(s) => reindex(s, &mut w.facts),
        NodeEnum::ClusterStmt(_) => admin(
            Utility,
            "CLUSTER",
            "CLUSTER rewrites tables under an exclusive lock",
            w,
        ),
        NodeEnum::CheckPointStmt(_) => admin(
            Utility,
            "CHECKPOINT",
            "CHECKPOINT forces a server-wide checkpoint",
            w,
        ),
        NodeEnum::LoadStmt(_) => admin(
            Utility,
            "LOAD",
            "LOAD loads a shared library into the server",
            w,
        ),
        NodeEnum::AlterSystemStmt(_) => admin(
            Utility,
            "ALTER SYSTEM",
            "ALTER SYSTEM changes the server configuration",
            w,
        ),
        NodeEnum::ListenStmt(_) => Head::new(Utility, "LISTEN"),
        NodeEnum::UnlistenStmt(_) => Head::new(Utility, "UNLISTEN"),
        NodeEnum::NotifyStmt(_) => Head::new(Utility, "NOTIFY"),
        NodeEnum::LockStmt(_) => Head::new(Utility, "LOCK TABLE"),
        NodeEnum::DeclareCursorStmt(_) => Head::new(Read, "DECLARE CURSOR"),
        NodeEnum::FetchStmt(f) => Head::new(Read, if f.ismove { "MOVE" } else { "FETCH" }),
        NodeEnum::ClosePortalStmt(_) => Head::new(Utility, "CLOSE CURSOR"),
        NodeEnum::DoStmt(_) => opaque("DO", "DO runs an anonymous code block", w),
        NodeEnum::CallStmt(_) => opaque(
            "CALL",
            "CALL runs a procedure whose body is not in this message",
            w,
        ),
        NodeEnum::ExecuteStmt(e) => {
            let detail = format!(
                "EXECUTE {} runs a statement prepared earlier; its text is not in this message",
                e.name
            );
            opaque("EXECUTE", &detail, w)
        }
        other => ddl::top(other, w, nesting),
    }
}

fn admin(kind: StatementKind, tag: &str, detail: &str, w: &mut Walker<'_>) -> Head {
    w.facts.flag(FlagId::ServerAdmin, detail);
    Head::new(kind, tag)
}

fn opaque(tag: &str, detail: &str, w: &mut Walker<'_>) -> Head {
    w.facts.flag(FlagId::OpaqueCode, detail);
    Head::new(StatementKind::Opaque, tag)
}

fn filtered(mut head: Head, where_clause: Option<&pg_query::Node>) -> Head {
    let clause = where_clause.and_then(|n| n.node.as_ref());
    head.has_where = Some(clause.is_some());
    head.where_constant_true = clause.is_some_and(may_match_every_row);
    head
}

fn select(s: &pb::SelectStmt, w: &mut Walker<'_>) -> Head {
    let mut head = match s.into_clause.as_ref().and_then(|i| i.rel.as_ref()) {
        Some(rel) => {
            w.mark(rel.location, TableAccess::Ddl);
            w.mark(rel.location, TableAccess::Insert);
            Head::new(StatementKind::Ddl, "SELECT INTO")
        }
        None => Head::new(StatementKind::Read, "SELECT"),
    };
    head.limit = s
        .limit_count
        .as_ref()
        .and_then(|n| n.node.as_ref())
        .map(limit_text);
    head
}

fn limit_text(node: &NodeEnum) -> String {
    match node {
        NodeEnum::AConst(c) if c.isnull => "ALL".to_string(),
        NodeEnum::AConst(c) => match &c.val {
            Some(pb::a_const::Val::Ival(i)) => i.ival.to_string(),
            Some(pb::a_const::Val::Fval(f)) => f.fval.clone(),
            _ => "expr".to_string(),
        },
        NodeEnum::ParamRef(p) => format!("${}", p.number),
        _ => "expr".to_string(),
    }
}

fn copy(s: &pb::CopyStmt, w: &mut Walker<'_>) -> Head {
    let target = (!s.filename.is_empty()).then(|| s.filename.clone());
    let direction = match (s.is_from, s.is_program, target.is_some()) {
        (true, true, _) => CopyDirection::FromProgram,
        (false, true, _) => CopyDirection::ToProgram,
        (true, false, true) => CopyDirection::FromFile,
        (false, false, true) => CopyDirection::ToFile,
        (true, false, false) => CopyDirection::FromClient,
        (false, false, false) => CopyDirection::ToClient,
    };
    let shown = target.clone().unwrap_or_default();
    let detail = match direction {
        CopyDirection::FromProgram => Some(format!(
            "COPY … FROM PROGRAM runs a shell command on the server: {shown}"
        )),
        CopyDirection::ToProgram => Some(format!(
            "COPY … TO PROGRAM sends data to a shell command on the server: {shown}"
        )),
        CopyDirection::FromFile => Some(format!("COPY … FROM a server file reads {shown}")),
        CopyDirection::ToFile => Some(format!("COPY … TO a server file writes {shown}")),
        CopyDirection::FromClient | CopyDirection::ToClient => None,
    };
    if let Some(d) = detail {
        w.facts.flag(FlagId::Exfiltration, d);
    }
    if let (Some(rel), true) = (s.relation.as_ref(), s.is_from) {
        w.mark(rel.location, TableAccess::Insert);
    }
    let kind = if s.is_from {
        StatementKind::Write
    } else {
        StatementKind::Read
    };
    let mut head = Head::new(kind, "COPY");
    head.copy = Some(CopyInfo { direction, target });
    head
}

/// SET and RESET. RESET ROLE / RESET SESSION AUTHORIZATION are not flagged:
/// they return to the login role Vigil connected as. RESET ALL and DISCARD
/// return settings to the server defaults Vigil assumes, so they pass too.
fn set(s: &pb::VariableSetStmt, facts: &mut Facts) -> Head {
    let kind = VariableSetKind::try_from(s.kind).unwrap_or(VariableSetKind::Undefined);
    let name = s.name.to_lowercase();
    let reset = matches!(
        kind,
        VariableSetKind::VarReset | VariableSetKind::VarResetAll
    );
    let returns_to_login = reset && matches!(name.as_str(), "role" | "session_authorization");
    if !returns_to_login && kind != VariableSetKind::VarResetAll {
        let how = if reset {
            "RESET"
        } else if s.is_local {
            "SET LOCAL"
        } else {
            "SET"
        };
        setting_risk(&name, how, facts);
    }
    Head::new(StatementKind::Session, if reset { "RESET" } else { "SET" })
}

fn transaction(s: &pb::TransactionStmt) -> Head {
    let tag = match TransactionStmtKind::try_from(s.kind) {
        Ok(TransactionStmtKind::TransStmtBegin) => "BEGIN",
        Ok(TransactionStmtKind::TransStmtStart) => "START TRANSACTION",
        Ok(TransactionStmtKind::TransStmtCommit) => "COMMIT",
        Ok(TransactionStmtKind::TransStmtRollback | TransactionStmtKind::TransStmtRollbackTo) => {
            "ROLLBACK"
        }
        Ok(TransactionStmtKind::TransStmtSavepoint) => "SAVEPOINT",
        Ok(TransactionStmtKind::TransStmtRelease) => "RELEASE",
        Ok(TransactionStmtKind::TransStmtPrepare) => "PREPARE TRANSACTION",
        Ok(TransactionStmtKind::TransStmtCommitPrepared) => "COMMIT PREPARED",
        Ok(TransactionStmtKind::TransStmtRollbackPrepared) => "ROLLBACK PREPARED",
        _ => "TRANSACTION",
    };
    Head::new(StatementKind::Transaction, tag)
}

fn vacuum(s: &pb::VacuumStmt, facts: &mut Facts) -> Head {
    let full = s.options.iter().any(|o| match o.node.as_ref() {
        Some(NodeEnum::DefElem(d)) => d.defname.eq_ignore_ascii_case("full") && option_enabled(d),
        _ => false,
    });
    if full {
        facts.flag(
            FlagId::ServerAdmin,
            "VACUUM FULL rewrites tables under an exclusive lock",
        );
    }
    Head::new(
        StatementKind::Utility,
        if s.is_vacuumcmd { "VACUUM" } else { "ANALYZE" },
    )
}

fn reindex(s: &pb::ReindexStmt, facts: &mut Facts) -> Head {
    let scope = match ReindexObjectType::try_from(s.kind) {
        Ok(ReindexObjectType::ReindexObjectSchema) => Some("a whole schema"),
        Ok(ReindexObjectType::ReindexObjectSystem) => Some("the system catalogs"),
        Ok(ReindexObjectType::ReindexObjectDatabase) => Some("a whole database"),
        _ => None,
    };
    if let Some(scope) = scope {
        facts.flag(
            FlagId::ServerAdmin,
            format!("REINDEX of {scope} locks and rebuilds many indexes"),
        );
    }
    Head::new(StatementKind::Utility, "REINDEX")
}

/// Whether a boolean option (`ANALYZE`, `FULL`, `ANALYZE true`, `FULL off`) is on.
/// An option without a value is on; an unrecognised value counts as on.
pub(crate) fn option_enabled(d: &pb::DefElem) -> bool {
    match d.arg.as_ref().and_then(|a| a.node.as_ref()) {
        None => true,
        Some(NodeEnum::Boolean(b)) => b.boolval,
        Some(NodeEnum::Integer(i)) => i.ival != 0,
        Some(NodeEnum::String(s)) => {
            !matches!(s.sval.to_lowercase().as_str(), "false" | "off" | "0" | "no")
        }
        Some(_) => true,
    }
}

/// EXPLAIN ANALYZE runs its statement, so it is that statement; plain
/// EXPLAIN only plans it: a read that touches nothing.
fn explain(e: &pb::ExplainStmt, nesting: u32) -> Analysis {
    let analyze_on = e.options.iter().any(|o| match o.node.as_ref() {
        Some(NodeEnum::DefElem(d)) => {
            d.defname.eq_ignore_ascii_case("analyze") && option_enabled(d)
        }
        _ => false,
    });
    let Some(inner) = e.query.as_ref().and_then(|q| q.node.as_ref()) else {
        return Analysis {
            head: Head::new(StatementKind::Read, "EXPLAIN"),
            facts: Facts::default(),
        };
    };
    let mut a = analyze(inner, nesting);
    a.head.tag = "EXPLAIN".to_string();
    if !analyze_on {
        a.head.kind = StatementKind::Read;
        a.facts.flags.clear();
        for t in &mut a.facts.tables {
            t.access = vec![TableAccess::Read];
        }
    }
    a
}

/// PREPARE stores a statement for later EXECUTE: it is judged as the
/// statement it holds, and flagged opaque because EXECUTE will not show it.
fn prepare(p: &pb::PrepareStmt, nesting: u32) -> Analysis {
    let mut a = match p.query.as_ref().and_then(|q| q.node.as_ref()) {
        Some(inner) => analyze(inner, nesting),
        None => Analysis {
            head: Head::new(StatementKind::Opaque, "PREPARE"),
            facts: Facts::default(),
        },
    };
    a.head.tag = "PREPARE".to_string();
    a.facts.flag(
        FlagId::OpaqueCode,
        format!(
            "PREPARE {} stores a statement that later EXECUTEs run without showing it",
            p.name
        ),
    );
    a
}
