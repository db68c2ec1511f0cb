//! Risks carried by function calls and settings: which built-in functions
//! reach files, other servers or other backends, and which settings change
//! who we are or how the next statement will be read.
//!
//! Function names are matched on their last component, lowercased, so that
//! `pg_catalog.PG_READ_FILE` is caught like `pg_read_file`.

use crate::facts::Facts;
use pg_query::protobuf::{a_const::Val, FuncCall};
use pg_query::NodeEnum;
use vigil_core::FlagId;

/// Functions that read server files or talk to other servers.
const EXFILTRATION: &[&str] = &[
    "pg_read_file",
    "pg_read_binary_file",
    "pg_ls_dir",
    "pg_stat_file",
    "lo_import",
    "lo_export",
    "pg_file_write",
];

/// Functions that act on the server or on other sessions.
const SERVER_ADMIN: &[&str] = &[
    "pg_terminate_backend",
    "pg_cancel_backend",
    "pg_reload_conf",
    "pg_rotate_logfile",
    "pg_promote",
    "pg_switch_wal",
];

/// Functions that run SQL, or read relations, named in a string argument:
/// what they touch is invisible to the classifier, so they are opaque code
/// (`query_to_xml('DELETE FROM t RETURNING 1', …)` runs that DELETE).
const RUNS_SQL_TEXT: &[&str] = &[
    "query_to_xml",
    "query_to_xmlschema",
    "query_to_xml_and_xmlschema",
    "table_to_xml",
    "table_to_xmlschema",
    "table_to_xml_and_xmlschema",
    "schema_to_xml",
    "schema_to_xmlschema",
    "schema_to_xml_and_xmlschema",
    "database_to_xml",
    "database_to_xmlschema",
    "database_to_xml_and_xmlschema",
    "ts_stat",
];

/// Settings whose change alters how later statements are parsed or which
/// objects their names resolve to.
const TAMPER_SETTINGS: &[&str] = &[
    "client_encoding",
    "standard_conforming_strings",
    "search_path",
    "session_replication_role",
    "backslash_quote",
    "default_transaction_read_only",
];

/// Settings that change the effective role.
const ROLE_SETTINGS: &[&str] = &["role", "session_authorization"];

/// The dotted, lowercased name of a called function, e.g. `pg_catalog.now`.
pub(crate) fn func_name(call: &FuncCall) -> String {
    let parts: Vec<String> = call
        .funcname
        .iter()
        .filter_map(|n| match n.node.as_ref() {
            Some(NodeEnum::String(s)) => Some(s.sval.to_lowercase()),
            _ => None,
        })
        .collect();
    parts.join(".")
}

/// Records the call and any risk it carries.
pub(crate) fn inspect_call(call: &FuncCall, facts: &mut Facts) {
    let name = func_name(call);
    let last = name.rsplit('.').next().unwrap_or(&name).to_string();
    if EXFILTRATION.contains(&last.as_str())
        || last.starts_with("dblink")
        || last.starts_with("pg_ls_")
    {
        facts.flag(
            FlagId::Exfiltration,
            format!("calls {name}(), which reaches files or other servers"),
        );
    }
    if SERVER_ADMIN.contains(&last.as_str()) {
        facts.flag(
            FlagId::ServerAdmin,
            format!("calls {name}(), which acts on the server or other sessions"),
        );
    }
    if RUNS_SQL_TEXT.contains(&last.as_str()) {
        facts.flag(
            FlagId::OpaqueCode,
            format!("calls {name}(), which runs SQL or reads tables named in a string Vigil cannot inspect"),
        );
    }
    if last == "set_config" {
        set_config(call, facts);
    }
    facts.function(name);
}

fn set_config(call: &FuncCall, facts: &mut Facts) {
    match call
        .args
        .first()
        .and_then(|a| a.node.as_ref())
        .and_then(string_literal)
    {
        Some(setting) => setting_risk(&setting.to_lowercase(), "set_config", facts),
        None => facts.flag(
            FlagId::SessionTamper,
            "set_config() with a setting name that is not a literal cannot be checked",
        ),
    }
}

/// Flags a change (SET, RESET, set_config) of `setting` when it matters.
pub(crate) fn setting_risk(setting: &str, how: &str, facts: &mut Facts) {
    if ROLE_SETTINGS.contains(&setting) {
        facts.flag(
            FlagId::RoleSwitch,
            format!("{how} changes {setting}: the session would act as another role"),
        );
    } else if TAMPER_SETTINGS.contains(&setting) {
        facts.flag(
            FlagId::SessionTamper,
            format!("{how} changes {setting}, which alters how later statements are read"),
        );
    }
}

/// The text of a string literal, looking through casts (`'role'::text`).
pub(crate) fn string_literal(node: &NodeEnum) -> Option<String> {
    match node {
        NodeEnum::AConst(c) => match c.val.as_ref()? {
            Val::Sval(s) => Some(s.sval.clone()),
            _ => None,
        },
        NodeEnum::TypeCast(tc) => string_literal(tc.arg.as_ref()?.node.as_ref()?),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts_of(sql: &str) -> Facts {
        let mut facts = Facts::default();
        let parsed = pg_query::parse(sql, 0).unwrap();
        for (node, ..) in parsed.protobuf.nodes() {
            if let pg_query::NodeRef::FuncCall(c) = node {
                inspect_call(c, &mut facts);
            }
        }
        facts
    }

    #[test]
    fn functions_that_run_sql_text_are_opaque() {
        for sql in [
            "SELECT query_to_xml('DELETE FROM t RETURNING 1', true, false, '')",
            "SELECT pg_catalog.TABLE_TO_XML('secrets', true, false, '')",
            "SELECT * FROM ts_stat('SELECT 1')",
        ] {
            let f = facts_of(sql);
            assert!(f.flags.iter().any(|x| x.id == FlagId::OpaqueCode), "{sql}");
        }
    }

    #[test]
    fn qualified_and_upper_case_names_are_caught() {
        let f = facts_of("SELECT pg_catalog.PG_READ_FILE('/etc/passwd')");
        assert_eq!(f.functions, vec!["pg_catalog.pg_read_file".to_string()]);
        assert_eq!(f.flags[0].id, FlagId::Exfiltration);
    }

    #[test]
    fn set_config_is_judged_by_its_first_argument() {
        assert_eq!(
            facts_of("SELECT set_config('role','x',false)").flags[0].id,
            FlagId::RoleSwitch
        );
        assert_eq!(
            facts_of("SELECT set_config('search_path'::text,'x',true)").flags[0].id,
            FlagId::SessionTamper
        );
        assert_eq!(
            facts_of("SELECT set_config(name,'x',true) FROM t").flags[0].id,
            FlagId::SessionTamper
        );
        assert!(facts_of("SELECT set_config('application_name','x',true)")
            .flags
            .is_empty());
    }
}
