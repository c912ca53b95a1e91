use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use shared::{ApiError, ErrorCode};

/// Every failure a BFF handler can end in. The response carries the shared JSON error shape; the
/// internal detail goes to the log and never to the client.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("not authenticated")]
    Unauthenticated,
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    #[error("the identity provider is not reachable yet")]
    NotReady,
    /// The message is for the person who sent the request: it names what in it is wrong.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// A request refused for what it is (its path, method, headers or body): the shared error
    /// as is, answered with the status its code stands for.
    #[error("refused: {}", .0.message)]
    Refused(ApiError),
    /// The user has as much work in flight as one user may; the message says what to do.
    #[error("too many requests: {0}")]
    TooManyRequests(String),
    #[error("the apiserver-proxy is unreachable")]
    UpstreamUnavailable,
    #[error("the apiserver-proxy did not answer in time")]
    UpstreamTimeout,
    /// The apiserver answered, but not as expected; the detail is logged, never sent.
    #[error("upstream failure: {0}")]
    Upstream(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    /// A request refused with the shared error of `code` and `message`.
    pub fn refused(code: ErrorCode, message: impl Into<String>) -> Self {
        AppError::Refused(ApiError::new(code, message))
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let body = match &self {
            AppError::NotFound => {
                ApiError::new(ErrorCode::NotFound, "There is nothing at this address.")
            }
            AppError::Unauthenticated => ApiError::new(
                ErrorCode::Unauthenticated,
                "You are not logged in, or your session has ended. Log in again.",
            ),
            AppError::Forbidden(message) => ApiError::new(ErrorCode::Forbidden, *message),
            AppError::NotReady => ApiError::new(
                ErrorCode::NotReady,
                "The console is starting: its identity provider is not reachable yet.",
            ),
            AppError::BadRequest(message) => ApiError::new(ErrorCode::BadRequest, message.clone()),
            AppError::Refused(error) => error.clone(),
            AppError::TooManyRequests(message) => {
                ApiError::new(ErrorCode::TooManyRequests, message.clone())
            }
            AppError::UpstreamUnavailable => ApiError::new(
                ErrorCode::UpstreamUnavailable,
                "The cluster's API cannot be reached right now.",
            ),
            AppError::UpstreamTimeout => ApiError::new(
                ErrorCode::UpstreamUnavailable,
                "The cluster's API did not answer in time.",
            ),
            AppError::Upstream(detail) => {
                tracing::warn!(%detail, "the cluster's API failed a request");
                ApiError::new(
                    ErrorCode::UpstreamUnavailable,
                    "The cluster's API could not answer this request.",
                )
            }
            AppError::Internal(err) => {
                tracing::error!(error = %format!("{err:#}"), "internal error");
                ApiError::new(
                    ErrorCode::Internal,
                    "Something went wrong in the console's server.",
                )
            }
        };
        let status = match self {
            // The same code as an unreachable upstream, with the status of a gateway timeout.
            AppError::UpstreamTimeout => StatusCode::GATEWAY_TIMEOUT,
            _ => StatusCode::from_u16(body.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        };
        let mut response = (status, Json(body)).into_response();
        if matches!(self, AppError::Unauthenticated) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}
