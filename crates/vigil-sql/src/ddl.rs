//! Top-level analysis of schema changes, privilege management and server
//! administration: the statements whose danger is in their type (DROP,
//! TRUNCATE, GRANT, CREATE EXTENSION, foreign servers, functions, …).
//! TRUNCATE is classified as DDL: it takes the same exclusive lock and,
//! like DROP, cannot be filtered row by row.

use crate::dispatch::{analyze, Head};
use crate::walk::Walker;
use pg_query::protobuf::{self as pb, AlterTableType, DropBehavior, ObjectType, RoleStmtType};
use pg_query::NodeEnum;
use vigil_core::{FlagId, StatementKind, TableAccess};

/// Extensions that open a path to files or other servers.
const EXFILTRATING_EXTENSIONS: &[&str] = &["dblink", "postgres_fdw", "file_fdw"];

pub(crate) fn top(stmt: &NodeEnum, w: &mut Walker<'_>, nesting: u32) -> Head {
    use StatementKind::{Ddl, Privilege};
    match stmt {
        NodeEnum::CreateStmt(s) => target(Ddl, "CREATE TABLE", s.relation.as_ref(), w),
        NodeEnum::ViewStmt(s) => target(Ddl, "CREATE VIEW", s.view.as_ref(), w),
        NodeEnum::IndexStmt(s) => target(Ddl, "CREATE INDEX", s.relation.as_ref(), w),
        NodeEnum::CreateSeqStmt(s) => target(Ddl, "CREATE SEQUENCE", s.sequence.as_ref(), w),
        NodeEnum::CreateTableAsStmt(s) => create_table_as(s, w),
        NodeEnum::AlterTableStmt(s) => alter_table(s, w),
        NodeEnum::RenameStmt(s) => {
            let tag = format!("ALTER {}", object_type_name(s.rename_type));
            target(Ddl, &tag, s.relation.as_ref(), w)
        }
        NodeEnum::TruncateStmt(s) => truncate(s, w),
        NodeEnum::DropStmt(s) => drop(s, w),
        NodeEnum::DropdbStmt(s) => {
            dropped("DROP DATABASE", &format!("DROP DATABASE {}", s.dbname), w)
        }
        NodeEnum::DropTableSpaceStmt(s) => dropped(
            "DROP TABLESPACE",
            &format!("DROP TABLESPACE {}", s.tablespacename),
            w,
        ),
        NodeEnum::DropSubscriptionStmt(s) => dropped(
            "DROP SUBSCRIPTION",
            &format!("DROP SUBSCRIPTION {}", s.subname),
            w,
        ),
        NodeEnum::DropUserMappingStmt(_) => dropped("DROP USER MAPPING", "DROP USER MAPPING", w),
        NodeEnum::DropOwnedStmt(_) => {
            w.facts.flag(
                FlagId::PrivilegeChange,
                "DROP OWNED removes the privileges of roles",
            );
            let mut head = dropped("DROP OWNED", "DROP OWNED (every object the roles own)", w);
            head.kind = Privilege;
            head
        }
        NodeEnum::GrantStmt(s) => {
            for o in &s.objects {
                if let Some(NodeEnum::RangeVar(rv)) = o.node.as_ref() {
                    w.mark(rv.location, TableAccess::Ddl);
                }
            }
            privilege(if s.is_grant { "GRANT" } else { "REVOKE" }, w)
        }
        NodeEnum::GrantRoleStmt(s) => privilege(if s.is_grant { "GRANT" } else { "REVOKE" }, w),
        NodeEnum::CreateRoleStmt(s) => privilege(&format!("CREATE {}", role_word(s.stmt_type)), w),
        NodeEnum::AlterRoleStmt(_) | NodeEnum::AlterRoleSetStmt(_) => privilege("ALTER ROLE", w),
        NodeEnum::DropRoleStmt(_) => privilege("DROP ROLE", w),
        NodeEnum::AlterDefaultPrivilegesStmt(_) => privilege("ALTER DEFAULT PRIVILEGES", w),
        NodeEnum::ReassignOwnedStmt(_) => privilege("REASSIGN OWNED", w),
        NodeEnum::AlterOwnerStmt(s) => {
            let tag = format!("ALTER {}", object_type_name(s.object_type));
            flagged(
                Ddl,
                &tag,
                FlagId::PrivilegeChange,
                &format!("{tag} … OWNER TO changes ownership"),
                w,
            )
        }
        NodeEnum::CreatePolicyStmt(_) => policy("CREATE POLICY", w),
        NodeEnum::AlterPolicyStmt(_) => policy("ALTER POLICY", w),
        NodeEnum::CreateFunctionStmt(s) => create_function(s, w, nesting),
        NodeEnum::CreateExtensionStmt(s) => create_extension(s, w),
        NodeEnum::CreateForeignServerStmt(_) => exfil("CREATE SERVER", w),
        NodeEnum::AlterForeignServerStmt(_) => exfil("ALTER SERVER", w),
        NodeEnum::CreateFdwStmt(_) => exfil("CREATE FOREIGN DATA WRAPPER", w),
        NodeEnum::CreateUserMappingStmt(_) => exfil("CREATE USER MAPPING", w),
        NodeEnum::AlterUserMappingStmt(_) => exfil("ALTER USER MAPPING", w),
        NodeEnum::ImportForeignSchemaStmt(_) => exfil("IMPORT FOREIGN SCHEMA", w),
        NodeEnum::CreateForeignTableStmt(_) => exfil("CREATE FOREIGN TABLE", w),
        NodeEnum::CreateSubscriptionStmt(_) => exfil("CREATE SUBSCRIPTION", w),
        NodeEnum::AlterSubscriptionStmt(_) => exfil("ALTER SUBSCRIPTION", w),
        NodeEnum::CreatePublicationStmt(_) => exfil("CREATE PUBLICATION", w),
        NodeEnum::CreateEventTrigStmt(_) => admin("CREATE EVENT TRIGGER", w),
        NodeEnum::CreatePlangStmt(_) => admin("CREATE LANGUAGE", w),
        NodeEnum::CreateTableSpaceStmt(_) => admin("CREATE TABLESPACE", w),
        NodeEnum::CreateSchemaStmt(_) => Head::new(Ddl, "CREATE SCHEMA"),
        NodeEnum::CreatedbStmt(_) => Head::new(Ddl, "CREATE DATABASE"),
        NodeEnum::CreateTrigStmt(s) => target(Ddl, "CREATE TRIGGER", s.relation.as_ref(), w),
        NodeEnum::CreateEnumStmt(_) | NodeEnum::CompositeTypeStmt(_) => {
            Head::new(Ddl, "CREATE TYPE")
        }
        NodeEnum::CommentStmt(_) => Head::new(Ddl, "COMMENT"),
        NodeEnum::RefreshMatViewStmt(_) => {
            Head::new(StatementKind::Utility, "REFRESH MATERIALIZED VIEW")
        }
        other => fallback(other),
    }
}

