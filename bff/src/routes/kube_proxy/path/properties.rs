//! Properties of `upstream_path` over generated paths: whatever is forwarded is what the
//! apiserver routes as a plain Kubernetes API path, and no spelling of a proxy route passes.

use axum::http::Uri;
use proptest::prelude::*;

use super::upstream_path;
use crate::routes::kube_proxy::PREFIX;

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
