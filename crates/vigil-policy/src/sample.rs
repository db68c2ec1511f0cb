//! A fixed, plausible input used to validate a bundle at load time: a
//! human reading one table on a dev connection.

use crate::input::{
    ClientInput, ConnectionInput, PolicyInput, PrincipalInput, SessionInput, StatementFacts,
    StatementInput, TimeInput,
};
use std::collections::BTreeMap;
use vigil_core::{StatementKind, TableAccess, TableRef};

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
