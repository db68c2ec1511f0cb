//! COPY … TO STDOUT: which dialect the rows use and which columns are
//! classified. CopyOutResponse says only "textual" or "binary", so the
//! dialect (text or CSV, delimiter, quote, escape) comes from the COPY
//! statement itself, re-parsed from the classifier's redacted text (COPY
//! options are never replaced by `$n` there). A COPY whose options cannot
//! be read fails closed.

use super::reads::reads_classified;
use pg_query::protobuf::{node::Node as N, CopyStmt, DefElem};
use vigil_core::{ClassifiedMessage, CopyDirection, StatementInfo};
use vigil_mask::{Catalog, Classification, ColumnMask, CopyFormat, MaskRules};

/// How one COPY OUT is to be masked.
#[derive(Debug, Clone, PartialEq)]
pub struct CopyPlan {
    pub format: CopyFormat,
    /// The first line names the columns (`HEADER`).
    pub header: bool,
    /// One entry per copied column, or empty when none is classified.
    pub columns: Vec<Option<ColumnMask>>,
}

/// Why a COPY cannot be masked.
pub type Refusal = String;

/// The COPY statement among `msg`'s statements that this CopyOutResponse
/// starts: the one at `index` (statements completed so far in the same
/// Query) if it is a COPY TO STDOUT, else the only one.
pub fn statement(msg: &ClassifiedMessage, index: usize) -> Option<&StatementInfo> {
    let to_client = |s: &&StatementInfo| {
        s.copy
            .as_ref()
            .is_some_and(|c| c.direction == CopyDirection::ToClient)
    };
    if let Some(s) = msg.statements.get(index).filter(to_client) {
        return Some(s);
    }
    let mut all = msg.statements.iter().filter(to_client);
    match (all.next(), all.next()) {
        (Some(one), None) => Some(one),
        _ => None,
    }
}

/// The plan for a COPY TO STDOUT statement. `columns`: how many columns
/// CopyOutResponse announced. `encoding`: the session's client_encoding
/// (a COPY `ENCODING` option naming another one is refused).
pub fn plan(
    stmt: &StatementInfo,
    msg: &ClassifiedMessage,
    catalog: &Catalog,
    rules: &MaskRules,
    columns: usize,
    wholesale: bool,
    encoding: &str,
) -> Result<CopyPlan, Refusal> {
    let copy = parse(&stmt.redacted_sql)?;
    let format = dialect(&copy.options, encoding)?;
    let header = copy.options.iter().any(|o| match &o.node {
        Some(N::DefElem(d)) => d.defname == "header" && header_on(d),
        _ => false,
    });
    let masks = match &copy.relation {
        Some(rel) => {
            let schema = Some(rel.schemaname.as_str()).filter(|s| !s.is_empty());
            let names = copy
                .attlist
                .iter()
                .map(|n| match &n.node {
                    Some(N::String(s)) => Ok(s.sval.as_str()),
                    _ => Err("COPY column list is not a list of names".to_string()),
                })
                .collect::<Result<Vec<_>, _>>()?;
            table_masks(catalog, rules, schema, &rel.relname, &names, columns)?
        }
        None if wholesale && reads_classified(msg, catalog) => {
            let class = Classification::COMPUTED;
            let strategy = rules.for_class(&class);
            vec![Some(ColumnMask { class, strategy }); columns]
        }
        None => Vec::new(),
    };
    Ok(CopyPlan {
        format,
        header,
        columns: masks,
    })
}

fn parse(sql: &str) -> Result<CopyStmt, Refusal> {
    let unreadable = || "the COPY statement's options could not be read".to_string();
    let parsed = pg_query::parse(sql, 0).map_err(|_| unreadable())?;
    let mut stmts = parsed.protobuf.stmts.into_iter();
    match (stmts.next().and_then(|s| s.stmt?.node), stmts.next()) {
        (Some(N::CopyStmt(c)), None) => Ok(*c),
        _ => Err(unreadable()),
    }
}

