//! Request bodies bounded in size. `limit` wraps a route's request bodies in a length limit, so
//! that reading one past it fails; `is_over_limit` tells that failure from the others by its
//! type, wherever it sits in the error chain (axum wraps a body's error in its own), and
//! `too_large` is the answer to it.

use axum::{
    body::Body,
    extract::{Request, State},
    http::{HeaderMap, header},
    middleware::Next,
    response::Response,
};
use shared::ErrorCode;

use crate::error::AppError;

/// Layered with `from_fn_with_state(max, limit)`: bodies of more than `max` bytes fail when read.
pub async fn limit(State(max): State<usize>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let limited = Body::new(http_body_util::Limited::new(body, max));
    next.run(Request::from_parts(parts, limited)).await
}

/// Whether reading a body failed because it was over its limit: the limit's own error
/// (http-body-util's) or axum's rejection for it, anywhere in the chain.
pub fn is_over_limit(err: &(dyn std::error::Error + 'static)) -> bool {
    std::iter::successors(Some(err), |err| err.source()).any(|err| {
        err.downcast_ref::<http_body_util::LengthLimitError>()
            .is_some()
            || err
                .downcast_ref::<axum::extract::rejection::LengthLimitError>()
                .is_some()
    })
}

/// Whether the request says, in its `Content-Length`, that its body is over `max`: such a body
/// is refused before a byte of it is read.
pub fn declared_over(headers: &HeaderMap, max: usize) -> bool {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .is_some_and(|length| length > max as u64)
}

/// The 413 for a body over `max` bytes.
pub fn too_large(max: usize) -> AppError {
    AppError::refused(
        ErrorCode::PayloadTooLarge,
        format!("The request body is larger than {max} bytes."),
    )
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt;

    use super::*;

    #[tokio::test]
    async fn a_body_over_its_limit_is_told_apart_through_axums_error() {
        let over = Body::new(http_body_util::Limited::new(Body::from("12345"), 4));
        let err = over.collect().await.expect_err("over the limit");
        assert!(is_over_limit(&err), "{err}");
        let within = Body::new(http_body_util::Limited::new(Body::from("1234"), 4));
        assert!(within.collect().await.is_ok());
        let other = std::io::Error::other("connection reset");
        assert!(!is_over_limit(&other));
    }
}
