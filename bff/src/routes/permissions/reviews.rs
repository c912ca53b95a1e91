//! The apiserver, asked as the user: rules reviews per namespace (shared through the cache with
//! the user's other requests), access reviews per check, and the namespace list.

use std::{
    collections::HashMap,
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicU32, Ordering},
    },
    time::Duration,
};

use axum::{
    body::{Body, Bytes},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;
use serde_json::{Value, json};
use server_common::token_cache::TokenHash;
use shared::AccessCheck;

use super::rules::ResourceRule;
use crate::{
    error::AppError,
    permissions_cache::{Busy, NamespaceRules, PermissionsCache},
    upstream::Upstream,
};

const RULES_REVIEWS: &str = "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews";
const ACCESS_REVIEWS: &str = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";
/// Metadata only: the switcher needs names, not every namespace's spec and status.
const NAMESPACE_LIST_ACCEPT: &str =
    "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json";
const NAMESPACE_PAGE: usize = 500;
/// 50,000 namespaces; beyond that a continue token that never ends is the likelier story.
const MAX_NAMESPACE_PAGES: usize = 100;
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(15);
/// A cluster-admin's rules review or a page of namespace metadata is far smaller.
const RESPONSE_LIMIT: usize = 8 * 1024 * 1024;
/// For the list's continue token, which is opaque: any byte but the unreserved ones escaped.
const CONTINUE_TOKEN_ESCAPES: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Requests to the apiserver-proxy with the user's verified token, through the client the
/// `/api/k8s` proxy uses; cheap to clone into the tasks that run reviews side by side.
#[derive(Clone)]
pub(super) struct AsUser {
    upstream: Arc<Upstream>,
    token: Arc<str>,
}

#[derive(Deserialize)]
struct Review<S> {
    status: Option<S>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RulesStatus {
    #[serde(default)]
    resource_rules: Vec<ResourceRule>,
    #[serde(default)]
    incomplete: bool,
    #[serde(default)]
    evaluation_error: String,
}

#[derive(Deserialize)]
struct AccessStatus {
    #[serde(default)]
    allowed: bool,
}

#[derive(Deserialize)]
struct NameList {
    #[serde(default)]
    items: Vec<Named>,
    #[serde(default)]
    metadata: ListMeta,
}

#[derive(Deserialize)]
struct Named {
    metadata: NameOnly,
}

#[derive(Deserialize)]
struct NameOnly {
    name: String,
}

#[derive(Deserialize, Default)]
struct ListMeta {
    #[serde(default, rename = "continue")]
    next: Option<String>,
}

impl AsUser {
    pub(super) fn new(upstream: Arc<Upstream>, token: &str) -> Self {
        AsUser {
            upstream,
            token: Arc::from(token),
        }
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        accept: &'static str,
        body: Option<Value>,
    ) -> Result<(StatusCode, Bytes), AppError> {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_static(accept));
        let body = match body {
            Some(body) => {
                headers.insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
                Body::from(serde_json::to_vec(&body).map_err(anyhow::Error::from)?)
            }
            None => Body::empty(),
        };
        let response = self
            .upstream
            .send(
                method.clone(),
                path,
                &self.token,
                &headers,
                body,
                UPSTREAM_TIMEOUT,
            )
            .await?;
        let status = response.status();
        let body = axum::body::to_bytes(Body::new(response.into_body()), RESPONSE_LIMIT);
        match tokio::time::timeout(UPSTREAM_TIMEOUT, body).await {
            Ok(Ok(bytes)) => Ok((status, bytes)),
            Ok(Err(err)) => Err(AppError::Upstream(format!(
                "reading the answer to {method} {path}: {err}"
            ))),
            Err(_) => Err(AppError::UpstreamTimeout),
        }
    }

    /// A review's answer, or the error its status stands for.
    async fn review<S: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        body: Value,
    ) -> Result<S, AppError> {
        server_common::metrics::global().permission_reviews.inc();
        let (status, bytes) = self
            .send(Method::POST, path, "application/json", Some(body))
            .await?;
        if !status.is_success() {
            return Err(refused(&Method::POST, path, status, &bytes));
        }
        serde_json::from_slice::<Review<S>>(&bytes)
            .map_err(|err| AppError::Upstream(format!("an unreadable answer from {path}: {err}")))?
            .status
            .ok_or_else(|| AppError::Upstream(format!("an answer without status from {path}")))
    }

    async fn rules_review(&self, namespace: &str) -> Result<NamespaceRules, AppError> {
        let status: RulesStatus = self
            .review(
                RULES_REVIEWS,
                json!({
                    "apiVersion": "authorization.k8s.io/v1",
                    "kind": "SelfSubjectRulesReview",
                    "spec": { "namespace": namespace },
                }),
            )
            .await?;
        if !status.evaluation_error.is_empty() {
            tracing::debug!(namespace, error = %status.evaluation_error, "rules review with an evaluation error");
        }
        Ok(NamespaceRules {
            rules: status.resource_rules,
            // With an evaluation error, what is missing from the list may yet be allowed.
            incomplete: status.incomplete || !status.evaluation_error.is_empty(),
        })
    }

    pub(super) async fn access_review(&self, check: &AccessCheck) -> Result<bool, AppError> {
        let mut attributes = json!({
            "verb": check.verb,
            "group": check.group,
            "resource": check.resource,
        });
        if let Some(subresource) = &check.subresource {
            attributes["subresource"] = json!(subresource);
        }
        if let Some(namespace) = &check.namespace {
            attributes["namespace"] = json!(namespace);
        }
        let status: AccessStatus = self
            .review(
                ACCESS_REVIEWS,
                json!({
                    "apiVersion": "authorization.k8s.io/v1",
                    "kind": "SelfSubjectAccessReview",
                    "spec": { "resourceAttributes": attributes },
                }),
            )
            .await?;
        Ok(status.allowed)
    }

    /// Every namespace's name, or `None` when the user may not list namespaces.
    pub(super) async fn namespace_names(&self) -> Result<Option<Vec<String>>, AppError> {
        let mut names = Vec::new();
        let mut next: Option<String> = None;
        for _ in 0..MAX_NAMESPACE_PAGES {
            let path = match &next {
                None => format!("/api/v1/namespaces?limit={NAMESPACE_PAGE}"),
                Some(token) => format!(
                    "/api/v1/namespaces?limit={NAMESPACE_PAGE}&continue={}",
                    utf8_percent_encode(token, CONTINUE_TOKEN_ESCAPES)
                ),
            };
            let (status, bytes) = self
                .send(Method::GET, &path, NAMESPACE_LIST_ACCEPT, None)
                .await?;
            if status == StatusCode::FORBIDDEN {
                return Ok(None);
            }
            if !status.is_success() {
                return Err(refused(&Method::GET, &path, status, &bytes));
            }
            let page: NameList = serde_json::from_slice(&bytes).map_err(|err| {
                AppError::Upstream(format!("an unreadable namespace list: {err}"))
            })?;
            names.extend(page.items.into_iter().map(|item| item.metadata.name));
            match page.metadata.next.filter(|t| !t.is_empty()) {
                Some(token) => next = Some(token),
                None => {
                    names.sort();
                    names.dedup();
                    return Ok(Some(names));
                }
            }
        }
        Err(AppError::Upstream(format!(
            "the namespace list did not end after {MAX_NAMESPACE_PAGES} pages"
        )))
    }
}

