//! Everything a configured Vigil runs besides the listener: the store, the
//! audit trail's writer and the statement hook built on them. Built inside
//! the runtime that will serve (the writers are tokio tasks).

use crate::auditor::{Auditor, ConnectionAudit};
use crate::{policy_hook, ServerError};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use vigil_approvals::{ApprovalService, ApprovalSettings, WebhookFormat, WebhookSettings};
use vigil_audit::event::{ConfigLoaded, PolicyLoaded};
use vigil_audit::{AuditKey, CheckpointPolicy, Event};
use vigil_config::{Config, PolicyEngineKind};
use vigil_proxy::{ResponseHookFactory, StatementHook};
use vigil_store::audit::{AuditLog, AuditSettings};
use vigil_store::Store;

/// The store-backed services of one Vigil process.
#[derive(Default)]
pub struct Services {
    pub store: Option<Store>,
    pub audit: Option<AuditLog>,
    /// Held statements waiting for reviewers.
    pub approvals: Option<ApprovalService>,
    /// Where the API and web UI listen (`[http] listen`, resolved).
    pub http: Option<SocketAddr>,
    /// The web API's policy dry run, filled by [`hook`] once the policy
    /// is loaded.
    pub policy: vigil_web::PolicySlot,
}

impl Services {
    /// Opens the store, starts the audit writer as `[store]` and `[audit]`
    /// ask (recording `config.loaded`), the approvals service, and the
    /// API and web UI on `[http] listen`.
    pub async fn start(cfg: &Config, config_path: Option<&Path>) -> Result<Services, ServerError> {
        let store = Store::open(&cfg.store.url)
            .await
            .map_err(|e| ServerError::Store(e.to_string()))?;
        let audit = if cfg.audit.enabled {
            Some(start_audit(cfg, config_path, &store).await?)
        } else {
            tracing::warn!("[audit] enabled = false: statements are not recorded");
            None
        };
        let listener = tokio::net::TcpListener::bind(cfg.http.listen)
            .await
            .map_err(|source| ServerError::Listen {
                addr: cfg.http.listen,
                source,
            })?;
        let http = listener
            .local_addr()
            .map_err(|e| ServerError::Runtime(e.to_string()))?;
        let approvals = ApprovalService::start(&store, approval_settings(cfg, http))
            .map_err(|e| ServerError::Store(format!("approvals: {e}")))?;
        if let Some(log) = &audit {
            let redact = cfg
                .connections
                .iter()
                .filter(|c| c.audit_redact_literals)
                .map(|c| c.name.clone())
                .collect();
            record_approvals(&approvals, log, redact);
        }
        let verifier = Arc::new(crate::wiring::verifier(cfg)?);
        let policy = vigil_web::PolicySlot::default();
        let mut web =
            vigil_web::WebState::new(approvals.clone(), verifier).with_policy(policy.clone());
        if audit.is_some() {
            web = web.with_audit(store.clone());
        }
        if let Some(handle) = prometheus() {
            web = web.with_metrics(Arc::new(move || handle.render()));
        }
        let router = vigil_web::router(web);
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, router).await {
                tracing::error!(error = %e, "the web server stopped");
            }
        });
        tracing::info!(%http, "API and web UI listening");
        Ok(Services {
            store: Some(store),
            audit,
            approvals: Some(approvals),
            http: Some(http),
            policy,
        })
    }

    /// Signs a final checkpoint and closes the store.
    pub async fn close(&self) {
        if let Some(a) = &self.audit {
            if let Err(e) = a.close().await {
                tracing::warn!(error = %e, "closing the audit trail");
            }
        }
        if let Some(s) = &self.store {
            s.close().await;
        }
    }
}

/// The process's Prometheus recorder for `GET /metrics`, installed on first
/// use and shared by every Vigil in the process (the tests run several).
/// `None` when something else installed a global recorder first. Vigil
/// records counters only, so the recorder needs no upkeep task.
fn prometheus() -> Option<metrics_exporter_prometheus::PrometheusHandle> {
    static HANDLE: std::sync::OnceLock<Option<metrics_exporter_prometheus::PrometheusHandle>> =
        std::sync::OnceLock::new();
    HANDLE
        .get_or_init(|| {
            match metrics_exporter_prometheus::PrometheusBuilder::new().install_recorder() {
                Ok(handle) => Some(handle),
                Err(e) => {
                    tracing::warn!(error = %e, "metrics are not exported");
                    None
                }
            }
        })
        .clone()
}

