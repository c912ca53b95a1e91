//! Properties of the claim mapping and of the headers sent upstream, for arbitrary claim values
//! (whitespace, control characters, Unicode, `system:` names) and arbitrary client headers.

use apiserver_proxy::{ClaimMapping, Identity, headers};
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use proptest::prelude::*;
use serde_json::json;
use server_common::oidc::IdClaims;

const ISSUER: &str = "https://dex.example/dex";

/// What may reach the kube-apiserver as a user or group, stated apart from the code under test:
/// sendable as is, the same after any trimming, no control character, not reserved.
fn safe_to_send(name: &str) -> bool {
    !name.is_empty()
        && HeaderValue::from_str(name).is_ok()
        && name.trim() == name
        && name.trim_matches([' ', '\t']) == name
        && !name.chars().any(char::is_control)
        && !name.starts_with("system:")
}

/// Claim values as an identity provider (or someone who controls one's data) might send them.
fn claim_value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[ \t\u{a0}\u{85}\u{3000}\u{2028}]{0,2}(system:|sys|tem:|oidc:)?[a-zA-Z0-9@.,:éü\u{200b}\u{202e}]{0,12}[ \t\u{0}\u{7}\u{7f}\u{85}\u{a0}\r\n]{0,2}",
        Just(" system:masters".to_string()),
        Just("system:masters\t".to_string()),
        Just("masters".to_string()),
        Just(String::new()),
    ]
}

/// Prefixes as configured: none, the usual ones, "-", and some that must be refused at start.
fn prefix() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("-".to_string()),
        Just("oidc:".to_string()),
        Just("sys".to_string()),
        Just("system:".to_string()),
        Just(" oidc:".to_string()),
        "[a-z:#/ \t\u{0}]{0,6}",
    ]
}

fn claims(user: &str, groups: &[String]) -> IdClaims {
    serde_json::from_value(json!({
        "iss": ISSUER, "sub": user, "aud": "kube-console", "exp": 1, "iat": 1,
        "email": user, "email_verified": true, "name": user, "groups": groups,
        "roles": groups,
    }))
    .expect("claims")
}

/// A header name in random casing: a client's `IMPERSONATE-uid` is the same header.
fn cased(name: &'static str) -> impl Strategy<Value = String> {
    proptest::collection::vec(any::<bool>(), name.len()).prop_map(move |upper| {
        name.chars()
            .zip(upper)
            .map(|(c, up)| if up { c.to_ascii_uppercase() } else { c })
            .collect()
    })
}

fn client_header_name() -> impl Strategy<Value = String> {
    prop_oneof![
        cased("authorization"),
        cased("cookie"),
        cased("impersonate-user"),
        cased("impersonate-group"),
        cased("impersonate-uid"),
        cased("impersonate-extra-scopes"),
        cased("impersonate-extra-"),
        cased("x-remote-user"),
        cased("x-remote-group"),
        cased("x-remote-extra-org"),
        cased("proxy-authorization"),
        cased("sec-websocket-protocol"),
        "[a-zA-Z][a-zA-Z0-9-]{0,20}",
    ]
}

fn client_header_value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ -~]{0,16}",
        "(v5.channel.k8s.io, ?)?base64url.bearer.authorization.k8s.io.[a-zA-Z0-9]{0,8}(,v4.channel.k8s.io)?",
    ]
}

fn is_identity_header(name: &str) -> bool {
    name == "authorization"
        || name == "cookie"
        || name == "proxy-authorization"
        || name.starts_with("impersonate-")
        || name.starts_with("x-remote-")
}

fn mapped(
    user: &str,
    groups: &[String],
    user_prefix: &str,
    group_prefix: &str,
    username_claim: &str,
    groups_claim: &str,
) -> Option<Identity> {
    let mapping = ClaimMapping::new(
        username_claim,
        user_prefix,
        groups_claim,
        group_prefix,
        ISSUER,
    )
    .ok()?;
    mapping.identity(&claims(user, groups)).ok()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn every_identity_produced_is_safe_to_send(
        user in claim_value(),
        groups in proptest::collection::vec(claim_value(), 0..8),
        user_prefix in prefix(),
        group_prefix in prefix(),
        username_claim in prop_oneof![Just("email"), Just("sub"), Just("name")],
        groups_claim in prop_oneof![Just("groups"), Just("roles")],
    ) {
        if let Some(identity) =
            mapped(&user, &groups, &user_prefix, &group_prefix, username_claim, groups_claim)
        {
            let sent = identity.user().as_str();
            prop_assert!(safe_to_send(sent), "user {sent:?}");
            prop_assert_eq!(identity.user().header().as_bytes(), sent.as_bytes());
            // The claim value is the end of the name, unpadded.
            prop_assert!(sent.ends_with(user.as_str()) && user.trim() == user);
            for group in identity.groups() {
                let name = group.as_str();
                prop_assert!(safe_to_send(name), "group {name:?}");
                prop_assert_eq!(group.header().as_bytes(), name.as_bytes());
                prop_assert!(
                    groups.iter().any(|g| g.trim() == g && format!("{group_prefix}{g}") == name),
                    "group {name:?} is not a prefixed claim value"
                );
            }
        }
    }

    #[test]
    fn upstream_headers_carry_exactly_the_identity_and_nothing_the_client_sent_for_one(
        user in claim_value(),
        groups in proptest::collection::vec(claim_value(), 0..8),
        client in proptest::collection::vec(
            (client_header_name(), client_header_value()),
            0..12,
        ),
        upgrade in any::<bool>(),
    ) {
        let Some(identity) = mapped(&user, &groups, "", "", "email", "groups") else {
            return Ok(());
        };
        let mut sent = HeaderMap::new();
        for (name, value) in &client {
            if let (Ok(name), Ok(value)) =
                (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(value))
            {
                sent.append(name, value);
            }
        }
        let upstream = headers::for_upstream(&sent, upgrade, &identity);
        let users: Vec<&[u8]> =
            upstream.get_all("impersonate-user").iter().map(HeaderValue::as_bytes).collect();
        prop_assert_eq!(users, vec![identity.user().as_str().as_bytes()]);
        let forwarded: Vec<&[u8]> =
            upstream.get_all("impersonate-group").iter().map(HeaderValue::as_bytes).collect();
        let produced: Vec<&[u8]> =
            identity.groups().iter().map(|g| g.as_str().as_bytes()).collect();
        prop_assert_eq!(forwarded, produced);
        for name in upstream.keys() {
            let name = name.as_str();
            prop_assert!(
                !is_identity_header(name) || name == "impersonate-user" || name == "impersonate-group",
                "the client's {name} went upstream"
            );
        }
        for protocols in upstream.get_all("sec-websocket-protocol") {
            prop_assert!(
                !String::from_utf8_lossy(protocols.as_bytes())
                    .contains("base64url.bearer.authorization.k8s.io."),
                "a bearer token went upstream in {protocols:?}"
            );
        }
    }
}