fn target(kind: StatementKind, tag: &str, rel: Option<&pb::RangeVar>, w: &mut Walker<'_>) -> Head {
    if let Some(rv) = rel {
        w.mark(rv.location, TableAccess::Ddl);
    }
    Head::new(kind, tag)
}

fn flagged(kind: StatementKind, tag: &str, id: FlagId, detail: &str, w: &mut Walker<'_>) -> Head {
    w.facts.flag(id, detail);
    Head::new(kind, tag)
}

fn dropped(tag: &str, detail: &str, w: &mut Walker<'_>) -> Head {
    flagged(
        StatementKind::Ddl,
        tag,
        FlagId::Drop,
        &format!("{detail} permanently removes data"),
        w,
    )
}

fn privilege(tag: &str, w: &mut Walker<'_>) -> Head {
    let detail = format!("{tag} changes who may do what");
    flagged(
        StatementKind::Privilege,
        tag,
        FlagId::PrivilegeChange,
        &detail,
        w,
    )
}

fn policy(tag: &str, w: &mut Walker<'_>) -> Head {
    let detail = format!("{tag} changes row-level security");
    flagged(StatementKind::Ddl, tag, FlagId::PrivilegeChange, &detail, w)
}

fn exfil(tag: &str, w: &mut Walker<'_>) -> Head {
    let detail = format!("{tag} sets up a path to data outside this database");
    flagged(StatementKind::Ddl, tag, FlagId::Exfiltration, &detail, w)
}

fn admin(tag: &str, w: &mut Walker<'_>) -> Head {
    let detail = format!("{tag} changes the server itself");
    flagged(StatementKind::Ddl, tag, FlagId::ServerAdmin, &detail, w)
}

fn role_word(stmt_type: i32) -> &'static str {
    match RoleStmtType::try_from(stmt_type) {
        Ok(RoleStmtType::RolestmtUser) => "USER",
        Ok(RoleStmtType::RolestmtGroup) => "GROUP",
        _ => "ROLE",
    }
}

