//! `Cache-Control: no-store` on every answer of the routes it wraps.

use axum::{
    http::{HeaderValue, header},
    response::Response,
};

/// Every `/auth` answer, errors included, carries tokens, one-time cookies or a redirect that
/// belongs to one login: none may be kept by a cache.
pub async fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
