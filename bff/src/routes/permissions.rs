//! `/api/permissions` and `/api/namespaces`: what the signed-in user may do, asked of the
//! apiserver as that user (through the apiserver-proxy, with their verified token), so that the
//! app can hide or disable what would only fail.
//!
//! A view asks many questions at once; most are about a few namespaces. One
//! SelfSubjectRulesReview per namespace answers all of that namespace's checks, matched here the
//! way RBAC matches; a SelfSubjectAccessReview per check is left for what a rules review cannot
//! answer: cluster-wide checks, and namespaces whose rules the apiserver could not list in full.

use std::{
    collections::{BTreeSet, HashMap},
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicU32, Ordering},
    },
    time::Duration,
};

use axum::{
    Json, Router,
    body::{Body, Bytes},
    extract::{State, rejection::JsonRejection},
    http::{HeaderValue, Method, StatusCode, Uri, header},
    routing::{get, post},
};
use serde::Deserialize;
use serde_json::{Value, json};
use shared::{
    AccessAnswer, AccessCheck, AccessDecision, AccessQuery, NamespaceChoices,
    permissions::MAX_CHECKS,
};

use crate::{
    AppState,
    auth::bearer::Authenticated,
    error::AppError,
    permissions_cache::{Busy, NamespaceRules, PermissionsCache, TokenHash},
    routes::kube_proxy::KubeProxy,
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
/// The most namespaces one query may name (the cluster-wide checks count as one more): a view
/// asks about its namespace and cluster-wide, and each namespace not cached costs a review.
pub const MAX_NAMESPACES: usize = 16;
/// A cluster-admin's rules review or a page of namespace metadata is far smaller.
const RESPONSE_LIMIT: usize = 8 * 1024 * 1024;

/// What every authenticated user may do anyway (`system:basic-user`): rules on these alone do not
/// make a namespace one the user works in.
const EVERYONES_GROUPS: [&str; 2] = ["authorization.k8s.io", "authentication.k8s.io"];
const EVERYONES_RESOURCES: [&str; 3] = [
    "selfsubjectaccessreviews",
    "selfsubjectrulesreviews",
    "selfsubjectreviews",
];

/// The permission endpoints' state: the review cache and the namespaces to try for users who
/// may not list namespaces.
#[derive(Default)]
pub struct PermissionSettings {
    pub cache: PermissionsCache,
    pub namespaces: Vec<String>,
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/permissions", post(permissions))
        .route("/namespaces", get(namespaces))
}

/// One entry of a SelfSubjectRulesReview's `status.resourceRules`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceRule {
    #[serde(default)]
    pub verbs: Vec<String>,
    #[serde(default)]
    pub api_groups: Vec<String>,
    #[serde(default)]
    pub resources: Vec<String>,
    #[serde(default)]
    pub resource_names: Vec<String>,
}

impl ResourceRule {
    /// RBAC's matching (VerbMatches, APIGroupMatches, ResourceMatches, ResourceNameMatches in
    /// `pkg/apis/rbac/v1/evaluation_helpers.go`) for a request that names no object.
    pub fn grants(&self, check: &AccessCheck) -> bool {
        // A rule limited to named objects grants nothing on the kind as a whole.
        self.resource_names.is_empty()
            && self.verbs.iter().any(|v| v == "*" || *v == check.verb)
            && self
                .api_groups
                .iter()
                .any(|g| g == "*" || *g == check.group)
            && self
                .resources
                .iter()
                .any(|r| resource_matches(r, &check.resource, check.subresource.as_deref()))
    }

    /// Grants anything beyond what every authenticated user gets.
    pub fn grants_something_of_note(&self) -> bool {
        let everyones = !self.api_groups.is_empty()
            && self
                .api_groups
                .iter()
                .all(|g| EVERYONES_GROUPS.contains(&g.as_str()))
            && !self.resources.is_empty()
            && self
                .resources
                .iter()
                .all(|r| EVERYONES_RESOURCES.contains(&r.as_str()));
        !everyones
            && !self.verbs.is_empty()
            && !self.api_groups.is_empty()
            && !self.resources.is_empty()
    }
}

