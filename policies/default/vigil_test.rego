# Tests for the default bundle, run by `PolicyEngine::run_tests` (and by
# `opa test policies/default` where OPA is installed).
package vigil_test

import data.vigil

# An input with one statement of `kind` raising `flags` on `env`.
mk(env, kind, flags, who) := {
	"principal": {"sub": "u", "email": null, "groups": [], "issuer": "i", "kind": who},
	"connection": {"name": "db", "engine": "postgres", "environment": env, "labels": {}},
	"client": {"application_name": "psql", "address": "127.0.0.1", "tls": true},
	"statement": {
		"kind": kind,
		"flags": flags,
		"flag_details": {f: concat(" ", ["detail of", f]) | some f in flags},
		"tables": [{"schema": "public", "name": "orders", "access": ["read"], "columns": ["*"]}],
		"statements": [{"kind": kind, "command_tag": "X", "tables": [], "functions": [], "flags": flags, "fingerprint": "f", "has_where": null, "where_constant_true": false, "limit": null, "copy": null, "parse_error": null}],
	},
	"session": {"in_transaction": false, "statements_so_far": 0},
	"time": {"rfc3339": "2026-11-21T09:00:00Z", "weekday": "saturday", "hour": 9},
	"grants": [],
}

human(env, kind, flags) := mk(env, kind, flags, "human")

with_label(inp, k, v) := object.union(inp, {"connection": object.union(inp.connection, {"labels": {k: v}})})

with_table(inp, schema, name) := object.union(inp, {"statement": object.union(inp.statement, {"tables": [{"schema": schema, "name": name, "access": ["read"], "columns": []}]})})

unparseable(env) := object.union(human(env, "opaque", ["opaque_code"]), {"statement": object.union(human(env, "opaque", ["opaque_code"]).statement, {"statements": [{"kind": "opaque", "command_tag": "", "tables": [], "functions": [], "flags": ["opaque_code"], "fingerprint": "", "has_where": null, "where_constant_true": false, "limit": null, "copy": null, "parse_error": "syntax error at or near \"SELEC\""}]})})

test_production_denies_each_destructive_flag if {
	every flag in vigil.destructive_flags {
		d := vigil.decision with input as human("production", "write", [flag])
		d.verdict == "deny"
		d.rules == [concat("", ["guardrail.", flag])]
		d.reasons == [concat(" ", ["detail of", flag])]
		d.hint == vigil.hints[flag]
	}
}

test_prod_alias_is_production if {
	d := vigil.decision with input as human("prod", "ddl", ["drop"])
	d.verdict == "deny"
}

test_staging_denies_the_same_flags if {
	every flag in vigil.destructive_flags {
		d := vigil.decision with input as human("staging", "write", [flag])
		d.verdict == "deny"
	}
}

test_dev_allows_destructive_flags if {
	every flag in vigil.destructive_flags {
		d := vigil.decision with input as human("dev", "write", [flag])
		d.verdict == "allow"
	}
}

test_opaque_code_denied_everywhere_by_default if {
	every env in ["dev", "staging", "production"] {
		d := vigil.decision with input as human(env, "opaque", ["opaque_code"])
		d.verdict == "deny"
		d.rules == ["guardrail.opaque_code"]
	}
}

test_opaque_code_allowed_by_label if {
	d := vigil.decision with input as with_label(human("production", "opaque", ["opaque_code"]), "allow_opaque_code", "true")
	d.verdict == "allow"
}

test_unparseable_denied_even_when_opaque_allowed if {
	d := vigil.decision with input as with_label(unparseable("dev"), "allow_opaque_code", "true")
	d.verdict == "deny"
	d.rules == ["guardrail.opaque_code"]
	startswith(d.reasons[0], "the statement could not be parsed: ")
}

test_unparseable_has_one_reason_not_two if {
	d := vigil.decision with input as unparseable("production")
	count(d.rules) == 1
}

