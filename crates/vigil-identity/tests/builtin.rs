//! Vigil's own issuer: key file lifecycle, and its tokens through the
//! verifier, including every way a token must be refused.

mod common;

use std::time::Duration;

use common::{b64, now, raw_token, refused};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use vigil_core::PrincipalKind;
use vigil_identity::{
    AuthError, BuiltinIssuer, BuiltinSettings, IdentityError, TokenRequest, Verifier,
};

const ISSUER: &str = "https://vigil.local";
const AUDIENCE: &str = "vigil-proxy";

struct Fixture {
    _dir: tempfile::TempDir,
    settings: BuiltinSettings,
    issuer: BuiltinIssuer,
    verifier: Verifier,
}

fn setup() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let settings = BuiltinSettings {
        issuer: ISSUER.into(),
        audience: AUDIENCE.into(),
        key_file: dir.path().join("keys/nested/issuer.pem"),
    };
    let issuer = BuiltinIssuer::load_or_create(&settings).unwrap();
    let verifier = Verifier::new(Some(&issuer), vec![], Duration::from_secs(30)).unwrap();
    Fixture {
        _dir: dir,
        settings,
        issuer,
        verifier,
    }
}

fn request() -> TokenRequest {
    TokenRequest {
        subject: "etl-bot".into(),
        email: Some("etl@example.com".into()),
        groups: vec!["etl".into(), "readers".into()],
        kind: PrincipalKind::Agent,
        ttl: Duration::from_secs(900),
    }
}

/// Signs arbitrary claims with the built-in issuer's key (as an attacker
/// who stole it, or a test that needs an expired token, would).
fn sign(f: &Fixture, claims: &Value) -> String {
    let pem = std::fs::read(&f.settings.key_file).unwrap();
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(f.issuer.kid().to_owned());
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_ed_pem(&pem).unwrap()).unwrap()
}

fn claims() -> Value {
    let now = now();
    json!({"iss": ISSUER, "aud": AUDIENCE, "sub": "s", "vigil_kind": "service", "iat": now, "exp": now + 600})
}

fn with(mut base: Value, key: &str, value: Value) -> Value {
    base.as_object_mut().unwrap().insert(key.into(), value);
    base
}

#[tokio::test]
async fn issued_token_is_accepted_and_mapped() {
    let f = setup();
    let token = f.issuer.issue(&request()).unwrap();
    let p = f.verifier.verify(&token).await.unwrap();
    assert_eq!(p.subject, "etl-bot");
    assert_eq!(p.email.as_deref(), Some("etl@example.com"));
    assert_eq!(p.groups, ["etl", "readers"]);
    assert_eq!(p.issuer, ISSUER);
    assert_eq!(p.kind, PrincipalKind::Agent);
    assert!(p.token_id.as_deref().is_some_and(|j| j.len() >= 32));
    let ttl = p.expires_at - now();
    assert!((800..=900).contains(&ttl), "ttl {ttl}");
    let other = f.issuer.issue(&request()).unwrap();
    assert_ne!(
        f.verifier.verify(&other).await.unwrap().token_id,
        p.token_id,
        "jti must be random"
    );
}

#[tokio::test]
async fn time_claims_are_enforced() {
    let f = setup();
    let now = now();
    let cases = [
        (with(claims(), "exp", json!(now - 3600)), AuthError::Expired),
        (
            with(claims(), "nbf", json!(now + 3600)),
            AuthError::NotYetValid,
        ),
        (
            with(claims(), "iat", json!(now + 3600)),
            AuthError::IssuedInFuture,
        ),
        (
            claims()
                .as_object()
                .cloned()
                .map(|mut m| {
                    m.remove("exp");
                    Value::Object(m)
                })
                .unwrap(),
            AuthError::MissingClaim("exp"),
        ),
    ];
    for (c, want) in cases {
        assert_eq!(refused(&f.verifier, &sign(&f, &c)).await, want, "{c}");
    }
    // Inside the leeway is fine.
    let skewed = with(with(claims(), "nbf", json!(now + 5)), "exp", json!(now - 5));
    assert!(f.verifier.verify(&sign(&f, &skewed)).await.is_ok());
}

#[tokio::test]
async fn audience_issuer_and_claims_are_enforced() {
    let f = setup();
    let cases = [
        (
            with(claims(), "aud", json!("someone-else")),
            AuthError::WrongAudience,
        ),
        (
            with(claims(), "aud", json!(["a", "b"])),
            AuthError::WrongAudience,
        ),
        (
            with(claims(), "iss", json!("https://evil.example")),
            AuthError::UnknownIssuer("https://evil.example".into()),
        ),
        (
            with(claims(), "vigil_kind", json!("root")),
            AuthError::InvalidClaim("kind"),
        ),
        (
            with(claims(), "sub", json!(42)),
            AuthError::InvalidClaim("sub"),
        ),
    ];
    for (c, want) in cases {
        assert_eq!(refused(&f.verifier, &sign(&f, &c)).await, want, "{c}");
    }
    let multi = with(claims(), "aud", json!(["other", AUDIENCE]));
    assert!(f.verifier.verify(&sign(&f, &multi)).await.is_ok());
    let msg = AuthError::UnknownIssuer("https://x".into()).to_string();
    assert_eq!(msg, "unknown token issuer \"https://x\"");
}

