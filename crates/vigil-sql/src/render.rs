//! Human-readable rendering of a classification, for `vigil explain`.
//! (Machines read the serde JSON instead.)

use std::fmt::Write;
use vigil_core::{ClassifiedMessage, StatementInfo, TableRef};

/// Renders a classification as indented text.
pub fn render_text(msg: &ClassifiedMessage) -> String {
    let mut out = String::new();
    let flags: Vec<&str> = msg.flags.iter().map(|f| f.id.as_str()).collect();
    let _ = writeln!(out, "kind: {}", msg.kind.as_str());
    let _ = writeln!(out, "flags: {}", list_or_none(&flags));
    if msg.statements.is_empty() {
        let _ = writeln!(out, "(no statements)");
    }
    for (i, s) in msg.statements.iter().enumerate() {
        statement(&mut out, i.saturating_add(1), s);
    }
    out
}

fn statement(out: &mut String, n: usize, s: &StatementInfo) {
    let _ = writeln!(
        out,
        "statement {n}: {} ({})",
        s.command_tag,
        s.kind.as_str()
    );
    let _ = writeln!(out, "  sql: {}", s.redacted_sql);
    if !s.fingerprint.is_empty() {
        let _ = writeln!(out, "  fingerprint: {}", s.fingerprint);
    }
    if let Some(err) = &s.parse_error {
        let _ = writeln!(out, "  parse error: {err}");
    }
    if !s.tables.is_empty() {
        let tables: Vec<String> = s.tables.iter().map(table).collect();
        let _ = writeln!(out, "  tables: {}", tables.join(", "));
    }
    if !s.functions.is_empty() {
        let _ = writeln!(out, "  functions: {}", s.functions.join(", "));
    }
    if let Some(has_where) = s.has_where {
        let what = match (has_where, s.where_constant_true) {
            (false, _) => "none",
            (true, true) => "always true",
            (true, false) => "present",
        };
        let _ = writeln!(out, "  where: {what}");
    }
    if let Some(limit) = &s.limit {
        let _ = writeln!(out, "  limit: {limit}");
    }
    if let Some(copy) = &s.copy {
        let target = copy.target.as_deref().unwrap_or("-");
        let _ = writeln!(out, "  copy: {:?} {target}", copy.direction);
    }
    for f in &s.flags {
        let _ = writeln!(out, "  ! {}: {}", f.id.as_str(), f.detail);
    }
}

fn table(t: &TableRef) -> String {
    let access: Vec<String> = t
        .access
        .iter()
        .map(|a| format!("{a:?}").to_lowercase())
        .collect();
    format!("{} [{}]", t.qualified_name(), access.join(","))
}

fn list_or_none(items: &[&str]) -> String {
    if items.is_empty() {
        "none".to_string()
    } else {
        items.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify;

    #[test]
    fn renders_kind_flags_tables_and_where() {
        let text = render_text(&classify("DELETE FROM public.orders"));
        assert!(text.contains("kind: write"), "{text}");
        assert!(text.contains("flags: unbounded_write"), "{text}");
        assert!(text.contains("tables: public.orders [delete]"), "{text}");
        assert!(text.contains("where: none"), "{text}");
    }

    #[test]
    fn never_echoes_unparseable_text() {
        let text = render_text(&classify("hunter2 secret password"));
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("opaque_code"), "{text}");
    }
}
