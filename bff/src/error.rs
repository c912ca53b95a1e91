use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use shared::{ApiError, ErrorCode};

/// Every failure a BFF handler can end in. The response carries the shared JSON error shape; the
/// internal detail goes to the log and never to the client.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
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
        (status, Json(body)).into_response()
    }
}
