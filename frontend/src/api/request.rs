//! The one way the app sends a request: the bearer token is added here and nowhere else, every
//! failure becomes an `Error`, and a cluster request refused with 401 starts the session's
//! renewal (session.rs decides what follows: a new token, or a login).

use gloo_net::http::{Method, RequestBuilder, Response};
use serde::{Serialize, de::DeserializeOwned};
use web_sys::AbortSignal;

use super::error::{Api, Error};
use crate::session;

/// Where the BFF serves the Kubernetes API.
pub const CLUSTER_PREFIX: &str = "/api/k8s";

pub struct Request {
    api: Api,
    builder: RequestBuilder,
    bearer: bool,
    body: Option<String>,
}

impl Request {
    /// A request to the console's own API (`/api/…`, `/auth/…`).
    pub fn console(method: Method, url: &str) -> Self {
        Request {
            api: Api::Console,
            builder: RequestBuilder::new(url).method(method),
            bearer: false,
            body: None,
        }
    }

    /// A request to the Kubernetes API (through the BFF), as the user.
    pub fn cluster(method: Method, path: &str) -> Self {
        Request {
            api: Api::Cluster,
            builder: RequestBuilder::new(&format!("{CLUSTER_PREFIX}{path}")).method(method),
            bearer: true,
            body: None,
        }
    }

    /// Sent as the user: with the tab's token.
    pub fn with_user_token(mut self) -> Self {
        self.bearer = true;
        self
    }

    pub fn accept(mut self, accept: &str) -> Self {
        self.builder = self.builder.header("Accept", accept);
        self
    }

    pub fn text(mut self, content_type: &str, body: String) -> Self {
        self.builder = self.builder.header("Content-Type", content_type);
        self.body = Some(body);
        self
    }

    pub fn json(self, body: &impl Serialize) -> Self {
        let text = serde_json::to_string(body).unwrap_or_default();
        self.text("application/json", text)
    }

    /// Cancelled when `signal` aborts (a view that went away).
    pub fn abort_on(mut self, signal: &AbortSignal) -> Self {
        self.builder = self.builder.abort_signal(Some(signal));
        self
    }

    /// Sends the request; only a 2xx answer is `Ok`.
    pub async fn send(self) -> Result<Response, Error> {
        let api = self.api;
        let outcome = self.exchange().await;
        if api == Api::Cluster
            && let Err(error) = &outcome
            && error.is_session_ended()
        {
            session::expect_session_ended();
        }
        outcome
    }

    /// Sends the request and reads the answer's JSON.
    pub async fn read<T: DeserializeOwned>(self) -> Result<T, Error> {
        let api = self.api;
        let response = self.send().await?;
        response.json().await.map_err(|_| Error::Unreadable(api))
    }

    async fn exchange(self) -> Result<Response, Error> {
        let api = self.api;
        let mut builder = self.builder;
        if self.bearer {
            let token = session::stored_token().ok_or_else(Error::not_logged_in)?;
            builder = builder.header("Authorization", &format!("Bearer {token}"));
        }
        let request = match self.body {
            Some(body) => builder.body(body),
            None => builder.build(),
        }
        .map_err(|_| Error::Unreachable(api))?;
        let response = request.send().await.map_err(|_| Error::Unreachable(api))?;
        if response.ok() {
            return Ok(response);
        }
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        Err(Error::from_body(status, &body, api))
    }
}
