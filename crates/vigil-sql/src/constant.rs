//! Decides whether a WHERE clause is true for every row because it is made
//! of literals only (`1=1`, `'a'='a'`, `NOT false`, `x OR true`, …): the
//! classic way to smuggle an unbounded UPDATE/DELETE past a "has a WHERE"
//! check. Anything not provably constant is "unknown", never "true".

use pg_query::protobuf::{a_const::Val, AExprKind, BoolExprType, BoolTestType, NullTestType};
use pg_query::NodeEnum;

/// A literal value, as far as this evaluator needs to know it.
#[derive(Debug, Clone, PartialEq)]
enum Const {
    Bool(bool),
    Int(i64),
    Num(f64),
    Str(String),
    Null,
}

/// Whether `expr` is true for every row by its literals alone.
#[cfg(test)]
pub(crate) fn is_constant_true(expr: &NodeEnum) -> bool {
    eval(expr, 0).and_then(|c| truthy(&c)) == Some(true)
}

/// Whether `expr` may select every row: it is provably true, or its value
/// does not depend on the row at all (bind parameters, functions of
/// constants, uncorrelated subqueries) and is not provably false.
/// `DELETE FROM t WHERE $1` with `$1 = true` empties the table exactly like
/// `WHERE true`; the parameter is only known at Bind, so the statement is
/// judged by its shape. A disjunct that ignores the row makes the whole OR
/// row-independent; a conjunction is bounded by any row-dependent part.
pub(crate) fn may_match_every_row(expr: &NodeEnum) -> bool {
    may_match(expr, 0)
}

fn may_match(expr: &NodeEnum, depth: u32) -> bool {
    if depth > MAX_DEPTH {
        return true;
    }
    if let Some(c) = eval(expr, 0) {
        return truthy(&c) == Some(true);
    }
    match expr {
        NodeEnum::BoolExpr(b) => {
            let mut args = b.args.iter().filter_map(|a| a.node.as_ref());
            match BoolExprType::try_from(b.boolop) {
                Ok(BoolExprType::OrExpr) => args.any(|a| may_match(a, depth + 1)),
                Ok(BoolExprType::AndExpr) => args.all(|a| may_match(a, depth + 1)),
                _ => !reads_row(expr),
            }
        }
        _ => !reads_row(expr),
    }
}

/// Whether a column (of any relation: subqueries are not scoped, which errs
/// towards "bounded") or a cursor position appears anywhere in `expr`.
fn reads_row(expr: &NodeEnum) -> bool {
    let mut found = false;
    let mut stack = vec![expr.to_ref()];
    while let Some(n) = stack.pop() {
        if matches!(
            n,
            pg_query::NodeRef::ColumnRef(_) | pg_query::NodeRef::CurrentOfExpr(_)
        ) {
            found = true;
            break;
        }
        crate::walk::for_each_child(n, &mut |c| stack.push(c));
    }
    found
}

/// Guards against deep nesting; the decoder already limits depth, this keeps
/// the evaluator obviously bounded on its own.
const MAX_DEPTH: u32 = 64;

fn eval(node: &NodeEnum, depth: u32) -> Option<Const> {
    if depth > MAX_DEPTH {
        return None;
    }
    let d = depth.saturating_add(1);
    match node {
        NodeEnum::AConst(c) => Some(literal(c.isnull, c.val.as_ref())),
        NodeEnum::TypeCast(tc) => {
            let v = eval(tc.arg.as_ref()?.node.as_ref()?, d)?;
            let ty = tc.type_name.as_ref()?.names.last()?;
            match ty.node.as_ref()? {
                NodeEnum::String(s) => cast(v, &s.sval),
                _ => None,
            }
        }
        NodeEnum::BoolExpr(b) => bool_expr(b.boolop, &b.args, d),
        NodeEnum::AExpr(e) => a_expr(e, d),
        NodeEnum::NullTest(t) => {
            let v = eval(t.arg.as_ref()?.node.as_ref()?, d)?;
            let is_null = v == Const::Null;
            match NullTestType::try_from(t.nulltesttype).ok()? {
                NullTestType::IsNull => Some(Const::Bool(is_null)),
                NullTestType::IsNotNull => Some(Const::Bool(!is_null)),
                NullTestType::Undefined => None,
            }
        }
        NodeEnum::BooleanTest(t) => {
            let v = truthy(&eval(t.arg.as_ref()?.node.as_ref()?, d)?);
            Some(Const::Bool(bool_test(t.booltesttype, v)?))
        }
        _ => None,
    }
}