fn refused(method: &Method, path: &str, status: StatusCode, body: &[u8]) -> AppError {
    if status == StatusCode::UNAUTHORIZED {
        return AppError::Unauthenticated;
    }
    // The apiserver's Status object: a reason and a message, never the request's token.
    let text = String::from_utf8_lossy(body);
    let excerpt: String = text.chars().take(500).collect();
    AppError::Upstream(format!("{method} {path} answered {status}: {excerpt}"))
}

/// Runs `tasks` side by side; the first failure ends them all.
pub(super) async fn side_by_side<T, F>(
    tasks: impl IntoIterator<Item = F>,
) -> Result<Vec<T>, AppError>
where
    T: Send + 'static,
    F: Future<Output = Result<T, AppError>> + Send + 'static,
{
    let mut set = tokio::task::JoinSet::new();
    for task in tasks {
        set.spawn(task);
    }
    let mut done = Vec::with_capacity(set.len());
    while let Some(joined) = set.join_next().await {
        // Returning drops the set, which aborts the reviews still running.
        done.push(joined.map_err(|err| anyhow::anyhow!("a review task ended: {err}"))??);
    }
    Ok(done)
}

impl From<Busy> for AppError {
    fn from(_: Busy) -> Self {
        AppError::TooManyRequests(
            "Too many permission checks of yours are in progress; try again in a moment.".into(),
        )
    }
}

