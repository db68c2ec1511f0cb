# The built-in guardrails, as Rego. Same rule ids (guardrail.<flag>),
# reasons (the classifier's detail) and hints as the Rust floor in
# crates/vigil-policy/src/guardrails.rs, with staging as strict as
# production. Each denial is an object {rule, reason, hint} in `deny`.
package vigil

# Flags denied on production and staging.
destructive_flags := {
	"drop", "truncate", "unbounded_write", "exfiltration",
	"privilege_change", "role_switch", "session_tamper", "server_admin",
}

hints := {
	"unbounded_write": "add a WHERE clause that selects the rows to change",
	"drop": "ask an admin to run this on a non-production connection, or request approval",
	"truncate": "ask an admin to run this on a non-production connection, or request approval",
	"exfiltration": "read data through this connection instead of server files, programs or other servers",
	"privilege_change": "request the privilege change from an admin",
	"role_switch": "connect with an identity that has the role you need",
	"session_tamper": "set this in the connection's configuration instead of in SQL",
	"server_admin": "ask an admin to run this, or request approval",
	"opaque_code": "send plain SQL, or ask an admin to enable allow_opaque_code on this connection",
}

unparseable if {
	some s in input.statement.statements
	is_string(s.parse_error)
}

opaque_allowed if input.connection.labels.allow_opaque_code == "true"

flag_detail(flag) := d if {
	d := input.statement.flag_details[flag]
} else := sprintf("the statement raised %s", [flag])

# What cannot be parsed is denied everywhere, whatever the connection allows.
deny contains {
	"rule": "guardrail.opaque_code",
	"reason": sprintf("the statement could not be parsed: %s", [s.parse_error]),
	"hint": "check the SQL syntax; Vigil forwards only statements it can understand",
} if {
	some s in input.statement.statements
	is_string(s.parse_error)
}

deny contains {
	"rule": "guardrail.opaque_code",
	"reason": flag_detail("opaque_code"),
	"hint": hints.opaque_code,
} if {
	"opaque_code" in input.statement.flags
	not unparseable
	not opaque_allowed
}

deny contains {
	"rule": concat("", ["guardrail.", flag]),
	"reason": flag_detail(flag),
	"hint": hints[flag],
} if {
	guarded
	some flag in input.statement.flags
	flag in destructive_flags
}
