//! The response headers the browser gets from the apiserver.

use axum::http::{HeaderMap, HeaderName, HeaderValue, header};

/// The policy of every API response: even were one ever HTML, the browser would run nothing of
/// it and give it an opaque origin.
pub const API_RESPONSE_CSP: &str = "sandbox; default-src 'none'; frame-ancestors 'none'";

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
