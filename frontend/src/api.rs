//! The one typed client of the BFF's API. Every call goes through `into_result`, which turns a
//! non-2xx response into the shared `ApiError`.

use gloo_net::http::{Request, Response};
use serde::de::DeserializeOwned;
use shared::{ApiError, ConsoleConfig, ErrorCode};

pub async fn console_config() -> Result<ConsoleConfig, ApiError> {
    get_json("/api/config").await
}

async fn get_json<T: DeserializeOwned>(path: &str) -> Result<T, ApiError> {
    let response = Request::get(path)
        .send()
        .await
        .map_err(|_| unreachable_error())?;
    into_result(response).await
}

async fn into_result<T: DeserializeOwned>(response: Response) -> Result<T, ApiError> {
    if response.ok() {
        return response.json().await.map_err(|_| {
            ApiError::new(
                ErrorCode::Internal,
                "The console's server sent an unreadable answer.",
            )
        });
    }
    let status = response.status();
    match response.json::<ApiError>().await {
        Ok(error) => Err(error),
        Err(_) => Err(ApiError::new(
            ErrorCode::from_status(status),
            format!("The console's server answered with status {status}."),
        )),
    }
}

fn unreachable_error() -> ApiError {
    ApiError::new(
        ErrorCode::UpstreamUnavailable,
        "The console's server cannot be reached. Check your connection and try again.",
    )
}
