//! Key rotation, withdrawn keys and odd JWKS entries, against the FAKE issuer of `support`
//! (the real Dex rotates on its own schedule; e2e/tests/key_rotation.rs covers that one).

mod support;

use std::sync::Arc;

use serde_json::json;
use server_common::oidc::{OidcVerifier, TokenError};
use support::{CLIENT, KEY_A, KEY_B, PEM_A, PEM_B, jwk, start_fake_issuer, verifier};

#[tokio::test]
async fn a_rotated_key_is_fetched_when_a_token_names_it() {
    let fake = start_fake_issuer().await;
    let verifier = verifier(&fake);
    verifier.load().await.expect("load");
    assert_eq!(fake.fetches(), 1);
    let signed_by_a = fake.token("a", PEM_A);
    assert!(verifier.verify(&signed_by_a, None).await.is_ok());
    assert_eq!(fake.fetches(), 1, "a known kid needs no fetch");

    // The issuer rotates: key b signs from now on, key a is still published. The load just
    // before (as at start, or keep_loaded's periodic reload) must not hold the new kid back.
    fake.publish(vec![jwk("a", KEY_A), jwk("b", KEY_B)]);
    let signed_by_b = fake.token("b", PEM_B);
    assert_eq!(verifier.verify(&signed_by_b, None).await.err(), None);
    assert_eq!(fake.fetches(), 2, "one refetch for the new kid");
    assert!(verifier.verify(&signed_by_b, None).await.is_ok());
    assert_eq!(fake.fetches(), 2);
}

