//! The configuration file's structure. Field docs are the reference for
//! users; keep them in step with README.md.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

/// The whole file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The PostgreSQL listener clients connect to.
    #[serde(default)]
    pub proxy: ProxyConfig,
    /// The HTTP listener: API, web UI and metrics.
    #[serde(default)]
    pub http: HttpConfig,
    /// Who may connect: token issuers.
    #[serde(default)]
    pub identity: IdentityConfig,
    /// Where Vigil keeps its state (approvals, audit).
    #[serde(default)]
    pub store: StoreConfig,
    /// Policy bundle location.
    #[serde(default)]
    pub policy: PolicyConfig,
    /// The tamper-evident audit trail.
    #[serde(default)]
    pub audit: AuditConfig,
    /// Holding statements for human approval.
    #[serde(default)]
    pub approvals: ApprovalsConfig,
    /// Dynamic data masking of everything sent to clients.
    #[serde(default)]
    pub masking: MaskingConfig,
    /// The databases clients may reach, by name.
    #[serde(default)]
    pub connections: Vec<ConnectionConfig>,
}

/// `[proxy]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProxyConfig {
    /// Address to listen on for PostgreSQL clients.
    #[serde(default = "default_proxy_listen")]
    pub listen: SocketAddr,
    /// PEM certificate chain offered to clients that ask for TLS.
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for `tls_cert`.
    pub tls_key: Option<PathBuf>,
    /// Refuse cleartext token exchange on non-loopback connections without TLS.
    #[serde(default)]
    pub require_tls: bool,
    /// Largest single protocol message accepted from a client or server, in bytes.
    #[serde(default = "default_max_message")]
    pub max_message_bytes: usize,
    /// Seconds a client has to finish startup and authentication.
    #[serde(default = "default_handshake_timeout")]
    pub handshake_timeout_secs: u64,
    /// Seconds allowed for connecting to a backend.
    #[serde(default = "default_connect_timeout")]
    pub connect_timeout_secs: u64,
    /// Threads serving sessions; 0 means one per CPU. On a small machine
    /// shared with the database, 1 can beat more (fewer context switches).
    #[serde(default)]
    pub worker_threads: usize,
}

/// `[http]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    /// Address for the API, web UI and metrics.
    #[serde(default = "default_http_listen")]
    pub listen: SocketAddr,
    /// Public base URL used in links sent to clients (defaults to `http://<listen>`).
    pub public_url: Option<String>,
}

/// `[identity]`
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct IdentityConfig {
    /// Vigil's own issuer, for service accounts, agents and the demo.
    pub builtin: Option<BuiltinIssuerConfig>,
    /// External OIDC issuers whose JWTs are accepted.
    #[serde(default)]
    pub issuers: Vec<IssuerConfig>,
    /// Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds.
    #[serde(default = "default_leeway")]
    pub leeway_secs: u64,
}

/// `[identity.builtin]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuiltinIssuerConfig {
    /// `iss` of tokens Vigil issues.
    #[serde(default = "default_vigil")]
    pub issuer: String,
    /// `aud` of tokens Vigil issues and accepts.
    #[serde(default = "default_vigil")]
    pub audience: String,
    /// Ed25519 signing key (PKCS#8 PEM); created on first use.
    #[serde(default = "default_key_file")]
    pub key_file: PathBuf,
}

/// `[[identity.issuers]]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssuerConfig {
    /// Exact `iss` value of the provider.
    pub issuer: String,
    /// Required `aud` value.
    pub audience: String,
    /// URL of the provider's JWKS document.
    pub jwks_url: Option<String>,
    /// Local JWKS file, instead of `jwks_url`.
    pub jwks_file: Option<PathBuf>,
    /// Claim holding the user's groups.
    #[serde(default = "default_groups_claim")]
    pub groups_claim: String,
    /// Claim naming the principal kind (`human`, `service`, `agent`); absent means human.
    pub kind_claim: Option<String>,
    /// Allowed signing algorithms (e.g. `["RS256"]`); empty means Vigil's asymmetric default set.
    #[serde(default)]
    pub algorithms: Vec<String>,
}

/// `[store]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// `sqlite://path` (default, single replica) or `postgres://…`.
    #[serde(default = "default_store_url")]
    pub url: String,
}

