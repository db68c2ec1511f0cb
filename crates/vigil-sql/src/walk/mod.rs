//! The deep walk: visits every node of a statement's tree (CTEs,
//! subqueries, set operations, function arguments, RETURNING, MERGE
//! actions, …) and records tables, functions and the risks that can hide
//! anywhere. The child lists come from [`children`], generated from the
//! parser's own protobuf definitions so that no node type is skipped.

mod children;

pub(crate) use children::for_each_child;

use crate::constant::may_match_every_row;
use crate::facts::{display_name, Facts};
use crate::functions::inspect_call;
use pg_query::protobuf::{CmdType, OnConflictAction, RangeVar};
use pg_query::{NodeEnum, NodeRef};
use vigil_core::{FlagId, TableAccess};

/// Deeper than any real statement; the protobuf decoder refuses far less
/// already, so this only keeps the walk bounded on its own terms.
const MAX_DEPTH: u32 = 10_000;

/// Collects facts while walking one statement.
#[derive(Default)]
pub(crate) struct Walker<'a> {
    pub facts: Facts,
    relations: Vec<&'a RangeVar>,
    /// RangeVar locations that are the target of a write or DDL.
    targets: Vec<(i32, TableAccess)>,
    /// Columns written to a target (INSERT column list, UPDATE SET).
    target_columns: Vec<(i32, String)>,
    /// Column references: qualifier (if any) and column name.
    column_refs: Vec<(Option<String>, String)>,
    cte_names: Vec<String>,
}

impl<'a> Walker<'a> {
    /// Declares the RangeVar at `location` as a target with `access`.
    pub fn mark(&mut self, location: i32, access: TableAccess) {
        self.targets.push((location, access));
    }

    /// Walks `root` and everything below it.
    pub fn walk(&mut self, root: NodeRef<'a>) {
        let mut stack = vec![(root, 0u32)];
        let mut kids = Vec::new();
        while let Some((node, depth)) = stack.pop() {
            if depth > MAX_DEPTH {
                self.facts
                    .flag(FlagId::OpaqueCode, "statement nests too deeply to analyse");
                return;
            }
            self.inspect(node);
            children::for_each_child(node, &mut |c| kids.push(c));
            let next = depth.saturating_add(1);
            stack.extend(kids.drain(..).rev().map(|c| (c, next)));
        }
    }

    fn inspect(&mut self, node: NodeRef<'a>) {
        match node {
            NodeRef::RangeVar(rv) => self.relations.push(rv),
            NodeRef::FuncCall(call) => inspect_call(call, &mut self.facts),
            NodeRef::ColumnRef(c) => self.column_ref(&c.fields),
            NodeRef::CommonTableExpr(cte) => self.cte(cte),
            NodeRef::InsertStmt(s) => self.insert(s),
            NodeRef::UpdateStmt(s) => {
                self.target(s.relation.as_ref(), TableAccess::Update);
                self.set_columns(s.relation.as_ref(), &s.target_list);
                self.bounded("UPDATE", s.relation.as_ref(), s.where_clause.as_deref());
            }
            NodeRef::DeleteStmt(s) => {
                self.target(s.relation.as_ref(), TableAccess::Delete);
                self.bounded("DELETE", s.relation.as_ref(), s.where_clause.as_deref());
            }
            NodeRef::MergeStmt(s) => self.merge(s),
            _ => {}
        }
    }

    fn target(&mut self, rel: Option<&RangeVar>, access: TableAccess) {
        if let Some(rv) = rel {
            self.mark(rv.location, access);
        }
    }

    fn insert(&mut self, s: &pg_query::protobuf::InsertStmt) {
        self.target(s.relation.as_ref(), TableAccess::Insert);
        self.set_columns(s.relation.as_ref(), &s.cols);
        let upsert = s.on_conflict_clause.as_ref().map(|c| c.action)
            == Some(OnConflictAction::OnconflictUpdate as i32);
        if upsert {
            self.target(s.relation.as_ref(), TableAccess::Update);
        }
    }

    fn merge(&mut self, s: &pg_query::protobuf::MergeStmt) {
        for clause in &s.merge_when_clauses {
            if let Some(NodeEnum::MergeWhenClause(w)) = clause.node.as_ref() {
                let access = match CmdType::try_from(w.command_type) {
                    Ok(CmdType::CmdInsert) => TableAccess::Insert,
                    Ok(CmdType::CmdUpdate) => TableAccess::Update,
                    Ok(CmdType::CmdDelete) => TableAccess::Delete,
                    _ => continue,
                };
                self.target(s.relation.as_ref(), access);
                self.set_columns(s.relation.as_ref(), &w.target_list);
            }
        }
    }

