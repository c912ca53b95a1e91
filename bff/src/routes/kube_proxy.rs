//! `/api/k8s/*`: the app's Kubernetes API calls, forwarded to the apiserver-proxy with the
//! user's (verified) bearer token and nothing else the browser sent but a short allow-list of
//! headers. Only Kubernetes API paths and methods pass, never a `proxy` subresource. Request
//! bodies are read in full (bounded in size and time) before anything goes upstream; responses
//! stream, so watches flow event by event, and only the wait for the response head is timed,
//! so watches are not cut.

use std::time::Duration;

use axum::{
    Json, Router,
    body::{Body, Bytes},
    extract::{FromRequestParts, Request, State},
    http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, header},
    response::{IntoResponse, Response},
    routing::any,
};
use http_body_util::BodyExt;
use shared::{ApiError, ErrorCode};

use crate::{AppState, auth::bearer::Authenticated, error::AppError};

pub const PREFIX: &str = "/api/k8s";
/// The largest request body forwarded (manifests are far smaller; the apiserver's own limit is
/// the same 3 MiB).
pub const BODY_LIMIT: usize = 3 * 1024 * 1024;
/// How long a request body may take to arrive in full, by default.
pub const REQUEST_BODY_TIMEOUT: Duration = Duration::from_secs(30);
/// The longest `timeoutSeconds` passed on: the apiserver's own watch timeout is at most an
/// hour, and a larger value would hold a connection through the BFF for as long as asked.
pub const MAX_TIMEOUT_SECONDS: u64 = 3600;
const RESPONSE_HEAD_TIMEOUT: Duration = Duration::from_secs(30);
/// The methods the Kubernetes API is used with. No OPTIONS: the app is same-origin, so nothing
/// sends a CORS preflight, and the apiserver answers OPTIONS only for CORS.
pub const METHODS: [Method; 6] = [
    Method::GET,
    Method::HEAD,
    Method::POST,
    Method::PUT,
    Method::PATCH,
    Method::DELETE,
];
/// The request body media types the apiserver reads (JSON, YAML, protobuf and the patch types),
/// without parameters.
const BODY_MEDIA_TYPES: [&str; 8] = [
    "application/json",
    "application/yaml",
    "application/vnd.kubernetes.protobuf",
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
    "application/apply-patch+cbor",
];
/// The policy of every API response: even were one ever HTML, the browser would run nothing of
/// it and give it an opaque origin.
pub const API_RESPONSE_CSP: &str = "sandbox; default-src 'none'; frame-ancestors 'none'";

pub type Upstream = server_common::https_client::HttpsClient;

pub struct KubeProxy {
    pub base: String,
    pub client: Upstream,
    /// How long a request body may take to arrive; `REQUEST_BODY_TIMEOUT` but in tests.
    pub request_body_timeout: Duration,
}

impl KubeProxy {
    pub fn new(base: String, client: Upstream) -> Self {
        KubeProxy {
            base,
            client,
            request_body_timeout: REQUEST_BODY_TIMEOUT,
        }
    }
}

pub fn upstream_client(ca_pem_file: &std::path::Path) -> anyhow::Result<Upstream> {
    Ok(server_common::https_client::pooled(
        server_common::tls::client_config(ca_pem_file, None)?,
    ))
}

pub fn upstream_client_trusting(roots: rustls::RootCertStore) -> anyhow::Result<Upstream> {
    Ok(server_common::https_client::pooled(
        server_common::tls::client_config_trusting(roots, None)?,
    ))
}

pub fn router() -> Router<AppState> {
    Router::new().route("/api/k8s/{*path}", any(forward))
}