fn create_table_as(s: &pb::CreateTableAsStmt, w: &mut Walker<'_>) -> Head {
    let tag = if ObjectType::try_from(s.objtype) == Ok(ObjectType::ObjectMatview) {
        "CREATE MATERIALIZED VIEW"
    } else if s.is_select_into {
        "SELECT INTO"
    } else {
        "CREATE TABLE AS"
    };
    if let Some(rel) = s.into.as_ref().and_then(|i| i.rel.as_ref()) {
        w.mark(rel.location, TableAccess::Insert);
    }
    target(
        StatementKind::Ddl,
        tag,
        s.into.as_ref().and_then(|i| i.rel.as_ref()),
        w,
    )
}

fn alter_table(s: &pb::AlterTableStmt, w: &mut Walker<'_>) -> Head {
    let tag = format!("ALTER {}", object_type_name(s.objtype));
    let table = s.relation.as_ref().map_or_else(String::new, |r| {
        crate::facts::display_name(&r.schemaname, &r.relname)
    });
    for cmd in &s.cmds {
        let Some(NodeEnum::AlterTableCmd(c)) = cmd.node.as_ref() else {
            continue;
        };
        match AlterTableType::try_from(c.subtype) {
            Ok(AlterTableType::AtDropColumn) => {
                w.facts.flag(
                    FlagId::Drop,
                    format!(
                        "ALTER TABLE {table} DROP COLUMN {} destroys its data",
                        c.name
                    ),
                );
            }
            Ok(AlterTableType::AtChangeOwner) => {
                w.facts.flag(
                    FlagId::PrivilegeChange,
                    format!("ALTER TABLE {table} OWNER TO changes ownership"),
                );
            }
            Ok(AlterTableType::AtDisableRowSecurity | AlterTableType::AtNoForceRowSecurity) => {
                w.facts.flag(
                    FlagId::PrivilegeChange,
                    format!("ALTER TABLE {table} weakens row-level security"),
                );
            }
            _ => {}
        }
    }
    target(StatementKind::Ddl, &tag, s.relation.as_ref(), w)
}

fn truncate(s: &pb::TruncateStmt, w: &mut Walker<'_>) -> Head {
    let mut names = Vec::new();
    for r in &s.relations {
        if let Some(NodeEnum::RangeVar(rv)) = r.node.as_ref() {
            w.mark(rv.location, TableAccess::Truncate);
            names.push(crate::facts::display_name(&rv.schemaname, &rv.relname));
        }
    }
    w.facts.flag(
        FlagId::Truncate,
        format!("TRUNCATE empties {}", names.join(", ")),
    );
    Head::new(StatementKind::Ddl, "TRUNCATE TABLE")
}

fn drop(s: &pb::DropStmt, w: &mut Walker<'_>) -> Head {
    let what = object_type_name(s.remove_type);
    let relation = matches!(
        ObjectType::try_from(s.remove_type),
        Ok(ObjectType::ObjectTable
            | ObjectType::ObjectView
            | ObjectType::ObjectMatview
            | ObjectType::ObjectForeignTable
            | ObjectType::ObjectSequence
            | ObjectType::ObjectIndex)
    );
    let cascade = if s.behavior == DropBehavior::DropCascade as i32 {
        " CASCADE"
    } else {
        ""
    };
    let mut names = Vec::new();
    for o in &s.objects {
        let Some(node) = o.node.as_ref() else {
            continue;
        };
        let parts = name_parts(node);
        if relation {
            if let Some((name, schema)) = parts.split_last() {
                w.facts
                    .table(schema.last().map(String::as_str), name, TableAccess::Ddl);
            }
        }
        names.push(parts.join("."));
    }
    w.facts.flag(
        FlagId::Drop,
        format!(
            "DROP {what} {}{cascade} permanently removes data",
            names.join(", ")
        ),
    );
    if ObjectType::try_from(s.remove_type) == Ok(ObjectType::ObjectPolicy) {
        w.facts.flag(
            FlagId::PrivilegeChange,
            "DROP POLICY changes row-level security",
        );
    }
    Head::new(StatementKind::Ddl, format!("DROP {what}"))
}

/// The dotted name of a dropped object, as far as it is a name.
fn name_parts(node: &NodeEnum) -> Vec<String> {
    let strings = |items: &[pg_query::Node]| -> Vec<String> {
        items
            .iter()
            .filter_map(|i| match i.node.as_ref() {
                Some(NodeEnum::String(s)) => Some(s.sval.clone()),
                _ => None,
            })
            .collect()
    };
    match node {
        NodeEnum::List(l) => strings(&l.items),
        NodeEnum::String(s) => vec![s.sval.clone()],
        NodeEnum::TypeName(t) => strings(&t.names),
        NodeEnum::ObjectWithArgs(o) => strings(&o.objname),
        _ => Vec::new(),
    }
}

