//! The console's backend-for-frontend. `app` builds the whole router so that tests can drive it
//! with `oneshot`, without sockets.

use std::{sync::Arc, time::Duration};

use anyhow::Context;
use axum::{Router, extract::FromRef};

pub mod auth;
pub mod config;
pub mod error;
pub mod middleware;
pub mod oidc;
pub mod permissions_cache;
pub mod routes;
pub mod upstream;

use config::Config;
use shared::ConsoleConfig;

#[derive(Clone)]
pub struct AppState {
    pub oidc: Arc<oidc::OidcVerifier>,
    pub login: Arc<auth::LoginSettings>,
    pub cookie_key: Arc<auth::sealed_cookie::CookieKey>,
    /// The apiserver-proxy, for the API proxy and the permission reviews alike.
    pub upstream: Arc<upstream::Upstream>,
    /// How long an `/api/k8s` request body may take to arrive; `REQUEST_BODY_TIMEOUT` but in tests.
    pub api_body_timeout: Duration,
    pub console_config: Arc<ConsoleConfig>,
    pub spa: Arc<routes::spa::Spa>,
    pub permissions: Arc<routes::permissions::PermissionSettings>,
}

impl AppState {
    pub fn from_config(config: &Config) -> anyhow::Result<Self> {
        let ca_pem = std::fs::read_to_string(&config.apiserver_proxy_ca_file)
            .with_context(|| format!("reading {}", config.apiserver_proxy_ca_file.display()))?;
        let console_config = ConsoleConfig {
            cluster_name: config.cluster_name.clone(),
            apiserver_proxy_url: config.apiserver_proxy_url.clone(),
            apiserver_proxy_ca_pem: ca_pem,
            oidc_issuer: config.oidc_issuer.clone(),
        };
        let http = oidc::http_client(config.oidc_ca_file.as_deref())?;
        let cookie_key = match &config.cookie_key {
            Some(hex) => auth::sealed_cookie::CookieKey::from_hex(hex)?,
            None => {
                tracing::warn!(
                    "no --cookie-key: using a random one, so logins in flight end with a restart"
                );
                auth::sealed_cookie::CookieKey::random()?
            }
        };
        Ok(AppState {
            oidc: Arc::new(oidc::OidcVerifier::new(
                config.oidc_issuer.clone(),
                vec![config.oidc_client_id.clone()],
                http.clone(),
            )),
            login: Arc::new(auth::LoginSettings {
                client_id: config.oidc_client_id.clone(),
                client_secret: config.oidc_client_secret.clone(),
                redirect_uri: format!("{}/auth/callback", config.public_url.trim_end_matches('/')),
                http,
                recent_refreshes: Default::default(),
            }),
            cookie_key: Arc::new(cookie_key),
            upstream: Arc::new(upstream::Upstream::with_ca_file(
                config
                    .apiserver_proxy_internal_url
                    .as_deref()
                    .unwrap_or(&config.apiserver_proxy_url),
                &config.apiserver_proxy_ca_file,
            )?),
            api_body_timeout: routes::kube_proxy::REQUEST_BODY_TIMEOUT,
            console_config: Arc::new(console_config),
            spa: Arc::new(routes::spa::Spa::load(&config.dist_dir)?),
            permissions: Arc::new(routes::permissions::PermissionSettings {
                cache: Default::default(),
                namespaces: configured_namespaces(&config.namespaces)?,
            }),
        })
    }
}

/// `--namespaces`, trimmed, checked (so that a typo fails at start rather than never matching),
/// without repeats and in order, as the switcher offers them.
fn configured_namespaces(given: &[String]) -> anyhow::Result<Vec<String>> {
    let mut namespaces = Vec::new();
    for namespace in given.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
        if !routes::permissions::is_dns_label(namespace) {
            anyhow::bail!("--namespaces: {namespace:?} is not a Kubernetes namespace name");
        }
        namespaces.push(namespace.to_string());
    }
    namespaces.sort();
    namespaces.dedup();
    Ok(namespaces)
}

impl FromRef<AppState> for Arc<oidc::OidcVerifier> {
    fn from_ref(state: &AppState) -> Self {
        state.oidc.clone()
    }
}

impl FromRef<AppState> for Arc<ConsoleConfig> {
    fn from_ref(state: &AppState) -> Self {
        state.console_config.clone()
    }
}

impl FromRef<AppState> for Arc<routes::spa::Spa> {
    fn from_ref(state: &AppState) -> Self {
        state.spa.clone()
    }
}

/// The whole HTTPS application: every route the BFF serves, one router per area.
pub fn app(state: AppState) -> Router {
    let csp = state.spa.content_security_policy();
    Router::new()
        // GET /healthz, GET /readyz.
        .merge(routes::health::router())
        // GET /auth/login, GET /auth/callback, POST /auth/session, /auth/refresh, /auth/logout.
        .merge(auth::router())
        // Any method on /api/k8s/{*path}: the Kubernetes API, as the user. Before the /api nest,
        // which would otherwise answer it with its 404.
        .merge(routes::kube_proxy::router())
        // GET /api/k8s/api/v1/namespaces/{namespace}/pods/{name}/exec and …/attach as WebSockets
        // (the terminal): more specific than the API proxy's wildcard, so they win over it.
        .merge(routes::pod_socket::router())
        // GET /api/config, GET /api/me, POST /api/permissions, GET /api/namespaces; anything else
        // under /api is the JSON 404.
        .nest(
            "/api",
            routes::api::router().merge(routes::permissions::router()),
        )
        // Everything else: the app's files, and its index page for every deep link.
        .merge(routes::spa::router(state.spa.clone()))
        .with_state(state)
        // Layer order: each `layer` wraps what is above it, so the last one runs first.
        // `Router::layer` wraps every route, after routing: `MatchedPath` is there to be read.
        // Around all of them, `server_common::serve` bounds the body's time and counts requests
        // by route; within, the API proxy's routes have their body limit as a route layer.
        //
        // A request asking for an upgrade anywhere but the terminal's routes is refused here,
        // after routing (it reads `MatchedPath`) and inside the tracing, so that it is counted
        // and traced like any other answer.
        .layer(axum::middleware::from_fn(
            routes::pod_socket::refuse_other_upgrades,
        ))
        // Tracing, inside the headers so that its span covers the handler and nothing else.
        .layer(axum::middleware::from_fn(
            middleware::request_trace::trace_request,
        ))
        // Outermost, so that every response, errors and static files included, carries the headers.
        .layer(axum::middleware::from_fn_with_state(
            csp,
            middleware::security_headers::security_headers,
        ))
}