async fn start_audit(
    cfg: &Config,
    config_path: Option<&Path>,
    store: &Store,
) -> Result<AuditLog, ServerError> {
    let key = AuditKey::load_or_create(&cfg.audit.key_file).map_err(|e| {
        ServerError::Store(format!(
            "audit.key_file {}: {e}",
            cfg.audit.key_file.display()
        ))
    })?;
    let settings = AuditSettings {
        checkpoint: CheckpointPolicy {
            every_records: cfg.audit.checkpoint_every_records,
            every_ms: cfg.audit.checkpoint_every_secs.saturating_mul(1000),
        },
        ..AuditSettings::default()
    };
    let log = AuditLog::start(store.clone(), chain_id(cfg), key, settings)
        .await
        .map_err(|e| ServerError::Store(format!("audit: {e}")))?;
    log.append(&config_loaded(cfg, config_path))
        .await
        .map_err(|e| ServerError::Store(format!("audit: {e}")))?;
    retention(&log, cfg.audit.retention_days);
    Ok(log)
}

/// The statement hook for `cfg`, wired to the services.
pub async fn hook(
    cfg: &Config,
    services: &Services,
) -> Result<Arc<dyn StatementHook>, ServerError> {
    let p = &cfg.policy;
    if !p.guardrails {
        // The config refuses this with the audit trail on (nothing would
        // be recorded): see vigil-config's validate.
        return crate::hook_for(cfg);
    }
    if p.engine == PolicyEngineKind::Guardrails {
        let mut hook = crate::GuardrailHook::new(p.classifier_cache);
        if let Some(log) = &services.audit {
            hook = hook.with_auditor(auditor(cfg, log));
        }
        return Ok(Arc::new(hook));
    }
    let mut hook = policy_hook(p)?;
    let clock = crate::PolicyClock::new(&p.time_zone).map_err(ServerError::Policy)?;
    let dry_run = crate::policy::dry_run::DryRun::new(
        hook.live().clone(),
        clock,
        cfg.connections.iter().map(|c| c.info()),
    );
    // Set once per Services; a second hook for the same services keeps the first.
    let _ = services.policy.set(Arc::new(dry_run));
    if let Some(log) = &services.audit {
        record_policy_versions(hook.live(), log).await?;
        hook = hook.with_auditor(auditor(cfg, log));
    }
    if let Some(a) = &services.approvals {
        hook = hook.with_approvals(crate::policy::hold::Approvals::new(a.clone()));
    }
    Ok(Arc::new(hook))
}

/// The statement hooks' audit side: `log` with each connection's settings.
fn auditor(cfg: &Config, log: &AuditLog) -> Auditor {
    let per_conn: HashMap<String, ConnectionAudit> = cfg
        .connections
        .iter()
        .map(|c| {
            let a = ConnectionAudit {
                redact_literals: c.audit_redact_literals,
                fail_open: c.audit_fail_open,
            };
            (c.name.clone(), a)
        })
        .collect();
    Auditor::new(log.clone(), per_conn)
}

/// The response phases for `cfg`: masking rewrites, the audit outcome
/// observes. `None` when neither runs.
pub fn responses(
    cfg: &Config,
    services: &Services,
) -> Result<Option<Arc<dyn ResponseHookFactory>>, ServerError> {
    let rewrite = crate::masking::factory(cfg, services)?;
    let observers = crate::outcomes::factory(cfg, services)?
        .into_iter()
        .collect();
    Ok(crate::responses::Responses { rewrite, observers }.into_factory())
}

/// Store, audit, hook, response phases and listener: a configured proxy.
pub async fn build(
    cfg: &Config,
    config_path: Option<&Path>,
) -> Result<(vigil_proxy::Proxy, Services), ServerError> {
    let services = Services::start(cfg, config_path).await?;
    let hook = hook(cfg, &services).await?;
    let responses = responses(cfg, &services)?;
    let mut proxy = crate::build_proxy_with(cfg, hook, responses).await?;
    if let Some(log) = &services.audit {
        proxy = proxy.with_observer(crate::session_audit::SessionAudit::new(log.clone()));
    }
    Ok((proxy, services))
}