#[tokio::test]
async fn a_periodic_reload_just_before_a_rotation_does_not_block_the_new_kid() {
    let fake = start_fake_issuer().await;
    let verifier = verifier(&fake);
    verifier.load().await.expect("load");
    // keep_loaded's periodic reload, then the issuer rotates right after it.
    verifier.load().await.expect("reload");
    fake.publish(vec![jwk("a", KEY_A), jwk("b", KEY_B)]);
    assert_eq!(
        verifier.verify(&fake.token("b", PEM_B), None).await.err(),
        None
    );
    assert_eq!(fake.fetches(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_requests_with_a_new_kid_share_one_fetch_and_all_pass() {
    let fake = start_fake_issuer().await;
    let verifier = Arc::new(verifier(&fake));
    verifier.load().await.expect("load");
    fake.publish(vec![jwk("a", KEY_A), jwk("b", KEY_B)]);
    let token = fake.token("b", PEM_B);
    let requests: Vec<_> = (0..32)
        .map(|_| {
            let verifier = verifier.clone();
            let token = token.clone();
            tokio::spawn(async move { verifier.verify(&token, None).await.err() })
        })
        .collect();
    for request in requests {
        assert_eq!(request.await.expect("task"), None);
    }
    assert_eq!(fake.fetches(), 2, "the load and one refetch, shared");
}

#[tokio::test]
async fn a_discovery_document_naming_another_issuer_is_refused() {
    let fake = start_fake_issuer().await;
    let http = server_common::oidc::http_client(None).expect("client");
    // Same server, configured with a trailing path the document does not name.
    let verifier = OidcVerifier::new(format!("{}/", fake.issuer), vec![CLIENT.into()], http);
    assert!(verifier.load().await.is_err());
    assert!(!verifier.is_loaded());
}

#[tokio::test]
async fn the_nonce_must_be_the_one_of_this_login() {
    let fake = start_fake_issuer().await;
    let verifier = verifier(&fake);
    verifier.load().await.expect("load");
    let sign = |claims: &serde_json::Value| support::sign("a", PEM_A, claims);
    let base = fake.claims();
    let mut with_nonce = base.clone();
    with_nonce["nonce"] = json!("nonce-of-this-login");
    let token = sign(&with_nonce);
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
            .verify(&sign(&base), Some("nonce-of-this-login"))
            .await
            .err(),
        Some(TokenError::NonceMismatch)
    );
    // azp, when present, must name this client.
    let mut foreign_azp = base.clone();
    foreign_azp["azp"] = json!("another-client");
    assert!(matches!(
        verifier.verify(&sign(&foreign_azp), None).await,
        Err(TokenError::Rejected(_))
    ));
}

#[tokio::test]
async fn a_key_withdrawn_from_the_jwks_no_longer_verifies_even_a_token_verified_before() {
    let fake = start_fake_issuer().await;
    let verifier = verifier(&fake);
    verifier.load().await.expect("load");
    let signed_by_a = fake.token("a", PEM_A);
    assert!(verifier.verify(&signed_by_a, None).await.is_ok());
    // The issuer withdraws key a (compromised, say); the next reload sees it gone.
    fake.publish(vec![jwk("b", KEY_B)]);
    verifier.load().await.expect("reload");
    assert_eq!(
        verifier.verify(&signed_by_a, None).await.err(),
        Some(TokenError::UnknownKey),
        "the verified-token cache must not outlive the key"
    );
}

#[tokio::test]
async fn only_rsa_signature_keys_of_the_jwks_are_used() {
    let fake = start_fake_issuer().await;
    let mut encryption_key = jwk("enc", KEY_A);
    encryption_key["use"] = json!("enc");
    let mut wrapping_only = jwk("wrap", KEY_A);
    wrapping_only.as_object_mut().map(|key| key.remove("use"));
    wrapping_only["key_ops"] = json!(["wrapKey"]);
    let mut other_alg = jwk("ps", KEY_A);
    other_alg["alg"] = json!("PS256");
    fake.publish(vec![
        encryption_key,
        wrapping_only,
        other_alg,
        // A shared secret under a kid: an HS256 token keyed with it must never pass.
        json!({"kty": "oct", "kid": "hs", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0"}),
        json!({"kty": "EC", "kid": "ec", "crv": "P-256",
               "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
               "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}),
        json!({"kty": "an-unknown-type", "kid": "x"}),
        json!("not even an object"),
        jwk("a", KEY_A),
    ]);
    let verifier = verifier(&fake);
    verifier
        .load()
        .await
        .expect("the usable key is loaded despite the others");
    assert!(verifier.verify(&fake.token("a", PEM_A), None).await.is_ok());
    for kid in ["enc", "wrap", "ps"] {
        // The same RSA key, published for another use or algorithm.
        assert_eq!(
            verifier.verify(&fake.token(kid, PEM_A), None).await.err(),
            Some(TokenError::UnknownKey),
            "{kid}"
        );
    }
    let hs = jsonwebtoken::encode(
        &{
            let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
            header.kid = Some("hs".into());
            header
        },
        &fake.claims(),
        &jsonwebtoken::EncodingKey::from_secret(b"secret-secret-secret-secret").expect("key"),
    )
    .expect("sign");
    assert!(verifier.verify(&hs, None).await.is_err());
}

#[tokio::test]
async fn an_absurdly_long_lived_token_is_refused_and_does_not_overflow() {
    let fake = start_fake_issuer().await;
    let verifier = verifier(&fake);
    verifier.load().await.expect("load");
    for exp in [
        u64::MAX,
        jsonwebtoken::get_current_timestamp() + 10 * 365 * 86_400,
    ] {
        let mut claims = fake.claims();
        claims["exp"] = json!(exp);
        let token = support::sign("a", PEM_A, &claims);
        // Twice: the second answer may come from the verified-token cache.
        for _ in 0..2 {
            assert!(
                matches!(
                    verifier.verify(&token, None).await,
                    Err(TokenError::Rejected(_))
                ),
                "exp {exp}"
            );
        }
    }
}

#[tokio::test]
async fn a_huge_kid_is_refused_without_a_fetch() {
    let fake = start_fake_issuer().await;
    let verifier = verifier(&fake);
    verifier.load().await.expect("load");
    let token = fake.token(&"k".repeat(10_000), PEM_A);
    assert_eq!(
        verifier.verify(&token, None).await.err(),
        Some(TokenError::UnknownKey)
    );
    assert_eq!(fake.fetches(), 1);
}
