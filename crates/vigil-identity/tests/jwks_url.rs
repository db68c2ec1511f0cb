//! JWKS over HTTP from a tiny local server: lazy fetch, key rotation via
//! refetch on an unknown kid, the refetch rate limit, and an unreachable
//! identity provider.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{fixture_bytes, refused, rsa_claims, rsa_token, RSA_AUDIENCE, RSA_ISSUER};
use jsonwebtoken::Algorithm;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use vigil_identity::{AuthError, IssuerSettings, JwksSource, Verifier, VerifierOptions};

/// Serves whatever `body` holds at any path and counts requests.
struct JwksServer {
    url: String,
    body: Arc<Mutex<Vec<u8>>>,
    hits: Arc<AtomicUsize>,
}

impl JwksServer {
    async fn start(initial: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!(
            "http://{}/.well-known/jwks.json",
            listener.local_addr().unwrap()
        );
        let body = Arc::new(Mutex::new(fixture_bytes(initial)));
        let hits = Arc::new(AtomicUsize::new(0));
        let (b, h) = (Arc::clone(&body), Arc::clone(&hits));
        tokio::spawn(async move {
            loop {
                let (mut sock, _) = listener.accept().await.unwrap();
                let (b, h) = (Arc::clone(&b), Arc::clone(&h));
                tokio::spawn(async move {
                    let mut req = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                        let n = sock.read(&mut buf).await.unwrap();
                        if n == 0 {
                            return;
                        }
                        req.extend_from_slice(&buf[..n]);
                    }
                    h.fetch_add(1, Ordering::SeqCst);
                    let body = b.lock().unwrap().clone();
                    let head = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    );
                    sock.write_all(head.as_bytes()).await.unwrap();
                    sock.write_all(&body).await.unwrap();
                    sock.shutdown().await.unwrap();
                });
            }
        });
        JwksServer { url, body, hits }
    }

    fn publish(&self, fixture: &str) {
        *self.body.lock().unwrap() = fixture_bytes(fixture);
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

fn verifier(url: &str, min_refetch_interval: Duration) -> Verifier {
    let s = IssuerSettings::new(RSA_ISSUER, RSA_AUDIENCE, JwksSource::Url(url.to_owned()));
    let opts = VerifierOptions {
        jwks_min_refetch_interval: min_refetch_interval,
        ..VerifierOptions::default()
    };
    Verifier::with_options(None, vec![s], opts).unwrap()
}

fn token(key: &str) -> String {
    rsa_token(key, Some(key), Algorithm::RS256, &rsa_claims())
}

#[tokio::test]
async fn keys_are_fetched_once_and_cached() {
    let server = JwksServer::start("jwks_rsa1.json").await;
    let v = verifier(&server.url, Duration::ZERO);
    assert_eq!(server.hits(), 0, "fetch must be lazy");
    for _ in 0..3 {
        assert_eq!(v.verify(&token("rsa1")).await.unwrap().subject, "ann");
    }
    assert_eq!(server.hits(), 1);
}

#[tokio::test]
async fn rotated_key_is_picked_up_by_a_refetch() {
    let server = JwksServer::start("jwks_rsa1.json").await;
    let v = verifier(&server.url, Duration::ZERO);
    assert!(v.verify(&token("rsa1")).await.is_ok());
    server.publish("jwks_rsa2.json");
    assert_eq!(v.verify(&token("rsa2")).await.unwrap().subject, "ann");
    assert_eq!(server.hits(), 2);
    // rsa1 was retired: its tokens now fail (after one more refetch).
    assert_eq!(
        refused(&v, &token("rsa1")).await,
        AuthError::UnknownKey("rsa1".into())
    );
    assert_eq!(server.hits(), 3);
}

#[tokio::test]
async fn unknown_kids_cannot_hammer_the_identity_provider() {
    let server = JwksServer::start("jwks_rsa1.json").await;
    let v = verifier(&server.url, Duration::from_secs(3600));
    assert!(v.verify(&token("rsa1")).await.is_ok());
    server.publish("jwks_both.json");
    for _ in 0..20 {
        assert_eq!(
            refused(&v, &token("rsa2")).await,
            AuthError::UnknownKey("rsa2".into())
        );
    }
    assert_eq!(server.hits(), 1, "refetch must be rate limited");
    assert!(
        v.verify(&token("rsa1")).await.is_ok(),
        "known keys keep working"
    );
}

#[tokio::test]
async fn unreachable_identity_provider_is_not_a_client_fault() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/jwks", listener.local_addr().unwrap());
    drop(listener); // nothing listens there now
    let v = verifier(&url, Duration::from_secs(3600));
    let err = refused(&v, &token("rsa1")).await;
    assert_eq!(err, AuthError::KeySourceUnavailable(RSA_ISSUER.into()));
    assert!(!err.is_client_fault());
    // Rate limited: the second attempt does not even try.
    assert_eq!(refused(&v, &token("rsa1")).await, err);
}

#[tokio::test]
async fn garbage_jwks_is_unavailable_not_accepted() {
    let server = JwksServer::start("rsa1.pub.pem").await;
    let v = verifier(&server.url, Duration::from_secs(3600));
    let err = refused(&v, &token("rsa1")).await;
    assert_eq!(err, AuthError::KeySourceUnavailable(RSA_ISSUER.into()));
    assert_eq!(server.hits(), 1);
}

#[tokio::test]
async fn stale_keys_are_refreshed_but_within_the_rate_limit() {
    let server = JwksServer::start("jwks_rsa1.json").await;
    let s = IssuerSettings::new(
        RSA_ISSUER,
        RSA_AUDIENCE,
        JwksSource::Url(server.url.clone()),
    );
    let always_stale = |min: Duration| VerifierOptions {
        jwks_refresh_after: Duration::ZERO,
        jwks_min_refetch_interval: min,
        ..VerifierOptions::default()
    };
    let eager =
        Verifier::with_options(None, vec![s.clone()], always_stale(Duration::ZERO)).unwrap();
    for _ in 0..3 {
        assert!(eager.verify(&token("rsa1")).await.is_ok());
    }
    assert_eq!(server.hits(), 3);
    let limited =
        Verifier::with_options(None, vec![s], always_stale(Duration::from_secs(3600))).unwrap();
    for _ in 0..3 {
        assert!(
            limited.verify(&token("rsa1")).await.is_ok(),
            "stale keys keep serving"
        );
    }
    assert_eq!(server.hits(), 4);
}
