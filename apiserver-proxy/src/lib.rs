//! The apiserver-proxy: authenticates each request's bearer ID token against Dex, removes every
//! client-sent credential and impersonation header, and forwards to the kube-apiserver with its
//! own (impersonate-only) identity and `Impersonate-User`/`Impersonate-Group` set from the token.
//! Upgraded connections (exec, attach, port-forward) go through the same path, so they carry the
//! same impersonation. It never falls back to its own identity.

pub mod config;
pub mod headers;
pub mod identity;
pub mod upstream_token;

use std::sync::Arc;

use axum::{
    Json, Router,
    body::Body,
    extract::{Request, State},
    http::{HeaderValue, StatusCode, Uri, header},
    response::{IntoResponse, Response},
    routing::get,
};
use hyper_util::rt::TokioIo;
use serde_json::json;
use server_common::oidc::{OidcVerifier, TokenError};

pub use crate::identity::{ClaimMapping, Identity};
use crate::{
    config::{Config, UpstreamCredential},
    identity::Refused,
    upstream_token::UpstreamToken,
};

pub type Upstream = server_common::https_client::HttpsClient;

pub struct Proxy {
    pub verifier: Arc<OidcVerifier>,
    upstream_base: String,
    client: Upstream,
    /// The proxy's own bearer token, when it is not a client certificate in `client`.
    token: Option<UpstreamToken>,
    claim_mapping: ClaimMapping,
}

impl Proxy {
    pub fn from_config(config: &Config) -> anyhow::Result<Self> {
        let http = server_common::oidc::http_client(config.oidc_ca_file.as_deref())?;
        let verifier = OidcVerifier::new(
            config.oidc_issuer.clone(),
            config.oidc_client_ids.clone(),
            http,
        );
        let credential = config.upstream_credential()?;
        let proxy = Proxy::new(
            Arc::new(verifier),
            &config.upstream,
            upstream_client(config, &credential)?,
            ClaimMapping::new(
                &config.oidc_username_claim,
                &config.oidc_username_prefix,
                &config.oidc_groups_claim,
                &config.oidc_groups_prefix,
                &config.oidc_issuer,
            )?,
        );
        Ok(match credential {
            UpstreamCredential::TokenFile(file) => proxy.with_token(UpstreamToken::new(file)),
            UpstreamCredential::ClientCertificate { .. } => proxy,
        })
    }

    /// A proxy from its parts; tests use it with a verifier and client of their own.
    pub fn new(
        verifier: Arc<OidcVerifier>,
        upstream: &str,
        client: Upstream,
        claim_mapping: ClaimMapping,
    ) -> Self {
        Proxy {
            verifier,
            upstream_base: upstream.trim_end_matches('/').to_string(),
            client,
            token: None,
            claim_mapping,
        }
    }

    /// Sends `token` as the proxy's own identity (instead of a client certificate).
    pub fn with_token(self, token: UpstreamToken) -> Self {
        Proxy {
            token: Some(token),
            ..self
        }
    }

    async fn authenticate(&self, headers: &http::HeaderMap) -> Result<Identity, Refusal> {
        let token = server_common::bearer::bearer_token(headers).ok_or(Refusal::Unauthenticated)?;
        let claims = match self.verifier.verify(token, None).await {
            Ok(claims) => claims,
            Err(TokenError::NotLoaded) => return Err(Refusal::NotReady),
            Err(err) => {
                tracing::info!(reason = %err, "token rejected");
                return Err(Refusal::Unauthenticated);
            }
        };
        self.claim_mapping.identity(&claims).map_err(|why| {
            tracing::info!(reason = %why, "token refused");
            Refusal::Refused(why)
        })
    }
}

/// Why a request is not forwarded. Only a missing or bad token gets 401, on which the app starts
/// a new login: for the other two a new login would give the same answer, round and round.
enum Refusal {
    Unauthenticated,
    /// The issuer's keys are not loaded yet (Dex unreachable since the start).
    NotReady,
    /// A valid token whose identity the proxy will not act for.
    Refused(Refused),
}