test_production_write_needs_dba_review if {
	d := vigil.decision with input as human("production", "write", [])
	d.verdict == "review"
	d.rules == ["review.production_change"]
	d.approvers == {"groups": ["dba"], "count": 1}
	d.review_timeout == "30m"
}

test_production_ddl_needs_dba_review if {
	d := vigil.decision with input as human("production", "ddl", [])
	d.verdict == "review"
	"review.production_change" in d.rules
}

test_production_read_allowed_with_pii_masked if {
	d := vigil.decision with input as human("production", "read", [])
	d.verdict == "allow"
	d.mask == {"pii": "redact"}
	not d.approvers
}

test_deny_beats_review if {
	d := vigil.decision with input as human("production", "write", ["unbounded_write"])
	d.verdict == "deny"
	d.rules == ["guardrail.unbounded_write"]
	d.review_rules == ["review.production_change"]
	d.deny_rules == ["guardrail.unbounded_write"]
}

test_staging_allows_writes if {
	d := vigil.decision with input as human("staging", "write", [])
	d.verdict == "allow"
	not d.mask
}

test_staging_ddl_needs_dba_review if {
	d := vigil.decision with input as human("staging", "ddl", [])
	d.verdict == "review"
	d.rules == ["review.staging_ddl"]
	d.approvers.groups == ["dba"]
}

test_dev_allows_everything_plain if {
	every kind in ["read", "write", "ddl"] {
		d := vigil.decision with input as human("dev", kind, [])
		d.verdict == "allow"
		d.rules == []
	}
}

test_agent_changes_need_review_everywhere if {
	every env in ["dev", "staging", "production"] {
		every kind in ["write", "ddl"] {
			d := vigil.decision with input as mk(env, kind, [], "agent")
			d.verdict == "review"
			"review.agent_change" in d.rules
		}
	}
}

test_agent_plain_read_allowed if {
	d := vigil.decision with input as mk("dev", "read", [], "agent")
	d.verdict == "allow"
}

test_agent_read_of_sensitive_connection_needs_review if {
	d := vigil.decision with input as with_label(mk("dev", "read", [], "agent"), "sensitive", "true")
	d.verdict == "review"
	d.rules == ["review.agent_sensitive_read"]
}

test_agent_read_of_sensitive_table_needs_review if {
	d := vigil.decision with input as with_table(mk("dev", "read", [], "agent"), "public", "users")
	d.verdict == "review"
	d.reasons == ["an AI agent reading sensitive table public.users needs human approval"]
}

test_agent_read_of_unqualified_sensitive_table_needs_review if {
	d := vigil.decision with input as with_table(mk("dev", "read", [], "agent"), null, "users") with data.vigil.sensitive_tables as ["users"]
	d.verdict == "review"
}

test_human_read_of_sensitive_table_allowed if {
	d := vigil.decision with input as with_table(human("dev", "read", []), "public", "users")
	d.verdict == "allow"
}

test_agent_destructive_on_production_is_denied_not_held if {
	d := vigil.decision with input as mk("production", "ddl", ["drop"], "agent")
	d.verdict == "deny"
}

test_bundle_is_cacheable if {
	vigil.cacheable == true
}

test_agent_unqualified_sensitive_read_is_reviewed if {
	inp := object.union(mk("dev", "read", [], "agent"), {"statement": object.union(mk("dev", "read", [], "agent").statement, {"tables": [{"schema": null, "name": "payments", "access": ["read"], "columns": []}]})})
	d := vigil.decision with input as inp
	d.verdict == "review"
	d.rules == ["review.agent_sensitive_read"]
}

test_agent_unqualified_other_table_is_allowed if {
	inp := object.union(mk("dev", "read", [], "agent"), {"statement": object.union(mk("dev", "read", [], "agent").statement, {"tables": [{"schema": null, "name": "orders", "access": ["read"], "columns": []}]})})
	d := vigil.decision with input as inp
	d.verdict == "allow"
}
