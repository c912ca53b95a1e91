//! Which Kubernetes API path a request names, checked as the apiserver will route it: only API
//! paths, never a `proxy` subresource, and no watch held open for longer than an hour.

use axum::http::Uri;
use shared::{ApiError, ErrorCode};

use super::PREFIX;
use crate::error::AppError;

/// The longest `timeoutSeconds` passed on: the apiserver's own watch timeout is at most an
/// hour, and a larger value would hold a connection through the BFF for as long as asked.
pub const MAX_TIMEOUT_SECONDS: u64 = 3600;

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

impl From<Refused> for AppError {
    fn from(refused: Refused) -> Self {
        AppError::Refused(match refused {
            Refused::Path(reason) => {
                ApiError::new(ErrorCode::BadRequest, format!("Refused: {reason}."))
            }
            Refused::ProxySubresource => ApiError::new(
                ErrorCode::Forbidden,
                "The console does not open proxy subresources (pods, services or nodes …/proxy): \
                 what they answer is made by the workload and would be served from the \
                 console's own address. kubectl can still use them through the apiserver-proxy.",
            ),
            Refused::Query(reason) => ApiError::new(ErrorCode::BadRequest, reason),
        })
    }
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
    // Decoded as Go's `url.ParseQuery` reads it (`+` is a space). Bytes that do not decode stay
    // as they are or become U+FFFD: neither spells the name nor is a digit.
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        if name != "timeoutSeconds" {
            continue;
        }
        let fits = !value.is_empty()
            && value.len() <= 10
            && value.bytes().all(|b| b.is_ascii_digit())
            && value
                .parse::<u64>()
                .is_ok_and(|seconds| seconds <= MAX_TIMEOUT_SECONDS);
        if !fits {
            return Err(Refused::Query(format!(
                "timeoutSeconds must be a whole number of seconds, at most {MAX_TIMEOUT_SECONDS}."
            )));
        }
    }
    Ok(())
}

/// A followed pod log (`…/pods/<name>/log?follow=true`): the apiserver answers its head only
/// with the container's first line (the kubelet writes nothing before), which a quiet container
/// may not write for a long time, so its head is not held to the usual timeout.
pub fn is_followed_log(path_and_query: &str) -> bool {
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let segments: Vec<&str> = path.split('/').collect();
    let is_log = matches!(
        segments.as_slice(),
        ["", "api", "v1", "namespaces", _, "pods", _, "log"]
    );
    is_log
        && form_urlencoded::parse(query.as_bytes()).any(|(name, value)| {
            name == "follow"
                && !matches!(
                    value.as_ref(),
                    "" | "0" | "f" | "F" | "false" | "False" | "FALSE"
                )
        })
}

/// The property tests, against a model of the apiserver's routing.
#[cfg(test)]
mod properties;

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
    fn followed_logs_are_told_apart() {
        for followed in [
            "/api/v1/namespaces/team-a/pods/web/log?follow=true",
            "/api/v1/namespaces/team-a/pods/web/log?container=c&timestamps=true&follow=1",
        ] {
            assert!(is_followed_log(followed), "{followed}");
        }
        for other in [
            "/api/v1/namespaces/team-a/pods/web/log",
            "/api/v1/namespaces/team-a/pods/web/log?follow=false",
            "/api/v1/namespaces/team-a/pods/web/log?previous=true",
            "/api/v1/namespaces/team-a/configmaps/web?follow=true",
            "/api/v1/namespaces/team-a/pods/web/exec?follow=true",
            "/api/v1/namespaces/team-a/pods?watch=1&follow=true",
        ] {
            assert!(!is_followed_log(other), "{other}");
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
}