/// How long a client should wait before it asks again while the issuer's keys are not loaded;
/// the proxy retries loading well within it.
const RETRY_AFTER_SECONDS: &str = "5";

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::Unauthenticated => {
                let mut response = status(StatusCode::UNAUTHORIZED, "Unauthorized", "Unauthorized");
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
                response
            }
            Refusal::NotReady => {
                let mut response = status(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "ServiceUnavailable",
                    "The apiserver-proxy has not loaded the OIDC issuer's keys yet; try again shortly.",
                );
                response.headers_mut().insert(
                    header::RETRY_AFTER,
                    HeaderValue::from_static(RETRY_AFTER_SECONDS),
                );
                response
            }
            Refusal::Refused(why) => status(StatusCode::FORBIDDEN, "Forbidden", &why.to_string()),
        }
    }
}

fn upstream_client(config: &Config, credential: &UpstreamCredential) -> anyhow::Result<Upstream> {
    let certificate = match credential {
        UpstreamCredential::ClientCertificate { cert, key } => {
            Some((cert.as_path(), key.as_path()))
        }
        UpstreamCredential::TokenFile(_) => None,
    };
    let tls = server_common::tls::client_config(&config.upstream_ca_file, certificate)?;
    Ok(server_common::https_client::pooled(tls))
}

pub fn app(proxy: Arc<Proxy>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { Json(json!({"status": "ok"})) }))
        .route("/readyz", get(readyz))
        .fallback(forward)
        .with_state(proxy)
}

async fn readyz(State(proxy): State<Arc<Proxy>>) -> Response {
    if proxy.verifier.is_loaded() {
        Json(json!({"status": "ready"})).into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "waiting for the OIDC issuer"})),
        )
            .into_response()
    }
}

/// A Kubernetes `Status` body, which kubectl reads and shows.
pub fn status(code: StatusCode, reason: &str, message: &str) -> Response {
    let body = shared::Status::failure(code.as_u16(), reason, message);
    (code, Json(body)).into_response()
}

async fn forward(State(proxy): State<Arc<Proxy>>, mut request: Request) -> Response {
    let identity = match proxy.authenticate(request.headers()).await {
        Ok(identity) => identity,
        Err(refusal) => return refusal.into_response(),
    };
    let upgrade = headers::is_upgrade(request.headers());
    let lifecycle = request
        .extensions()
        .get::<server_common::serve::Lifecycle>()
        .cloned();
    let client_upgrade = upgrade.then(|| hyper::upgrade::on(&mut request));
    let (parts, body) = request.into_parts();
    // Only the path and query of the request are used: an absolute-form target cannot choose
    // another host.
    let path_and_query = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let Ok(uri) = format!("{}{path_and_query}", proxy.upstream_base).parse::<Uri>() else {
        return status(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "The request path is not valid.",
        );
    };
    let mut upstream_request = hyper::Request::new(body);
    *upstream_request.method_mut() = parts.method;
    *upstream_request.uri_mut() = uri;
    *upstream_request.headers_mut() = headers::for_upstream(&parts.headers, upgrade, &identity);
    if let Some(token) = &proxy.token {
        match token.authorization().await {
            Ok(value) => {
                upstream_request
                    .headers_mut()
                    .insert(header::AUTHORIZATION, value);
            }
            Err(err) => {
                server_common::metrics::global().upstream_error("no_credential");
                tracing::error!(%err, "the proxy's own token cannot be read");
                return status(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "ServiceUnavailable",
                    "The apiserver-proxy cannot read its own credential.",
                );
            }
        }
    }

    let mut response = match proxy.client.request(upstream_request).await {
        Ok(response) => response,
        Err(err) => {
            server_common::metrics::global().upstream_error("unreachable");
            tracing::warn!(%err, "the kube-apiserver is unreachable");
            return status(
                StatusCode::BAD_GATEWAY,
                "ServiceUnavailable",
                "The kube-apiserver is unreachable.",
            );
        }
    };
    if response.status() == StatusCode::SWITCHING_PROTOCOLS
        && let Some(client_upgrade) = client_upgrade
    {
        let upstream_upgrade = hyper::upgrade::on(&mut response);
        tokio::spawn(async move {
            match tokio::try_join!(client_upgrade, upstream_upgrade) {
                Ok((client, upstream)) => {
                    let (client, upstream) = (TokioIo::new(client), TokioIo::new(upstream));
                    server_common::serve::splice_upgraded(client, upstream, lifecycle).await;
                }
                Err(err) => tracing::debug!(%err, "upgrade failed"),
            }
        });
    } else {
        headers::strip_hop_by_hop(response.headers_mut());
    }
    response.map(Body::new)
}
