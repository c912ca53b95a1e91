//! The Kubernetes API calls the views make, through the BFF with the user's token (the request
//! core in `api::request`); a refusal is the apiserver's `Status` in `api::Error`.

use gloo_net::http::Method;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::api::{Error, Request};

pub const JSON: &str = "application/json";
/// The apiserver's server-side printing: the same columns as `kubectl get`.
pub const TABLE: &str = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";

pub async fn get<T: DeserializeOwned>(path: &str, accept: &str) -> Result<T, Error> {
    Request::cluster(Method::GET, path)
        .accept(accept)
        .read()
        .await
}

/// Sends a JSON body (patches) and returns the apiserver's answer.
pub async fn send_json(
    method: Method,
    path: &str,
    content_type: &str,
    body: &Value,
) -> Result<Value, Error> {
    send_text(method, path, content_type, &body.to_string()).await
}

/// Sends a text body (YAML manifests) and returns the apiserver's answer.
pub async fn send_text(
    method: Method,
    path: &str,
    content_type: &str,
    body: &str,
) -> Result<Value, Error> {
    let response = Request::cluster(method, path)
        .accept(JSON)
        .text(content_type, body.to_string())
        .send()
        .await?;
    Ok(response.json::<Value>().await.unwrap_or(Value::Null))
}

pub async fn delete(path: &str) -> Result<(), Error> {
    Request::cluster(Method::DELETE, path)
        .accept(JSON)
        .send()
        .await
        .map(|_| ())
}