#[tokio::test]
async fn alg_none_and_tampering_are_refused() {
    let f = setup();
    let none = raw_token(&json!({"alg": "none", "typ": "JWT"}), &claims(), "");
    assert_eq!(
        refused(&f.verifier, &none).await,
        AuthError::AlgorithmNotAllowed("none".into())
    );

    let token = f.issuer.issue(&request()).unwrap();
    let parts: Vec<&str> = token.split('.').collect();
    let mut sig: Vec<char> = parts[2].chars().collect();
    sig[10] = if sig[10] == 'A' { 'B' } else { 'A' };
    let bad_sig = format!(
        "{}.{}.{}",
        parts[0],
        parts[1],
        sig.iter().collect::<String>()
    );
    assert_eq!(
        refused(&f.verifier, &bad_sig).await,
        AuthError::BadSignature
    );

    let payload = String::from_utf8(
        base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, parts[1])
            .unwrap(),
    )
    .unwrap();
    let forged = payload
        .replace("etl-bot", "admin")
        .replace("\"agent\"", "\"human\"");
    assert_ne!(forged, payload);
    let bad_payload = format!("{}.{}.{}", parts[0], b64(forged.as_bytes()), parts[2]);
    assert_eq!(
        refused(&f.verifier, &bad_payload).await,
        AuthError::BadSignature
    );

    let stripped = format!("{}.{}.", parts[0], parts[1]);
    assert_eq!(
        refused(&f.verifier, &stripped).await,
        AuthError::BadSignature
    );
    assert_eq!(
        refused(&f.verifier, "not-a-jwt").await,
        AuthError::Malformed
    );
}

#[tokio::test]
async fn other_ed25519_key_with_same_kid_is_refused() {
    let f = setup();
    let g = setup(); // a different key, same issuer name
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(f.issuer.kid().to_owned());
    let pem = std::fs::read(&g.settings.key_file).unwrap();
    let token =
        jsonwebtoken::encode(&header, &claims(), &EncodingKey::from_ed_pem(&pem).unwrap()).unwrap();
    assert_eq!(refused(&f.verifier, &token).await, AuthError::BadSignature);
}

#[test]
fn key_file_is_private_and_reloaded() {
    use std::os::unix::fs::PermissionsExt;
    let f = setup();
    let mode = std::fs::metadata(&f.settings.key_file)
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let pem = std::fs::read_to_string(&f.settings.key_file).unwrap();
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
    let again = BuiltinIssuer::load_or_create(&f.settings).unwrap();
    assert_eq!(again.kid(), f.issuer.kid());
    assert_eq!(again.jwks(), f.issuer.jwks());
    assert_eq!(std::fs::read_to_string(&f.settings.key_file).unwrap(), pem);
    let leftovers = std::fs::read_dir(f.settings.key_file.parent().unwrap())
        .unwrap()
        .count();
    assert_eq!(leftovers, 1, "temporary file left behind");
}

#[tokio::test]
async fn reloaded_issuer_verifies_earlier_tokens() {
    let f = setup();
    let token = f.issuer.issue(&request()).unwrap();
    let again = BuiltinIssuer::load_or_create(&f.settings).unwrap();
    let verifier = Verifier::new(Some(&again), vec![], Duration::from_secs(30)).unwrap();
    assert_eq!(verifier.verify(&token).await.unwrap().subject, "etl-bot");
}

#[test]
fn corrupt_key_file_is_an_error_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("issuer.pem");
    std::fs::write(
        &key_file,
        "-----BEGIN PRIVATE KEY-----\ngarbage\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    let settings = BuiltinSettings {
        issuer: ISSUER.into(),
        audience: AUDIENCE.into(),
        key_file: key_file.clone(),
    };
    let err = BuiltinIssuer::load_or_create(&settings).unwrap_err();
    assert!(
        matches!(err, IdentityError::CorruptKeyFile { .. }),
        "{err:?}"
    );
    assert!(
        err.to_string().contains(&key_file.display().to_string()),
        "{err}"
    );
    assert!(std::fs::read_to_string(&key_file)
        .unwrap()
        .contains("garbage"));
    std::fs::write(&key_file, [0xff, 0xfe, 0x00]).unwrap();
    assert!(matches!(
        BuiltinIssuer::load_or_create(&settings),
        Err(IdentityError::CorruptKeyFile { .. })
    ));
}

#[test]
fn jwks_document_describes_the_key() {
    let f = setup();
    let jwks = f.issuer.jwks();
    let key = &jwks["keys"][0];
    assert_eq!(
        (key["kty"].as_str(), key["crv"].as_str()),
        (Some("OKP"), Some("Ed25519"))
    );
    assert_eq!(key["kid"].as_str(), Some(f.issuer.kid()));
    assert_eq!(key["x"].as_str().map(str::len), Some(43));
    assert_eq!(f.issuer.kid().len(), 16);
    assert_eq!(f.issuer.settings(), &f.settings);
}

#[test]
fn bad_requests_and_settings_are_refused() {
    let f = setup();
    let empty = TokenRequest {
        subject: String::new(),
        ..request()
    };
    assert!(f.issuer.issue(&empty).is_err());
    let zero = TokenRequest {
        ttl: Duration::ZERO,
        ..request()
    };
    assert!(f.issuer.issue(&zero).is_err());
    let huge = TokenRequest {
        ttl: Duration::from_secs(u64::MAX),
        ..request()
    };
    assert!(f.issuer.issue(&huge).is_err());
    let no_aud = BuiltinSettings {
        audience: String::new(),
        ..f.settings.clone()
    };
    assert!(BuiltinIssuer::load_or_create(&no_aud).is_err());
}