/// `[policy]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyConfig {
    /// Directory of `.rego` files plus an optional `data.json` or
    /// `data.yaml`. Unset: the default bundle built into Vigil
    /// (`policies/default`). Watched for changes (see `reload_secs`).
    pub path: Option<PathBuf>,
    /// Parse, classify and decide every statement. `false` makes Vigil a
    /// pass-through (identity and relay only) — for benchmarks and
    /// debugging, never for production.
    #[serde(default = "default_true")]
    pub guardrails: bool,
    /// `rego` (default): the policy bundle decides, above the fail-closed
    /// floor. `guardrails`: only the built-in Rust guardrails decide (no
    /// review, no masking rules) — a fallback and a benchmark baseline.
    #[serde(default)]
    pub engine: PolicyEngineKind,
    /// How often the policy directory is checked for changes, in seconds;
    /// 0 turns hot reload off.
    #[serde(default = "default_reload_secs")]
    pub reload_secs: u64,
    /// Time zone for `input.time` (IANA name such as `Europe/Berlin`, or `UTC`).
    #[serde(default = "default_time_zone")]
    pub time_zone: String,
    /// Entries in the statement classification cache (exact text → facts).
    #[serde(default = "default_cache")]
    pub classifier_cache: usize,
    /// Entries in the decision cache (used when the bundle declares
    /// `cacheable := true`); 0 turns it off.
    #[serde(default = "default_cache")]
    pub decision_cache: usize,
}

/// Which engine decides.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PolicyEngineKind {
    #[default]
    Rego,
    Guardrails,
}

impl Default for PolicyConfig {
    fn default() -> Self {
        PolicyConfig {
            path: None,
            guardrails: true,
            engine: PolicyEngineKind::Rego,
            reload_secs: default_reload_secs(),
            time_zone: default_time_zone(),
            classifier_cache: default_cache(),
            decision_cache: default_cache(),
        }
    }
}

fn default_reload_secs() -> u64 {
    2
}
fn default_time_zone() -> String {
    "UTC".to_owned()
}
fn default_true() -> bool {
    true
}
fn default_cache() -> usize {
    4096
}

/// How Vigil talks TLS to a backend.
#[derive(Debug, Clone, Copy, Deserialize, Default, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum BackendTls {
    /// Plain TCP.
    #[default]
    Disable,
    /// TLS if the server offers it, without certificate verification.
    Prefer,
    /// TLS required, certificate not verified.
    Require,
    /// TLS required, certificate verified against `tls_ca_file` and the host name.
    VerifyFull,
}

/// `[[connections]]`: a database clients reach by naming it as `dbname`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectionConfig {
    /// Name clients use as their `dbname`.
    pub name: String,
    /// Database engine; only `postgres` for now.
    #[serde(default = "default_engine")]
    pub engine: String,
    /// Backend host.
    pub host: String,
    /// Backend port.
    #[serde(default = "default_pg_port")]
    pub port: u16,
    /// Backend database name.
    pub database: String,
    /// Backend user Vigil logs in as.
    pub user: String,
    /// Environment variable holding the backend password.
    pub password_env: Option<String>,
    /// File holding the backend password (trailing newline ignored).
    pub password_file: Option<PathBuf>,
    /// `production`, `staging`, `dev`, …; drives the default guardrails.
    #[serde(default = "default_environment")]
    pub environment: String,
    /// Free-form labels for policy.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Allow opaque code (DO blocks, functions, CALL) on this connection.
    #[serde(default)]
    pub allow_opaque_code: bool,
    /// TLS to the backend.
    #[serde(default)]
    pub tls: BackendTls,
    /// CA bundle for `tls = "verify-full"`.
    pub tls_ca_file: Option<PathBuf>,
    /// Store statements in the audit trail with literals replaced by `$n`
    /// (so the trail itself holds no PII typed into queries).
    #[serde(default)]
    pub audit_redact_literals: bool,
    /// Let statements run when the audit store is unavailable. Only for
    /// non-production connections; the default (false) fails closed.
    #[serde(default)]
    pub audit_fail_open: bool,
}

/// `[audit]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditConfig {
    /// Record every session and statement (write-ahead) in the store.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Ed25519 key that signs checkpoints; created (0600) on first use.
    #[serde(default = "default_audit_key")]
    pub key_file: PathBuf,
    /// This replica's chain id; must be unique per replica. Default: hostname.
    pub chain_id: Option<String>,
    /// Sign a checkpoint after this many records …
    #[serde(default = "default_checkpoint_records")]
    pub checkpoint_every_records: u64,
    /// … or this many seconds, whichever comes first.
    #[serde(default = "default_checkpoint_secs")]
    pub checkpoint_every_secs: u64,
    /// Delete records older than this many days (a signed retention record
    /// marks the cut); 0 keeps everything.
    #[serde(default)]
    pub retention_days: u64,
    /// More public keys `vigil audit verify` accepts (after a key rotation).
    #[serde(default)]
    pub public_keys: Vec<PathBuf>,
}

