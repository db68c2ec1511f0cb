//! Identity: who may connect. Every refusal is checked by SQLSTATE and by
//! what the message does (and does not) say.

use crate::common::{psql, stderr, stdout, Stack, CONNECTION, USER};
use crate::raw::{Login, Raw};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use std::time::{SystemTime, UNIX_EPOCH};
use vigil_pgwire::backend::ErrorFields;

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn claims() -> Value {
    json!({
        "iss": "vigil", "aud": "vigil", "sub": USER, "email": USER,
        "groups": ["dev"], "iat": now(), "nbf": now(), "exp": now() + 600,
        "vigil_kind": "human"
    })
}

/// Signs `claims` with the stack's real built-in key.
fn sign(stack: &Stack, claims: &Value) -> String {
    let pem = std::fs::read(stack.dir.path().join("vigil-signing.key")).unwrap();
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(stack.issuer.kid().to_owned());
    encode(&header, claims, &EncodingKey::from_ed_pem(&pem).unwrap()).unwrap()
}

fn login(stack: &Stack, user: &str, connection: &str, token: &str) -> Login {
    Raw::login(
        stack.proxy_port(),
        &[("user", user), ("database", connection)],
        token,
    )
}

fn refused(stack: &Stack, token: &str) -> ErrorFields {
    match login(stack, USER, CONNECTION, token) {
        Login::Ok(_) => panic!("token was accepted"),
        Login::Refused(e) => e,
    }
}

fn assert_refused(stack: &Stack, token: &str, code: &str, reason: &str) {
    let e = refused(stack, token);
    assert_eq!(e.get(b'S'), Some("FATAL"));
    assert_eq!(e.code(), Some(code), "{:?}", e.message());
    let msg = e.message().unwrap();
    assert!(msg.contains(reason), "{msg:?} should mention {reason:?}");
    if let Some(sig) = token.rsplit('.').next().filter(|s| s.len() > 8) {
        assert!(!msg.contains(sig), "message echoes the token");
    }
    for (_, v) in &e.fields {
        assert!(!v.contains(token), "a field echoes the token");
    }
}

#[test]
fn valid_token_is_accepted_and_identity_is_the_tokens() {
    let stack = Stack::start();
    let token = sign(&stack, &claims());
    match login(&stack, USER, CONNECTION, &token) {
        Login::Ok(mut raw) => {
            let rows = crate::raw::first_column(&raw.query("SELECT current_user"));
            // The backend user is Vigil's, never the client's.
            assert_eq!(rows, vec!["app_owner".to_string()]);
        }
        Login::Refused(e) => panic!("refused: {:?}", e.message()),
    }
    let out = psql(&stack.proxy_dsn(), "SELECT 40 + 2;", &["-At"]);
    assert_eq!(stdout(&out).trim(), "42", "{}", stderr(&out));
}

