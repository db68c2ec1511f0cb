//! Detector behaviour on whole values: positives, checksum-invalid
//! negatives, a false-positive corpus, and what value detection cannot see.

use vigil_mask::{Detectors, Kind};

fn hits(s: &str) -> Vec<(Kind, String)> {
    Detectors::global()
        .unwrap()
        .find(s.as_bytes())
        .into_iter()
        .map(|sp| (sp.kind, s[sp.start..sp.end].to_string()))
        .collect()
}

fn one(s: &str, kind: Kind, text: &str) {
    assert_eq!(hits(s), vec![(kind, text.to_string())], "in {s:?}");
}

#[test]
fn emails() {
    one("alice@example.com", Kind::Email, "alice@example.com");
    one(
        "{\"to\":\"maria.gonzalez42@example.org\"}",
        Kind::Email,
        "maria.gonzalez42@example.org",
    );
}

#[test]
fn phones() {
    for p in [
        "+14155550123",
        "(555) 123-4567",
        "555-123-4567",
        "+44 20 7946 0958",
        "+447700900123",
        "415.555.0199",
        "+1 (415) 555-0123",
    ] {
        assert_eq!(hits(p).len(), 1, "{p}: {:?}", hits(p));
        assert_eq!(hits(p)[0].0, Kind::Phone, "{p}");
    }
    // NANP area codes never start with 0 or 1; E.164 needs 8+ digits.
    for p in ["123-456-7890", "055-123-4567", "+1234567", "4155550123"] {
        assert!(hits(p).is_empty(), "{p}: {:?}", hits(p));
    }
}

#[test]
fn ssns() {
    one("SSN 123-45-6789", Kind::Ssn, "123-45-6789");
    one("123 45 6789", Kind::Ssn, "123 45 6789");
    one("ssn=123456789", Kind::Ssn, "123456789");
    for bad in [
        "000-12-3456",
        "666-12-3456",
        "912-12-3456",
        "123-00-4567",
        "123-45-0000",
        "123456789",
    ] {
        assert!(hits(bad).is_empty(), "{bad}: {:?}", hits(bad));
    }
}

#[test]
fn cards() {
    for c in [
        "4111 1111 1111 1111",
        "4111-1111-1111-1111",
        "4111111111111111",
        "378282246310005",
        "3782 822463 10005",
        "5555555555554444",
        "6011111111111117",
    ] {
        one(&format!("card: {c}."), Kind::Card, c);
    }
    for bad in [
        "4111 1111 1111 1112",
        "4111111111111112",
        "1234567812345670",
        "41111111111111111111111",
    ] {
        assert!(hits(bad).is_empty(), "{bad}: {:?}", hits(bad));
    }
}

#[test]
fn ibans() {
    one(
        "DE89 3704 0044 0532 0130 00",
        Kind::Iban,
        "DE89 3704 0044 0532 0130 00",
    );
    one(
        "pay to GB29NWBK60161331926819",
        Kind::Iban,
        "GB29NWBK60161331926819",
    );
    assert!(hits("DE89 3704 0044 0532 0130 01").is_empty());
}

#[test]
fn ip_addresses() {
    one("client 192.168.10.20 connected", Kind::Ip, "192.168.10.20");
    one(
        "from 2001:db8:85a3::8a2e:370:7334",
        Kind::Ip,
        "2001:db8:85a3::8a2e:370:7334",
    );
    for bad in ["256.1.1.1", "1.2.3", "1.2.3.4.5", "01.02.03.04"] {
        assert!(hits(bad).is_empty(), "{bad}: {:?}", hits(bad));
    }
}

