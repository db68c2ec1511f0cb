//! The configuration files we write into a fresh data directory. Our settings
//! live in one include file (`vigil_pgtemp.conf`) so a port change on retry is
//! a rewrite of that file, not an edit of initdb's postgresql.conf.

use std::path::Path;

use crate::options::{AuthMethod, ClusterOptions};

/// Name of the include file, relative to the data directory.
pub(crate) const INCLUDE_FILE: &str = "vigil_pgtemp.conf";
/// Server certificate and key file names, relative to the data directory.
pub(crate) const CERT_FILE: &str = "server.crt";
pub(crate) const KEY_FILE: &str = "server.key";

/// pg_hba.conf: Unix sockets trust (only our temp dir reaches them), TCP from
/// loopback uses the requested method, everything else is rejected by omission.
pub(crate) fn hba_conf(auth: AuthMethod) -> String {
    let m = auth.hba_name();
    format!(
        "# written by vigil-pgtemp\n\
         local all all trust\n\
         host all all 127.0.0.1/32 {m}\n\
         host all all ::1/128 {m}\n\
         local replication all trust\n\
         host replication all 127.0.0.1/32 {m}\n"
    )
}

/// Our settings. fsync off trades durability against an OS crash for speed;
/// a killed server still loses nothing committed, because commits still write
/// WAL to the page cache (so `synchronous_commit` stays on for fault tests).
/// Caller settings come last so they override ours.
pub(crate) fn server_conf(port: u16, socket_dir: &Path, opts: &ClusterOptions) -> String {
    let mut lines: Vec<(String, String)> = vec![
        ("listen_addresses".into(), "127.0.0.1".into()),
        ("port".into(), port.to_string()),
        (
            "unix_socket_directories".into(),
            socket_dir.display().to_string(),
        ),
        ("fsync".into(), "off".into()),
        ("full_page_writes".into(), "off".into()),
        ("logging_collector".into(), "off".into()),
        ("shared_buffers".into(), "32MB".into()),
        ("max_connections".into(), "100".into()),
        (
            "password_encryption".into(),
            opts.auth.password_encryption().into(),
        ),
    ];
    if opts.ssl {
        lines.push(("ssl".into(), "on".into()));
        lines.push(("ssl_cert_file".into(), CERT_FILE.into()));
        lines.push(("ssl_key_file".into(), KEY_FILE.into()));
    }
    lines.extend(opts.settings.iter().cloned());
    let mut out = String::from("# written by vigil-pgtemp; later lines win\n");
    for (name, value) in &lines {
        out.push_str(&format!("{name} = {}\n", quote(value)));
    }
    out
}

/// postgresql.conf string literal: single quotes doubled, backslashes escaped.
fn quote(value: &str) -> String {
    format!("'{}'", value.replace('\\', "\\\\").replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caller_settings_come_after_ours_and_are_quoted() {
        let opts = ClusterOptions::default().setting("search_path", "a'b");
        let conf = server_conf(5433, Path::new("/tmp/x"), &opts);
        assert!(conf.contains("port = '5433'\n"));
        assert!(conf.contains("unix_socket_directories = '/tmp/x'\n"));
        assert!(conf.ends_with("search_path = 'a''b'\n"));
        assert!(!conf.contains("ssl = "));
    }

    #[test]
    fn md5_clusters_store_md5_hashes() {
        let opts = ClusterOptions::with_password(AuthMethod::Md5, "pw");
        let conf = server_conf(1, Path::new("/s"), &opts);
        assert!(conf.contains("password_encryption = 'md5'"));
        assert!(hba_conf(AuthMethod::Md5).contains("host all all 127.0.0.1/32 md5\n"));
    }
}