fn literal(isnull: bool, val: Option<&Val>) -> Const {
    match val {
        _ if isnull => Const::Null,
        Some(Val::Ival(i)) => Const::Int(i64::from(i.ival)),
        Some(Val::Fval(f)) => f.fval.parse().map_or(Const::Null, Const::Num),
        Some(Val::Boolval(b)) => Const::Bool(b.boolval),
        Some(Val::Sval(s)) => Const::Str(s.sval.clone()),
        Some(Val::Bsval(s)) => Const::Str(s.bsval.clone()),
        None => Const::Null,
    }
}

fn cast(v: Const, ty: &str) -> Option<Const> {
    match ty.to_ascii_lowercase().as_str() {
        "bool" | "boolean" => truthy(&v).map(Const::Bool),
        "int2" | "int4" | "int8" | "integer" | "int" | "bigint" | "smallint" => match v {
            Const::Str(s) => s.trim().parse().ok().map(Const::Int),
            Const::Bool(b) => Some(Const::Int(i64::from(b))),
            other => Some(other),
        },
        "text" | "varchar" | "bpchar" | "name" => match v {
            Const::Int(i) => Some(Const::Str(i.to_string())),
            other => Some(other),
        },
        _ => Some(v),
    }
}

/// SQL truthiness of a literal where PostgreSQL would coerce it to boolean.
fn truthy(v: &Const) -> Option<bool> {
    match v {
        Const::Bool(b) => Some(*b),
        Const::Int(i) => Some(*i != 0),
        Const::Str(s) => match s.trim().to_ascii_lowercase().as_str() {
            "t" | "true" | "y" | "yes" | "on" | "1" => Some(true),
            "f" | "false" | "n" | "no" | "off" | "0" => Some(false),
            _ => None,
        },
        Const::Num(_) | Const::Null => None,
    }
}

fn bool_expr(op: i32, args: &[pg_query::Node], depth: u32) -> Option<Const> {
    let values: Vec<Option<bool>> = args
        .iter()
        .map(|a| {
            a.node
                .as_ref()
                .and_then(|n| eval(n, depth))
                .and_then(|c| truthy(&c))
        })
        .collect();
    match BoolExprType::try_from(op).ok()? {
        BoolExprType::AndExpr if values.contains(&Some(false)) => Some(Const::Bool(false)),
        BoolExprType::AndExpr if values.iter().all(|v| *v == Some(true)) => Some(Const::Bool(true)),
        BoolExprType::OrExpr if values.contains(&Some(true)) => Some(Const::Bool(true)),
        BoolExprType::OrExpr if values.iter().all(|v| *v == Some(false)) => {
            Some(Const::Bool(false))
        }
        BoolExprType::NotExpr => values.first().copied().flatten().map(|b| Const::Bool(!b)),
        _ => None,
    }
}

fn bool_test(kind: i32, v: Option<bool>) -> Option<bool> {
    Some(match BoolTestType::try_from(kind).ok()? {
        BoolTestType::IsTrue => v == Some(true),
        BoolTestType::IsNotTrue => v != Some(true),
        BoolTestType::IsFalse => v == Some(false),
        BoolTestType::IsNotFalse => v != Some(false),
        BoolTestType::IsUnknown => v.is_none(),
        BoolTestType::IsNotUnknown => v.is_some(),
        BoolTestType::Undefined => return None,
    })
}

fn a_expr(e: &pg_query::protobuf::AExpr, depth: u32) -> Option<Const> {
    let op = match e.name.last()?.node.as_ref()? {
        NodeEnum::String(s) => s.sval.as_str(),
        _ => return None,
    };
    let lhs = e.lexpr.as_ref()?.node.as_ref()?;
    let rhs = e.rexpr.as_ref()?.node.as_ref()?;
    let kind = AExprKind::try_from(e.kind).ok()?;
    // `col = col` is true for every non-null row: treat as constant too.
    if op == "=" && kind == AExprKind::AexprOp && same_column(lhs, rhs) {
        return Some(Const::Bool(true));
    }
    let (l, r) = (eval(lhs, depth)?, eval(rhs, depth)?);
    match kind {
        AExprKind::AexprOp => binary(op, l, r),
        AExprKind::AexprNotDistinct => Some(Const::Bool(l == r)),
        AExprKind::AexprDistinct => Some(Const::Bool(l != r)),
        _ => None,
    }
}

fn same_column(a: &NodeEnum, b: &NodeEnum) -> bool {
    match (a, b) {
        (NodeEnum::ColumnRef(x), NodeEnum::ColumnRef(y)) => x.fields == y.fields,
        _ => false,
    }
}

