//! The identity provider as the login sees it: the settings of the BFF's OAuth client, the client
//! built from Dex's discovery document, and the reachability probe.

use std::time::Duration;

use oauth2::{
    AuthUrl, ClientId, ClientSecret, EndpointNotSet, EndpointSet, ExtraTokenFields, RedirectUrl,
    StandardRevocableToken, StandardTokenResponse, TokenUrl,
    basic::{
        BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
        BasicTokenType,
    },
};
use serde::{Deserialize, Serialize};

use super::renewal::RecentRefreshes;
use crate::{AppState, error::AppError};

/// Settings of the login that do not change per request.
pub struct LoginSettings {
    pub client_id: String,
    pub client_secret: Option<String>,
    pub redirect_uri: String,
    pub http: reqwest::Client,
    pub recent_refreshes: RecentRefreshes,
}

/// Dex's token response with the ID token it carries.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdTokenFields {
    pub id_token: String,
}
impl ExtraTokenFields for IdTokenFields {}

type OidcTokenResponse = StandardTokenResponse<IdTokenFields, BasicTokenType>;
type OidcClient = oauth2::Client<
    BasicErrorResponse,
    OidcTokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

pub(super) fn oidc_client(state: &AppState) -> Result<OidcClient, AppError> {
    let discovery = state.oidc.discovery().ok_or(AppError::NotReady)?;
    let settings = &state.login;
    let mut client = oauth2::Client::new(ClientId::new(settings.client_id.clone()))
        .set_auth_uri(AuthUrl::new(discovery.authorization_endpoint).map_err(anyhow::Error::from)?)
        .set_token_uri(TokenUrl::new(discovery.token_endpoint).map_err(anyhow::Error::from)?)
        .set_redirect_uri(
            RedirectUrl::new(settings.redirect_uri.clone()).map_err(anyhow::Error::from)?,
        );
    if let Some(secret) = &settings.client_secret {
        client = client.set_client_secret(ClientSecret::new(secret.clone()));
    }
    Ok(client)
}

/// How long `/auth/login` waits for Dex's discovery document before it says Dex is unreachable.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// Sending the browser to an identity provider that does not answer ends on the browser's own
/// connection error, with no way back: ask first.
pub(super) async fn identity_provider_answers(state: &AppState) -> bool {
    let url = format!(
        "{}/.well-known/openid-configuration",
        state.oidc.issuer().trim_end_matches('/')
    );
    match state
        .login
        .http
        .get(url)
        .timeout(PROBE_TIMEOUT)
        .send()
        .await
    {
        Ok(response) => response.status().is_success(),
        Err(err) => {
            tracing::warn!(error = ?describe_error(&err), "the identity provider is unreachable");
            false
        }
    }
}

/// Every error in the chain, for the log. oauth2's errors carry Dex's error code and description
/// (never the code or a token); log it with `?` so that its text cannot forge a line.
pub(super) fn describe_error<E: std::error::Error>(err: &E) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}
