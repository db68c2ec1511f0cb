//! External issuers whose JWKS comes from a file: RS256 acceptance, key
//! selection, algorithm confusion, and configuration errors.

mod common;

use std::time::Duration;

use common::{
    fixture, fixture_bytes, raw_token, refused, rsa_claims, rsa_token, RSA_AUDIENCE, RSA_ISSUER,
};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;
use vigil_core::PrincipalKind;
use vigil_identity::{AuthError, IdentityError, IssuerSettings, JwksSource, Verifier};

fn settings(jwks: &str) -> IssuerSettings {
    IssuerSettings::new(RSA_ISSUER, RSA_AUDIENCE, JwksSource::File(fixture(jwks)))
}

fn verifier(s: IssuerSettings) -> Verifier {
    Verifier::new(None, vec![s], Duration::from_secs(30)).unwrap()
}

#[tokio::test]
async fn rs256_token_from_file_jwks_is_accepted() {
    let v = verifier(settings("jwks_both.json"));
    let p = v
        .verify(&rsa_token(
            "rsa1",
            Some("rsa1"),
            Algorithm::RS256,
            &rsa_claims(),
        ))
        .await
        .unwrap();
    assert_eq!((p.subject.as_str(), p.issuer.as_str()), ("ann", RSA_ISSUER));
    assert_eq!(p.email.as_deref(), Some("ann@example.com"));
    assert_eq!(p.groups, ["dba"]);
    assert_eq!(p.token_id.as_deref(), Some("t-1"));
    assert_eq!(p.kind, PrincipalKind::Human);
    let p2 = v
        .verify(&rsa_token(
            "rsa2",
            Some("rsa2"),
            Algorithm::RS256,
            &rsa_claims(),
        ))
        .await
        .unwrap();
    assert_eq!(p2.subject, "ann");
}

#[tokio::test]
async fn hs256_signed_with_the_rsa_public_key_is_refused() {
    let v = verifier(settings("jwks_rsa1.json"));
    let public_pem = fixture_bytes("rsa1.pub.pem");
    for kid in [Some("rsa1"), None] {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = kid.map(str::to_owned);
        let token = jsonwebtoken::encode(
            &header,
            &rsa_claims(),
            &EncodingKey::from_secret(&public_pem),
        )
        .unwrap();
        assert_eq!(
            refused(&v, &token).await,
            AuthError::AlgorithmNotAllowed("HS256".into())
        );
    }
}

#[tokio::test]
async fn key_from_another_signer_or_kid_is_refused() {
    let v = verifier(settings("jwks_rsa1.json"));
    // Signed by rsa2 but claiming to be rsa1.
    let token = rsa_token("rsa2", Some("rsa1"), Algorithm::RS256, &rsa_claims());
    assert_eq!(refused(&v, &token).await, AuthError::BadSignature);
    let token = rsa_token("rsa2", Some("rsa2"), Algorithm::RS256, &rsa_claims());
    assert_eq!(
        refused(&v, &token).await,
        AuthError::UnknownKey("rsa2".into())
    );
}

#[tokio::test]
async fn key_type_must_match_the_algorithm_family() {
    let v = verifier(settings("jwks_rsa1.json"));
    for alg in ["ES256", "EdDSA"] {
        let token = raw_token(
            &json!({"alg": alg, "kid": "rsa1"}),
            &rsa_claims(),
            "c2lnbmF0dXJl",
        );
        assert_eq!(
            refused(&v, &token).await,
            AuthError::AlgorithmNotAllowed(alg.into())
        );
    }
    // The JWK pins RS256, so PS256 with the same RSA key is refused too.
    let token = rsa_token("rsa1", Some("rsa1"), Algorithm::PS256, &rsa_claims());
    assert_eq!(
        refused(&v, &token).await,
        AuthError::AlgorithmNotAllowed("PS256".into())
    );
}

#[tokio::test]
async fn issuer_allow_list_is_enforced() {
    let mut s = settings("jwks_rsa1.json");
    s.algorithms = vec![Algorithm::ES256];
    let token = rsa_token("rsa1", Some("rsa1"), Algorithm::RS256, &rsa_claims());
    assert_eq!(
        refused(&verifier(s), &token).await,
        AuthError::AlgorithmNotAllowed("RS256".into())
    );
}

#[tokio::test]
async fn token_without_kid_needs_exactly_one_matching_key() {
    let token = rsa_token("rsa1", None, Algorithm::RS256, &rsa_claims());
    assert!(verifier(settings("jwks_rsa1.json"))
        .verify(&token)
        .await
        .is_ok());
    assert_eq!(
        refused(&verifier(settings("jwks_both.json")), &token).await,
        AuthError::AmbiguousKey
    );
}

#[tokio::test]
async fn groups_path_and_kind_claim_are_configurable() {
    let mut s = settings("jwks_rsa1.json");
    s.groups_claim = "realm_access.roles".into();
    s.kind_claim = Some("actor".into());
    let v = verifier(s);
    let mut claims = rsa_claims();
    claims["realm_access"] = json!({"roles": ["admin", "dev"]});
    claims["actor"] = json!("service");
    let p = v
        .verify(&rsa_token("rsa1", Some("rsa1"), Algorithm::RS256, &claims))
        .await
        .unwrap();
    assert_eq!(
        (p.groups.clone(), p.kind),
        (
            vec!["admin".to_owned(), "dev".to_owned()],
            PrincipalKind::Service
        )
    );
    claims["actor"] = json!("superuser");
    let token = rsa_token("rsa1", Some("rsa1"), Algorithm::RS256, &claims);
    assert_eq!(refused(&v, &token).await, AuthError::InvalidClaim("kind"));
}

#[test]
fn configuration_errors_fail_at_startup() {
    let mut hs = settings("jwks_rsa1.json");
    hs.algorithms = vec![Algorithm::RS256, Algorithm::HS256];
    let dup = vec![settings("jwks_rsa1.json"), settings("jwks_rsa2.json")];
    let missing = settings("does-not-exist.json");
    let not_jwks = settings("rsa1.pub.pem");
    let http = IssuerSettings::new(
        RSA_ISSUER,
        RSA_AUDIENCE,
        JwksSource::Url("http://idp.example/jwks".into()),
    );
    let leeway = Duration::from_secs(30);
    assert!(matches!(
        Verifier::new(None, vec![hs], leeway),
        Err(IdentityError::InvalidIssuer { .. })
    ));
    assert!(matches!(
        Verifier::new(None, dup, leeway),
        Err(IdentityError::DuplicateIssuer(_))
    ));
    assert!(matches!(
        Verifier::new(None, vec![missing], leeway),
        Err(IdentityError::Io { .. })
    ));
    assert!(matches!(
        Verifier::new(None, vec![not_jwks], leeway),
        Err(IdentityError::InvalidJwks { .. })
    ));
    assert!(matches!(
        Verifier::new(None, vec![http], leeway),
        Err(IdentityError::InvalidIssuer { .. })
    ));
}

#[test]
fn verifier_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Verifier>();
    assert_send_sync::<vigil_identity::BuiltinIssuer>();
}