/// Why a request is not forwarded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// Not a Kubernetes API path, or one spelled so that it may route elsewhere.
    Path(&'static str),
    /// A `proxy` subresource (pods, services, nodes) or the legacy `/api/v1/proxy`.
    ProxySubresource,
    /// A query parameter the BFF does not pass on as given.
    Query(String),
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        match self {
            Refused::Path(reason) => refusal(ErrorCode::BadRequest, format!("Refused: {reason}.")),
            Refused::ProxySubresource => refusal(
                ErrorCode::Forbidden,
                "The console does not open proxy subresources (pods, services or nodes …/proxy): \
                 what they answer is made by the workload and would be served from the \
                 console's own address. kubectl can still use them through the apiserver-proxy.",
            ),
            Refused::Query(reason) => refusal(ErrorCode::BadRequest, reason),
        }
    }
}

/// The shared JSON error with the status its code stands for.
fn refusal(code: ErrorCode, message: impl Into<String>) -> Response {
    respond(ApiError::new(code, message))
}

fn respond(error: ApiError) -> Response {
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST);
    (status, Json(error)).into_response()
}

/// The Kubernetes API path (with its query) a `/api/k8s/...` request names, byte for byte as it
/// goes upstream, or why not.
///
/// The apiserver routes on the percent-decoded path, case-sensitively. Every rule here holds
/// for that decoded path: an encoded ASCII byte is refused outright (no Kubernetes name needs
/// one; `%2F`, `%2E` or `%70roxy` would only hide a slash, a dot segment or a `proxy`), so that
/// the raw segments checked are the segments the apiserver sees.
pub fn upstream_path(uri: &Uri) -> Result<String, Refused> {
    let raw = uri.path();
    let path = raw
        .strip_prefix(PREFIX)
        .ok_or(Refused::Path("not under the API prefix"))?;
    if !path.starts_with('/') || path.starts_with("//") {
        return Err(Refused::Path("not a path"));
    }
    if path.contains('\\') || encodes_ascii(path) {
        return Err(Refused::Path(
            "backslashes and percent-encoded ASCII (such as encoded slashes or dots) are not allowed",
        ));
    }
    if path
        .split('/')
        .skip(1)
        .any(|segment| segment.is_empty() || segment == "." || segment == "..")
    {
        return Err(Refused::Path("empty and dot segments are not allowed"));
    }
    if path.chars().any(|c| c.is_control()) {
        return Err(Refused::Path("control characters are not allowed"));
    }
    let allowed = ["/api", "/apis", "/version", "/openapi/v2", "/openapi/v3"]
        .iter()
        .any(|prefix| path == *prefix || path.starts_with(&format!("{prefix}/")));
    if !allowed {
        return Err(Refused::Path("only Kubernetes API paths are forwarded"));
    }
    if is_proxy_subresource(path) {
        return Err(Refused::ProxySubresource);
    }
    Ok(match uri.query() {
        Some(query) => {
            check_query(query)?;
            format!("{path}?{query}")
        }
        None => path.to_string(),
    })
}

/// A `%` that is not followed by two hex digits, or one that encodes an ASCII byte. Encoded
/// non-ASCII (UTF-8 in a name) is let through: none of its bytes is a slash, a dot or a letter.
fn encodes_ascii(path: &str) -> bool {
    let bytes = path.as_bytes();
    bytes.iter().enumerate().any(|(at, &b)| {
        b == b'%'
            && !matches!(
                (bytes.get(at + 1), bytes.get(at + 2)),
                (Some(high), Some(low)) if high.is_ascii_hexdigit()
                    && low.is_ascii_hexdigit()
                    && !matches!(high, b'0'..=b'7')
            )
    })
}