fn create_function(s: &pb::CreateFunctionStmt, w: &mut Walker<'_>, nesting: u32) -> Head {
    let what = if s.is_procedure {
        "PROCEDURE"
    } else {
        "FUNCTION"
    };
    let name = name_parts(&NodeEnum::List(pb::List {
        items: s.funcname.clone(),
    }))
    .join(".");
    w.facts.flag(
        FlagId::OpaqueCode,
        format!("CREATE {what} {name} defines code that runs later"),
    );
    let mut language = String::new();
    let mut body = None;
    for opt in &s.options {
        let Some(NodeEnum::DefElem(d)) = opt.node.as_ref() else {
            continue;
        };
        match (
            d.defname.as_str(),
            d.arg.as_ref().and_then(|a| a.node.as_ref()),
        ) {
            ("language", Some(NodeEnum::String(l))) => language = l.sval.to_lowercase(),
            ("as", Some(NodeEnum::List(l))) => {
                body = name_parts(&NodeEnum::List(l.clone())).into_iter().next()
            }
            _ => {}
        }
    }
    // An SQL-language body is plain SQL: classify it so its risks show up
    // on the CREATE (other languages stay opaque).
    if let (true, Some(body)) = (language == "sql", body) {
        if let Ok(parsed) = crate::parse::parse(&body) {
            for raw in &parsed.stmts {
                if let Some(inner) = raw.stmt.as_ref().and_then(|n| n.node.as_ref()) {
                    w.facts.absorb(analyze(inner, nesting).facts);
                }
            }
        }
    }
    Head::new(StatementKind::Ddl, format!("CREATE {what}"))
}

fn create_extension(s: &pb::CreateExtensionStmt, w: &mut Walker<'_>) -> Head {
    let name = s.extname.to_lowercase();
    w.facts.flag(
        FlagId::ServerAdmin,
        format!("CREATE EXTENSION {name} loads code into the server"),
    );
    if EXFILTRATING_EXTENSIONS.contains(&name.as_str()) {
        w.facts.flag(
            FlagId::Exfiltration,
            format!("extension {name} reaches files or other servers"),
        );
    }
    Head::new(StatementKind::Ddl, "CREATE EXTENSION")
}

/// The SQL words for an object type, e.g. `TABLE`, `MATERIALIZED VIEW`.
pub(crate) fn object_type_name(t: i32) -> String {
    let Ok(t) = ObjectType::try_from(t) else {
        return "OBJECT".to_string();
    };
    match t {
        ObjectType::ObjectMatview => "MATERIALIZED VIEW".to_string(),
        ObjectType::ObjectFdw => "FOREIGN DATA WRAPPER".to_string(),
        ObjectType::ObjectForeignServer => "SERVER".to_string(),
        ObjectType::ObjectTsconfiguration => "TEXT SEARCH CONFIGURATION".to_string(),
        ObjectType::ObjectTsdictionary => "TEXT SEARCH DICTIONARY".to_string(),
        ObjectType::ObjectLargeobject => "LARGE OBJECT".to_string(),
        other => other
            .as_str_name()
            .trim_start_matches("OBJECT_")
            .replace('_', " "),
    }
}

/// Statements without a dedicated rule: the tag comes from the node's name
/// (`CreateCastStmt` → `CREATE CAST`); create/alter/drop-like ones are DDL,
/// the rest utility.
fn fallback(stmt: &NodeEnum) -> Head {
    let name = variant_name(stmt);
    let words = split_camel(name.trim_end_matches("Stmt"));
    let kind = match words.split(' ').next() {
        Some("CREATE" | "ALTER" | "DROP" | "DEFINE" | "COMMENT" | "SEC" | "RULE") => {
            StatementKind::Ddl
        }
        _ => StatementKind::Utility,
    };
    Head::new(kind, words)
}

/// The enum variant's name, read from its Debug output without formatting
/// the (possibly large) rest of the tree.
fn variant_name(stmt: &NodeEnum) -> String {
    struct Head(String);
    impl std::fmt::Write for Head {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            match s.find(|c: char| !c.is_ascii_alphanumeric()) {
                Some(end) => {
                    self.0.push_str(s.get(..end).unwrap_or_default());
                    Err(std::fmt::Error)
                }
                None => {
                    self.0.push_str(s);
                    Ok(())
                }
            }
        }
    }
    let mut head = Head(String::new());
    let _ = std::fmt::write(&mut head, format_args!("{stmt:?}"));
    head.0
}

fn split_camel(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push(' ');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}
