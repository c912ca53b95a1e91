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
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
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
            AppError::Internal(err) => {
                tracing::error!(error = %format!("{err:#}"), "internal error");
                ApiError::new(
                    ErrorCode::Internal,
                    "Something went wrong in the console's server.",
                )
            }
        };
        let status =
            StatusCode::from_u16(body.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, Json(body)).into_response();
        if matches!(self, AppError::Unauthenticated) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}