impl Default for AuditConfig {
    fn default() -> Self {
        AuditConfig {
            enabled: true,
            key_file: default_audit_key(),
            chain_id: None,
            checkpoint_every_records: default_checkpoint_records(),
            checkpoint_every_secs: default_checkpoint_secs(),
            retention_days: 0,
            public_keys: Vec::new(),
        }
    }
}

fn default_audit_key() -> PathBuf {
    PathBuf::from("vigil-audit.key")
}
fn default_checkpoint_records() -> u64 {
    1000
}
fn default_checkpoint_secs() -> u64 {
    10
}

/// `[masking]`: see docs/masking.md.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaskingConfig {
    /// Mask every message that carries data to clients. Off only for
    /// benchmarks: results then leave unmasked.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Column catalog written by `vigil classify` (JSON or TOML); none =
    /// value detectors only.
    pub catalog: Option<PathBuf>,
    /// 32-byte HMAC key behind the `hash` strategy, hex; created (0600) on
    /// first start. The environment variable `VIGIL_MASK_KEY` (64 hex
    /// digits) takes precedence.
    #[serde(default = "default_mask_key")]
    pub key_file: PathBuf,
    /// Strategies used beneath the policy's `mask` output (and alone when
    /// no policy decides): classification, group (`pii`, `secrets`, `*`) or
    /// `schema.table.column` → `redact|partial|hash|null|reveal|refuse`.
    #[serde(default)]
    pub default: BTreeMap<String, String>,
    /// Mask computed result columns (no source table) wholesale when the
    /// statement reads a classified column; otherwise only the value
    /// detectors see them.
    #[serde(default)]
    pub wholesale_computed: bool,
}

impl Default for MaskingConfig {
    fn default() -> Self {
        MaskingConfig {
            enabled: true,
            catalog: None,
            key_file: default_mask_key(),
            default: BTreeMap::new(),
            wholesale_computed: false,
        }
    }
}

fn default_mask_key() -> PathBuf {
    PathBuf::from("vigil-mask.key")
}

/// `[approvals]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalsConfig {
    /// How long a held statement waits when the policy gives no
    /// `review_timeout`, in seconds.
    #[serde(default = "default_review_timeout")]
    pub default_timeout_secs: u64,
    /// How often waiting statements check the store for decisions made by
    /// another replica, in milliseconds.
    #[serde(default = "default_poll_ms")]
    pub poll_ms: u64,
    /// Webhooks told when a request is created and decided.
    #[serde(default)]
    pub webhooks: Vec<WebhookConfig>,
}

impl Default for ApprovalsConfig {
    fn default() -> Self {
        ApprovalsConfig {
            default_timeout_secs: default_review_timeout(),
            poll_ms: default_poll_ms(),
            webhooks: Vec::new(),
        }
    }
}

/// `[[approvals.webhooks]]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    pub url: String,
    /// `generic` (default) or `slack`.
    #[serde(default = "default_webhook_format")]
    pub format: String,
}

fn default_review_timeout() -> u64 {
    1800
}
fn default_poll_ms() -> u64 {
    25
}
fn default_webhook_format() -> String {
    "generic".to_owned()
}

impl Default for ProxyConfig {
    fn default() -> Self {
        ProxyConfig {
            listen: default_proxy_listen(),
            tls_cert: None,
            tls_key: None,
            require_tls: false,
            max_message_bytes: default_max_message(),
            handshake_timeout_secs: default_handshake_timeout(),
            connect_timeout_secs: default_connect_timeout(),
            worker_threads: 0,
        }
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            listen: default_http_listen(),
            public_url: None,
        }
    }
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            url: default_store_url(),
        }
    }
}

fn default_proxy_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 7432))
}
fn default_http_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 7480))
}
fn default_max_message() -> usize {
    64 * 1024 * 1024
}
fn default_handshake_timeout() -> u64 {
    30
}
fn default_connect_timeout() -> u64 {
    10
}
fn default_leeway() -> u64 {
    30
}
fn default_vigil() -> String {
    "vigil".to_owned()
}
fn default_key_file() -> PathBuf {
    PathBuf::from("vigil-signing.key")
}
fn default_groups_claim() -> String {
    "groups".to_owned()
}
fn default_store_url() -> String {
    "sqlite://vigil.db".to_owned()
}
fn default_engine() -> String {
    "postgres".to_owned()
}
fn default_pg_port() -> u16 {
    5432
}
fn default_environment() -> String {
    "production".to_owned()
}
