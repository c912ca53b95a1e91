//! Key rotation and unknown key ids, against a FAKE JWKS server: it stands in for Dex only to
//! rotate keys on demand, which the real Dex does on its own schedule (every 6 hours).

use std::{
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use axum::{Json, Router, extract::State, routing::get};
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use server_common::oidc::{OidcVerifier, TokenError};

struct FakeIssuer {
    issuer: String,
    keys: Mutex<Vec<Value>>,
    jwks_fetches: AtomicUsize,
}

fn jwk(kid: &str, modulus_hex: &str) -> Value {
    let hex = modulus_hex.trim();
    let bytes: Vec<u8> = (0..hex.len() / 2)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap_or_default())
        .collect();
    let n = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    json!({"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256", "n": n, "e": "AQAB"})
}

const KEY_A: &str = include_str!("fixtures/signing-key.modulus.hex");
const KEY_B: &str = include_str!("fixtures/other-key.modulus.hex");

async fn start_fake_issuer() -> Arc<FakeIssuer> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address: SocketAddr = listener.local_addr().expect("address");
    let issuer = format!("http://{address}/dex");
    let fake = Arc::new(FakeIssuer {
        issuer: issuer.clone(),
        keys: Mutex::new(vec![jwk("a", KEY_A)]),
        jwks_fetches: AtomicUsize::new(0),
    });
    let app = Router::new()
        .route(
            "/dex/.well-known/openid-configuration",
            get(|State(fake): State<Arc<FakeIssuer>>| async move {
                Json(json!({
                    "issuer": fake.issuer,
                    "authorization_endpoint": format!("{}/auth", fake.issuer),
                    "token_endpoint": format!("{}/token", fake.issuer),
                    "jwks_uri": format!("{}/keys", fake.issuer),
                }))
            }),
        )
        .route(
            "/dex/keys",
            get(|State(fake): State<Arc<FakeIssuer>>| async move {
                fake.jwks_fetches.fetch_add(1, Ordering::SeqCst);
                let keys = fake.keys.lock().map(|k| k.clone()).unwrap_or_default();
                Json(json!({ "keys": keys }))
            }),
        )
        .with_state(fake.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    fake
}

fn token(issuer: &str, kid: &str, pem: &[u8]) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.into());
    let now = jsonwebtoken::get_current_timestamp();
    let claims =
        json!({"iss": issuer, "sub": "u", "aud": "kube-console", "exp": now + 300, "iat": now});
    jsonwebtoken::encode(
        &header,
        &claims,
        &EncodingKey::from_rsa_pem(pem).expect("key"),
    )
    .expect("sign")
}

fn verifier(fake: &FakeIssuer, cooldown: Duration) -> OidcVerifier {
    let http = server_common::oidc::http_client(None).expect("client");
    OidcVerifier::new(fake.issuer.clone(), vec!["kube-console".into()], http)
        .with_refetch_cooldown(cooldown)
}

#[tokio::test]
async fn a_rotated_key_is_fetched_when_a_token_names_it() {
    let fake = start_fake_issuer().await;
    let verifier = verifier(&fake, Duration::ZERO);
    verifier.load().await.expect("load");
    assert_eq!(fake.jwks_fetches.load(Ordering::SeqCst), 1);
    let signed_by_a = token(
        &fake.issuer,
        "a",
        include_bytes!("fixtures/signing-key.pem"),
    );
    assert!(verifier.verify(&signed_by_a, None).await.is_ok());
    assert_eq!(
        fake.jwks_fetches.load(Ordering::SeqCst),
        1,
        "a known kid needs no fetch"
    );

    // The issuer rotates: key b signs from now on, key a is still published.
    if let Ok(mut keys) = fake.keys.lock() {
        keys.push(jwk("b", KEY_B));
    }
    let signed_by_b = token(&fake.issuer, "b", include_bytes!("fixtures/other-key.pem"));
    assert!(verifier.verify(&signed_by_b, None).await.is_ok());
    assert_eq!(
        fake.jwks_fetches.load(Ordering::SeqCst),
        2,
        "one refetch for the new kid"
    );
    assert!(verifier.verify(&signed_by_b, None).await.is_ok());
    assert_eq!(fake.jwks_fetches.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn random_key_ids_cannot_make_the_verifier_fetch_on_every_request() {
    let fake = start_fake_issuer().await;
    let verifier = verifier(&fake, Duration::from_secs(3600));
    verifier.load().await.expect("load");
    for attempt in 0..100 {
        let forged = token(
            &fake.issuer,
            &format!("random-{attempt}"),
            include_bytes!("fixtures/signing-key.pem"),
        );
        assert_eq!(
            verifier.verify(&forged, None).await.err(),
            Some(TokenError::UnknownKey)
        );
    }
    assert_eq!(
        fake.jwks_fetches.load(Ordering::SeqCst),
        1,
        "no fetch within the cooldown"
    );
    // Not even a token without a kid gets further.
    let mut header = Header::new(Algorithm::RS256);
    header.kid = None;
    let now = jsonwebtoken::get_current_timestamp();
    let claims = json!({"iss": fake.issuer, "sub": "u", "aud": "kube-console", "exp": now + 300, "iat": now});
    let no_kid = jsonwebtoken::encode(
        &header,
        &claims,
        &EncodingKey::from_rsa_pem(include_bytes!("fixtures/signing-key.pem")).expect("key"),
    )
    .expect("sign");
    assert_eq!(
        verifier.verify(&no_kid, None).await.err(),
        Some(TokenError::UnknownKey)
    );
}

#[tokio::test]
async fn a_discovery_document_naming_another_issuer_is_refused() {
    let fake = start_fake_issuer().await;
    let http = server_common::oidc::http_client(None).expect("client");
    // Same server, configured with a trailing path the document does not name.
    let verifier = OidcVerifier::new(
        format!("{}/", fake.issuer),
        vec!["kube-console".into()],
        http,
    );
    assert!(verifier.load().await.is_err());
    assert!(!verifier.is_loaded());
}

#[tokio::test]
async fn the_nonce_must_be_the_one_of_this_login() {
    let fake = start_fake_issuer().await;
    let verifier = verifier(&fake, Duration::from_secs(3600));
    verifier.load().await.expect("load");
    let pem = include_bytes!("fixtures/signing-key.pem");
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("a".into());
    let now = jsonwebtoken::get_current_timestamp();
    let sign = |claims: Value| {
        jsonwebtoken::encode(
            &header,
            &claims,
            &EncodingKey::from_rsa_pem(pem).expect("key"),
        )
        .expect("sign")
    };
    let base = json!({"iss": fake.issuer, "sub": "u", "aud": "kube-console", "exp": now + 300, "iat": now});
    let mut with_nonce = base.clone();
    with_nonce["nonce"] = json!("nonce-of-this-login");
    let token = sign(with_nonce);
    assert!(
        verifier
            .verify(&token, Some("nonce-of-this-login"))
            .await
            .is_ok()
    );
    assert_eq!(
        verifier.verify(&token, Some("another-login")).await.err(),
        Some(TokenError::NonceMismatch)
    );
    assert_eq!(
        verifier
            .verify(&sign(base), Some("nonce-of-this-login"))
            .await
            .err(),
        Some(TokenError::NonceMismatch)
    );
    // azp, when present, must name this client.
    let mut foreign_azp = json!({"iss": fake.issuer, "sub": "u", "aud": "kube-console", "exp": now + 300, "iat": now});
    foreign_azp["azp"] = json!("another-client");
    assert!(matches!(
        verifier.verify(&sign(foreign_azp), None).await,
        Err(TokenError::Rejected(_))
    ));
}