#[test]
fn secrets() {
    let jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
    one(&format!("Bearer {jwt}"), Kind::Jwt, jwt);
    one(
        "AKIAIOSFODNN7EXAMPLE",
        Kind::AwsAccessKey,
        "AKIAIOSFODNN7EXAMPLE",
    );
    one(
        "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        Kind::AwsSecretKey,
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    );
    for k in [
        "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
        "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
        "xoxb-1234567890123-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
        "glpat-abcdefghij0123456789",
        "AIzaSyA1234567890abcdefghijklmnopqrstu",
    ] {
        one(&format!("key {k} end"), Kind::ApiKey, k);
    }
    let bcrypt = "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW";
    one(bcrypt, Kind::PasswordHash, bcrypt);
    let argon = "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG";
    one(argon, Kind::PasswordHash, argon);
    one(
        "md5d2a8e7c0d1c0e4b8f43cb52c6f0a6c2e",
        Kind::PasswordHash,
        "md5d2a8e7c0d1c0e4b8f43cb52c6f0a6c2e",
    );
    let pem = "-----BEGIN RSA PRIVATE KEY-----\\nMIIEow\\n-----END RSA PRIVATE KEY-----";
    one(&format!("{{\"k\":\"{pem}\"}}"), Kind::PrivateKey, pem);
    // A JWT-shaped string whose header is not JSON with "alg" is not a JWT.
    assert!(hits("eyJub3RoaW5nIjoxfQ.eyJhIjoxfQ.abc").is_empty());
    // A truncated PEM block is masked to the end of the string.
    let cut = hits("\"-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADAN\"");
    assert_eq!(cut[0].1, "-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADAN");
}

#[test]
fn composite_rows_and_documents_find_every_span() {
    let row = "(1,alice@example.com,\"4111 1111 1111 1111\",\"(415) 555-0123\",123-45-6789)";
    let kinds: Vec<Kind> = hits(row).into_iter().map(|h| h.0).collect();
    assert_eq!(kinds, vec![Kind::Email, Kind::Card, Kind::Phone, Kind::Ssn]);
    let doc = r#"{"user":{"email":"bob@example.net","ip":"10.0.0.7","password":"hunter22"}}"#;
    let kinds: Vec<Kind> = hits(doc).into_iter().map(|h| h.0).collect();
    assert_eq!(kinds, vec![Kind::Email, Kind::Ip, Kind::Password]);
}

/// Realistic non-PII values must not be touched.
#[test]
fn false_positive_corpus_has_no_hits() {
    let corpus = [
        "ORD-2024-000123",
        "order 1000234567",
        "INV-99887766",
        "1714567890",
        "1714567890123",
        "2024-05-01",
        "2024-05-01 12:34:56+00",
        "2024-05-01T12:34:56.123456Z",
        "12:34:56",
        "1234.56",
        "$1,234.56",
        "-42.00",
        "99.99 USD",
        "3.14159265358979",
        "550e8400-e29b-41d4-a716-446655440000",
        "d41d8cd98f00b204e9800998ecf8427e",
        "da39a3ee5e6b4b0d3255bfef95601890afd80709",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "1.2.3",
        "v1.2.3.4",
        "PostgreSQL 16.4 on x86_64-pc-linux-gnu",
        "release-2.14.0",
        "123-456-7890",
        "000-000-0000",
        "555-0100",
        "1-2-3-4-5-6-7-8",
        "12/31/2024",
        "31.12.2024",
        "Maria Gonzalez",
        "1234 Oak Street, Springfield, IL 62704",
        "shipped",
        "SELECT 1::int",
        "x::text",
        "std::io::Error",
        "de:ad:be:ef:00:01",
        "ERROR: duplicate key value violates unique constraint \"orders_pkey\"",
        "tokens: 5",
        "password authentication failed for user \"app\"",
        "SKU 4000 1234 5678 9010",
        "+1",
        "(555)",
        "10.5.2",
        "#ff00aa",
        "0x7fffffff",
        "9780306406157",
        "US 94107-1234",
    ];
    for v in corpus {
        assert!(hits(v).is_empty(), "false positive in {v:?}: {:?}", hits(v));
    }
}

/// What value-based masking cannot catch: these forms carry PII but do not
/// look like it, so they pass the detectors. Column classification (and
/// wholesale masking of computed columns when a statement reads a
/// classified column) is the only defence; see the crate docs.
#[test]
fn documented_blind_spots_pass_unmasked() {
    let blind = [
        // base64 of "alice@example.com"
        "YWxpY2VAZXhhbXBsZS5jb20=",
        // hex of "4111111111111111"
        "34313131313131313131313131313131",
        // md5 of an SSN: a digest, not the value
        "5d41402abc4b2a76b9719d911017c592",
        // reversed and split values
        "moc.elpmaxe@ecila",
        "4111 1111",
        // WHERE-clause probing answers only yes/no
        "t",
        "1",
        // a bare 10-digit national phone number
        "4155550123",
    ];
    for v in blind {
        assert!(hits(v).is_empty(), "{v:?} was unexpectedly detected");
    }
}
