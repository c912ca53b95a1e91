//! Requests to the Kubernetes API through the BFF. Every answer that is not 2xx becomes a
//! `KubeError`, read from the apiserver's `Status` or the BFF's shared error body.

use gloo_net::http::{Method, Request, RequestBuilder, Response};
use serde::de::DeserializeOwned;
use serde_json::Value;
use shared::ApiError;

use crate::session;

pub const PREFIX: &str = "/api/k8s";
pub const JSON: &str = "application/json";
/// The apiserver's server-side printing: the same columns as `kubectl get`.
pub const TABLE: &str = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";

/// One field the apiserver named as the reason for refusing a manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct Cause {
    pub field: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct KubeError {
    /// The HTTP status; 0 when the console's server could not be reached at all.
    pub status: u16,
    /// The apiserver's machine-readable reason (NotFound, Forbidden, Conflict, Invalid, Expired…).
    pub reason: String,
    pub message: String,
    pub causes: Vec<Cause>,
}

/// The `reason` of an error the console's own server wrote (the shared `ApiError`): its message is
/// already a whole sentence for people, so it is shown as it is.
const FROM_THE_CONSOLE: &str = "ConsoleServer";

impl KubeError {
    fn unreachable() -> Self {
        KubeError {
            status: 0,
            reason: "Unreachable".into(),
            message: "The console's server cannot be reached. Check your connection.".into(),
            causes: vec![],
        }
    }

    /// The watch or continue token is too old: the list has to start again.
    pub fn is_gone(&self) -> bool {
        self.status == 410 || self.reason == "Expired" || self.reason == "Gone"
    }

    /// The text a person reads: what happened, and what the apiserver said.
    pub fn describe(&self) -> String {
        if self.reason == FROM_THE_CONSOLE {
            return self.message.clone();
        }
        let lead = match self.status {
            0 => return self.message.clone(),
            401 => "Your session has ended; log in again.",
            403 => "Forbidden by the cluster:",
            404 => "Not found:",
            409 => "Conflict: the object changed since you loaded it, or already exists.",
            422 => "The cluster refused the manifest:",
            502..=504 => "The cluster's API cannot be reached:",
            _ => "The request failed:",
        };
        format!("{lead} {}", self.message)
    }

    /// Builds the error from a `Status` (apiserver) or `ApiError` (BFF) body.
    pub fn from_body(status: u16, body: &str) -> Self {
        if let Ok(value) = serde_json::from_str::<Value>(body) {
            if value.get("kind").and_then(Value::as_str) == Some("Status") {
                return Self::from_status_object(status, &value);
            }
            if let Ok(api) = serde_json::from_value::<ApiError>(value) {
                return KubeError {
                    status,
                    reason: FROM_THE_CONSOLE.into(),
                    message: api.message,
                    causes: vec![],
                };
            }
        }
        KubeError {
            status,
            reason: String::new(),
            message: format!("status {status}"),
            causes: vec![],
        }
    }

    pub fn from_status_object(status: u16, value: &Value) -> Self {
        let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or_default().to_string();
        let causes = value
            .pointer("/details/causes")
            .and_then(Value::as_array)
            .map(|causes| {
                causes
                    .iter()
                    .map(|cause| Cause {
                        field: text(cause.get("field")),
                        message: text(cause.get("message")),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let code = value
            .get("code")
            .and_then(Value::as_u64)
            .and_then(|c| u16::try_from(c).ok())
            .unwrap_or(status);
        KubeError {
            status: code,
            reason: text(value.get("reason")),
            message: text(value.get("message")),
            causes,
        }
    }
}

pub fn request(method: Method, path: &str) -> RequestBuilder {
    let url = format!("{PREFIX}{path}");
    let builder = match method {
        Method::POST => Request::post(&url),
        Method::PUT => Request::put(&url),
        Method::PATCH => Request::patch(&url),
        Method::DELETE => Request::delete(&url),
        _ => Request::get(&url),
    };
    match session::stored_token() {
        Some(token) => builder.header("Authorization", &format!("Bearer {token}")),
        None => builder,
    }
}

pub async fn checked(response: Result<Response, gloo_net::Error>) -> Result<Response, KubeError> {
    let response = response.map_err(|_| KubeError::unreachable())?;
    if response.ok() {
        return Ok(response);
    }
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    let error = KubeError::from_body(status, &body);
    if status == 401 {
        session::expect_session_ended();
    }
    Err(error)
}

pub async fn get<T: DeserializeOwned>(path: &str, accept: &str) -> Result<T, KubeError> {
    let response = checked(
        request(Method::GET, path)
            .header("Accept", accept)
            .send()
            .await,
    )
    .await?;
    response.json::<T>().await.map_err(|_| KubeError {
        status: 200,
        reason: "Unreadable".into(),
        message: "The cluster sent an answer the console cannot read.".into(),
        causes: vec![],
    })
}

/// Sends a JSON body (patches) and returns the apiserver's answer.
pub async fn send_json(
    method: Method,
    path: &str,
    content_type: &str,
    body: &Value,
) -> Result<Value, KubeError> {
    send_text(method, path, content_type, &body.to_string()).await
}

/// Sends a text body (YAML manifests) and returns the apiserver's answer.
pub async fn send_text(
    method: Method,
    path: &str,
    content_type: &str,
    body: &str,
) -> Result<Value, KubeError> {
    let builder = request(method, path)
        .header("Accept", JSON)
        .header("Content-Type", content_type);
    let request = builder
        .body(body.to_string())
        .map_err(|_| KubeError::unreachable())?;
    let response = checked(request.send().await).await?;
    Ok(response.json::<Value>().await.unwrap_or(Value::Null))
}

pub async fn delete(path: &str) -> Result<(), KubeError> {
    checked(
        request(Method::DELETE, path)
            .header("Accept", JSON)
            .send()
            .await,
    )
    .await
    .map(|_| ())
}

#[cfg(test)]
mod tests {
    use shared::{ApiError, ErrorCode};

    use super::*;

    #[test]
    fn the_apiservers_status_is_introduced_and_the_consoles_own_errors_are_shown_as_written() {
        let forbidden = KubeError::from_body(
            403,
            r#"{"kind":"Status","code":403,"reason":"Forbidden","message":"configmaps is forbidden"}"#,
        );
        assert_eq!(
            forbidden.describe(),
            "Forbidden by the cluster: configmaps is forbidden"
        );
        let body = serde_json::to_string(&ApiError::new(
            ErrorCode::UpstreamUnavailable,
            "The cluster's API cannot be reached right now.",
        ))
        .expect("json");
        let unreachable = KubeError::from_body(502, &body);
        assert_eq!(
            unreachable.describe(),
            "The cluster's API cannot be reached right now."
        );
        assert_eq!(
            KubeError::from_body(503, "<html>").describe(),
            "The cluster's API cannot be reached: status 503"
        );
    }
}
