//! A self-signed server certificate for `ssl = on` clusters, so TLS paths
//! (client → Vigil → PostgreSQL) can be tested without any external CA.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use crate::conf::{CERT_FILE, KEY_FILE};
use crate::user::RunAs;
use crate::PgTempError;

/// Writes `server.crt` and `server.key` (0600, owned by the server user, as
/// PostgreSQL insists) into the data dir; returns the certificate PEM.
pub(crate) fn write_server_cert(data_dir: &Path, run_as: &RunAs) -> Result<String, PgTempError> {
    let names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
    let certified =
        rcgen::generate_simple_self_signed(names).map_err(|e| PgTempError::Tls(e.to_string()))?;
    let cert_pem = certified.cert.pem();
    let key_pem = certified.key_pair.serialize_pem();
    write_private(&data_dir.join(CERT_FILE), &cert_pem, run_as)?;
    write_private(&data_dir.join(KEY_FILE), &key_pem, run_as)?;
    Ok(cert_pem)
}

/// Creates a 0600 file owned by the server user.
pub(crate) fn write_private(
    path: &Path,
    contents: &str,
    run_as: &RunAs,
) -> Result<(), PgTempError> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| PgTempError::io("create file", path, e))?;
    file.write_all(contents.as_bytes())
        .map_err(|e| PgTempError::io("write file", path, e))?;
    run_as.chown(path)
}