fn binary(op: &str, l: Const, r: Const) -> Option<Const> {
    use std::cmp::Ordering;
    if let (Const::Int(a), Const::Int(b)) = (&l, &r) {
        let arith = match op {
            "+" => a.checked_add(*b),
            "-" => a.checked_sub(*b),
            "*" => a.checked_mul(*b),
            _ => None,
        };
        if let Some(v) = arith {
            return Some(Const::Int(v));
        }
    }
    let ord = compare(&l, &r)?;
    let b = match op {
        "=" => ord == Ordering::Equal,
        "<>" | "!=" => ord != Ordering::Equal,
        "<" => ord == Ordering::Less,
        ">" => ord == Ordering::Greater,
        "<=" => ord != Ordering::Greater,
        ">=" => ord != Ordering::Less,
        _ => return None,
    };
    Some(Const::Bool(b))
}

fn compare(l: &Const, r: &Const) -> Option<std::cmp::Ordering> {
    match (l, r) {
        (Const::Int(a), Const::Int(b)) => Some(a.cmp(b)),
        (Const::Str(a), Const::Str(b)) => Some(a.cmp(b)),
        (Const::Bool(a), Const::Bool(b)) => Some(a.cmp(b)),
        (Const::Num(a), Const::Num(b)) => a.partial_cmp(b),
        // Integer literals are exact in f64 up to 2^53; beyond that the
        // comparison may be off, which only makes us say "unknown" less often.
        #[allow(clippy::cast_precision_loss)]
        (Const::Int(a), Const::Num(b)) => (*a as f64).partial_cmp(b),
        #[allow(clippy::cast_precision_loss)]
        (Const::Num(a), Const::Int(b)) => a.partial_cmp(&(*b as f64)),
        // An untyped literal compared with a number is coerced to it.
        (Const::Str(s), Const::Int(b)) => s.trim().parse::<i64>().ok().map(|a| a.cmp(b)),
        (Const::Int(a), Const::Str(s)) => s.trim().parse::<i64>().ok().map(|b| a.cmp(&b)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn where_of(sql: &str) -> NodeEnum {
        let parsed = pg_query::parse(sql, 0).unwrap();
        let stmt = parsed.protobuf.stmts[0].stmt.clone().unwrap().node.unwrap();
        match stmt {
            NodeEnum::DeleteStmt(d) => d.where_clause.unwrap().node.unwrap(),
            other => panic!("not a delete: {other:?}"),
        }
    }

    #[test]
    fn literal_only_truths_are_detected() {
        for w in [
            "true",
            "1=1",
            "'a'='a'",
            "NOT false",
            "1",
            "true OR x > 3",
            "x > 3 OR true",
            "1 < 2",
            "'t'::boolean",
            "2 = 1 + 1",
            "NULL IS NULL",
            "true IS TRUE",
            "id = id",
            "1 = 1 AND 2 = 2",
            "'1' = 1",
            "1.5 > 1",
        ] {
            assert!(
                is_constant_true(&where_of(&format!("DELETE FROM t WHERE {w}"))),
                "{w}"
            );
        }
    }

    #[test]
    fn real_conditions_and_falsehoods_are_not_true() {
        for w in [
            "id = 1",
            "false",
            "1 = 2",
            "NOT true",
            "x OR false",
            "1 = 1 AND id = 3",
            "NULL",
            "NULL = NULL",
            "'a' = 'b'",
            "0",
            "id = $1",
        ] {
            assert!(
                !is_constant_true(&where_of(&format!("DELETE FROM t WHERE {w}"))),
                "{w}"
            );
        }
    }

    #[test]
    fn row_independent_predicates_may_match_every_row() {
        for w in [
            "$1",
            "$1 = $2",
            "$1::boolean",
            "id = 3 OR $1",
            "now() > '2000-01-01'",
            "EXISTS (SELECT 1)",
            "(SELECT true)",
            "NOT $1",
            "true",
        ] {
            let e = where_of(&format!("DELETE FROM t WHERE {w}"));
            assert!(may_match_every_row(&e), "{w}");
        }
        for w in [
            "id = $1",
            "id = 3 AND $1",
            "false",
            "NULL",
            "1 = 2",
            "id IN (SELECT id FROM other)",
            "CURRENT OF c",
            "id > 0 OR name = $1",
        ] {
            let e = where_of(&format!("DELETE FROM t WHERE {w}"));
            assert!(!may_match_every_row(&e), "{w}");
        }
    }

    #[test]
    fn huge_arithmetic_does_not_overflow() {
        let w = where_of("DELETE FROM t WHERE 9223372036854775807 * 2 = 1");
        assert!(!is_constant_true(&w));
    }
}
