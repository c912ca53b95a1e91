use serde::{Deserialize, Serialize};

/// What went wrong, in a form the app can branch on. Serialized in `snake_case`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    BadRequest,
    Unauthenticated,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    RequestTimeout,
    Conflict,
    PayloadTooLarge,
    UnsupportedMediaType,
    TooManyRequests,
    UpstreamUnavailable,
    NotReady,
    Internal,
}

impl ErrorCode {
    /// The HTTP status that carries this error.
    pub fn status(self) -> u16 {
        match self {
            ErrorCode::BadRequest => 400,
            ErrorCode::Unauthenticated => 401,
            ErrorCode::Forbidden => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::MethodNotAllowed => 405,
            ErrorCode::RequestTimeout => 408,
            ErrorCode::Conflict => 409,
            ErrorCode::PayloadTooLarge => 413,
            ErrorCode::UnsupportedMediaType => 415,
            ErrorCode::TooManyRequests => 429,
            ErrorCode::UpstreamUnavailable => 502,
            ErrorCode::NotReady => 503,
            ErrorCode::Internal => 500,
        }
    }

    /// The code a client should assume for a status that came without a JSON body.
    pub fn from_status(status: u16) -> Self {
        match status {
            400 => ErrorCode::BadRequest,
            401 => ErrorCode::Unauthenticated,
            403 => ErrorCode::Forbidden,
            404 => ErrorCode::NotFound,
            405 => ErrorCode::MethodNotAllowed,
            408 => ErrorCode::RequestTimeout,
            409 => ErrorCode::Conflict,
            413 => ErrorCode::PayloadTooLarge,
            415 => ErrorCode::UnsupportedMediaType,
            429 => ErrorCode::TooManyRequests,
            502 | 504 => ErrorCode::UpstreamUnavailable,
            503 => ErrorCode::NotReady,
            _ => ErrorCode::Internal,
        }
    }
}

/// The JSON body of every error response the console's own servers send: a stable code and a
/// message meant for a person. Internal detail is logged by the server and never put here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    pub fn status(&self) -> u16 {
        self.code.status()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_with_snake_case_code() {
        let err = ApiError::new(ErrorCode::UpstreamUnavailable, "the cluster is unreachable");
        let json = serde_json::to_string(&err).expect("serialize");
        assert_eq!(
            json,
            r#"{"code":"upstream_unavailable","message":"the cluster is unreachable"}"#
        );
        let back: ApiError = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, err);
    }

    #[test]
    fn status_round_trips_for_every_code() {
        for code in [
            ErrorCode::BadRequest,
            ErrorCode::Unauthenticated,
            ErrorCode::Forbidden,
            ErrorCode::NotFound,
            ErrorCode::MethodNotAllowed,
            ErrorCode::RequestTimeout,
            ErrorCode::Conflict,
            ErrorCode::PayloadTooLarge,
            ErrorCode::UnsupportedMediaType,
            ErrorCode::TooManyRequests,
            ErrorCode::UpstreamUnavailable,
            ErrorCode::NotReady,
            ErrorCode::Internal,
        ] {
            assert_eq!(ErrorCode::from_status(code.status()), code);
        }
    }
}