pub(super) fn count(requests: usize) -> u32 {
    u32::try_from(requests).unwrap_or(u32::MAX)
}

/// Rules are asked for in this namespace to learn the cluster-wide ones. It cannot exist (a colon
/// is not allowed in namespace names), so no RoleBinding can be in it: the review lists exactly
/// what ClusterRoleBindings grant, which is what decides cluster-scoped resources and requests
/// across all namespaces. One review then answers every cluster-wide check of a view, instead of
/// one access review per check.
pub const CLUSTER_WIDE: &str = "kube-console:cluster-wide";

/// The rules of each namespace, from the cache or from one review each, made side by side; a
/// review another request has in flight for the same user and namespace is waited for, not
/// repeated. Also returns how many reviews this call made.
pub(super) async fn rules_of(
    cache: &PermissionsCache,
    as_user: &AsUser,
    who: TokenHash,
    namespaces: impl IntoIterator<Item = String>,
) -> Result<(HashMap<String, Arc<NamespaceRules>>, u32), AppError> {
    let made = Arc::new(AtomicU32::new(0));
    let found = side_by_side(namespaces.into_iter().map(|namespace| {
        let slot = cache.rules.slot((who, namespace.clone()));
        let (as_user, made, gate) = (as_user.clone(), made.clone(), cache.reviews.clone());
        async move {
            let rules = slot
                .get_or_try_init(|| async {
                    let _place = gate.enter(who).await?;
                    made.fetch_add(1, Ordering::Relaxed);
                    match as_user.rules_review(&namespace).await {
                        Ok(rules) => Ok(Arc::new(rules)),
                        // A cluster that refuses the pseudo-namespace: each cluster-wide check
                        // is then reviewed on its own.
                        Err(AppError::Upstream(reason)) if namespace == CLUSTER_WIDE => {
                            tracing::debug!(%reason, "no cluster-wide rules review");
                            Ok(Arc::new(NamespaceRules {
                                rules: Vec::new(),
                                incomplete: true,
                            }))
                        }
                        Err(err) => Err(err),
                    }
                })
                .await?
                .clone();
            Ok((namespace, rules))
        }
    }))
    .await?;
    let made = made.load(Ordering::Relaxed);
    server_common::metrics::global()
        .permission_reviews_cached
        .inc_by(
            u64::try_from(found.len())
                .unwrap_or(0)
                .saturating_sub(made.into()),
        );
    Ok((found.into_iter().collect(), made))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continue_tokens_are_escaped() {
        let percent_encode = |token| utf8_percent_encode(token, CONTINUE_TOKEN_ESCAPES).to_string();
        assert_eq!(percent_encode("abc-_.~"), "abc-_.~");
        assert_eq!(percent_encode("a+b/c=&d"), "a%2Bb%2Fc%3D%26d");
    }
}
