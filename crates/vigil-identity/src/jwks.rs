//! An issuer's JWKS, cached. Keys come from a URL (fetched lazily, since
//! `Verifier::new` is not async) or a file (loaded at startup). The cache
//! is refreshed after a TTL and on an unknown `kid`, but never more than
//! once per `min_refetch_interval`, whatever the reason: a flood of tokens
//! with bogus kids, or an identity provider that is down, costs it at most
//! one request per interval. Stale keys keep serving when a refresh fails.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::redirect::Policy;
use reqwest::{Client, Url};
use tokio::sync::{Mutex, RwLock};

use crate::keys::KeySet;
use crate::{AuthError, IdentityError, VerifierOptions};

/// Largest JWKS document read. Real ones are a few KiB.
const MAX_JWKS_BYTES: usize = 1024 * 1024;

/// Where the document comes from.
enum Fetcher {
    Url { client: Client, url: Url },
    File(PathBuf),
}

struct CacheState {
    keys: Arc<KeySet>,
    /// Last successful fetch.
    fetched_at: Option<Instant>,
    /// Last fetch attempt, successful or not (the rate limit).
    last_attempt: Option<Instant>,
}

/// One issuer's keys.
pub(crate) struct KeyCache {
    issuer: String,
    fetcher: Fetcher,
    refresh_after: Duration,
    min_interval: Duration,
    state: RwLock<CacheState>,
    /// Single-flight: concurrent refreshes wait for the one in progress.
    fetch_lock: Mutex<()>,
}

/// The HTTP client shared by all URL sources: whole-request timeout, and
/// redirects only to HTTPS (a redirect must not downgrade the key channel).
pub(crate) fn http_client(timeout: Duration) -> Result<Client, IdentityError> {
    let policy = Policy::custom(|attempt| {
        if attempt.previous().len() >= 3 || attempt.url().scheme() != "https" {
            attempt.stop()
        } else {
            attempt.follow()
        }
    });
    Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(policy)
        .build()
        .map_err(|e| IdentityError::HttpClient(e.to_string()))
}

/// Parses a JWKS URL: HTTPS, or plain HTTP to a loopback host only.
fn jwks_url(issuer: &str, raw: &str) -> Result<Url, IdentityError> {
    let bad = |reason: String| IdentityError::InvalidIssuer {
        issuer: issuer.to_owned(),
        reason,
    };
    let url = Url::parse(raw).map_err(|e| bad(format!("JWKS URL {raw:?}: {e}")))?;
    let loopback = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback => Ok(url),
        _ => Err(bad(format!("JWKS URL {raw:?} must use https"))),
    }
}

impl KeyCache {
    /// A URL source; nothing is fetched until the first token arrives.
    pub fn from_url(
        issuer: &str,
        raw: &str,
        client: Client,
        opts: &VerifierOptions,
    ) -> Result<Self, IdentityError> {
        let url = jwks_url(issuer, raw)?;
        Ok(Self::build(
            issuer,
            Fetcher::Url { client, url },
            KeySet::default(),
            None,
            opts,
        ))
    }

    /// A file source, loaded now so a bad file fails startup.
    pub fn from_file(
        issuer: &str,
        path: PathBuf,
        opts: &VerifierOptions,
    ) -> Result<Self, IdentityError> {
        let bytes = std::fs::read(&path).map_err(|source| IdentityError::Io {
            path: path.clone(),
            source,
        })?;
        let keys = KeySet::from_jwks(&bytes).map_err(|reason| IdentityError::InvalidJwks {
            origin: path.display().to_string(),
            reason,
        })?;
        Ok(Self::build(
            issuer,
            Fetcher::File(path),
            keys,
            Some(Instant::now()),
            opts,
        ))
    }

    fn build(
        issuer: &str,
        fetcher: Fetcher,
        keys: KeySet,
        at: Option<Instant>,
        opts: &VerifierOptions,
    ) -> Self {
        KeyCache {
            issuer: issuer.to_owned(),
            fetcher,
            refresh_after: opts.jwks_refresh_after,
            min_interval: opts.jwks_min_refetch_interval,
            state: RwLock::new(CacheState {
                keys: Arc::new(keys),
                fetched_at: at,
                last_attempt: at,
            }),
            fetch_lock: Mutex::new(()),
        }
    }

