//! The built-in guardrails. Everywhere: opaque code is denied unless the
//! connection allows it, and what cannot be parsed is always denied. On
//! production connections every destructive, exfiltrating or
//! privilege-changing flag is denied too. Flags are per message, so one
//! blocked statement blocks the whole multi-statement message.

use vigil_core::{ClassifiedMessage, ConnectionInfo, Decision, FlagId, RiskFlag};

/// Rule ids are `guardrail.<flag id>`.
pub const RULE_PREFIX: &str = "guardrail.";

/// Flags denied on production connections.
const PRODUCTION_DENIED: &[FlagId] = &[
    FlagId::Drop,
    FlagId::Truncate,
    FlagId::UnboundedWrite,
    FlagId::Exfiltration,
    FlagId::PrivilegeChange,
    FlagId::RoleSwitch,
    FlagId::SessionTamper,
    FlagId::ServerAdmin,
];

/// Decides a classified message on a connection by the built-in guardrails.
pub fn guardrail_decision(msg: &ClassifiedMessage, conn: &ConnectionInfo) -> Decision {
    let mut decision = Decision::allow();
    if let Some(err) = msg.statements.iter().find_map(|s| s.parse_error.as_deref()) {
        let d = deny(
            FlagId::OpaqueCode,
            &format!("the statement could not be parsed: {err}"),
        )
        .with_hint("check the SQL syntax; Vigil forwards only statements it can understand");
        decision = decision.combine(d);
    }
    for flag in &msg.flags {
        if blocks(flag, msg, conn) {
            let d = deny(flag.id, &flag.detail).with_hint(hint_for(flag.id));
            decision = decision.combine(d);
        }
    }
    decision
}

fn blocks(flag: &RiskFlag, msg: &ClassifiedMessage, conn: &ConnectionInfo) -> bool {
    match flag.id {
        // Unparseable input was denied above, with its own reason.
        FlagId::OpaqueCode => !conn.allow_opaque_code && !msg.has_parse_error(),
        FlagId::MultiStatement => false,
        id => conn.is_production() && PRODUCTION_DENIED.contains(&id),
    }
}

fn deny(id: FlagId, reason: &str) -> Decision {
    Decision::deny(format!("{RULE_PREFIX}{}", id.as_str()), reason)
}

/// The way forward offered with a denial for this flag.
pub fn hint_for(id: FlagId) -> &'static str {
    match id {
        FlagId::UnboundedWrite => "add a WHERE clause that selects the rows to change",
        FlagId::Drop | FlagId::Truncate => {
            "ask an admin to run this on a non-production connection, or request approval"
        }
        FlagId::DataModifyingCte => "run the data-modifying statement on its own",
        FlagId::Exfiltration => {
            "read data through this connection instead of server files, programs or other servers"
        }
        FlagId::PrivilegeChange => "request the privilege change from an admin",
        FlagId::RoleSwitch => "connect with an identity that has the role you need",
        FlagId::SessionTamper => "set this in the connection's configuration instead of in SQL",
        FlagId::ServerAdmin => "ask an admin to run this, or request approval",
        FlagId::OpaqueCode => {
            "send plain SQL, or ask an admin to enable allow_opaque_code on this connection"
        }
        FlagId::MultiStatement => "send one statement per message",
    }
}

