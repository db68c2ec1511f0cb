//! A fixed, plausible input used to validate a bundle at load time: a
//! human reading one table on a dev connection.

use crate::input::{
    ClientInput, ConnectionInput, PolicyInput, PrincipalInput, SessionInput, StatementFacts,
    StatementInput, TimeInput,
};
use std::collections::BTreeMap;
use vigil_core::{FlagId, StatementKind, TableAccess, TableRef};

/// The validation input; also handy in docs and benches.
pub fn sample_input() -> PolicyInput {
    let table = TableRef {
        schema: Some("public".into()),
        name: "orders".into(),
        access: vec![TableAccess::Read],
        columns: vec!["id".into()],
    };
    let stmt = StatementFacts {
        kind: StatementKind::Read,
        command_tag: "SELECT".into(),
        tables: vec![table.clone()],
        functions: Vec::new(),
        flags: Vec::new(),
        fingerprint: "0000000000000000".into(),
        has_where: None,
        where_constant_true: false,
        limit: None,
        copy: None,
        parse_error: None,
    };
    PolicyInput {
        principal: PrincipalInput {
            sub: "validator".into(),
            email: None,
            groups: Vec::new(),
            issuer: "vigil".into(),
            kind: "human".into(),
        },
        connection: ConnectionInput {
            name: "sample".into(),
            engine: "postgres".into(),
            environment: "dev".into(),
            labels: BTreeMap::new(),
        },
        client: ClientInput::default(),
        statement: StatementInput {
            kind: StatementKind::Read,
            flags: Vec::new(),
            flag_details: BTreeMap::new(),
            tables: vec![table],
            statements: vec![stmt],
        },
        session: SessionInput::default(),
        time: TimeInput::default(),
        grants: Vec::new(),
    }
}

/// Inputs the compiled decision must answer exactly as the interpreter
/// does before it is used (see `engine.rs`): the sample plus variants that
/// reach other branches a bundle is likely to have — production, writes,
/// DDL with flags, agents, labels, an unparseable statement, a session in
/// a transaction, another time and client.
pub fn validation_inputs() -> Vec<PolicyInput> {
    let base = sample_input();
    let mut out = vec![base.clone()];
    let with = |f: &dyn Fn(&mut PolicyInput)| {
        let mut i = base.clone();
        f(&mut i);
        i
    };
    out.push(with(&|i| {
        i.connection.environment = "production".into();
        i.principal.groups = vec!["dev".into()];
        set_statement(i, StatementKind::Write, "UPDATE", &[], TableAccess::Update);
    }));
    out.push(with(&|i| {
        i.connection.environment = "production".into();
        i.principal.kind = "service".into();
        set_statement(
            i,
            StatementKind::Ddl,
            "DROP TABLE",
            &[FlagId::Drop],
            TableAccess::Read,
        );
    }));
    out.push(with(&|i| {
        i.connection.environment = "staging".into();
        i.connection
            .labels
            .insert("sensitive".into(), "true".into());
        i.principal.kind = "agent".into();
        i.principal.email = Some("bot@example.com".into());
        i.client = ClientInput {
            application_name: "psql".into(),
            address: "10.0.0.7".into(),
            tls: true,
        };
        i.session = SessionInput {
            in_transaction: true,
            statements_so_far: 12,
        };
        i.time = TimeInput {
            rfc3339: "2026-11-21T23:30:00Z".into(),
            weekday: "saturday".into(),
            hour: 23,
        };
    }));
    out.push(with(&|i| {
        set_statement(
            i,
            StatementKind::Utility,
            "",
            &[FlagId::OpaqueCode],
            TableAccess::Read,
        );
        if let Some(s) = i.statement.statements.first_mut() {
            s.parse_error = Some("syntax error at or near \"FRM\"".into());
            s.tables.clear();
        }
        i.statement.tables.clear();
    }));
    out
}

fn set_statement(
    i: &mut PolicyInput,
    kind: StatementKind,
    tag: &str,
    flags: &[FlagId],
    access: TableAccess,
) {
    i.statement.kind = kind;
    i.statement.flags = flags.to_vec();
    i.statement.flag_details = flags
        .iter()
        .map(|f| (*f, format!("the statement raised {f:?}")))
        .collect();
    for t in &mut i.statement.tables {
        t.access = vec![access];
    }
    for s in &mut i.statement.statements {
        s.kind = kind;
        s.command_tag = tag.into();
        s.flags = flags.to_vec();
        s.has_where = Some(true);
        for t in &mut s.tables {
            t.access = vec![access];
        }
    }
}