    /// The current keys, refreshed first when missing or older than the TTL
    /// (subject to the rate limit).
    pub async fn current(&self) -> Result<Arc<KeySet>, AuthError> {
        let (fresh, usable) = {
            let state = self.state.read().await;
            let fresh = state
                .fetched_at
                .is_some_and(|t| t.elapsed() < self.refresh_after);
            (fresh, state.keys.len() > 0)
        };
        if !fresh && usable {
            // Stale but usable: one caller refreshes, the rest carry on
            // with the old keys instead of queueing behind the fetch.
            if let Ok(_single_flight) = self.fetch_lock.try_lock() {
                self.fetch_if_allowed().await;
            }
        } else if !fresh {
            self.refetch().await;
        }
        let keys = Arc::clone(&self.state.read().await.keys);
        if keys.len() == 0 {
            return Err(AuthError::KeySourceUnavailable(self.issuer.clone()));
        }
        Ok(keys)
    }

    /// Fetches again if the rate limit allows. Callers re-read the keys
    /// afterwards either way: a concurrent caller may have just fetched.
    pub async fn refetch(&self) {
        let _single_flight = self.fetch_lock.lock().await;
        self.fetch_if_allowed().await;
    }

    /// Fetches unless the rate limit says no. The caller holds `fetch_lock`.
    async fn fetch_if_allowed(&self) {
        {
            let mut state = self.state.write().await;
            if state
                .last_attempt
                .is_some_and(|t| t.elapsed() < self.min_interval)
            {
                return;
            }
            state.last_attempt = Some(Instant::now());
        }
        match self.fetch().await {
            Ok(keys) => {
                let mut state = self.state.write().await;
                state.keys = Arc::new(keys);
                state.fetched_at = Some(Instant::now());
                tracing::debug!(issuer = %self.issuer, keys = state.keys.len(), "JWKS refreshed");
            }
            Err(reason) => tracing::warn!(issuer = %self.issuer, %reason, "JWKS refresh failed"),
        }
    }

    async fn fetch(&self) -> Result<KeySet, String> {
        let bytes = match &self.fetcher {
            Fetcher::Url { client, url } => fetch_url(client, url).await?,
            Fetcher::File(path) => {
                let bytes = tokio::fs::read(path)
                    .await
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                if bytes.len() > MAX_JWKS_BYTES {
                    return Err("JWKS file too large".to_owned());
                }
                bytes
            }
        };
        KeySet::from_jwks(&bytes)
    }
}

/// GET with a body-size cap (the timeout is on the client).
async fn fetch_url(client: &Client, url: &Url) -> Result<Vec<u8>, String> {
    let mut resp = client
        .get(url.clone())
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if !resp.status().is_success() {
        return Err(format!("{url}: HTTP {}", resp.status()));
    }
    let too_big = || format!("{url}: JWKS larger than {MAX_JWKS_BYTES} bytes");
    if resp
        .content_length()
        .is_some_and(|n| n > MAX_JWKS_BYTES as u64)
    {
        return Err(too_big());
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| e.to_string())? {
        if body.len().saturating_add(chunk.len()) > MAX_JWKS_BYTES {
            return Err(too_big());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jwks_url_must_be_https_unless_loopback() {
        assert!(jwks_url("i", "https://idp.example/jwks").is_ok());
        assert!(jwks_url("i", "http://127.0.0.1:8080/jwks").is_ok());
        assert!(jwks_url("i", "http://[::1]/jwks").is_ok());
        assert!(jwks_url("i", "http://idp.example/jwks").is_err());
        assert!(jwks_url("i", "http://127.0.0.1.evil.example/jwks").is_err());
        assert!(jwks_url("i", "file:///etc/passwd").is_err());
        assert!(jwks_url("i", "not a url").is_err());
    }
}
