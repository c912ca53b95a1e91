//! The one typed client of the BFF's API. Every call goes through `into_result`, which turns a
//! non-2xx response into the shared `ApiError`.

use gloo_net::http::{Request, RequestBuilder, Response};
use serde::de::DeserializeOwned;
use shared::{
    AccessAnswer, AccessQuery, ApiError, ConsoleConfig, ErrorCode, NamespaceChoices, SessionToken,
    TokenHandoff, UserInfo,
};

pub async fn console_config() -> Result<ConsoleConfig, ApiError> {
    send(Request::get("/api/config")).await
}

/// Who the token belongs to, as the BFF verified it.
pub async fn me(token: &str) -> Result<UserInfo, ApiError> {
    send(with_bearer(Request::get("/api/me"), token)).await
}

/// May the user do these things? One request for a whole view.
pub async fn permissions(token: &str, query: &AccessQuery) -> Result<AccessAnswer, ApiError> {
    let request = with_bearer(Request::post("/api/permissions"), token)
        .json(query)
        .map_err(|_| {
            ApiError::new(
                ErrorCode::Internal,
                "The permission check could not be sent.",
            )
        })?;
    let response = request.send().await.map_err(|_| unreachable_error())?;
    into_result(response).await
}

/// The namespaces the switcher offers this user.
pub async fn namespaces(token: &str) -> Result<NamespaceChoices, ApiError> {
    send(with_bearer(Request::get("/api/namespaces"), token)).await
}

/// Takes over the ID token of a login that just finished (once).
pub async fn take_login_handoff() -> Result<TokenHandoff, ApiError> {
    send(Request::post("/auth/session")).await
}

/// A fresh ID token for the refresh token the BFF keeps in its cookie.
pub async fn refresh() -> Result<SessionToken, ApiError> {
    send(Request::post("/auth/refresh")).await
}

pub async fn logout() -> Result<(), ApiError> {
    let response = Request::post("/auth/logout")
        .send()
        .await
        .map_err(|_| unreachable_error())?;
    if response.ok() {
        Ok(())
    } else {
        Err(error_from(response).await)
    }
}

fn with_bearer(request: RequestBuilder, token: &str) -> RequestBuilder {
    request.header("Authorization", &format!("Bearer {token}"))
}

async fn send<T: DeserializeOwned>(request: RequestBuilder) -> Result<T, ApiError> {
    let response = request.send().await.map_err(|_| unreachable_error())?;
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
    Err(error_from(response).await)
}

async fn error_from(response: Response) -> ApiError {
    let status = response.status();
    match response.json::<ApiError>().await {
        Ok(error) => error,
        Err(_) => ApiError::new(
            ErrorCode::from_status(status),
            format!("The console's server answered with status {status}."),
        ),
    }
}

fn unreachable_error() -> ApiError {
    ApiError::new(
        ErrorCode::UpstreamUnavailable,
        "The console's server cannot be reached. Check your connection and try again.",
    )
}
