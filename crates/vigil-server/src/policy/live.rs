//! The policy in force, and hot reload.
//!
//! A [`LivePolicy`] hands out the current [`PolicyEngine`] as an `Arc`: a
//! statement decides with the engine it grabbed, so a reload never changes
//! the policy under an in-flight statement. A watcher thread polls the
//! directory's content hash; a changed bundle is compiled and validated as
//! a whole and swapped in only if it is valid. An invalid one is logged and
//! the old policy stays.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::Duration;
use vigil_policy::{PolicyEngine, PolicyError};

/// Where the bundle comes from.
#[derive(Debug, Clone)]
pub enum PolicySource {
    /// Built into the binary (`policies/default`).
    Embedded,
    Dir(PathBuf),
}

/// The policy in force.
#[derive(Debug)]
pub struct LivePolicy {
    source: PolicySource,
    current: RwLock<Arc<PolicyEngine>>,
    /// The last reload's error, until a valid bundle replaces it.
    last_error: Mutex<Option<String>>,
    /// The version in force, announced on every change (the audit trail
    /// records `policy.loaded`).
    versions: tokio::sync::watch::Sender<String>,
}

impl LivePolicy {
    /// Loads the bundle; fails when the first version is invalid.
    pub fn load(source: PolicySource) -> Result<Arc<LivePolicy>, PolicyError> {
        let engine = compile(&source)?;
        tracing::info!(version = engine.version(), source = ?source, "policy loaded");
        Ok(Arc::new(LivePolicy {
            versions: tokio::sync::watch::Sender::new(engine.version().to_owned()),
            source,
            current: RwLock::new(Arc::new(engine)),
            last_error: Mutex::new(None),
        }))
    }

    /// Sees every version put in force from now on.
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<String> {
        self.versions.subscribe()
    }

    /// The bundle's files (`embedded` for the built-in bundle).
    pub fn files(&self) -> Vec<String> {
        let PolicySource::Dir(dir) = &self.source else {
            return vec!["embedded:policies/default".to_owned()];
        };
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| {
                        p.extension().is_some_and(|x| {
                            x == "rego" || x == "json" || x == "yaml" || x == "yml"
                        })
                    })
                    .map(|p| p.display().to_string())
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        files
    }

    /// A fixed engine (tests, `vigil policy eval`).
    pub fn fixed(engine: PolicyEngine) -> Arc<LivePolicy> {
        Arc::new(LivePolicy {
            versions: tokio::sync::watch::Sender::new(engine.version().to_owned()),
            source: PolicySource::Embedded,
            current: RwLock::new(Arc::new(engine)),
            last_error: Mutex::new(None),
        })
    }

    /// Puts `engine` in force (tests, and callers with their own source).
    pub fn replace(&self, engine: PolicyEngine) {
        let version = engine.version().to_owned();
        if let Ok(mut g) = self.current.write() {
            *g = Arc::new(engine);
        }
        self.versions.send_replace(version);
    }

    /// The engine a new statement decides with.
    pub fn current(&self) -> Arc<PolicyEngine> {
        match self.current.read() {
            Ok(g) => Arc::clone(&g),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// The error that kept the last changed bundle out, if any.
    pub fn last_error(&self) -> Option<String> {
        self.last_error.lock().ok().and_then(|g| g.clone())
    }

    /// Reloads if the directory's content changed. `Ok(true)`: a new
    /// version is in force; `Err`: the new version was rejected and the
    /// old one stays.
    pub fn reload_if_changed(&self) -> Result<bool, PolicyError> {
        let PolicySource::Dir(dir) = &self.source else {
            return Ok(false);
        };
        let on_disk = vigil_policy::dir_version(dir);
        let result = match on_disk {
            Ok(v) if v == self.current().version() => {
                self.set_error(None);
                return Ok(false);
            }
            Ok(_) => PolicyEngine::load_dir(dir),
            Err(e) => Err(e),
        };
        match result {
            Ok(engine) => {
                let old = self.current().version().to_owned();
                tracing::info!(from = %old, to = engine.version(), "policy reloaded");
                let version = engine.version().to_owned();
                if let Ok(mut g) = self.current.write() {
                    *g = Arc::new(engine);
                }
                self.versions.send_replace(version);
                self.set_error(None);
                Ok(true)
            }
            Err(e) => {
                if self.last_error().as_deref() != Some(&e.to_string()) {
                    tracing::error!(error = %e, kept = self.current().version(),
                        "policy change rejected; the previous policy stays in force");
                }
                self.set_error(Some(e.to_string()));
                Err(e)
            }
        }
    }

    fn set_error(&self, e: Option<String>) {
        if let Ok(mut g) = self.last_error.lock() {
            *g = e;
        }
    }

    /// Polls for changes every `every` until the policy is dropped.
    pub fn watch(self: &Arc<Self>, every: Duration) {
        if every.is_zero() || !matches!(self.source, PolicySource::Dir(_)) {
            return;
        }
        let weak: Weak<LivePolicy> = Arc::downgrade(self);
        let spawned = std::thread::Builder::new()
            .name("vigil-policy-watch".into())
            .spawn(move || loop {
                std::thread::sleep(every);
                let Some(live) = weak.upgrade() else { return };
                let _ = live.reload_if_changed();
            });
        if let Err(e) = spawned {
            tracing::error!(error = %e, "cannot start the policy watcher; hot reload is off");
        }
    }
}

fn compile(source: &PolicySource) -> Result<PolicyEngine, PolicyError> {
    match source {
        PolicySource::Embedded => PolicyEngine::default_bundle(),
        PolicySource::Dir(dir) => PolicyEngine::load_dir(Path::new(dir)),
    }
}