/// Text or CSV with its delimiter, quote and escape, or binary.
fn dialect(options: &[pg_query::protobuf::Node], encoding: &str) -> Result<CopyFormat, Refusal> {
    let mut format = "text".to_string();
    let (mut delimiter, mut quote, mut escape) = (None, None, None);
    for o in options {
        let Some(N::DefElem(d)) = &o.node else {
            return Err("unexpected COPY option".into());
        };
        match d.defname.as_str() {
            "format" => format = arg(d)?.to_ascii_lowercase(),
            "delimiter" => delimiter = Some(byte(d)?),
            "quote" => quote = Some(byte(d)?),
            "escape" => escape = Some(byte(d)?),
            "encoding" if !arg(d)?.eq_ignore_ascii_case(encoding) => {
                return Err(format!(
                    "COPY ENCODING differs from client_encoding {encoding}; drop the option or SET client_encoding"
                ));
            }
            _ => {}
        }
    }
    Ok(match format.as_str() {
        "binary" => CopyFormat::Binary,
        "csv" => {
            let quote = quote.unwrap_or(b'"');
            CopyFormat::Csv {
                delimiter: delimiter.unwrap_or(b','),
                quote,
                escape: escape.unwrap_or(quote),
            }
        }
        "text" => CopyFormat::Text {
            delimiter: delimiter.unwrap_or(b'\t'),
        },
        other => return Err(format!("unknown COPY format {other:?}")),
    })
}

/// `HEADER`, `HEADER true`, `HEADER MATCH`: on. Anything unreadable
/// counts as off (a header line masked as data is garbled, not leaked).
fn header_on(d: &DefElem) -> bool {
    match d.arg.as_deref().and_then(|a| a.node.as_ref()) {
        None => true,
        Some(N::Boolean(b)) => b.boolval,
        Some(N::Integer(i)) => i.ival != 0,
        Some(N::String(s)) => !matches!(
            s.sval.to_ascii_lowercase().as_str(),
            "false" | "off" | "0" | "no"
        ),
        Some(_) => false,
    }
}

fn arg(d: &DefElem) -> Result<&str, Refusal> {
    match d.arg.as_deref().and_then(|a| a.node.as_ref()) {
        Some(N::String(s)) => Ok(&s.sval),
        _ => Err(format!("COPY option {} has no readable value", d.defname)),
    }
}

fn byte(d: &DefElem) -> Result<u8, Refusal> {
    match arg(d)?.as_bytes() {
        [b] if b.is_ascii() => Ok(*b),
        _ => Err(format!(
            "COPY option {} is not one ASCII character",
            d.defname
        )),
    }
}

