//! What crosses the proxy in headers. Everything the client sends that could speak for an
//! identity is removed before the proxy adds its own.

use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use server_common::https_client::HOP_BY_HOP;

use crate::Identity;

pub fn is_upgrade(headers: &HeaderMap) -> bool {
    headers.contains_key(header::UPGRADE)
        && headers
            .get_all(header::CONNECTION)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|token| token.trim().eq_ignore_ascii_case("upgrade"))
}

/// A header the client may not send through: credentials, any `Impersonate-*` (User, Group,
/// Uid, Extra-*), the request-header authentication names, and hop-by-hop headers.
fn is_forbidden(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name == "authorization"
        || name == "cookie"
        || name.starts_with("impersonate-")
        || name.starts_with("x-remote-")
        || HOP_BY_HOP.contains(&name.as_str())
}

pub fn for_upstream(client: &HeaderMap, upgrade: bool, identity: &Identity) -> HeaderMap {
    // Headers the client named in Connection are hop-by-hop too.
    let named_in_connection: Vec<String> = client
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().to_ascii_lowercase())
        .filter(|t| t != "upgrade")
        .collect();
    let mut headers = HeaderMap::new();
    for (name, value) in client {
        let lower = name.as_str();
        if is_forbidden(lower) || lower == "host" || named_in_connection.iter().any(|n| n == lower)
        {
            continue;
        }
        if lower == "upgrade" && !upgrade {
            continue;
        }
        if name == header::SEC_WEBSOCKET_PROTOCOL {
            if let Some(protocols) = without_bearer_protocols(value) {
                headers.append(name.clone(), protocols);
            }
            continue;
        }
        headers.append(name.clone(), value.clone());
    }
    if upgrade {
        headers.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    }
    // Every name of an Identity is a valid header value (see identity::Name): the user is always
    // sent, and each group as a line of its own, so that a comma in a name splits nothing.
    headers.insert(
        HeaderName::from_static("impersonate-user"),
        identity.user().header().clone(),
    );
    for group in identity.groups() {
        headers.append(
            HeaderName::from_static("impersonate-group"),
            group.header().clone(),
        );
    }
    headers
}

/// The WebSocket subprotocol the kube-apiserver reads a bearer token from (for browsers, which
/// cannot set `Authorization` on a WebSocket).
const BEARER_PROTOCOL_PREFIX: &str = "base64url.bearer.authorization.k8s.io.";

/// `Sec-WebSocket-Protocol` without the entries that carry a credential: only the proxy's own
/// client certificate and impersonation may speak for the caller upstream. `None` when nothing
/// is left, or when the value is not text (then it cannot be checked, so it is not sent).
fn without_bearer_protocols(value: &HeaderValue) -> Option<HeaderValue> {
    let kept: Vec<&str> = value
        .to_str()
        .ok()?
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty() && !p.starts_with(BEARER_PROTOCOL_PREFIX))
        .collect();
    if kept.is_empty() {
        return None;
    }
    HeaderValue::from_str(&kept.join(", ")).ok()
}

