//! Reading a bundle from disk and naming its content. A bundle is every
//! `*.rego` file under a directory (recursively, sorted by relative path)
//! plus an optional top-level `data.json`; the version is a hash of all of
//! it, so the audit trail can say exactly which policy decided.

use crate::error::PolicyError;
use sha2::{Digest, Sha256};
use std::fs;
use std::path::Path;

/// Hex characters of the version hash.
const VERSION_LEN: usize = 16;

/// The `.rego` sources (relative name, text) and the data document.
pub(crate) struct Bundle {
    pub files: Vec<(String, String)>,
    pub data: Option<serde_json::Value>,
}

/// Reads `dir` into a [`Bundle`].
pub(crate) fn read_dir(dir: &Path) -> Result<Bundle, PolicyError> {
    let mut files = Vec::new();
    collect_rego(dir, dir, &mut files)?;
    files.sort();
    let data = read_data(dir)?;
    Ok(Bundle { files, data })
}

/// `data.json` or `data.yaml` (not both), as JSON.
fn read_data(dir: &Path) -> Result<Option<serde_json::Value>, PolicyError> {
    let json = dir.join("data.json");
    let yaml = dir.join("data.yaml");
    let data_error = |path: &Path, message: String| PolicyError::Data {
        file: path.display().to_string(),
        message,
    };
    match (json.is_file(), yaml.is_file()) {
        (true, true) => Err(data_error(
            &yaml,
            "both data.json and data.yaml exist; keep one".into(),
        )),
        (true, false) => serde_json::from_str(&read(&json)?)
            .map(Some)
            .map_err(|e| data_error(&json, e.to_string())),
        (false, true) => crate::yaml::to_json(&read(&yaml)?)
            .map(Some)
            .map_err(|e| data_error(&yaml, e)),
        (false, false) => Ok(None),
    }
}

/// The bundle's version as [`PolicyEngine::version`](crate::PolicyEngine::version)
/// would report it, without compiling: how a watcher notices a change.
pub fn dir_version(dir: &Path) -> Result<String, PolicyError> {
    let b = read_dir(dir)?;
    Ok(version(&b.files, b.data.as_ref()))
}

fn collect_rego(
    root: &Path,
    dir: &Path,
    out: &mut Vec<(String, String)>,
) -> Result<(), PolicyError> {
    let entries = fs::read_dir(dir).map_err(|e| read_error(dir, &e))?;
    for entry in entries {
        let path = entry.map_err(|e| read_error(dir, &e))?.path();
        if path.is_dir() {
            collect_rego(root, &path, out)?;
        } else if path.extension().is_some_and(|e| e == "rego") {
            let name = path.strip_prefix(root).unwrap_or(&path);
            out.push((name.display().to_string(), read(&path)?));
        }
    }
    Ok(())
}

fn read(path: &Path) -> Result<String, PolicyError> {
    fs::read_to_string(path).map_err(|e| read_error(path, &e))
}

fn read_error(path: &Path, e: &std::io::Error) -> PolicyError {
    PolicyError::Read {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// Short hex sha256 over the sorted file names and contents and the data.
/// Lengths are hashed too, so moving bytes between a name and its text
/// changes the version.
pub(crate) fn version(files: &[(String, String)], data: Option<&serde_json::Value>) -> String {
    let mut sorted: Vec<&(String, String)> = files.iter().collect();
    sorted.sort();
    let mut h = Sha256::new();
    for (name, text) in sorted {
        for part in [name.as_bytes(), text.as_bytes()] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part);
        }
    }
    if let Some(d) = data {
        h.update(b"data.json");
        h.update(d.to_string().as_bytes());
    }
    h.finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>()
        .chars()
        .take(VERSION_LEN)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_is_short_hex_and_order_independent() {
        let a = ("a.rego".to_string(), "package a".to_string());
        let b = ("b.rego".to_string(), "package b".to_string());
        let v1 = version(&[a.clone(), b.clone()], None);
        assert_eq!(v1.len(), VERSION_LEN);
        assert!(v1.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(v1, version(&[b.clone(), a.clone()], None));
        assert_ne!(v1, version(&[a, b], Some(&serde_json::json!({}))));
    }
}