#[test]
fn bad_tokens_are_refused_with_28p01() {
    let stack = Stack::start();
    let mut c = claims();
    c["exp"] = json!(now() - 3600);
    c["iat"] = json!(now() - 7200);
    c["nbf"] = json!(now() - 7200);
    assert_refused(&stack, &sign(&stack, &c), "28P01", "expired");

    let mut c = claims();
    c["aud"] = json!("someone-else");
    assert_refused(&stack, &sign(&stack, &c), "28P01", "audience");

    let mut c = claims();
    c["iss"] = json!("https://evil.example.com");
    assert_refused(&stack, &sign(&stack, &c), "28P01", "issuer");

    let mut c = claims();
    c["nbf"] = json!(now() + 3600);
    assert_refused(&stack, &sign(&stack, &c), "28P01", "not");

    let none = format!(
        "{}.{}.",
        B64.encode(br#"{"alg":"none","typ":"JWT"}"#),
        B64.encode(claims().to_string())
    );
    assert_refused(&stack, &none, "28P01", "");

    assert_refused(&stack, "not-a-jwt", "28P01", "");
}

#[test]
fn tampered_tokens_are_refused() {
    let stack = Stack::start();
    let good = sign(&stack, &claims());
    let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
    // Flip one signature character.
    let sig = parts[2].clone();
    let flipped = if sig.starts_with('A') { "B" } else { "A" };
    parts[2] = format!("{flipped}{}", &sig[1..]);
    assert_refused(&stack, &parts.join("."), "28P01", "");
    // Grant ourselves a group, keep the old signature.
    let mut c = claims();
    c["groups"] = json!(["dev", "admin"]);
    let forged = format!("{}.{}.{}", parts[0], B64.encode(c.to_string()), sig);
    assert_refused(&stack, &forged, "28P01", "");
}

#[test]
fn hs256_signed_with_the_public_key_is_refused() {
    let stack = Stack::start();
    let jwks = stack.issuer.jwks();
    let x = jwks["keys"][0]["x"].as_str().unwrap().to_owned();
    let public = B64.decode(&x).unwrap();
    for secret in [public.clone(), x.into_bytes()] {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(stack.issuer.kid().to_owned());
        let token = encode(&header, &claims(), &EncodingKey::from_secret(&secret)).unwrap();
        assert_refused(&stack, &token, "28P01", "");
    }
}

#[test]
fn unknown_connection_is_3d000_and_wrong_user_is_28000() {
    let stack = Stack::start();
    let token = stack.token();
    match login(&stack, USER, "no-such-connection", &token) {
        Login::Refused(e) => {
            assert_eq!(e.code(), Some("3D000"));
            assert!(e.message().unwrap().contains("no-such-connection"));
        }
        Login::Ok(_) => panic!("unknown connection accepted"),
    }
    match login(&stack, "mallory@example.com", CONNECTION, &token) {
        Login::Refused(e) => assert_eq!(e.code(), Some("28000")),
        Login::Ok(_) => panic!("user that is not the token's was accepted"),
    }
}

#[test]
fn guc_setting_startup_parameters_are_refused() {
    let stack = Stack::start();
    let token = stack.token();
    for (k, v) in [
        ("options", "-c role=postgres"),
        ("replication", "database"),
        ("role", "postgres"),
    ] {
        match Raw::login(
            stack.proxy_port(),
            &[("user", USER), ("database", CONNECTION), (k, v)],
            &token,
        ) {
            Login::Refused(e) => {
                assert_eq!(e.code(), Some("42501"), "{k}");
                assert!(e.message().unwrap().contains(k));
            }
            Login::Ok(_) => panic!("{k} accepted"),
        }
    }
    let dup = [
        ("user", USER),
        ("database", CONNECTION),
        ("database", "other"),
    ];
    match Raw::login(stack.proxy_port(), &dup, &token) {
        Login::Refused(e) => assert_eq!(e.code(), Some("08P01")),
        Login::Ok(_) => panic!("duplicate accepted"),
    }
    // Harmless formatting parameters pass through to the server.
    let ok = [
        ("user", USER),
        ("database", CONNECTION),
        ("application_name", "vigil-it"),
        ("DateStyle", "German"),
    ];
    match Raw::login(stack.proxy_port(), &ok, &token) {
        Login::Ok(mut raw) => {
            let rows = crate::raw::first_column(&raw.query(
                "SELECT current_setting('application_name') || ' ' || current_setting('DateStyle')",
            ));
            assert_eq!(rows, vec!["vigil-it German, DMY".to_string()]);
        }
        Login::Refused(e) => panic!("{:?}", e.message()),
    }
}

#[test]
fn a_session_ends_when_its_token_expires() {
    let stack = Stack::start();
    let mut c = claims();
    c["exp"] = json!(now() + 2);
    let token = sign(&stack, &c);
    let Login::Ok(mut raw) = login(&stack, USER, CONNECTION, &token) else {
        panic!("refused");
    };
    // Waits (bounded by the read timeout) for Vigil to end the session.
    raw.send(&vigil_pgwire::frontend::encode_query("SELECT pg_sleep(30)").unwrap());
    let mut fatal = None;
    while let Some(f) = raw.read_frame() {
        if f.tag() == b'E' {
            let e = ErrorFields::parse(f.body()).unwrap();
            if e.get(b'S') == Some("FATAL") {
                fatal = Some(e);
                break;
            }
        }
    }
    let e = fatal.expect("a FATAL before the connection closed");
    assert_eq!(e.code(), Some("28000"));
    assert!(e.message().unwrap().contains("expired"));
    assert!(raw.read_frame().is_none(), "connection must be closed");
}