/// Whether the apiserver would route `path` (checked as above) to a `proxy` subresource: pods,
/// services and nodes have one (`…/pods/<name>[:<port>]/proxy[/…]`,
/// `…/services/[<scheme>:]<name>[:<port>]/proxy[/…]`, `/api/v1/nodes/<name>/proxy[/…]`), and the
/// legacy `/api/v1/proxy/…` paths were the same. Any resource's `proxy` subresource is refused
/// (an aggregated API could serve one too), in any letter case (the apiserver routes only the
/// lowercase one, so refusing the others costs nothing).
pub fn is_proxy_subresource(path: &str) -> bool {
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    // What follows the group version: /api/<version>/… or /apis/<group>/<version>/….
    let rest = match segments.first() {
        Some(&"api") => segments.get(2..),
        Some(&"apis") => segments.get(3..),
        _ => None,
    }
    .unwrap_or_default();
    let is_proxy = |segment: &str| segment.eq_ignore_ascii_case("proxy");
    // The legacy /api/v1/watch/… prefix names the same objects.
    let rest = match rest {
        [watch, tail @ ..] if *watch == "watch" => tail,
        _ => rest,
    };
    match rest {
        [first, ..] if is_proxy(first) => true,
        [namespaces, _, _, _, sub, ..] if *namespaces == "namespaces" && is_proxy(sub) => true,
        [_, _, sub, ..] => is_proxy(sub),
        _ => false,
    }
}

/// `timeoutSeconds` keeps a watch (or a list) open for as long as it says: more than
/// `MAX_TIMEOUT_SECONDS` is refused, in every spelling the apiserver decodes (encoded name,
/// repeated parameter: it reads the first, the check reads all).
fn check_query(query: &str) -> Result<(), Refused> {
    for pair in query.split('&') {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        if form_decode(name).as_deref() != Some("timeoutSeconds") {
            continue;
        }
        let fits = form_decode(value)
            .filter(|v| !v.is_empty() && v.len() <= 10 && v.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|v| v.parse::<u64>().ok())
            .is_some_and(|seconds| seconds <= MAX_TIMEOUT_SECONDS);
        if !fits {
            return Err(Refused::Query(format!(
                "timeoutSeconds must be a whole number of seconds, at most {MAX_TIMEOUT_SECONDS}."
            )));
        }
    }
    Ok(())
}

/// A query component as Go's `url.ParseQuery` reads it (`+` is a space); `None` when it is not
/// valid percent-encoding or not UTF-8.
fn form_decode(component: &str) -> Option<String> {
    let bytes = component.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while let Some(&b) = bytes.get(at) {
        match b {
            b'%' => {
                let hex = component.get(at + 1..at + 3)?;
                if !hex.bytes().all(|h| h.is_ascii_hexdigit()) {
                    return None;
                }
                out.push(u8::from_str_radix(hex, 16).ok()?);
                at += 3;
            }
            b'+' => {
                out.push(b' ');
                at += 1;
            }
            _ => {
                out.push(b);
                at += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// The request headers the apiserver gets: the allow-list, and the verified token. The body's
/// length is the buffered body's, set by the client library.
pub fn upstream_headers(client: &HeaderMap, token: &str) -> HeaderMap {
    const ALLOWED: [HeaderName; 2] = [header::ACCEPT, header::CONTENT_TYPE];
    let mut headers = HeaderMap::new();
    for name in ALLOWED {
        for value in client.get_all(&name) {
            headers.append(name.clone(), value.clone());
        }
    }
    if let Ok(mut bearer) = HeaderValue::from_str(&format!("Bearer {token}")) {
        bearer.set_sensitive(true);
        headers.insert(header::AUTHORIZATION, bearer);
    }
    headers
}

/// At most one `Content-Type`, and one the apiserver reads: two would let the apiserver-proxy
/// and the apiserver each read a different one.
fn check_content_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let mut types = headers.get_all(header::CONTENT_TYPE).iter();
    let Some(value) = types.next() else {
        return Ok(());
    };
    if types.next().is_some() {
        return Err(ApiError::new(
            ErrorCode::BadRequest,
            "The request has more than one Content-Type.",
        ));
    }
    let media_type = value
        .to_str()
        .ok()
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase());
    if media_type.is_some_and(|t| BODY_MEDIA_TYPES.contains(&t.as_str())) {
        return Ok(());
    }
    Err(ApiError::new(
        ErrorCode::UnsupportedMediaType,
        format!(
            "The Kubernetes API reads request bodies of these types only: {}.",
            BODY_MEDIA_TYPES.join(", ")
        ),
    ))
}

/// The response headers the browser gets from the apiserver: an allow-list. Cookies, redirects,
/// `Clear-Site-Data`, `Content-Disposition`, CORS and any policy of the upstream's never reach
/// the console's origin; hop-by-hop headers are the connection's own.
pub fn downstream_headers(upstream: &mut HeaderMap) {
    const ALLOWED: [&str; 13] = [
        "content-type",
        "content-length",
        "content-encoding",
        "cache-control",
        "etag",
        "last-modified",
        "expires",
        "vary",
        "retry-after",
        "warning",
        "audit-id",
        "x-kubernetes-pf-flowschema-uid",
        "x-kubernetes-pf-prioritylevel-uid",
    ];
    let names: Vec<HeaderName> = upstream.keys().cloned().collect();
    for name in names {
        if !ALLOWED.contains(&name.as_str()) {
            upstream.remove(&name);
        }
    }
    upstream.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(API_RESPONSE_CSP),
    );
}

/// The whole request body, read before anything is sent upstream: Kubernetes API bodies are
/// small (manifests, patches), so buffering up to `BODY_LIMIT` costs little and means a body
/// over the limit, or one that never arrives, is answered here (413, 408) instead of being
/// half-streamed to the apiserver.
async fn read_body(body: Body, timeout: Duration) -> Result<Bytes, ApiError> {
    let limited = http_body_util::Limited::new(body, BODY_LIMIT);
    match tokio::time::timeout(timeout, limited.collect()).await {
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(err)) if err.is::<http_body_util::LengthLimitError>() => Err(too_large_error()),
        Ok(Err(err)) => {
            tracing::debug!(%err, "the request body could not be read");
            Err(ApiError::new(
                ErrorCode::BadRequest,
                "The request body could not be read.",
            ))
        }
        Err(_) => Err(ApiError::new(
            ErrorCode::RequestTimeout,
            format!(
                "The request body did not arrive within {} seconds.",
                timeout.as_secs()
            ),
        )),
    }
}

