# Combines the fired rules into data.vigil.decision: deny beats review
# beats allow, and only the winning verdict's rules explain it. Rust
# double-checks the combination with deny_rules / review_rules.
#
# This file sorts last on purpose (90_): regorus 0.14 mis-evaluates, under
# `with input as` (used by the Rego tests), rules whose dependencies are
# defined in a module loaded after theirs. Files load in sorted order.
package vigil

# Decisions depend on neither the time nor literal values.
cacheable := true

decision := object.union(base, extras) if {
	v := verdict_of(count(deny), count(review))
	fired := sort([[e.rule, e.reason, e.hint] | some e in winning(v, deny, review)])
	base := {
		"verdict": v,
		"rules": [e[0] | some e in fired],
		"reasons": [e[1] | some e in fired],
		"deny_rules": sort({e.rule | some e in deny}),
		"review_rules": sort({e.rule | some e in review}),
	}
	extras := object.union_n([hint_part(fired), review_part(v), mask_part(count({1 | production}) > 0)])
}

verdict_of(denies, _) := "deny" if denies > 0

verdict_of(denies, reviews) := "review" if {
	denies == 0
	reviews > 0
}

verdict_of(denies, reviews) := "allow" if {
	denies == 0
	reviews == 0
}

winning("deny", d, _) := d

winning("review", _, r) := r

winning("allow", _, _) := set()

hint_part(fired) := {"hint": fired[0][2]} if count(fired) > 0

hint_part(fired) := {} if count(fired) == 0

# Principals of the kinds listed in data.vigil.nowait_kinds (e.g. "agent")
# cannot wait on the wire: they are refused at once with the request id and
# an approval lets one identical retry run.
mode_for(kind) := "nowait" if kind in first_of([k | k := data.vigil.nowait_kinds], [])

mode_for(kind) := "wait" if not kind in first_of([k | k := data.vigil.nowait_kinds], [])

review_part("review") := {
	"approvers": first_of([a | a := data.vigil.review_approvers], {"groups": ["dba"], "count": 1}),
	"review_timeout": first_of([t | t := data.vigil.review_timeout], "30m"),
	"approval_mode": mode_for(object.get(input, ["principal", "kind"], "")),
}

# The configured value from data.json when present, else the default
# (data.vigil is read by full path: referring to it as a whole from inside
# package vigil would depend on this very package).
first_of(found, _) := found[0] if count(found) > 0

first_of(found, fallback) := fallback if count(found) == 0

review_part(v) := {} if v != "review"

# Production reads are allowed with PII masked; results of any statement
# on production are masked the same way.
mask_part(true) := {"mask": {"pii": "redact"}}

mask_part(p) := {} if p != true