    fn set_columns(&mut self, rel: Option<&RangeVar>, targets: &[pg_query::Node]) {
        let Some(rv) = rel else { return };
        for t in targets {
            if let Some(NodeEnum::ResTarget(rt)) = t.node.as_ref() {
                if !rt.name.is_empty() {
                    self.target_columns.push((rv.location, rt.name.clone()));
                }
            }
        }
    }

    fn bounded(
        &mut self,
        verb: &str,
        rel: Option<&RangeVar>,
        where_clause: Option<&pg_query::Node>,
    ) {
        let table = rel.map_or_else(String::new, |r| display_name(&r.schemaname, &r.relname));
        match where_clause.and_then(|w| w.node.as_ref()) {
            None => self.facts.flag(
                FlagId::UnboundedWrite,
                format!("{verb} without a WHERE clause affects every row of {table}"),
            ),
            Some(w) if may_match_every_row(w) => self.facts.flag(
                FlagId::UnboundedWrite,
                format!(
                    "{verb} whose WHERE clause is always true or does not depend on the row affects every row of {table}"
                ),
            ),
            Some(_) => {}
        }
    }

    fn cte(&mut self, cte: &pg_query::protobuf::CommonTableExpr) {
        self.cte_names.push(cte.ctename.clone());
        let verb = match cte.ctequery.as_ref().and_then(|q| q.node.as_ref()) {
            Some(NodeEnum::InsertStmt(_)) => "INSERT",
            Some(NodeEnum::UpdateStmt(_)) => "UPDATE",
            Some(NodeEnum::DeleteStmt(_)) => "DELETE",
            Some(NodeEnum::MergeStmt(_)) => "MERGE",
            _ => return,
        };
        self.facts.flag(
            FlagId::DataModifyingCte,
            format!(
                "WITH {} AS ({verb} …) modifies data inside a query",
                cte.ctename
            ),
        );
    }

    fn column_ref(&mut self, fields: &[pg_query::Node]) {
        let mut parts = fields.iter().filter_map(|f| match f.node.as_ref() {
            Some(NodeEnum::String(s)) => Some(s.sval.clone()),
            Some(NodeEnum::AStar(_)) => Some("*".to_string()),
            _ => None,
        });
        let parts: Vec<String> = parts.by_ref().collect();
        match parts.as_slice() {
            [col] => self.column_refs.push((None, col.clone())),
            [.., qualifier, col] => self
                .column_refs
                .push((Some(qualifier.clone()), col.clone())),
            [] => {}
        }
    }

    /// Resolves the collected relations into tables with their access and
    /// columns, and returns the facts.
    pub fn finish(mut self) -> Facts {
        let mut aliases: Vec<(String, usize)> = Vec::new();
        for rv in std::mem::take(&mut self.relations) {
            let accesses: Vec<TableAccess> = self
                .targets
                .iter()
                .filter(|(loc, _)| *loc == rv.location)
                .map(|(_, a)| *a)
                .collect();
            if accesses.is_empty()
                && rv.schemaname.is_empty()
                && self.cte_names.contains(&rv.relname)
            {
                continue;
            }
            let schema = (!rv.schemaname.is_empty()).then_some(rv.schemaname.as_str());
            let mut idx = 0;
            for access in if accesses.is_empty() {
                vec![TableAccess::Read]
            } else {
                accesses
            } {
                idx = self.facts.table(schema, &rv.relname, access);
            }
            aliases.push((rv.relname.clone(), idx));
            if let Some(a) = &rv.alias {
                aliases.push((a.aliasname.clone(), idx));
            }
            for (_, col) in self
                .target_columns
                .iter()
                .filter(|(l, _)| *l == rv.location)
            {
                self.facts.column(idx, col);
            }
        }
        self.attribute_columns(&aliases);
        self.facts
    }

    fn attribute_columns(&mut self, aliases: &[(String, usize)]) {
        let single = (self.facts.tables.len() == 1).then_some(0usize);
        for (qualifier, col) in std::mem::take(&mut self.column_refs) {
            let idx = match &qualifier {
                Some(q) => aliases.iter().find(|(a, _)| a == q).map(|(_, i)| *i),
                None => single,
            };
            if let Some(i) = idx {
                self.facts.column(i, &col);
            }
        }
    }
}
