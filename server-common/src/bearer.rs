//! The bearer token of a request's `Authorization` header (RFC 6750 section 2.1, RFC 9110 section
//! 11.4), read the same way by the BFF and the apiserver-proxy.

use axum::http::{HeaderMap, header::AUTHORIZATION};

/// The token of the request's one `Authorization` header, if that is `Bearer <token68>`: the
/// scheme in any case, one or more spaces, a non-empty token68 and nothing else. Two
/// `Authorization` headers, a tab, a second word or an empty token are no bearer.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return None;
    };
    parse_bearer(value.to_str().ok()?)
}

/// `parse_bearer("bearer abc")` is `Some("abc")`; see `bearer_token`. Leading and trailing
/// spaces and tabs are not part of a field value (RFC 9110 section 5.5) and are dropped.
pub fn parse_bearer(value: &str) -> Option<&str> {
    let value = value.trim_matches([' ', '\t']);
    let (scheme, rest) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("Bearer") {
        return None;
    }
    let token = rest.trim_start_matches(' ');
    is_token68(token).then_some(token)
}

/// token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
fn is_token68(token: &str) -> bool {
    let body = token.trim_end_matches('=');
    !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
}