/// Per-position masks of `COPY table [(names)]`. A catalogued column
/// whose position lies beyond the copied columns means the catalog is
/// stale (the table changed since `vigil classify`): refused.
fn table_masks(
    catalog: &Catalog,
    rules: &MaskRules,
    schema: Option<&str>,
    table: &str,
    names: &[&str],
    columns: usize,
) -> Result<Vec<Option<ColumnMask>>, Refusal> {
    let mut masks = vec![None; columns];
    let mut any = false;
    for e in catalog.table_columns(schema, table) {
        let at = if names.is_empty() {
            e.copy_position().checked_sub(1)
        } else {
            names.iter().position(|n| *n == e.column)
        };
        let Some(at) = at else { continue };
        let Some(slot) = masks.get_mut(at) else {
            return Err(format!(
                "the masking catalog is stale for {}.{} (column {} at position {}, COPY sent {columns}); re-run `vigil classify`",
                e.schema, e.table, e.column, at + 1
            ));
        };
        *slot = Some(ColumnMask::from_entry(e, rules));
        any = true;
    }
    Ok(if any { masks } else { Vec::new() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_mask::{CatalogEntry, HashKey, Strategy};
    use vigil_pgwire::text::ClientEncoding;

    fn catalog() -> Catalog {
        let mut email = CatalogEntry::new(
            "public",
            "customers",
            "email",
            (16400, 4),
            Classification::EMAIL_ADDRESS,
        );
        email.position = Some(3);
        Catalog::new(vec![email])
    }

    fn rules() -> MaskRules {
        MaskRules::defaults(HashKey::new([0; 32]), ClientEncoding::Utf8)
    }

    fn plan_of(sql: &str, n: usize) -> Result<CopyPlan, Refusal> {
        let msg = vigil_sql::classify(sql);
        let stmt = statement(&msg, 0).ok_or("no COPY statement")?;
        plan(stmt, &msg, &catalog(), &rules(), n, true, "UTF8")
    }

    #[test]
    fn dialects_from_options_new_and_old_syntax() {
        let f = |sql| plan_of(sql, 1).unwrap().format;
        assert_eq!(f("COPY t TO STDOUT"), CopyFormat::TEXT);
        assert_eq!(f("COPY t TO STDOUT WITH (FORMAT csv)"), CopyFormat::CSV);
        assert_eq!(f("COPY t TO STDOUT (FORMAT binary)"), CopyFormat::Binary);
        assert_eq!(f("COPY t TO STDOUT CSV"), CopyFormat::CSV);
        assert_eq!(f("COPY BINARY t TO STDOUT"), CopyFormat::Binary);
        assert_eq!(
            f("COPY t TO STDOUT WITH (FORMAT csv, DELIMITER ';', QUOTE '''', ESCAPE '\\')"),
            CopyFormat::Csv {
                delimiter: b';',
                quote: b'\'',
                escape: b'\\'
            }
        );
        assert_eq!(
            f("COPY t TO STDOUT WITH DELIMITER '|'"),
            CopyFormat::Text { delimiter: b'|' }
        );
        assert!(
            plan_of("COPY t TO STDOUT (FORMAT csv, HEADER)", 1)
                .unwrap()
                .header
        );
        assert!(plan_of("COPY t TO STDOUT CSV HEADER", 1).unwrap().header);
        assert!(
            !plan_of("COPY t TO STDOUT (HEADER false)", 1)
                .unwrap()
                .header
        );
        assert!(!plan_of("COPY t TO STDOUT CSV", 1).unwrap().header);
        assert!(plan_of("COPY t TO STDOUT (ENCODING 'LATIN1')", 1).is_err());
        assert!(plan_of("COPY t TO STDOUT (ENCODING 'utf8')", 1).is_ok());
    }

    #[test]
    fn classified_columns_by_position_or_list() {
        let p = plan_of("COPY customers TO STDOUT", 5).unwrap();
        let at: Vec<usize> = (0..5).filter(|i| p.columns[*i].is_some()).collect();
        assert_eq!(at, vec![2]);
        assert_eq!(p.columns[2].as_ref().unwrap().strategy, Strategy::Partial);
        let p = plan_of("COPY public.customers (email, id) TO STDOUT", 2).unwrap();
        assert!(p.columns[0].is_some() && p.columns[1].is_none());
        assert!(plan_of("COPY customers (id) TO STDOUT", 1)
            .unwrap()
            .columns
            .is_empty());
        assert!(plan_of("COPY customers TO STDOUT", 2)
            .unwrap_err()
            .contains("stale"));
        let q = plan_of("COPY (SELECT email FROM customers) TO STDOUT", 2).unwrap();
        assert_eq!(q.columns.len(), 2);
        assert!(plan_of("COPY (SELECT 1) TO STDOUT", 1)
            .unwrap()
            .columns
            .is_empty());
    }

    #[test]
    fn picks_the_copy_among_several_statements() {
        let msg = vigil_sql::classify("SELECT 1; COPY a TO STDOUT; COPY b TO STDOUT");
        assert_eq!(
            statement(&msg, 2).map(|s| s.redacted_sql.contains('b')),
            Some(true)
        );
        assert!(statement(&msg, 0).is_none());
        let one = vigil_sql::classify("SELECT 1; COPY a TO STDOUT");
        assert!(statement(&one, 0).is_some());
    }
}
