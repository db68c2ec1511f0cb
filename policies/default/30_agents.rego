# AI agents: every change waits for a human, everywhere, and so do reads
# of sensitive tables (a sensitive connection, or a table listed in
# data.vigil.sensitive_tables by schema.name or bare name).
#
# Helpers come before the rules that use them: regorus 0.14 mis-evaluates,
# under `with input as`, rules that depend on rules defined after them.
package vigil

agent if input.principal.kind == "agent"

# Read from data.json by full path: referring to data.vigil as a whole
# from inside package vigil would depend on this very package. Undefined
# (nothing is sensitive by name) when data.json lists none.
_sensitive_tables := {n | some n in data.vigil.sensitive_tables}

table_name(t) := concat(".", [t.schema, t.name]) if is_string(t.schema)

table_name(t) := t.name if not is_string(t.schema)

sensitive_table(_) if input.connection.labels.sensitive == "true"

sensitive_table(t) if table_name(t) in _sensitive_tables

sensitive_table(t) if t.name in _sensitive_tables

# An unqualified name may resolve to any schema on the search_path: it is
# sensitive when any listed schema.name has that name.
sensitive_table(t) if {
	not is_string(t.schema)
	some n in _sensitive_tables
	endswith(n, concat("", [".", t.name]))
}

review contains {
	"rule": "review.agent_change",
	"reason": sprintf("%s statements from an AI agent need human approval", [input.statement.kind]),
	"hint": "a human approver must confirm this change",
} if {
	agent
	input.statement.kind in changes
}

review contains {
	"rule": "review.agent_sensitive_read",
	"reason": sprintf("an AI agent reading sensitive table %s needs human approval", [name]),
	"hint": "a human approver must confirm this read",
} if {
	agent
	some t in input.statement.tables
	"read" in t.access
	name := table_name(t)
	sensitive_table(t)
}
