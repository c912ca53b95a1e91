//! What the BFF knows about its OIDC issuer: the discovery document and the signing keys.

use std::{
    path::Path,
    sync::{Arc, RwLock},
    time::Duration,
};

use anyhow::{Context, bail};
use jsonwebtoken::jwk::JwkSet;
use serde::Deserialize;

/// The fields of the issuer's discovery document that the console uses.
#[derive(Debug, Clone, Deserialize)]
pub struct Discovery {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
}

#[derive(Debug)]
pub struct Provider {
    pub discovery: Discovery,
    pub jwks: JwkSet,
}

pub struct OidcState {
    issuer: String,
    http: reqwest::Client,
    provider: RwLock<Option<Arc<Provider>>>,
}

impl OidcState {
    pub fn new(issuer: String, http: reqwest::Client) -> Self {
        OidcState {
            issuer,
            http,
            provider: RwLock::new(None),
        }
    }

    /// The loaded discovery document and keys; `None` until the first successful fetch.
    pub fn provider(&self) -> Option<Arc<Provider>> {
        self.provider.read().ok().and_then(|p| p.clone())
    }

    /// Fetches discovery and JWKS, and keeps them only if the document names the configured
    /// issuer exactly (OIDC Discovery 1.0, section 4.3).
    pub async fn load(&self) -> anyhow::Result<()> {
        let url = format!(
            "{}/.well-known/openid-configuration",
            self.issuer.trim_end_matches('/')
        );
        let discovery: Discovery = self.get_json(&url).await.context("discovery document")?;
        if discovery.issuer != self.issuer {
            bail!(
                "discovery names issuer {:?}, configured is {:?}",
                discovery.issuer,
                self.issuer
            );
        }
        let jwks: JwkSet = self.get_json(&discovery.jwks_uri).await.context("JWKS")?;
        if jwks.keys.is_empty() {
            bail!("the issuer's JWKS holds no key");
        }
        if let Ok(mut slot) = self.provider.write() {
            *slot = Some(Arc::new(Provider { discovery, jwks }));
        }
        Ok(())
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> anyhow::Result<T> {
        let response = self.http.get(url).send().await?.error_for_status()?;
        Ok(response.json().await?)
    }
}

/// Loads the provider, retrying with backoff until it succeeds, then refreshes it on the
/// JWKS's usual lifetime so that rotated keys are picked up.
pub async fn keep_provider_loaded(oidc: Arc<OidcState>) {
    let mut backoff = Duration::from_millis(200);
    loop {
        match oidc.load().await {
            Ok(()) => {
                tracing::info!("OIDC discovery and JWKS loaded");
                backoff = Duration::from_millis(200);
                tokio::time::sleep(Duration::from_secs(600)).await;
            }
            Err(err) => {
                tracing::warn!(error = %format!("{err:#}"), "OIDC issuer not loaded yet");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
        }
    }
}

/// The client the BFF talks to the issuer with: rustls with only the given CA, and no redirects
/// followed, so that a hostile or misconfigured endpoint cannot bounce requests elsewhere.
pub fn http_client(ca_file: Option<&Path>) -> anyhow::Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .connect_timeout(Duration::from_secs(5));
    if let Some(path) = ca_file {
        let pem = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        for cert in reqwest::Certificate::from_pem_bundle(&pem).context("parsing the OIDC CA")? {
            builder = builder.add_root_certificate(cert);
        }
    }
    builder.build().context("building the HTTP client")
}
