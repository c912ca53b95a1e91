//! What a request must be before its body is read: one of the API's methods, and a body type
//! the apiserver reads.

use axum::{
    http::{HeaderMap, HeaderValue, Method, header},
    response::{IntoResponse, Response},
};
use shared::{ApiError, ErrorCode};

use crate::error::AppError;

/// The methods the Kubernetes API is used with. No OPTIONS: the app is same-origin, so nothing
/// sends a CORS preflight, and the apiserver answers OPTIONS only for CORS.
pub const METHODS: [Method; 6] = [
    Method::GET,
    Method::HEAD,
    Method::POST,
    Method::PUT,
    Method::PATCH,
    Method::DELETE,
];
/// The request body media types the apiserver reads (JSON, YAML, protobuf and the patch types),
/// without parameters.
const BODY_MEDIA_TYPES: [&str; 8] = [
    "application/json",
    "application/yaml",
    "application/vnd.kubernetes.protobuf",
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
    "application/apply-patch+cbor",
];

/// The 405 for any other method, with the `Allow` header that names the API's.
pub(super) fn method_not_allowed() -> Response {
    let allow = METHODS.map(|m| m.to_string()).join(", ");
    let mut response = AppError::refused(
        ErrorCode::MethodNotAllowed,
        format!("The Kubernetes API is used with {allow} only."),
    )
    .into_response();
    if let Ok(value) = HeaderValue::from_str(&allow) {
        response.headers_mut().insert(header::ALLOW, value);
    }
    response
}

/// At most one `Content-Type`, and one the apiserver reads: two would let the apiserver-proxy
/// and the apiserver each read a different one.
pub(super) fn check_content_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let mut types = headers.get_all(header::CONTENT_TYPE).iter();
    let Some(value) = types.next() else {
        return Ok(());
    };
    if types.next().is_some() {
        return Err(ApiError::new(
            ErrorCode::BadRequest,
            "The request has more than one Content-Type.",
        ));
    }
    let media_type = value
        .to_str()
        .ok()
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase());
    if media_type.is_some_and(|t| BODY_MEDIA_TYPES.contains(&t.as_str())) {
        return Ok(());
    }
    Err(ApiError::new(
        ErrorCode::UnsupportedMediaType,
        format!(
            "The Kubernetes API reads request bodies of these types only: {}.",
            BODY_MEDIA_TYPES.join(", ")
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_content_type_of_the_apis_own_or_none() {
        let with = |types: &[&str]| {
            let mut headers = HeaderMap::new();
            for t in types {
                headers.append(header::CONTENT_TYPE, HeaderValue::from_str(t).expect("v"));
            }
            check_content_type(&headers).map_err(|e| e.status())
        };
        assert_eq!(with(&[]), Ok(()));
        for ok in [
            "application/json",
            "application/yaml",
            "Application/JSON; charset=utf-8",
            "application/apply-patch+yaml",
            "application/strategic-merge-patch+json",
        ] {
            assert_eq!(with(&[ok]), Ok(()), "{ok}");
        }
        for bad in [
            "text/plain",
            "multipart/form-data; boundary=x",
            "application/x-www-form-urlencoded",
            "text/html",
            "",
        ] {
            assert_eq!(with(&[bad]), Err(415), "{bad:?}");
        }
        assert_eq!(with(&["application/json", "application/yaml"]), Err(400));
    }
}