fn resource_matches(rule: &str, resource: &str, subresource: Option<&str>) -> bool {
    if rule == "*" {
        return true;
    }
    match subresource {
        None => rule == resource,
        // "deployments" does not cover "deployments/scale"; "*/scale" covers every kind's scale.
        Some(sub) => rule
            .split_once('/')
            .is_some_and(|(r, s)| s == sub && (r == resource || r == "*")),
    }
}

// ---------------------------------------------------------------------------------------------
// Input checks.

/// Why `query` is refused, for the person who sent it.
pub fn validate(query: &AccessQuery) -> Result<(), String> {
    if query.checks.len() > MAX_CHECKS {
        return Err(format!(
            "At most {MAX_CHECKS} checks fit in one request; this one has {}.",
            query.checks.len()
        ));
    }
    for (index, check) in query.checks.iter().enumerate() {
        check_problem(check).map_or(Ok(()), |problem| {
            Err(format!("Check {} is refused: {problem}.", index + 1))
        })?;
    }
    let namespaces: BTreeSet<Option<&str>> = query
        .checks
        .iter()
        .map(|check| check.namespace.as_deref())
        .collect();
    if namespaces.len() > MAX_NAMESPACES {
        return Err(format!(
            "At most {MAX_NAMESPACES} namespaces (cluster-wide counts as one) fit in one request; \
             this one names {}. Ask about fewer namespaces at a time.",
            namespaces.len()
        ));
    }
    Ok(())
}

fn check_problem(check: &AccessCheck) -> Option<String> {
    let mut fields = vec![
        ("verb", Some(check.verb.as_str())),
        ("group", Some(check.group.as_str())),
        ("resource", Some(check.resource.as_str())),
        ("subresource", check.subresource.as_deref()),
        ("namespace", check.namespace.as_deref()),
    ];
    if let Some((field, _)) = fields
        .iter()
        .find(|(_, value)| value.is_some_and(|v| v.contains('*')))
    {
        return Some(format!(
            "the {field} is a wildcard; ask about one verb on one kind of resource"
        ));
    }
    if check.verb.is_empty() {
        return Some("the verb is empty".into());
    }
    if check.resource.is_empty() {
        return Some("the resource is empty".into());
    }
    if check.subresource.as_deref() == Some("") {
        return Some("the subresource is empty; leave it out instead".into());
    }
    if check.namespace.as_deref() == Some("") {
        return Some("the namespace is empty; leave it out for a cluster-wide check".into());
    }
    // An empty group is the core group.
    if check.group.is_empty() {
        fields.retain(|(field, _)| *field != "group");
    }
    for (field, value) in fields {
        let Some(value) = value else { continue };
        let fits = match field {
            "verb" => is_word(value),
            "namespace" => is_dns_label(value),
            _ => is_dns_subdomain(value),
        };
        if !fits {
            let allowed = match field {
                "verb" => "lowercase letters, digits and '-'",
                "namespace" => {
                    "at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit"
                }
                _ => "lowercase letters, digits, '-' and '.'",
            };
            return Some(format!(
                "the {field} {value:?} is not a Kubernetes name ({allowed})"
            ));
        }
    }
    None
}

