use super::*;

#[test]
fn key_file_is_created_private_and_reloaded() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub/audit.key");
    let first = AuditKey::load_or_create(&path).unwrap();
    let again = AuditKey::load_or_create(&path).unwrap();
    assert_eq!(first.key_id(), again.key_id());
    assert_eq!(first.key_id().len(), 16);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert!(AuditKey::load(&dir.path().join("missing.key")).is_err());
}

#[test]
fn corrupt_key_file_is_an_error_not_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.key");
    std::fs::write(&path, "not a key").unwrap();
    assert!(matches!(
        AuditKey::load_or_create(&path),
        Err(KeyError::Corrupt { .. })
    ));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "not a key");
}

#[test]
fn public_pem_round_trips_to_the_same_key_id() {
    let key = AuditKey::generate();
    let pem = key.public_key_pem().unwrap();
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----"));
    let mut keys = PublicKeys::new();
    assert_eq!(keys.insert_pem(&pem).unwrap(), key.key_id());
    assert!(keys.insert_pem("garbage").is_err());
}

#[test]
fn private_key_file_also_loads_as_a_public_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.key");
    let key = AuditKey::load_or_create(&path).unwrap();
    let mut keys = PublicKeys::new();
    assert_eq!(keys.load_file(&path).unwrap(), key.key_id());
}

#[test]
fn signatures_verify_only_with_the_right_key_and_message() {
    let key = AuditKey::generate();
    let other = AuditKey::generate();
    let keys = PublicKeys::from(&key);
    let sig = key.sign_hex(b"msg");
    assert_eq!(keys.verify_hex(key.key_id(), b"msg", &sig), Ok(()));
    assert!(matches!(
        keys.verify_hex(key.key_id(), b"msh", &sig),
        Err(SignatureProblem::Invalid(_))
    ));
    assert!(matches!(
        keys.verify_hex(other.key_id(), b"msg", &other.sign_hex(b"msg")),
        Err(SignatureProblem::UnknownKey(_))
    ));
    assert_eq!(
        keys.verify_hex(key.key_id(), b"msg", "zz"),
        Err(SignatureProblem::Malformed)
    );
    assert_eq!(
        keys.verify_hex(key.key_id(), b"msg", "abcd"),
        Err(SignatureProblem::Malformed)
    );
}
