//! A FAKE issuer for the verifier's tests: it stands in for Dex only to do what the real Dex
//! cannot be made to do on demand: rotate or withdraw keys at a chosen moment, publish odd keys,
//! and be unreachable. Tokens are signed with the RSA keys in `fixtures/`.

#![allow(dead_code)]

use std::{
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
};

use axum::{Json, Router, extract::State, http::StatusCode, response::IntoResponse, routing::get};
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

pub const CLIENT: &str = "kube-console";
pub const KEY_A: &str = include_str!("../fixtures/signing-key.modulus.hex");
pub const KEY_B: &str = include_str!("../fixtures/other-key.modulus.hex");
pub const PEM_A: &[u8] = include_bytes!("../fixtures/signing-key.pem");
pub const PEM_B: &[u8] = include_bytes!("../fixtures/other-key.pem");

pub struct FakeIssuer {
    pub issuer: String,
    /// The JWKS's `keys`, as published.
    pub keys: Mutex<Vec<Value>>,
    pub jwks_fetches: AtomicUsize,
    /// When false, discovery and JWKS answer 503 (the issuer is down).
    pub up: AtomicBool,
}

impl FakeIssuer {
    pub fn fetches(&self) -> usize {
        self.jwks_fetches.load(Ordering::SeqCst)
    }

    pub fn publish(&self, keys: Vec<Value>) {
        if let Ok(mut published) = self.keys.lock() {
            *published = keys;
        }
    }

    pub fn set_up(&self, up: bool) {
        self.up.store(up, Ordering::SeqCst);
    }

    /// The usual claims of an ID token for the console, valid for five minutes.
    pub fn claims(&self) -> Value {
        let now = jsonwebtoken::get_current_timestamp();
        json!({"iss": self.issuer, "sub": "u", "aud": CLIENT, "exp": now + 300, "iat": now})
    }

    /// A token for the console signed by `pem` and naming `kid`.
    pub fn token(&self, kid: &str, pem: &[u8]) -> String {
        sign(kid, pem, &self.claims())
    }
}

pub fn sign(kid: &str, pem: &[u8], claims: &Value) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.into());
    jsonwebtoken::encode(
        &header,
        claims,
        &EncodingKey::from_rsa_pem(pem).expect("key"),
    )
    .expect("sign")
}

/// The public half of a fixture key as a JWK, as Dex publishes it.
pub fn jwk(kid: &str, modulus_hex: &str) -> Value {
    let hex = modulus_hex.trim();
    let bytes: Vec<u8> = (0..hex.len() / 2)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap_or_default())
        .collect();
    let n = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    json!({"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256", "n": n, "e": "AQAB"})
}

pub async fn start_fake_issuer() -> Arc<FakeIssuer> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address: SocketAddr = listener.local_addr().expect("address");
    let issuer = format!("http://{address}/dex");
    let fake = Arc::new(FakeIssuer {
        issuer: issuer.clone(),
        keys: Mutex::new(vec![jwk("a", KEY_A)]),
        jwks_fetches: AtomicUsize::new(0),
        up: AtomicBool::new(true),
    });
    let app = Router::new()
        .route(
            "/dex/.well-known/openid-configuration",
            get(|State(fake): State<Arc<FakeIssuer>>| async move {
                if !fake.up.load(Ordering::SeqCst) {
                    return StatusCode::SERVICE_UNAVAILABLE.into_response();
                }
                Json(json!({
                    "issuer": fake.issuer,
                    "authorization_endpoint": format!("{}/auth", fake.issuer),
                    "token_endpoint": format!("{}/token", fake.issuer),
                    "jwks_uri": format!("{}/keys", fake.issuer),
                }))
                .into_response()
            }),
        )
        .route(
            "/dex/keys",
            get(|State(fake): State<Arc<FakeIssuer>>| async move {
                fake.jwks_fetches.fetch_add(1, Ordering::SeqCst);
                if !fake.up.load(Ordering::SeqCst) {
                    return StatusCode::SERVICE_UNAVAILABLE.into_response();
                }
                let keys = fake.keys.lock().map(|k| k.clone()).unwrap_or_default();
                Json(json!({ "keys": keys })).into_response()
            }),
        )
        .with_state(fake.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    fake
}

pub fn verifier(fake: &FakeIssuer) -> server_common::oidc::OidcVerifier {
    let http = server_common::oidc::http_client(None).expect("client");
    server_common::oidc::OidcVerifier::new(fake.issuer.clone(), vec![CLIENT.into()], http)
}
