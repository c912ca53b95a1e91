//! The apiserver-proxy: authenticates each request's bearer ID token against Dex, removes every
//! client-sent credential and impersonation header, and forwards to the kube-apiserver with its
//! own (impersonate-only) identity and `Impersonate-User`/`Impersonate-Group` set from the token.
//! Upgraded connections (exec, attach, port-forward) go through the same path, so they carry the
//! same impersonation. It never falls back to its own identity.

pub mod config;
pub mod headers;

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
use server_common::oidc::OidcVerifier;

use crate::config::Config;

type Upstream = server_common::https_client::HttpsClient;

pub struct Proxy {
    pub verifier: Arc<OidcVerifier>,
    upstream_base: String,
    client: Upstream,
    claim_mapping: ClaimMapping,
}

/// Which claims name the user and the groups, and the prefixes put before them, as the
/// kube-apiserver's `--oidc-*` flags have it.
#[derive(Debug, Clone)]
pub struct ClaimMapping {
    pub username_claim: String,
    pub username_prefix: String,
    pub groups_claim: String,
    pub groups_prefix: String,
}

impl ClaimMapping {
    /// The Kubernetes identity of verified `claims`, or `None` when they name no acceptable user.
    pub fn identity(&self, claims: &server_common::oidc::IdClaims) -> Option<Identity> {
        // As the kube-apiserver does: an email is a user name only when it is not unverified.
        if self.username_claim == "email" && claims.email_verified == Some(false) {
            return None;
        }
        let user = claims
            .string_claim(&self.username_claim)
            .filter(|u| !u.is_empty())?;
        // Names that Kubernetes reserves are never taken from a token unprefixed.
        if user.starts_with("system:") && self.username_prefix.is_empty() {
            return None;
        }
        let groups = claims
            .strings_claim(&self.groups_claim)
            .into_iter()
            .filter(|g| {
                let reserved = self.groups_prefix.is_empty() && g.starts_with("system:");
                !g.is_empty() && !reserved
            })
            .map(|g| format!("{}{g}", self.groups_prefix))
            .collect();
        Some(Identity {
            user: format!("{}{user}", self.username_prefix),
            groups,
        })
    }
}

/// Who a verified token says the caller is, in Kubernetes terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub user: String,
    pub groups: Vec<String>,
}

impl Proxy {
    pub fn from_config(config: &Config) -> anyhow::Result<Self> {
        let http = server_common::oidc::http_client(config.oidc_ca_file.as_deref())?;
        let verifier = OidcVerifier::new(
            config.oidc_issuer.clone(),
            config.oidc_client_ids.clone(),
            http,
        );
        Ok(Proxy {
            verifier: Arc::new(verifier),
            upstream_base: config.upstream.trim_end_matches('/').to_string(),
            client: upstream_client(config)?,
            claim_mapping: ClaimMapping {
                username_claim: config.oidc_username_claim.clone(),
                username_prefix: config.oidc_username_prefix.clone(),
                groups_claim: config.oidc_groups_claim.clone(),
                groups_prefix: config.oidc_groups_prefix.clone(),
            },
        })
    }

    async fn authenticate(&self, headers: &http::HeaderMap) -> Option<Identity> {
        let token = headers
            .get(header::AUTHORIZATION)?
            .to_str()
            .ok()?
            .strip_prefix("Bearer ")?
            .trim();
        let claims = match self.verifier.verify(token, None).await {
            Ok(claims) => claims,
            Err(err) => {
                tracing::info!(reason = %err, "token rejected");
                return None;
            }
        };
        let identity = self.claim_mapping.identity(&claims);
        if identity.is_none() {
            tracing::info!("token rejected: no acceptable user name in it");
        }
        identity
    }
}

fn upstream_client(config: &Config) -> anyhow::Result<Upstream> {
    let tls = server_common::tls::client_config(
        &config.upstream_ca_file,
        Some((&config.upstream_client_cert, &config.upstream_client_key)),
    )?;
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
    let body = json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": message, "reason": reason, "code": code.as_u16(),
    });
    (code, Json(body)).into_response()
}

async fn forward(State(proxy): State<Arc<Proxy>>, mut request: Request) -> Response {
    let Some(identity) = proxy.authenticate(request.headers()).await else {
        let mut response = status(StatusCode::UNAUTHORIZED, "Unauthorized", "Unauthorized");
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return response;
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

#[cfg(test)]
mod tests {
    use server_common::oidc::IdClaims;

    use super::*;

    fn claims(extra: serde_json::Value) -> IdClaims {
        let mut value = json!({
            "iss": "https://dex", "sub": "CiQwMDAw", "aud": "kube-console", "exp": 1, "iat": 1,
            "email": "viewer@example.com", "email_verified": true, "name": "viewer",
            "groups": ["console-viewers", "system:masters", ""], "preferred_username": "vw",
            "roles": ["ops", "dev"],
        });
        if let (Some(base), Some(extra)) = (value.as_object_mut(), extra.as_object()) {
            base.extend(extra.clone());
        }
        serde_json::from_value(value).expect("claims")
    }

    fn mapping(
        username_claim: &str,
        username_prefix: &str,
        groups_claim: &str,
        groups_prefix: &str,
    ) -> ClaimMapping {
        ClaimMapping {
            username_claim: username_claim.into(),
            username_prefix: username_prefix.into(),
            groups_claim: groups_claim.into(),
            groups_prefix: groups_prefix.into(),
        }
    }

    #[test]
    fn defaults_take_email_and_groups_and_drop_reserved_groups() {
        let identity = mapping("email", "", "groups", "")
            .identity(&claims(json!({})))
            .expect("identity");
        assert_eq!(identity.user, "viewer@example.com");
        assert_eq!(
            identity.groups,
            ["console-viewers"],
            "system: and empty groups are never taken"
        );
    }

    #[test]
    fn other_claims_and_prefixes_as_the_oidc_flags_allow() {
        let identity = mapping("preferred_username", "oidc:", "roles", "oidc:")
            .identity(&claims(json!({})))
            .expect("identity");
        assert_eq!(identity.user, "oidc:vw");
        assert_eq!(identity.groups, ["oidc:ops", "oidc:dev"]);
        // With a prefix, a system: group cannot collide with the reserved ones.
        let prefixed = mapping("email", "", "groups", "oidc:")
            .identity(&claims(json!({})))
            .expect("identity");
        assert_eq!(
            prefixed.groups,
            ["oidc:console-viewers", "oidc:system:masters"]
        );
    }

    #[test]
    fn unverified_emails_missing_claims_and_system_users_are_refused() {
        assert!(
            mapping("email", "", "groups", "")
                .identity(&claims(json!({"email_verified": false})))
                .is_none()
        );
        assert!(
            mapping("no_such_claim", "", "groups", "")
                .identity(&claims(json!({})))
                .is_none()
        );
        let system = claims(json!({"preferred_username": "system:admin"}));
        assert!(
            mapping("preferred_username", "", "groups", "")
                .identity(&system)
                .is_none()
        );
        assert!(
            mapping("preferred_username", "oidc:", "groups", "")
                .identity(&system)
                .is_some()
        );
    }
}
