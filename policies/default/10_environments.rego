# Environments and the review rules that depend on them: production holds
# every change for a DBA and masks PII; staging holds schema changes;
# dev only has the opaque-code guardrails.
package vigil

production if input.connection.environment in {"production", "prod"}

staging if input.connection.environment in {"staging", "stage"}

# Environments where the destructive guardrails apply.
guarded if production

guarded if staging

changes := {"write", "ddl"}

review contains {
	"rule": "review.production_change",
	"reason": sprintf("%s statements on production need approval from a DBA", [input.statement.kind]),
	"hint": "wait for a DBA to approve, or run it on a non-production connection",
} if {
	production
	input.statement.kind in changes
}

review contains {
	"rule": "review.staging_ddl",
	"reason": "schema changes on staging need approval from a DBA",
	"hint": "wait for a DBA to approve",
} if {
	staging
	input.statement.kind == "ddl"
}
