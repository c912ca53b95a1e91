//! A STAND-IN for Dex, for tests that drive a server's router in-process: discovery and the JWKS
//! of the test key in `tests/fixtures/`, on loopback HTTP, and ID tokens signed with that key.
//! Real Dex cannot issue the tokens such tests need (an unverified email, padded names, a chosen
//! expiry or issuer) nor fail its token endpoint on demand; the e2e tests use the real Dex.
//! Compiled only with the `stand-in-issuer` feature, which only dev-dependencies turn on.

use axum::{Json, Router, routing::get};
use base64::Engine;
use serde_json::{Value, json};

/// The audience of the tokens, as the stack's Dex client is named.
pub const CLIENT: &str = "kube-console";
/// The key id the JWKS publishes and the tokens name.
pub const KID: &str = "test";
const MODULUS_HEX: &str = include_str!("../tests/fixtures/signing-key.modulus.hex");
const SIGNING_KEY_PEM: &[u8] = include_bytes!("../tests/fixtures/signing-key.pem");

pub struct StandInIssuer {
    /// The issuer URL, `http://127.0.0.1:<port>/dex`.
    pub url: String,
    server: tokio::task::JoinHandle<()>,
}

impl StandInIssuer {
    pub async fn start() -> StandInIssuer {
        StandInIssuer::start_with(Router::new()).await
    }

    /// Also serves `extra` (routes under `/dex/`, such as a token endpoint that fails as told).
    pub async fn start_with(extra: Router) -> StandInIssuer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the stand-in issuer");
        let url = format!(
            "http://{}/dex",
            listener
                .local_addr()
                .expect("the stand-in issuer's address")
        );
        let hex = MODULUS_HEX.trim();
        let modulus: Vec<u8> = (0..hex.len() / 2)
            .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap_or_default())
            .collect();
        let keys = json!({"keys": [{
            "kty": "RSA", "kid": KID, "use": "sig", "alg": "RS256", "e": "AQAB",
            "n": base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(modulus),
        }]});
        let discovery = json!({
            "issuer": url,
            "authorization_endpoint": format!("{url}/auth"),
            "token_endpoint": format!("{url}/token"),
            "jwks_uri": format!("{url}/keys"),
        });
        let app = Router::new()
            .route(
                "/dex/.well-known/openid-configuration",
                get(move || async move { Json(discovery) }),
            )
            .route("/dex/keys", get(move || async move { Json(keys) }))
            .merge(extra);
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        StandInIssuer { url, server }
    }

    /// The ID-token claims Dex gives `email`, valid for five minutes.
    pub fn claims(&self, email: &str) -> Value {
        let now = jsonwebtoken::get_current_timestamp();
        json!({
            "iss": self.url, "sub": email, "aud": CLIENT, "exp": now + 300, "iat": now,
            "email": email, "email_verified": true,
        })
    }

    /// A token for `email` with the usual claims.
    pub fn token(&self, email: &str) -> String {
        sign(&self.claims(email))
    }

    /// Stops answering and closes its port: the issuer is then unreachable.
    pub async fn stop(self) {
        self.server.abort();
        let _ = self.server.await;
    }
}

/// `claims` signed with the test key, naming `KID`.
pub fn sign(claims: &Value) -> String {
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some(KID.into());
    jsonwebtoken::encode(
        &header,
        claims,
        &jsonwebtoken::EncodingKey::from_rsa_pem(SIGNING_KEY_PEM).expect("the test key"),
    )
    .expect("sign")
}
