//! `[masking]` turned into what every session shares: the hash key, the
//! configured default strategies, and each connection's catalog (OIDs are
//! per database, so a session only sees its own connection's entries).

use super::session::SessionMasker;
use crate::ServerError;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;
use vigil_config::Config;
use vigil_mask::{Catalog, HashKey, MaskRules};
use vigil_pgwire::text::ClientEncoding;
use vigil_proxy::respond::{ResponseHook, ResponseHookFactory};
use vigil_proxy::SessionContext;

/// What all sessions share.
#[derive(Debug)]
pub struct Shared {
    pub key: HashKey,
    /// `[masking] default`: beneath the policy's `mask` output.
    pub default: BTreeMap<String, String>,
    /// `[masking] wholesale_computed`.
    pub wholesale_computed: bool,
}

/// The masking phase's factory: one [`SessionMasker`] per session.
#[derive(Debug)]
pub struct Masking {
    shared: Arc<Shared>,
    catalogs: HashMap<String, Arc<Catalog>>,
    empty: Arc<Catalog>,
}

impl Masking {
    /// From the config: the key (file or `VIGIL_MASK_KEY`), the catalog
    /// file split per connection, the defaults (checked now).
    pub fn from_config(cfg: &Config) -> Result<Masking, ServerError> {
        let m = &cfg.masking;
        let key = super::key::load(&m.key_file)?;
        let catalog = match &m.catalog {
            Some(path) => load_catalog(path)?,
            None => Catalog::default(),
        };
        for name in catalog.connections() {
            if cfg.connection(name).is_none() {
                tracing::warn!(
                    connection = name,
                    "masking.catalog has entries for a connection that is not configured"
                );
            }
        }
        let names: Vec<&str> = cfg.connections.iter().map(|c| c.name.as_str()).collect();
        Masking::new(
            key,
            m.default.clone(),
            &catalog,
            &names,
            m.wholesale_computed,
        )
    }

    /// The phase for these connections; `default` is validated here.
    pub fn new(
        key: HashKey,
        default: BTreeMap<String, String>,
        catalog: &Catalog,
        connections: &[&str],
        wholesale_computed: bool,
    ) -> Result<Masking, ServerError> {
        MaskRules::new(&default, key.clone(), ClientEncoding::Utf8)
            .map_err(|e| ServerError::Runtime(format!("masking.default: {e}")))?;
        let catalogs = connections
            .iter()
            .map(|c| (c.to_string(), Arc::new(catalog.for_connection(c))))
            .collect();
        Ok(Masking {
            shared: Arc::new(Shared {
                key,
                default,
                wholesale_computed,
            }),
            catalogs,
            empty: Arc::new(Catalog::default()),
        })
    }
}

/// Reads a catalog file (JSON or TOML).
pub fn load_catalog(path: &Path) -> Result<Catalog, ServerError> {
    let bad = |why: String| {
        ServerError::Runtime(format!(
            "masking.catalog {}: {why} (write it with `vigil classify`)",
            path.display()
        ))
    };
    let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
    Catalog::parse(&text).map_err(|e| bad(e.to_string()))
}

impl ResponseHookFactory for Masking {
    fn session(&self, ctx: &SessionContext) -> Option<Box<dyn ResponseHook>> {
        let catalog = self
            .catalogs
            .get(&ctx.connection.name)
            .unwrap_or(&self.empty)
            .clone();
        Some(Box::new(SessionMasker::new(
            self.shared.clone(),
            catalog,
            &ctx.client_encoding_name(),
        )))
    }
}
