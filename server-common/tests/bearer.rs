//! The `Authorization: Bearer` parsing both servers use.

use axum::http::{HeaderMap, HeaderValue, header::AUTHORIZATION};
use server_common::bearer::{bearer_token, parse_bearer};

#[test]
fn the_scheme_is_case_insensitive() {
    for value in [
        "Bearer abc.def.ghi",
        "bearer abc.def.ghi",
        "BEARER abc.def.ghi",
        "bEaReR abc.def.ghi",
    ] {
        assert_eq!(parse_bearer(value), Some("abc.def.ghi"), "{value}");
    }
}

#[test]
fn whitespace_is_strict_and_the_token_must_be_there() {
    // Several spaces after the scheme are allowed (1*SP); so is whitespace around the value,
    // which is not part of it.
    assert_eq!(parse_bearer("Bearer   abc"), Some("abc"));
    assert_eq!(parse_bearer(" Bearer abc \t"), Some("abc"));
    assert_eq!(parse_bearer("Bearer abc=="), Some("abc=="));
    for value in [
        "",
        "Bearer",
        "Bearer ",
        "Bearer    ",
        "Bearer\tabc",
        "Bearerabc",
        "Bearer abc def",
        "Bearer abc\tdef",
        "Bearer =",
        "Bearer a=b",
        "Bearer a,b",
        "Bearer \"abc\"",
        "Basic YWxhZGRpbjpvcGVuc2VzYW1l",
        "Bearer: abc",
        "Token abc",
        "Bearers abc",
        "abc",
    ] {
        assert_eq!(parse_bearer(value), None, "{value:?}");
    }
}

#[test]
fn exactly_one_authorization_header_counts() {
    let mut headers = HeaderMap::new();
    assert_eq!(bearer_token(&headers), None);
    headers.insert(AUTHORIZATION, HeaderValue::from_static("bearer abc"));
    assert_eq!(bearer_token(&headers), Some("abc"));
    headers.append(AUTHORIZATION, HeaderValue::from_static("Bearer def"));
    assert_eq!(bearer_token(&headers), None, "two Authorization headers");
    let mut opaque = HeaderMap::new();
    opaque.insert(
        AUTHORIZATION,
        HeaderValue::from_bytes(b"Bearer \xffabc").expect("opaque bytes are a valid header value"),
    );
    assert_eq!(bearer_token(&opaque), None);
}
