//! Config → a bound proxy. Everything that can be wrong in the config or
//! the environment (missing secret, unreadable key, bad certificate) fails
//! here, before the first client connects.

use crate::identity::IdentityVerifier;
use crate::ServerError;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use vigil_config::{BackendTls, Config, ConnectionConfig};
use vigil_identity::{
    Algorithm, BuiltinIssuer, BuiltinSettings, IssuerSettings, JwksSource, Verifier,
};
use vigil_proxy::{tls, Proxy, ProxySettings, StatementHook, Target, UpstreamTls};

/// Vigil's own issuer, if configured (created on first use).
pub fn load_issuer(cfg: &Config) -> Result<Option<BuiltinIssuer>, ServerError> {
    let Some(b) = &cfg.identity.builtin else {
        return Ok(None);
    };
    let s = BuiltinSettings {
        issuer: b.issuer.clone(),
        audience: b.audience.clone(),
        key_file: b.key_file.clone(),
    };
    Ok(Some(BuiltinIssuer::load_or_create(&s)?))
}

pub(crate) fn verifier(cfg: &Config) -> Result<Verifier, ServerError> {
    let builtin = load_issuer(cfg)?;
    let mut issuers = Vec::new();
    for (index, i) in cfg.identity.issuers.iter().enumerate() {
        let jwks = match (&i.jwks_url, &i.jwks_file) {
            (Some(u), _) => JwksSource::Url(u.clone()),
            (None, Some(f)) => JwksSource::File(f.clone()),
            (None, None) => unreachable_config(index)?,
        };
        let mut s = IssuerSettings::new(&i.issuer, &i.audience, jwks);
        s.groups_claim = i.groups_claim.clone();
        s.kind_claim = i.kind_claim.clone();
        for name in &i.algorithms {
            let alg = Algorithm::from_str(name).map_err(|_| ServerError::Algorithm {
                index,
                name: name.clone(),
            })?;
            s.algorithms.push(alg);
        }
        issuers.push(s);
    }
    let leeway = Duration::from_secs(cfg.identity.leeway_secs);
    Ok(Verifier::new(builtin.as_ref(), issuers, leeway)?)
}

fn unreachable_config(index: usize) -> Result<JwksSource, ServerError> {
    Err(vigil_config::ConfigError::invalid(
        format!("identity.issuers[{index}].jwks_url"),
        "set exactly one of jwks_url and jwks_file",
    )
    .into())
}

pub(crate) fn target(c: &ConnectionConfig) -> Result<Target, ServerError> {
    let tls = match c.tls {
        BackendTls::Disable => UpstreamTls::Disable,
        BackendTls::Prefer => UpstreamTls::Prefer(tls::unverified_client_config()),
        BackendTls::Require => UpstreamTls::Require(tls::unverified_client_config()),
        BackendTls::VerifyFull => {
            let ca = c.tls_ca_file.as_deref().ok_or_else(|| {
                vigil_config::ConfigError::invalid(
                    format!("connections.{}.tls_ca_file", c.name),
                    "required",
                )
            })?;
            UpstreamTls::Require(tls::verifying_client_config(ca)?)
        }
    };
    Ok(Target {
        info: c.info(),
        host: c.host.clone(),
        port: c.port,
        database: c.database.clone(),
        user: c.user.clone(),
        password: c.resolve_password()?,
        tls,
    })
}

/// The listener settings from `[proxy]`.
pub fn proxy_settings(cfg: &Config) -> Result<ProxySettings, ServerError> {
    let p = &cfg.proxy;
    let tls = match (&p.tls_cert, &p.tls_key) {
        (Some(cert), Some(key)) => Some(tls::server_config(cert, key)?),
        _ => None,
    };
    Ok(ProxySettings {
        listen: p.listen,
        tls,
        require_tls: p.require_tls,
        max_message: p.max_message_bytes,
        handshake_timeout: Duration::from_secs(p.handshake_timeout_secs),
        connect_timeout: Duration::from_secs(p.connect_timeout_secs),
    })
}

/// Builds and binds the proxy described by `cfg`, deciding statements with `hook`.
pub async fn build_proxy(cfg: &Config, hook: Arc<dyn StatementHook>) -> Result<Proxy, ServerError> {
    build_proxy_with(cfg, hook, None).await
}

/// [`build_proxy`] with the response phases (masking, audit outcomes).
pub async fn build_proxy_with(
    cfg: &Config,
    hook: Arc<dyn StatementHook>,
    responses: Option<Arc<dyn vigil_proxy::ResponseHookFactory>>,
) -> Result<Proxy, ServerError> {
    let settings = proxy_settings(cfg)?;
    let targets = cfg
        .connections
        .iter()
        .map(target)
        .collect::<Result<Vec<_>, _>>()?;
    let verifier = Arc::new(IdentityVerifier(verifier(cfg)?));
    let addr = settings.listen;
    Proxy::bind_with_responses(settings, targets, verifier, hook, responses)
        .await
        .map_err(|source| ServerError::Listen { addr, source })
}
