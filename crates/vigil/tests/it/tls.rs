//! TLS on both legs: clients → Vigil through SSLRequest, Vigil → backend
//! with `tls = "require"` and `"verify-full"`; and the other backend
//! authentication methods (md5, trust).

use crate::common::{psql, stderr, stdout, Stack, StackOptions};
use vigil_pgtemp::AuthMethod;

fn client_tls_stack() -> (Stack, tempfile::TempDir) {
    let certs = tempfile::tempdir().unwrap();
    let ck =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    std::fs::write(certs.path().join("vigil.crt"), ck.cert.pem()).unwrap();
    std::fs::write(certs.path().join("vigil.key"), ck.key_pair.serialize_pem()).unwrap();
    let dir = certs.path().display();
    let stack = Stack::start_with(StackOptions {
        proxy_extra: format!(
            "tls_cert = \"{dir}/vigil.crt\"\ntls_key = \"{dir}/vigil.key\"\nrequire_tls = true\n"
        ),
        ..StackOptions::default()
    });
    (stack, certs)
}

#[test]
fn psql_connects_over_tls() {
    let (stack, _certs) = client_tls_stack();
    let dsn = stack
        .proxy_dsn()
        .replace("sslmode=disable", "sslmode=require");
    let out = psql(&dsn, "\\conninfo\nSELECT 'over tls';\n", &["-At"]);
    let text = stdout(&out);
    assert!(text.contains("SSL connection"), "{text}\n{}", stderr(&out));
    assert!(text.contains("over tls"), "{text}");
    // From loopback, cleartext stays allowed even with require_tls.
    let out = psql(&stack.proxy_dsn(), "SELECT 'loopback';", &["-At"]);
    assert_eq!(stdout(&out).trim(), "loopback", "{}", stderr(&out));
}

#[test]
fn driver_connects_over_tls() {
    let (stack, certs) = client_tls_stack();
    let dsn = stack.proxy_dsn().replace(
        "sslmode=disable",
        &format!(
            "sslmode=verify-ca sslrootcert={}/vigil.crt",
            certs.path().display()
        ),
    );
    let out = psql(&dsn, "SELECT 1;", &["-At"]);
    assert_eq!(stdout(&out).trim(), "1", "{}", stderr(&out));
}

fn backend_ssl_in_use(stack: &Stack) -> String {
    let out = psql(
        &stack.proxy_dsn(),
        "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid();",
        &["-At"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out).trim().to_owned()
}

#[test]
fn backend_tls_require_and_verify_full() {
    for tls in [
        "tls = \"require\"\n",
        "tls = \"verify-full\"\ntls_ca_file = \"$CA\"\n",
    ] {
        let stack = Stack::start_with(StackOptions {
            backend_ssl: true,
            connection_extra: tls.into(),
            ..StackOptions::default()
        });
        assert_eq!(backend_ssl_in_use(&stack), "t", "{tls}");
    }
    let plain = Stack::start_with(StackOptions {
        backend_ssl: true,
        ..StackOptions::default()
    });
    assert_eq!(backend_ssl_in_use(&plain), "f");
}

#[test]
fn backend_tls_require_fails_closed_without_server_tls() {
    let stack = Stack::start_with(StackOptions {
        connection_extra: "tls = \"require\"\n".into(),
        ..StackOptions::default()
    });
    let out = psql(&stack.proxy_dsn(), "SELECT 1;", &["-At"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("does not support TLS"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn backend_md5_and_trust_authentication() {
    for auth in [AuthMethod::Md5, AuthMethod::Trust] {
        let stack = Stack::start_with(StackOptions {
            auth,
            ..StackOptions::default()
        });
        let out = psql(&stack.proxy_dsn(), "SELECT current_user;", &["-At"]);
        assert_eq!(
            stdout(&out).trim(),
            "app_owner",
            "{auth:?}: {}",
            stderr(&out)
        );
    }
}