/// `vigil: blocked by guardrail <flag id>: <reason>` for the first rule of
/// a denial; rules outside the guardrails are named by their full id.
pub fn denial_message(decision: &Decision) -> String {
    let rule = decision.rules.first().map_or("unknown", String::as_str);
    let reason = decision.reasons.first().map_or("", String::as_str);
    match rule.strip_prefix(RULE_PREFIX) {
        Some(id) => format!("vigil: blocked by guardrail {id}: {reason}"),
        None => format!("vigil: blocked by policy rule {rule}: {reason}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_core::Verdict;

    fn conn(environment: &str, allow_opaque_code: bool) -> ConnectionInfo {
        ConnectionInfo {
            name: "db".into(),
            engine: "postgres".into(),
            environment: environment.into(),
            allow_opaque_code,
            ..ConnectionInfo::default()
        }
    }

    fn decide(sql: &str, c: &ConnectionInfo) -> Decision {
        guardrail_decision(&vigil_sql::classify(sql), c)
    }

    #[test]
    fn production_denies_destructive_statements() {
        let prod = conn("production", false);
        for (sql, rule) in [
            ("DROP TABLE t", "guardrail.drop"),
            ("TRUNCATE t", "guardrail.truncate"),
            ("DELETE FROM public.orders", "guardrail.unbounded_write"),
            ("UPDATE t SET a = 1 WHERE 1=1", "guardrail.unbounded_write"),
            ("COPY t TO PROGRAM 'curl x'", "guardrail.exfiltration"),
            ("GRANT ALL ON t TO bob", "guardrail.privilege_change"),
            ("SET ROLE admin", "guardrail.role_switch"),
            ("SET search_path = evil", "guardrail.session_tamper"),
            ("ALTER SYSTEM SET fsync = off", "guardrail.server_admin"),
        ] {
            let d = decide(sql, &prod);
            assert_eq!(d.verdict, Verdict::Deny, "{sql}");
            assert_eq!(d.rules.first().map(String::as_str), Some(rule), "{sql}");
            assert!(d.hint.is_some(), "{sql}");
        }
    }

    #[test]
    fn dev_allows_what_production_denies() {
        let dev = conn("dev", false);
        for sql in [
            "DROP TABLE t",
            "DELETE FROM t",
            "SET ROLE admin",
            "GRANT ALL ON t TO bob",
        ] {
            assert_eq!(decide(sql, &dev).verdict, Verdict::Allow, "{sql}");
        }
        assert_eq!(
            decide("SELECT * FROM t WHERE id = 1", &conn("prod", false)).verdict,
            Verdict::Allow
        );
    }

    #[test]
    fn opaque_code_needs_the_connection_to_allow_it() {
        let sql = "DO $$ BEGIN PERFORM 1; END $$";
        assert_eq!(decide(sql, &conn("dev", false)).verdict, Verdict::Deny);
        assert_eq!(
            decide(sql, &conn("dev", false)).rules,
            vec!["guardrail.opaque_code".to_string()]
        );
        assert_eq!(decide(sql, &conn("dev", true)).verdict, Verdict::Allow);
        assert_eq!(
            decide(sql, &conn("production", true)).verdict,
            Verdict::Allow
        );
    }

    #[test]
    fn unparseable_input_is_denied_even_when_opaque_code_is_allowed() {
        let d = decide("SELEC * FRM t", &conn("dev", true));
        assert_eq!(d.verdict, Verdict::Deny);
        assert_eq!(d.rules, vec!["guardrail.opaque_code".to_string()]);
        assert!(
            d.reasons[0].contains("could not be parsed"),
            "{:?}",
            d.reasons
        );
    }

    #[test]
    fn one_blocked_statement_blocks_the_whole_message() {
        let prod = conn("production", false);
        let d = decide("SELECT 1; DROP TABLE t; SELECT 2", &prod);
        assert_eq!(d.verdict, Verdict::Deny);
        assert_eq!(d.rules, vec!["guardrail.drop".to_string()]);
        assert_eq!(decide("SELECT 1; SELECT 2", &prod).verdict, Verdict::Allow);
        assert_eq!(
            decide("BEGIN; DROP TABLE t; COMMIT", &prod).verdict,
            Verdict::Deny
        );
    }

    #[test]
    fn denial_message_has_the_exact_format() {
        let d = decide("DELETE FROM public.orders", &conn("production", false));
        assert_eq!(
            denial_message(&d),
            "vigil: blocked by guardrail unbounded_write: DELETE without a WHERE clause affects every row of public.orders"
        );
        assert_eq!(
            d.hint.as_deref(),
            Some("add a WHERE clause that selects the rows to change")
        );
    }

    #[test]
    fn several_flags_all_explain_themselves() {
        let d = decide("DROP TABLE a; TRUNCATE b", &conn("production", false));
        assert_eq!(
            d.rules,
            vec![
                "guardrail.drop".to_string(),
                "guardrail.truncate".to_string()
            ]
        );
        assert_eq!(d.reasons.len(), 2);
    }
}