pub fn strip_hop_by_hop(headers: &mut HeaderMap) {
    for name in HOP_BY_HOP {
        headers.remove(name);
    }
    headers.remove(header::UPGRADE);
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::identity::Name;

    fn identity() -> Identity {
        let name = |text| Name::new(text).expect("name");
        Identity::new(
            name("viewer@example.com"),
            vec![name("console-viewers"), name("team")],
        )
    }

    #[test]
    fn client_credentials_and_impersonation_never_reach_the_apiserver() {
        let mut client = HeaderMap::new();
        for (name, value) in [
            ("authorization", "Bearer token"),
            ("cookie", "a=b"),
            ("impersonate-user", "admin@example.com"),
            ("Impersonate-Group", "system:masters"),
            ("impersonate-uid", "0"),
            ("impersonate-extra-scopes", "all"),
            ("x-remote-user", "admin"),
            ("x-remote-group", "system:masters"),
            ("proxy-authorization", "Basic x"),
            ("connection", "keep-alive, x-secret"),
            ("x-secret", "hop"),
            ("keep-alive", "timeout=5"),
            ("te", "trailers"),
            ("accept", "application/json"),
            ("user-agent", "kubectl"),
        ] {
            client.append(
                HeaderName::from_bytes(name.as_bytes()).expect("name"),
                HeaderValue::from_static(value),
            );
        }
        let upstream = for_upstream(&client, false, &identity());
        let names: Vec<&str> = upstream.keys().map(|n| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "accept",
                "user-agent",
                "impersonate-user",
                "impersonate-group"
            ]
        );
        assert_eq!(upstream["impersonate-user"], "viewer@example.com");
        let groups: Vec<_> = upstream.get_all("impersonate-group").iter().collect();
        assert_eq!(groups, ["console-viewers", "team"]);
    }

    #[test]
    fn upgrades_keep_their_headers_and_carry_the_same_impersonation() {
        let mut client = HeaderMap::new();
        client.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
        client.insert(header::UPGRADE, HeaderValue::from_static("SPDY/3.1"));
        client.insert(
            "impersonate-user",
            HeaderValue::from_static("admin@example.com"),
        );
        client.insert(
            "x-stream-protocol-version",
            HeaderValue::from_static("v4.channel.k8s.io"),
        );
        assert!(is_upgrade(&client));
        let upstream = for_upstream(&client, true, &identity());
        assert_eq!(upstream[header::UPGRADE], "SPDY/3.1");
        assert_eq!(upstream[header::CONNECTION], "Upgrade");
        assert_eq!(upstream["x-stream-protocol-version"], "v4.channel.k8s.io");
        assert_eq!(upstream["impersonate-user"], "viewer@example.com");
        assert_eq!(upstream.get_all("impersonate-group").iter().count(), 2);
    }

    #[test]
    fn bearer_tokens_in_websocket_protocols_never_reach_the_apiserver() {
        let mut client = HeaderMap::new();
        client.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
        client.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        client.append(
            header::SEC_WEBSOCKET_PROTOCOL,
            HeaderValue::from_static(
                "v5.channel.k8s.io, base64url.bearer.authorization.k8s.io.c2E",
            ),
        );
        client.append(
            header::SEC_WEBSOCKET_PROTOCOL,
            HeaderValue::from_static("base64url.bearer.authorization.k8s.io.b3RoZXI"),
        );
        let upstream = for_upstream(&client, true, &identity());
        let protocols: Vec<_> = upstream
            .get_all(header::SEC_WEBSOCKET_PROTOCOL)
            .iter()
            .collect();
        assert_eq!(protocols, ["v5.channel.k8s.io"]);
        assert_eq!(upstream["impersonate-user"], "viewer@example.com");
    }

    #[test]
    fn odd_casing_of_identity_headers_changes_nothing() {
        let mut client = HeaderMap::new();
        for name in [
            "IMPERSONATE-UID",
            "Impersonate-Extra-Scopes",
            "iMpErSoNaTe-UsEr",
            "X-REMOTE-EXTRA-org",
            "AUTHORIZATION",
        ] {
            client.append(
                HeaderName::from_bytes(name.as_bytes()).expect("name"),
                HeaderValue::from_static("x"),
            );
        }
        let upstream = for_upstream(&client, false, &identity());
        let names: Vec<&str> = upstream.keys().map(|n| n.as_str()).collect();
        assert_eq!(names, ["impersonate-user", "impersonate-group"]);
    }

    #[test]
    fn upgrade_without_connection_upgrade_is_not_an_upgrade() {
        let mut client = HeaderMap::new();
        client.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        assert!(!is_upgrade(&client));
        assert!(!for_upstream(&client, false, &identity()).contains_key(header::UPGRADE));
    }
}
