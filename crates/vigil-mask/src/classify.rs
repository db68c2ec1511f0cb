//! Suggesting catalog entries for `vigil classify`: column names, types,
//! comments and the detectors' hit ratio on sampled values, combined into
//! one classification per column with a confidence. The caller queries the
//! database; this part is pure.

use crate::catalog::CatalogEntry;
use crate::detect::Detectors;
use crate::Classification;
use std::collections::BTreeMap;

/// What is known about one column.
#[derive(Debug, Clone, Default)]
pub struct ColumnFacts {
    pub schema: String,
    pub table: String,
    pub column: String,
    pub table_oid: u32,
    pub attnum: i16,
    /// 1-based position among the table's live columns.
    pub position: Option<u16>,
    /// `format_type` output, e.g. `text`, `character varying(64)`, `date`.
    pub type_name: String,
    pub comment: Option<String>,
    /// A sample of the column's values as text (NULLs left out).
    pub samples: Vec<String>,
}

/// Suggestions below this confidence are dropped.
pub const MIN_CONFIDENCE: f32 = 0.3;

/// Name fragments (after splitting on `_` and case) → classification, weight.
const NAME_HINTS: &[(&[&str], &str, f32)] = &[
    (
        &["email", "e_mail", "mail", "email_address", "e_mail_address"],
        "EMAIL_ADDRESS",
        0.7,
    ),
    (
        &[
            "phone",
            "mobile",
            "cell",
            "tel",
            "telephone",
            "fax",
            "msisdn",
        ],
        "PHONE_NUMBER",
        0.7,
    ),
    (
        &["ssn", "social_security", "social_security_number"],
        "US_SSN",
        0.8,
    ),
    (
        &[
            "card_number",
            "card_no",
            "cc_number",
            "credit_card",
            "pan",
            "cardnumber",
        ],
        "CREDIT_CARD",
        0.8,
    ),
    (
        &["iban", "bank_account", "account_number"],
        "IBAN_CODE",
        0.7,
    ),
    (
        &["dob", "birth", "birthday", "birthdate", "date_of_birth"],
        "DATE_OF_BIRTH",
        0.7,
    ),
    (
        &[
            "first_name",
            "last_name",
            "full_name",
            "surname",
            "given_name",
            "family_name",
            "firstname",
            "lastname",
            "fullname",
        ],
        "PERSON",
        0.7,
    ),
    (
        &[
            "address",
            "street",
            "addr",
            "postal_address",
            "home_address",
        ],
        "ADDRESS",
        0.6,
    ),
    (
        &["ip", "ip_address", "ip_addr", "client_ip", "remote_addr"],
        "IP_ADDRESS",
        0.6,
    ),
    (
        &[
            "password",
            "passwd",
            "password_hash",
            "pw_hash",
            "pwd_hash",
            "pwhash",
        ],
        "PASSWORD_HASH",
        0.8,
    ),
    (
        &[
            "secret",
            "token",
            "api_key",
            "apikey",
            "access_key",
            "secret_key",
            "auth_token",
            "refresh_token",
            "client_secret",
        ],
        "API_KEY",
        0.7,
    ),
    (&["private_key", "privkey"], "PRIVATE_KEY", 0.8),
];

/// Comment words → classification (weaker than a name).
const COMMENT_HINTS: &[(&str, &str)] = &[
    ("email", "EMAIL_ADDRESS"),
    ("phone", "PHONE_NUMBER"),
    ("social security", "US_SSN"),
    ("card number", "CREDIT_CARD"),
    ("pan", "CREDIT_CARD"),
    ("iban", "IBAN_CODE"),
    ("bank account", "IBAN_CODE"),
    ("birth", "DATE_OF_BIRTH"),
    ("full name", "PERSON"),
    ("legal name", "PERSON"),
    ("postal address", "ADDRESS"),
    ("password", "PASSWORD_HASH"),
    ("credential", "API_KEY"),
    ("secret", "API_KEY"),
    ("access key", "API_KEY"),
];

/// Suggests a catalog entry for a column, or `None` if nothing points to
/// sensitive data.
pub fn suggest(facts: &ColumnFacts, detectors: &Detectors) -> Option<CatalogEntry> {
    let mut score: BTreeMap<String, f32> = BTreeMap::new();
    let mut bump = |class: &str, w: f32| {
        let s = score.entry(class.to_string()).or_insert(0.0);
        // Independent evidence adds up without passing 1.
        *s = 1.0 - (1.0 - *s) * (1.0 - w);
    };
    if let Some((class, w)) = name_hint(&facts.column) {
        bump(class, w);
    }
    if let Some(comment) = &facts.comment {
        let lower = comment.to_ascii_lowercase();
        for (word, class) in COMMENT_HINTS {
            if words(&lower).any(|w| w == *word) || (word.contains(' ') && lower.contains(word)) {
                bump(class, 0.4);
            }
        }
    }
    for (class, ratio) in sample_ratios(&facts.samples, detectors) {
        if ratio >= 0.2 {
            bump(&class, 0.3 + 0.6 * ratio);
        }
    }
    let (class, confidence) = score.into_iter().max_by(|a, b| a.1.total_cmp(&b.1))?;
    (confidence >= MIN_CONFIDENCE).then(|| CatalogEntry {
        connection: None,
        schema: facts.schema.clone(),
        table: facts.table.clone(),
        column: facts.column.clone(),
        table_oid: facts.table_oid,
        attnum: facts.attnum,
        position: facts.position,
        classification: Classification::new(&class),
        confidence: (f64::from(confidence) * 100.0).round() / 100.0,
    })
}

fn words(s: &str) -> impl Iterator<Item = &str> {
    s.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
}

/// `customerEmail` → `customer_email`; then the longest hint contained as
/// whole `_`-separated parts.
fn name_hint(column: &str) -> Option<(&'static str, f32)> {
    let mut snake = String::with_capacity(column.len() + 4);
    for (i, ch) in column.chars().enumerate() {
        if ch.is_ascii_uppercase() && i > 0 {
            snake.push('_');
        }
        snake.push(ch.to_ascii_lowercase());
    }
    let padded = format!("_{}_", snake.replace(['-', ' '], "_"));
    let mut best: Option<(&'static str, f32, usize)> = None;
    for (names, class, w) in NAME_HINTS {
        for n in *names {
            let longer = best.is_none_or(|(_, _, l)| l < n.len());
            if longer && padded.contains(&format!("_{n}_")) {
                best = Some((class, *w, n.len()));
            }
        }
    }
    best.map(|(c, w, _)| (c, w))
}

/// Share of samples in which each classification was detected.
fn sample_ratios(samples: &[String], detectors: &Detectors) -> Vec<(String, f32)> {
    if samples.is_empty() {
        return Vec::new();
    }
    let mut hits: BTreeMap<String, usize> = BTreeMap::new();
    for s in samples {
        let mut kinds: Vec<_> = detectors
            .find(s.as_bytes())
            .into_iter()
            .map(|sp| sp.kind)
            .collect();
        kinds.sort();
        kinds.dedup();
        for k in kinds {
            *hits.entry(k.classification().to_string()).or_default() += 1;
        }
    }
    hits.into_iter()
        .map(|(c, n)| (c, n as f32 / samples.len() as f32))
        .collect()
}