fn too_large_error() -> ApiError {
    ApiError::new(
        ErrorCode::PayloadTooLarge,
        format!("The request body is larger than {BODY_LIMIT} bytes."),
    )
}

fn method_not_allowed() -> Response {
    let allow = METHODS.map(|m| m.to_string()).join(", ");
    let mut response = refusal(
        ErrorCode::MethodNotAllowed,
        format!("The Kubernetes API is used with {allow} only."),
    );
    if let Ok(value) = HeaderValue::from_str(&allow) {
        response.headers_mut().insert(header::ALLOW, value);
    }
    response
}

/// Everything that needs neither the user nor the body is checked first, so that a refused
/// request costs no token verification and no body read.
async fn forward(State(state): State<AppState>, request: Request) -> Response {
    if !METHODS.contains(request.method()) {
        return method_not_allowed();
    }
    let path = match upstream_path(request.uri()) {
        Ok(path) => path,
        Err(refused) => return refused.into_response(),
    };
    let (mut parts, body) = request.into_parts();
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > BODY_LIMIT as u64) {
        return respond(too_large_error());
    }
    if let Err(refused) = check_content_type(&parts.headers) {
        return respond(refused);
    }
    let user = match Authenticated::from_request_parts(&mut parts, &state).await {
        Ok(user) => user,
        Err(err) => return err.into_response(),
    };
    let body = match read_body(body, state.kube.request_body_timeout).await {
        Ok(body) => body,
        Err(refused) => return respond(refused),
    };
    let Ok(uri) = format!("{}{path}", state.kube.base).parse::<Uri>() else {
        return AppError::NotFound.into_response();
    };
    let mut upstream = hyper::Request::new(Body::from(body));
    *upstream.method_mut() = parts.method;
    *upstream.uri_mut() = uri;
    *upstream.headers_mut() = upstream_headers(&parts.headers, &user.token);
    match tokio::time::timeout(RESPONSE_HEAD_TIMEOUT, state.kube.client.request(upstream)).await {
        Ok(Ok(mut response)) => {
            downstream_headers(response.headers_mut());
            response.map(Body::new)
        }
        Ok(Err(err)) => {
            server_common::metrics::global().upstream_error("unreachable");
            tracing::warn!(%err, "the apiserver-proxy is unreachable");
            AppError::UpstreamUnavailable.into_response()
        }
        Err(_) => {
            server_common::metrics::global().upstream_error("timeout");
            AppError::UpstreamTimeout.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(uri: &str) -> Result<String, Refused> {
        upstream_path(&uri.parse::<Uri>().expect("uri"))
    }

    #[test]
    fn kubernetes_api_paths_pass_with_their_query() {
        assert_eq!(
            path("/api/k8s/api/v1/namespaces?limit=500").as_deref(),
            Ok("/api/v1/namespaces?limit=500")
        );
        assert_eq!(
            path("/api/k8s/apis/apps/v1/deployments?watch=1&timeoutSeconds=300").as_deref(),
            Ok("/apis/apps/v1/deployments?watch=1&timeoutSeconds=300")
        );
        assert_eq!(path("/api/k8s/version").as_deref(), Ok("/version"));
        assert_eq!(
            path("/api/k8s/openapi/v3/apis/apps/v1").as_deref(),
            Ok("/openapi/v3/apis/apps/v1")
        );
        assert_eq!(path("/api/k8s/api").as_deref(), Ok("/api"));
        // Objects and namespaces that happen to be called "proxy", and encoded UTF-8 in a name.
        for ok in [
            "/api/k8s/api/v1/namespaces/proxy/configmaps",
            "/api/k8s/api/v1/namespaces/team-a/configmaps/proxy",
            "/api/k8s/api/v1/namespaces/team-a/pods/web/log",
            "/api/k8s/apis/rbac.authorization.k8s.io/v1/clusterroles/r%C3%B4le",
        ] {
            assert!(path(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn path_tricks_and_other_targets_are_refused() {
        for hostile in [
            "/api/k8s/healthz",
            "/api/k8s/metrics",
            "/api/k8s/apiextra",
            "/api/k8s//evil.example/api",
            "/api/k8s/api/../healthz",
            "/api/k8s/api/./v1",
            "/api/k8s/api/%2e%2e/healthz",
            "/api/k8s/api%2fv1",
            "/api/k8s/api/v1%2F..%2Fhealthz",
            "/api/k8s/api\\v1",
            "/api/k8s/api/v1//namespaces",
            "/api/k8s/api/%5cv1",
            "/api/k8s/api/v1/namespaces/",
            "/api/k8s/api/v1/namespaces/%",
            "/api/k8s/api/v1/namespaces/%zz",
            "/api/k8s/api/v1/namespaces/%41",
            "/api/k8s",
        ] {
            if let Ok(uri) = hostile.parse::<Uri>() {
                assert!(
                    matches!(upstream_path(&uri), Err(Refused::Path(_))),
                    "{hostile} must be refused"
                );
            }
        }
    }

    #[test]
    fn proxy_subresources_are_refused_in_every_spelling() {
        for hostile in [
            "/api/k8s/api/v1/namespaces/team-a/pods/web/proxy",
            "/api/k8s/api/v1/namespaces/team-a/pods/web/proxy/index.html",
            "/api/k8s/api/v1/namespaces/team-a/pods/web:8080/proxy/",
            "/api/k8s/api/v1/namespaces/team-a/pods/https:web:8443/proxy/a/b",
            "/api/k8s/api/v1/namespaces/team-a/services/web/proxy",
            "/api/k8s/api/v1/namespaces/team-a/services/https:web:443/proxy/x",
            "/api/k8s/api/v1/namespaces/team-a/services/web:http/proxy",
            "/api/k8s/api/v1/nodes/node-1/proxy",
            "/api/k8s/api/v1/nodes/node-1:10250/proxy/metrics",
            "/api/k8s/api/v1/proxy/namespaces/team-a/pods/web",
            "/api/k8s/api/v1/proxy/nodes/node-1/",
            "/api/k8s/api/v1/proxy",
            "/api/k8s/api/v1/watch/namespaces/team-a/pods/web/proxy",
            "/api/k8s/apis/metrics.example/v1/namespaces/x/things/y/proxy",
            "/api/k8s/api/v1/namespaces/team-a/pods/web/Proxy",
            "/api/k8s/api/v1/namespaces/team-a/pods/web/PROXY/x",
            "/api/k8s/api/v1/namespaces/team-a/pods/web/%70roxy",
            "/api/k8s/api/v1/namespaces/team-a/pods/web/pr%6Fxy/x",
            "/api/k8s/api/v1/namespaces/team-a/pods/web%2Fproxy",
            "/api/k8s/api/v1/namespaces/team-a/pods/web/proxy%2F",
            "/api/k8s/api/v1/namespaces/team-a/pods/./web/proxy",
            "/api/k8s/api/v1/namespaces/team-a/pods//web/proxy",
        ] {
            assert!(path(hostile).is_err(), "{hostile} must be refused");
        }
        assert_eq!(
            path("/api/k8s/api/v1/namespaces/team-a/services/web/proxy"),
            Err(Refused::ProxySubresource)
        );
        assert_eq!(
            path("/api/k8s/api/v1/proxy/nodes/n"),
            Err(Refused::ProxySubresource)
        );
    }

    #[test]
    fn timeouts_beyond_an_hour_are_refused_in_every_spelling() {
        for ok in [
            "watch=1&timeoutSeconds=3600",
            "timeoutSeconds=0",
            "labelSelector=timeoutSeconds%3D9999999",
            "timeoutseconds=99999999",
        ] {
            assert!(path(&format!("/api/k8s/api/v1/pods?{ok}")).is_ok(), "{ok}");
        }
        for hostile in [
            "watch=1&timeoutSeconds=3601",
            "timeoutSeconds=99999999999999999999",
            "timeoutSeconds=-1",
            "timeoutSeconds=%2B5",
            "timeoutSeconds=",
            "timeoutSeconds",
            "timeoutSeconds=1e9",
            "timeout%53econds=999999",
            "timeoutSeconds=60&timeoutSeconds=999999",
            "timeoutSeconds=%39%39%39%39%39",
        ] {
            assert!(
                matches!(
                    path(&format!("/api/k8s/api/v1/pods?{hostile}")),
                    Err(Refused::Query(_))
                ),
                "{hostile} must be refused"
            );
        }
    }

    #[test]
    fn only_allowed_headers_and_the_verified_token_go_upstream() {
        let mut client = HeaderMap::new();
        for (name, value) in [
            ("authorization", "Bearer the-browser-sent-this"),
            ("cookie", "__Host-kc-refresh=secret"),
            ("impersonate-user", "admin@example.com"),
            ("connection", "keep-alive"),
            ("x-forwarded-for", "1.2.3.4"),
            ("content-length", "2"),
            ("transfer-encoding", "chunked"),
            ("accept", "application/json;as=Table;g=meta.k8s.io;v=v1"),
            ("content-type", "application/json"),
        ] {
            client.append(
                HeaderName::from_bytes(name.as_bytes()).expect("name"),
                HeaderValue::from_static(value),
            );
        }
        let upstream = upstream_headers(&client, "verified-token");
        let names: Vec<&str> = upstream.keys().map(|n| n.as_str()).collect();
        assert_eq!(names, ["accept", "content-type", "authorization"]);
        assert_eq!(upstream[header::AUTHORIZATION], "Bearer verified-token");
    }

    #[test]
    fn one_content_type_of_the_apis_own_or_none() {
        let with = |types: &[&str]| {
            let mut headers = HeaderMap::new();
            for t in types {
                headers.append(header::CONTENT_TYPE, HeaderValue::from_str(t).expect("v"));
            }
            check_content_type(&headers).map_err(|e| e.status())
        };
        assert_eq!(with(&[]), Ok(()));
        for ok in [
            "application/json",
            "application/yaml",
            "Application/JSON; charset=utf-8",
            "application/apply-patch+yaml",
            "application/strategic-merge-patch+json",
        ] {
            assert_eq!(with(&[ok]), Ok(()), "{ok}");
        }
        for bad in [
            "text/plain",
            "multipart/form-data; boundary=x",
            "application/x-www-form-urlencoded",
            "text/html",
            "",
        ] {
            assert_eq!(with(&[bad]), Err(415), "{bad:?}");
        }
        assert_eq!(with(&["application/json", "application/yaml"]), Err(400));
    }

    #[test]
    fn only_allow_listed_response_headers_come_back_with_a_sandbox_policy() {
        let mut upstream = HeaderMap::new();
        for (name, value) in [
            ("set-cookie", "a=b"),
            ("location", "https://evil.example/"),
            ("connection", "close"),
            ("transfer-encoding", "chunked"),
            ("content-security-policy", "script-src *"),
            ("content-disposition", "inline; filename=x.html"),
            ("clear-site-data", "\"*\""),
            ("access-control-allow-origin", "*"),
            ("refresh", "0; url=https://evil.example/"),
            ("content-type", "application/json"),
            ("audit-id", "x"),
        ] {
            upstream.append(
                HeaderName::from_bytes(name.as_bytes()).expect("name"),
                HeaderValue::from_static(value),
            );
        }
        downstream_headers(&mut upstream);
        let mut names: Vec<&str> = upstream.keys().map(|n| n.as_str()).collect();
        names.sort();
        assert_eq!(
            names,
            ["audit-id", "content-security-policy", "content-type"]
        );
        assert_eq!(upstream[header::CONTENT_SECURITY_POLICY], API_RESPONSE_CSP);
    }

    /// The property tests' model of the apiserver: the routes that reach a proxy, matched on the
    /// percent-decoded path exactly as the apiserver (go-restful, case-sensitive) routes them.
    fn apiserver_routes_to_proxy(decoded: &str) -> bool {
        let s: Vec<&str> = decoded.split('/').skip(1).collect();
        matches!(
            s.as_slice(),
            ["api", "v1", "proxy", ..]
                | [
                    "api",
                    "v1",
                    "namespaces",
                    _,
                    "pods" | "services",
                    _,
                    "proxy",
                    ..
                ]
                | ["api", "v1", "nodes", _, "proxy", ..]
        )
    }

    fn percent_decode(path: &str) -> Option<Vec<u8>> {
        let bytes = path.as_bytes();
        let mut out = Vec::new();
        let mut at = 0;
        while let Some(&b) = bytes.get(at) {
            if b == b'%' {
                let hex = std::str::from_utf8(bytes.get(at + 1..at + 3)?).ok()?;
                if !hex.bytes().all(|h| h.is_ascii_hexdigit()) {
                    return None;
                }
                out.push(u8::from_str_radix(hex, 16).ok()?);
                at += 3;
            } else {
                out.push(b);
                at += 1;
            }
        }
        Some(out)
    }

    mod properties {
        use proptest::prelude::*;

        use super::*;

        fn segment() -> impl Strategy<Value = String> {
            prop_oneof![
                3 => prop::sample::select(vec![
                    "api", "apis", "v1", "apps", "namespaces", "team-a", "pods", "services",
                    "nodes", "node-1", "web", "web:8080", "https:web:443", "proxy", "Proxy",
                    "PROXY", "%70roxy", "pr%6fxy", "%50ROXY", "watch", "log", "version", "openapi",
                    "v2", "v3", "..", ".", "%2e", "%2E%2e", ".%2e", "%2f", "%2F", "\\", "%5c", "",
                    "%C3%A9", "%e2%80%ae", "%00", "%0a", "%", "%zz", "%%", "a%2fb", "%7e",
                ]).prop_map(str::to_string),
                1 => "[a-zA-Z0-9%.:~_-]{0,8}",
            ]
        }

        fn request_path() -> impl Strategy<Value = String> {
            (
                prop::sample::select(vec![
                    "/api/v1",
                    "/api",
                    "/apis",
                    "/apis/apps/v1",
                    "/version",
                    "/openapi/v2",
                    "/openapi/v3",
                    "/openapi",
                    "",
                    "/",
                    "/API",
                    "/healthz",
                ]),
                prop::collection::vec(segment(), 0..9),
                prop::option::of(prop::sample::select(vec![
                    "watch=1",
                    "timeoutSeconds=100000",
                    "timeoutSeconds=60",
                    "limit=1&x=%2F",
                ])),
            )
                .prop_map(|(start, segments, query)| {
                    let mut path = start.to_string();
                    for segment in segments {
                        path.push('/');
                        path.push_str(&segment);
                    }
                    match query {
                        Some(query) => format!("{path}?{query}"),
                        None => path,
                    }
                })
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

            /// Whatever is forwarded is a Kubernetes API path as the apiserver will route it:
            /// under an allowed prefix, with no dot segment, encoded slash or backslash once
            /// decoded, never a proxy, and byte for byte what the browser asked for.
            #[test]
            fn whatever_is_forwarded_is_a_plain_kubernetes_api_path(tail in request_path()) {
                let Ok(uri) = format!("{PREFIX}{tail}").parse::<Uri>() else {
                    return Ok(());
                };
                let Ok(forwarded) = upstream_path(&uri) else {
                    return Ok(());
                };
                prop_assert_eq!(&forwarded, &tail);
                let path = forwarded.split('?').next().unwrap_or_default();
                let decoded = percent_decode(path);
                prop_assert!(decoded.is_some(), "undecodable {}", path);
                let decoded = decoded.unwrap_or_default();
                // Decoding adds no slash, backslash or dot: the segments seen upstream are the
                // raw ones.
                prop_assert_eq!(
                    decoded.iter().filter(|b| matches!(b, b'/' | b'\\' | b'.')).count(),
                    path.bytes().filter(|b| matches!(b, b'/' | b'\\' | b'.')).count()
                );
                prop_assert!(!decoded.contains(&b'\\'));
                prop_assert!(!decoded.iter().any(|b| b.is_ascii_control()));
                let decoded = String::from_utf8_lossy(&decoded).to_string();
                prop_assert!(
                    ["/api", "/apis", "/version", "/openapi/v2", "/openapi/v3"]
                        .iter()
                        .any(|p| decoded == *p || decoded.starts_with(&format!("{p}/"))),
                    "{}", decoded
                );
                prop_assert!(
                    decoded.split('/').skip(1).all(|s| !s.is_empty() && s != "." && s != ".."),
                    "{}", decoded
                );
                prop_assert!(!apiserver_routes_to_proxy(&decoded), "{}", decoded);
                if let Some(query) = forwarded.split_once('?').map(|(_, q)| q) {
                    prop_assert!(!query.contains("timeoutSeconds=100000"));
                }
            }

            /// Every spelling of a proxy route the apiserver serves is refused.
            #[test]
            fn proxy_routes_are_refused(
                kind in prop::sample::select(vec!["pods", "services"]),
                name in "[a-z][a-z0-9-]{0,8}(:[0-9]{1,5})?",
                proxy in prop::sample::select(vec!["proxy", "%70roxy", "prox%79", "%70%72%6f%78%79", "Proxy"]),
                rest in prop::collection::vec("[a-z0-9.%]{0,4}", 0..3),
                slash in proptest::bool::ANY,
            ) {
                let mut tail = format!("/api/v1/namespaces/team-a/{kind}/{name}/{proxy}");
                for segment in rest {
                    tail.push('/');
                    tail.push_str(&segment);
                }
                if slash {
                    tail.push('/');
                }
                if let Ok(uri) = format!("{PREFIX}{tail}").parse::<Uri>() {
                    prop_assert!(upstream_path(&uri).is_err(), "{}", tail);
                }
            }
        }
    }
}