fn is_word(value: &str) -> bool {
    (1..=63).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// RFC 1123 label, as Kubernetes names namespaces.
pub fn is_dns_label(value: &str) -> bool {
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    (1..=63).contains(&value.len())
        && value.bytes().all(|b| alnum(b) || b == b'-')
        && value.bytes().next().is_some_and(alnum)
        && value.bytes().last().is_some_and(alnum)
}

/// RFC 1123 subdomain, as Kubernetes names API groups (and, less strictly, resources).
fn is_dns_subdomain(value: &str) -> bool {
    value.len() <= 253 && value.split('.').all(is_dns_label)
}

// ---------------------------------------------------------------------------------------------
// The apiserver, as the user.

/// Requests to the apiserver-proxy with the user's verified token, as the `/api/k8s` proxy makes
/// them; cheap to clone into the tasks that run reviews side by side.
#[derive(Clone)]
struct AsUser {
    kube: Arc<KubeProxy>,
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
    fn new(kube: Arc<KubeProxy>, token: &str) -> Self {
        AsUser {
            kube,
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
        let uri: Uri = format!("{}{path}", self.kube.base)
            .parse()
            .map_err(|err| anyhow::anyhow!("the upstream URI for {path}: {err}"))?;
        let mut request = match body {
            Some(body) => {
                let bytes = serde_json::to_vec(&body).map_err(anyhow::Error::from)?;
                hyper::Request::new(Body::from(bytes))
            }
            None => hyper::Request::new(Body::empty()),
        };
        *request.method_mut() = method.clone();
        *request.uri_mut() = uri;
        let headers = request.headers_mut();
        let mut bearer = HeaderValue::from_str(&format!("Bearer {}", self.token))
            .map_err(|_| anyhow::anyhow!("the token is not a header value"))?;
        bearer.set_sensitive(true);
        headers.insert(header::AUTHORIZATION, bearer);
        headers.insert(header::ACCEPT, HeaderValue::from_static(accept));
        if method == Method::POST {
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
        }
        let response =
            match tokio::time::timeout(UPSTREAM_TIMEOUT, self.kube.client.request(request)).await {
                Ok(Ok(response)) => response,
                Ok(Err(err)) => {
                    tracing::warn!(%err, path, "the apiserver-proxy is unreachable");
                    return Err(AppError::UpstreamUnavailable);
                }
                Err(_) => return Err(AppError::UpstreamTimeout),
            };
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

    async fn access_review(&self, check: &AccessCheck) -> Result<bool, AppError> {
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
    async fn namespace_names(&self) -> Result<Option<Vec<String>>, AppError> {
        let mut names = Vec::new();
        let mut next: Option<String> = None;
        for _ in 0..MAX_NAMESPACE_PAGES {
            let path = match &next {
                None => format!("/api/v1/namespaces?limit={NAMESPACE_PAGE}"),
                Some(token) => format!(
                    "/api/v1/namespaces?limit={NAMESPACE_PAGE}&continue={}",
                    percent_encode(token)
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

/// For the list's continue token, which is opaque: any byte but the unreserved ones escaped.
fn percent_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Runs `tasks` side by side; the first failure ends them all.
async fn side_by_side<T, F>(tasks: impl IntoIterator<Item = F>) -> Result<Vec<T>, AppError>
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

fn count(requests: usize) -> u32 {
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
async fn rules_of(
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

// ---------------------------------------------------------------------------------------------
// Handlers.

async fn permissions(
    State(state): State<AppState>,
    user: Authenticated,
    body: Result<Json<AccessQuery>, JsonRejection>,
) -> Result<Json<AccessAnswer>, AppError> {
    let Json(query) = body.map_err(|rejection| {
        AppError::BadRequest(format!(
            "The body is not a permission query: {}",
            rejection.body_text()
        ))
    })?;
    validate(&query).map_err(AppError::BadRequest)?;
    let who = TokenHash::of(&user.token);
    let as_user = AsUser::new(state.kube.clone(), &user.token);
    let cache = &state.permissions.cache;

    let mut namespaces: BTreeSet<String> = query
        .checks
        .iter()
        .filter_map(|check| check.namespace.clone())
        .collect();
    if query.checks.iter().any(|check| check.namespace.is_none()) {
        namespaces.insert(CLUSTER_WIDE.to_string());
    }
    let (rules, mut requests) = rules_of(cache, &as_user, who, namespaces).await?;

    // What the rules decide; the rest (cluster-wide, or rules not listed in full) is reviewed
    // check by check, each distinct check once.
    let mut decided: HashMap<&AccessCheck, bool> = HashMap::new();
    let mut to_review: Vec<AccessCheck> = Vec::new();
    for check in &query.checks {
        if decided.contains_key(check) || to_review.contains(check) {
            continue;
        }
        let by_rules = rules
            .get(check.namespace.as_deref().unwrap_or(CLUSTER_WIDE))
            .filter(|rules| !rules.incomplete)
            .map(|rules| rules.rules.iter().any(|rule| rule.grants(check)));
        let known = by_rules.or_else(|| cache.access.get(&(who, check.clone())));
        match known {
            Some(allowed) => {
                decided.insert(check, allowed);
            }
            None => to_review.push(check.clone()),
        }
    }
    requests += count(to_review.len());
    let reviewed = side_by_side(to_review.into_iter().map(|check| {
        let (as_user, gate) = (as_user.clone(), cache.reviews.clone());
        async move {
            let _place = gate.enter(who).await?;
            let allowed = as_user.access_review(&check).await?;
            Ok((check, allowed))
        }
    }))
    .await?;
    let reviewed: HashMap<AccessCheck, bool> = reviewed.into_iter().collect();
    for (check, allowed) in &reviewed {
        cache.access.insert((who, check.clone()), *allowed);
    }

    let decisions: Vec<AccessDecision> = query
        .checks
        .iter()
        .map(|check| {
            let allowed = decided
                .get(check)
                .or_else(|| reviewed.get(check))
                .copied()
                .unwrap_or(false);
            AccessDecision {
                allowed,
                reason: if allowed {
                    "Allowed.".into()
                } else {
                    format!("You may not {}.", check.describe())
                },
            }
        })
        .collect();
    // The figures the permission-aware views are judged by; no identity in the line.
    tracing::info!(
        checks = decisions.len(),
        upstream_requests = requests,
        "permission check answered"
    );
    Ok(Json(AccessAnswer {
        decisions,
        upstream_requests: requests,
    }))
}

async fn namespaces(
    State(state): State<AppState>,
    user: Authenticated,
) -> Result<Json<NamespaceChoices>, AppError> {
    let as_user = AsUser::new(state.kube.clone(), &user.token);
    if let Some(namespaces) = as_user.namespace_names().await? {
        return Ok(Json(NamespaceChoices {
            namespaces,
            complete: true,
        }));
    }
    let configured = &state.permissions.namespaces;
    let who = TokenHash::of(&user.token);
    let (rules, _) = rules_of(
        &state.permissions.cache,
        &as_user,
        who,
        configured.iter().cloned(),
    )
    .await?;
    let namespaces: Vec<String> = configured
        .iter()
        .filter(|namespace| {
            rules.get(*namespace).is_some_and(|rules| {
                rules
                    .rules
                    .iter()
                    .any(ResourceRule::grants_something_of_note)
            })
        })
        .cloned()
        .collect();
    Ok(Json(NamespaceChoices {
        namespaces,
        complete: false,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(verbs: &[&str], groups: &[&str], resources: &[&str], names: &[&str]) -> ResourceRule {
        let strings = |items: &[&str]| items.iter().map(|s| s.to_string()).collect();
        ResourceRule {
            verbs: strings(verbs),
            api_groups: strings(groups),
            resources: strings(resources),
            resource_names: strings(names),
        }
    }

    fn check(verb: &str, group: &str, resource: &str) -> AccessCheck {
        AccessCheck::new(verb, group, resource, Some("team-a"))
    }

    #[test]
    fn exact_rules_grant_exactly() {
        let configmaps = rule(&["get", "list"], &[""], &["configmaps"], &[]);
        assert!(configmaps.grants(&check("list", "", "configmaps")));
        assert!(
            !configmaps.grants(&check("delete", "", "configmaps")),
            "verb"
        );
        assert!(
            !configmaps.grants(&check("list", "", "secrets")),
            "resource"
        );
        assert!(
            !configmaps.grants(&check("list", "apps", "configmaps")),
            "group"
        );
        let deployments = rule(&["get"], &["apps"], &["deployments"], &[]);
        assert!(deployments.grants(&check("get", "apps", "deployments")));
        assert!(
            !deployments.grants(&check("get", "", "deployments")),
            "the core group is a group of its own"
        );
    }

    #[test]
    fn wildcards_match_any_verb_group_or_resource() {
        let admin = rule(&["*"], &["*"], &["*"], &[]);
        assert!(admin.grants(&check("delete", "", "configmaps")));
        assert!(admin.grants(&check("update", "apps", "deployments").with_subresource("scale")));
        let any_verb = rule(&["*"], &[""], &["pods"], &[]);
        assert!(any_verb.grants(&check("deletecollection", "", "pods")));
        assert!(!any_verb.grants(&check("get", "", "services")));
        let any_group = rule(&["get"], &["*"], &["widgets"], &[]);
        assert!(any_group.grants(&check("get", "example.com", "widgets")));
        assert!(!any_group.grants(&check("list", "example.com", "widgets")));
    }

    #[test]
    fn subresources_need_their_own_rule() {
        let deployments = rule(&["update"], &["apps"], &["deployments"], &[]);
        let scale = check("update", "apps", "deployments").with_subresource("scale");
        assert!(
            !deployments.grants(&scale),
            "the kind does not cover its subresources"
        );
        let deployment_scale = rule(&["update"], &["apps"], &["deployments/scale"], &[]);
        assert!(deployment_scale.grants(&scale));
        assert!(!deployment_scale.grants(&check("update", "apps", "deployments")));
        assert!(
            !deployment_scale
                .grants(&check("update", "apps", "replicasets").with_subresource("scale"))
        );
        let any_scale = rule(&["update"], &["apps"], &["*/scale"], &[]);
        assert!(any_scale.grants(&scale));
        assert!(
            any_scale.grants(&check("update", "apps", "replicasets").with_subresource("scale"))
        );
        assert!(
            !any_scale.grants(&check("update", "apps", "deployments").with_subresource("status"))
        );
        assert!(!any_scale.grants(&check("update", "apps", "deployments")));
        let logs = rule(&["get"], &[""], &["pods/log"], &[]);
        assert!(logs.grants(&check("get", "", "pods").with_subresource("log")));
        assert!(!logs.grants(&check("get", "", "pods")));
    }

    #[test]
    fn rules_for_named_objects_grant_nothing_on_the_kind() {
        let one_map = rule(&["get", "update"], &[""], &["configmaps"], &["settings"]);
        assert!(!one_map.grants(&check("get", "", "configmaps")));
        assert!(!one_map.grants(&check("update", "", "configmaps")));
    }

    #[test]
    fn rules_every_user_has_are_not_of_note() {
        assert!(
            !rule(
                &["create"],
                &["authorization.k8s.io"],
                &["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
                &[]
            )
            .grants_something_of_note()
        );
        assert!(
            !rule(
                &["create"],
                &["authentication.k8s.io"],
                &["selfsubjectreviews"],
                &[]
            )
            .grants_something_of_note()
        );
        assert!(rule(&["get"], &[""], &["configmaps"], &[]).grants_something_of_note());
        assert!(
            rule(&["*"], &["*"], &["*"], &[]).grants_something_of_note(),
            "a wildcard is more than the self reviews"
        );
        assert!(
            rule(
                &["create"],
                &["authorization.k8s.io"],
                &["localsubjectaccessreviews"],
                &[]
            )
            .grants_something_of_note()
        );
        assert!(!rule(&[], &[""], &["configmaps"], &[]).grants_something_of_note());
    }

    fn query(checks: Vec<AccessCheck>) -> AccessQuery {
        AccessQuery { checks }
    }

    #[test]
    fn well_formed_checks_pass() {
        let checks = vec![
            check("delete", "", "configmaps"),
            check("update", "apps", "deployments").with_subresource("scale"),
            AccessCheck::new("list", "", "namespaces", None),
            check("get", "snapshot.storage.k8s.io", "volumesnapshots"),
            check("deletecollection", "", "pods"),
        ];
        assert_eq!(validate(&query(checks)), Ok(()));
        assert_eq!(validate(&query(vec![])), Ok(()));
    }

    #[test]
    fn malformed_checks_are_refused_with_a_reason() {
        let too_many = vec![check("get", "", "pods"); MAX_CHECKS + 1];
        assert!(
            validate(&query(too_many)).is_err_and(|e| e.contains(&format!("At most {MAX_CHECKS}")))
        );
        for (bad, expected) in [
            (check("", "", "pods"), "verb is empty"),
            (check("get", "", ""), "resource is empty"),
            (check("*", "", "pods"), "wildcard"),
            (check("get", "*", "pods"), "wildcard"),
            (check("get", "", "*"), "wildcard"),
            (
                check("update", "apps", "deployments").with_subresource("*"),
                "wildcard",
            ),
            (
                check("get", "", "pods").with_subresource(""),
                "subresource is empty",
            ),
            (
                AccessCheck::new("get", "", "pods", Some("")),
                "namespace is empty",
            ),
            (
                AccessCheck::new("get", "", "pods", Some("Team-A")),
                "namespace",
            ),
            (
                AccessCheck::new("get", "", "pods", Some("team_a")),
                "namespace",
            ),
            (
                AccessCheck::new("get", "", "pods", Some("-team")),
                "namespace",
            ),
            (
                AccessCheck::new("get", "", "pods", Some(&"a".repeat(64))),
                "namespace",
            ),
            (check("GET", "", "pods"), "verb"),
            (check("get", "", "pods/log"), "resource"),
            (check("get", "Apps", "deployments"), "group"),
            (check("get", "apps..io", "deployments"), "group"),
            (check("get", "", "pods\n"), "resource"),
            (check("get", "", "pods?watch=1"), "resource"),
        ] {
            let refused = validate(&query(vec![check("get", "", "pods"), bad.clone()]));
            assert!(
                refused
                    .as_ref()
                    .is_err_and(|e| e.starts_with("Check 2 is refused") && e.contains(expected)),
                "{bad:?}: {refused:?}"
            );
        }
    }

    #[test]
    fn one_query_names_a_bounded_number_of_namespaces() {
        let in_namespaces = |count: usize, cluster_wide: bool| {
            let mut checks: Vec<AccessCheck> = (0..count)
                .map(|i| AccessCheck::new("list", "", "pods", Some(&format!("ns-{i}"))))
                .collect();
            if cluster_wide {
                checks.push(AccessCheck::new("list", "", "namespaces", None));
            }
            // Repeats of a namespace count once.
            checks.extend(checks.clone());
            validate(&query(checks))
        };
        assert_eq!(in_namespaces(MAX_NAMESPACES, false), Ok(()));
        assert_eq!(in_namespaces(MAX_NAMESPACES - 1, true), Ok(()));
        for refused in [
            in_namespaces(MAX_NAMESPACES, true),
            in_namespaces(MAX_NAMESPACES + 1, false),
            in_namespaces(100, false),
        ] {
            assert!(
                refused
                    .as_ref()
                    .is_err_and(|e| e.contains(&format!("At most {MAX_NAMESPACES} namespaces"))),
                "{refused:?}"
            );
        }
    }

    #[test]
    fn continue_tokens_are_escaped() {
        assert_eq!(percent_encode("abc-_.~"), "abc-_.~");
        assert_eq!(percent_encode("a+b/c=&d"), "a%2Bb%2Fc%3D%26d");
    }
}
