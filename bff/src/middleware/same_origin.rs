//! The proof that a state-changing request comes from the console's own pages, asked for by the
//! `/auth` POST handlers as their first extractor, so that nothing else of the request is looked
//! at before it passes.

use axum::{
    extract::FromRequestParts,
    http::{HeaderMap, HeaderValue, header, request::Parts},
};

use crate::{AppState, error::AppError};

/// A request to a state-changing `/auth` endpoint that provably comes from the console's own
/// pages. The cookies are SameSite=Strict; on top, the browser's `Sec-Fetch-Site` must say
/// same-origin, or where a browser sends none, `Origin` must be the console's own. A request
/// with neither is refused: it proves nothing.
pub struct SameOrigin;

impl FromRequestParts<AppState> for SameOrigin {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let own = console_origin(&state.login.redirect_uri);
        if comes_from(&parts.headers, own.as_deref()) {
            Ok(SameOrigin)
        } else {
            Err(AppError::Forbidden(
                "This request must come from the console itself.",
            ))
        }
    }
}

/// Whether the request's one `Origin` is the console's own: what a WebSocket upgrade must show,
/// since browsers send no `Sec-Fetch-Site` that a page could not also get cross-site, and a
/// WebSocket is not bound by the same-origin policy.
pub fn has_console_origin(headers: &HeaderMap, state: &AppState) -> bool {
    let own = console_origin(&state.login.redirect_uri);
    let mut origins = headers.get_all(header::ORIGIN).iter();
    match (origins.next(), origins.next(), own) {
        (Some(origin), None, Some(own)) => origin.as_bytes() == own.as_bytes(),
        _ => false,
    }
}

/// `scheme://host[:port]` of the console, from its callback URL.
fn console_origin(redirect_uri: &str) -> Option<String> {
    let url = reqwest::Url::parse(redirect_uri).ok()?;
    Some(url.origin().ascii_serialization())
}

fn comes_from(headers: &HeaderMap, own_origin: Option<&str>) -> bool {
    let fetch_site = headers.get("sec-fetch-site").map(HeaderValue::as_bytes);
    let origin = headers.get(header::ORIGIN).map(HeaderValue::as_bytes);
    let origin_is_own = |origin: &[u8]| own_origin.is_some_and(|own| own.as_bytes() == origin);
    match (fetch_site, origin) {
        // A browser that sends both never contradicts itself; whoever does is refused.
        (Some(site), Some(origin)) => site == b"same-origin" && origin_is_own(origin),
        (Some(site), None) => site == b"same-origin",
        (None, Some(origin)) => origin_is_own(origin),
        (None, None) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_changing_request_proves_it_comes_from_the_console() {
        let own = Some("https://console.example:8443");
        let headers = |pairs: &[(&'static str, &'static str)]| {
            let mut map = HeaderMap::new();
            for (name, value) in pairs {
                map.insert(*name, HeaderValue::from_static(value));
            }
            map
        };
        let accepted = [
            vec![("sec-fetch-site", "same-origin")],
            vec![
                ("sec-fetch-site", "same-origin"),
                ("origin", "https://console.example:8443"),
            ],
            vec![("origin", "https://console.example:8443")],
        ];
        for pairs in accepted {
            assert!(comes_from(&headers(&pairs), own), "{pairs:?}");
        }
        let refused = [
            vec![],
            vec![("sec-fetch-site", "cross-site")],
            vec![("sec-fetch-site", "same-site")],
            vec![("sec-fetch-site", "none")],
            vec![("origin", "https://evil.example")],
            vec![("origin", "null")],
            vec![("origin", "https://console.example:8443.evil.example")],
            vec![("origin", "http://console.example:8443")],
            vec![
                ("sec-fetch-site", "same-origin"),
                ("origin", "https://evil.example"),
            ],
        ];
        for pairs in refused {
            assert!(!comes_from(&headers(&pairs), own), "{pairs:?}");
        }
        assert!(!comes_from(&headers(&[("origin", "null")]), None));
        assert_eq!(
            console_origin("https://console.example:8443/auth/callback").as_deref(),
            own
        );
    }
}
