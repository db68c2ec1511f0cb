//! From message text to [`ClassifiedMessage`]: parse once with PostgreSQL's
//! grammar, analyse each statement, then combine them. Total: any input,
//! including garbage and NUL bytes, yields a classification; what cannot be
//! parsed is one opaque statement, never "unknown and allowed".

use crate::dispatch::analyze;
use crate::facts::merge_table;
use crate::fingerprint::fingerprint;
use crate::parse::{parse, ParseError};
use pg_query::protobuf::RawStmt;
use pg_query::NodeEnum;
use std::panic::{catch_unwind, AssertUnwindSafe};
use vigil_core::{ClassifiedMessage, FlagId, RiskFlag, StatementInfo, StatementKind};

/// Classifies one client message (one or more `;`-separated statements).
pub fn classify(sql: &str) -> ClassifiedMessage {
    // The parser library indexes into its own tree in places; a panic there
    // must not take the session down, and must not let the message through.
    let statements = catch_unwind(AssertUnwindSafe(|| statements(sql))).unwrap_or_else(|_| {
        vec![unparseable(
            sql,
            "internal error while classifying".to_string(),
        )]
    });
    combine(statements)
}

fn statements(sql: &str) -> Vec<StatementInfo> {
    let parsed = match parse(sql) {
        Ok(p) => p,
        Err(e) => return vec![unparseable(sql, parse_error_text(e))],
    };
    parsed
        .stmts
        .iter()
        .filter_map(|raw| {
            let node = raw.stmt.as_ref()?.node.as_ref()?;
            Some(statement(statement_text(sql, raw), node))
        })
        .collect()
}

/// The parser's message without the `at or near "<token>"` part: the token
/// is client text (possibly a password typed at the wrong prompt) and the
/// error ends up in audit records.
fn parse_error_text(e: ParseError) -> String {
    match e {
        ParseError::Syntax(msg) => match msg.find(" at or near ") {
            Some(cut) => msg.get(..cut).unwrap_or("syntax error").to_string(),
            None => msg,
        },
        ParseError::Nul => "input contains a NUL byte".to_string(),
        ParseError::Decode(why) => format!("the parse tree could not be decoded: {why}"),
    }
}

/// The statement's own text: `stmt_len` 0 means "to the end".
fn statement_text<'s>(sql: &'s str, raw: &RawStmt) -> &'s str {
    let start = usize::try_from(raw.stmt_location).unwrap_or(0);
    let end = match usize::try_from(raw.stmt_len) {
        Ok(0) | Err(_) => sql.len(),
        Ok(len) => start.saturating_add(len).min(sql.len()),
    };
    sql.get(start..end).unwrap_or(sql).trim()
}

fn statement(text: &str, node: &NodeEnum) -> StatementInfo {
    let a = analyze(node, 0);
    // The fingerprint is derived from the normalized text rather than from a
    // second parse; text that fails to normalize gets neither.
    let (fingerprint, redacted_sql) = match pg_query::normalize(text) {
        Ok(normalized) => (fingerprint(&normalized), normalized),
        Err(_) => (String::new(), placeholder(text)),
    };
    StatementInfo {
        kind: a.head.kind,
        command_tag: a.head.tag,
        tables: a.facts.tables,
        functions: a.facts.functions,
        has_where: a.head.has_where,
        where_constant_true: a.head.where_constant_true,
        limit: a.head.limit,
        copy: a.head.copy,
        fingerprint,
        redacted_sql,
        flags: a.facts.flags,
        parse_error: None,
    }
}

/// Never echo unparseable text: it may be a password typed at the wrong prompt.
fn placeholder(text: &str) -> String {
    format!("<unparseable: {} bytes>", text.len())
}

fn unparseable(sql: &str, error: String) -> StatementInfo {
    StatementInfo {
        kind: StatementKind::Opaque,
        command_tag: "UNKNOWN".to_string(),
        tables: Vec::new(),
        functions: Vec::new(),
        has_where: None,
        where_constant_true: false,
        limit: None,
        copy: None,
        fingerprint: String::new(),
        redacted_sql: placeholder(sql),
        flags: vec![RiskFlag {
            id: FlagId::OpaqueCode,
            detail: format!("the statement could not be parsed: {error}"),
        }],
        parse_error: Some(error),
    }
}

fn combine(statements: Vec<StatementInfo>) -> ClassifiedMessage {
    let kind = statements
        .iter()
        .map(|s| s.kind)
        .max_by_key(|k| k.severity())
        .unwrap_or(StatementKind::Read);
    let mut flags: Vec<RiskFlag> = Vec::new();
    let mut tables = Vec::new();
    for s in &statements {
        for f in &s.flags {
            if !flags.contains(f) {
                flags.push(f.clone());
            }
        }
        for t in &s.tables {
            merge_table(&mut tables, t.clone());
        }
    }
    if statements.len() > 1 {
        flags.push(RiskFlag {
            id: FlagId::MultiStatement,
            detail: format!("the message holds {} statements", statements.len()),
        });
    }
    ClassifiedMessage::new(statements, kind, flags, tables)
}