fn approval_settings(cfg: &Config, http: SocketAddr) -> ApprovalSettings {
    let a = &cfg.approvals;
    ApprovalSettings {
        public_url: cfg
            .http
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{http}")),
        default_timeout: Duration::from_secs(a.default_timeout_secs),
        poll_interval: Duration::from_millis(a.poll_ms.max(1)),
        webhooks: a
            .webhooks
            .iter()
            .map(|w| WebhookSettings {
                url: w.url.clone(),
                format: if w.format.eq_ignore_ascii_case("slack") {
                    WebhookFormat::Slack
                } else {
                    WebhookFormat::Generic
                },
            })
            .collect(),
        ..ApprovalSettings::default()
    }
}

/// Records `policy.loaded` for the bundle in force now and for every
/// version hot reload puts in force later.
async fn record_policy_versions(
    live: &Arc<crate::LivePolicy>,
    log: &AuditLog,
) -> Result<(), ServerError> {
    fn loaded(version: String, live: &crate::LivePolicy) -> Event {
        Event::PolicyLoaded(PolicyLoaded {
            version,
            files: live.files(),
        })
    }
    let mut versions = live.subscribe();
    let first = versions.borrow_and_update().clone();
    log.append(&loaded(first, live))
        .await
        .map_err(|e| ServerError::Store(format!("audit: {e}")))?;
    let (live, log) = (Arc::downgrade(live), log.clone());
    tokio::spawn(async move {
        while versions.changed().await.is_ok() {
            let version = versions.borrow_and_update().clone();
            let Some(live) = live.upgrade() else { return };
            if let Err(e) = log.append(&loaded(version, &live)).await {
                tracing::error!(error = %e, "cannot record policy.loaded");
            }
        }
    });
    Ok(())
}

/// Copies approval lifecycle events into the audit trail.
fn record_approvals(
    approvals: &ApprovalService,
    log: &AuditLog,
    redact: std::collections::HashSet<String>,
) {
    let mut rx = approvals.subscribe();
    let log = log.clone();
    tokio::spawn(async move {
        loop {
            let ev = match rx.recv().await {
                Ok(ev) => ev,
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    tracing::error!(
                        missed = n,
                        "approval events lagged; some are not in the audit trail"
                    );
                    continue;
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            };
            if let Some(event) = crate::approval_audit::event(&ev, &redact) {
                if let Err(e) = log.append(&event).await {
                    tracing::error!(error = %e, "cannot record an approval event");
                }
            }
        }
    });
}

fn chain_id(cfg: &Config) -> String {
    cfg.audit.chain_id.clone().unwrap_or_else(|| {
        std::fs::read_to_string("/etc/hostname")
            .ok()
            .map(|h| h.trim().to_owned())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "vigil".to_owned())
    })
}

fn config_loaded(cfg: &Config, path: Option<&Path>) -> Event {
    let text = path.and_then(|p| std::fs::read(p).ok()).unwrap_or_default();
    Event::ConfigLoaded(ConfigLoaded {
        path: path.map(|p| p.display().to_string()).unwrap_or_default(),
        sha256: hex(&Sha256::digest(&text)),
        connections: cfg.connections.iter().map(|c| c.name.clone()).collect(),
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Deletes expired records hourly (each run writes a signed cut).
fn retention(log: &AuditLog, days: u64) {
    if days == 0 {
        return;
    }
    let log = log.clone();
    tokio::spawn(async move {
        loop {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
            let cutoff = now
                .saturating_sub(i64::try_from(days.saturating_mul(86_400_000)).unwrap_or(i64::MAX));
            loop {
                match log.apply_retention(cutoff).await {
                    Ok(o) if o.more => continue,
                    Ok(_) => break,
                    Err(e) => {
                        tracing::warn!(error = %e, "audit retention failed; will retry");
                        break;
                    }
                }
            }
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
    });
}
