//! Text → PostgreSQL parse tree, and nothing more: the grammar runs in
//! libpg_query, its protobuf output is decoded with prost. Unlike
//! `pg_query::parse` this skips building a summary nobody reads.

use crate::ffi::Parsed;
use pg_query::protobuf::ParseResult;
use prost::Message;
use std::ffi::CString;

/// Why a text has no parse tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ParseError {
    /// PostgreSQL's grammar rejected the text; the parser's message.
    Syntax(String),
    /// The text holds a NUL byte, which no PostgreSQL statement can.
    Nul,
    /// The parser's output could not be decoded (too deep, or a bug).
    Decode(String),
}

/// Parses `sql` (one or more statements) with the top-level grammar.
pub(crate) fn parse(sql: &str) -> Result<ParseResult, ParseError> {
    let input = CString::new(sql).map_err(|_| ParseError::Nul)?;
    let parsed = Parsed::new(&input);
    if let Some(message) = parsed.error() {
        return Err(ParseError::Syntax(message));
    }
    ParseResult::decode(parsed.tree()).map_err(|e| ParseError::Decode(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_come_back_with_their_positions() {
        let tree = parse("SELECT 1; UPDATE t SET a = 2").unwrap();
        assert_eq!(tree.stmts.len(), 2);
        assert_eq!(tree.stmts[1].stmt_location, 10);
    }

    #[test]
    fn the_tree_is_the_one_pg_query_builds() {
        let sql = "WITH c AS (SELECT * FROM a.b) DELETE FROM t USING c WHERE t.id = c.id";
        assert_eq!(
            parse(sql).unwrap(),
            pg_query::parse(sql, 0).unwrap().protobuf
        );
    }

    #[test]
    fn errors_say_why() {
        assert!(
            matches!(parse("SELECT 1; DELETE FROM"), Err(ParseError::Syntax(m)) if m.contains("syntax error"))
        );
        assert_eq!(parse("SELECT '\0'"), Err(ParseError::Nul));
    }

    #[test]
    fn empty_input_is_no_statements() {
        assert!(parse("").unwrap().stmts.is_empty());
        assert!(parse(" ; -- nothing").unwrap().stmts.is_empty());
    }
}
