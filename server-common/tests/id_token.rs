//! The JWT rules, with tokens signed by keys made for these tests: hostile tokens and malformed input.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use serde_json::{Value, json};
use server_common::oidc::{TokenError, decode};

const ISSUER: &str = "https://dex.example/dex";
const CLIENT: &str = "kube-console";

fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

fn claims() -> Value {
    json!({
        "iss": ISSUER, "sub": "user-1", "aud": CLIENT, "exp": now() + 600, "iat": now(),
        "email": "viewer@example.com", "groups": ["console-viewers"], "nonce": "n-1",
    })
}

fn sign(claims: &Value, pem: &[u8]) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("k1".into());
    jsonwebtoken::encode(
        &header,
        claims,
        &EncodingKey::from_rsa_pem(pem).expect("key"),
    )
    .expect("sign")
}

fn signing_pem() -> &'static [u8] {
    include_bytes!("fixtures/signing-key.pem")
}

fn verify(token: &str) -> Result<server_common::oidc::IdClaims, TokenError> {
    let key = DecodingKey::from_rsa_pem(include_bytes!("fixtures/signing-key.pub.pem"))
        .expect("public key");
    decode(token, &key, ISSUER, &[CLIENT.to_string()])
}

fn with(change: impl FnOnce(&mut Value)) -> String {
    let mut value = claims();
    change(&mut value);
    sign(&value, signing_pem())
}

#[test]
fn a_good_token_passes_with_its_claims() {
    let claims = verify(&sign(&claims(), signing_pem())).expect("valid");
    assert_eq!(claims.email.as_deref(), Some("viewer@example.com"));
    assert_eq!(claims.groups, ["console-viewers"]);
    // An audience list naming the client is fine too, when `azp` says the token was issued to
    // this client (OIDC Core 3.1.3.7; Dex sets it whenever there are several audiences).
    assert!(
        verify(&with(|c| {
            c["aud"] = json!(["other", CLIENT]);
            c["azp"] = json!(CLIENT);
        }))
        .is_ok()
    );
    assert!(verify(&with(|c| c["aud"] = json!(["other", CLIENT]))).is_err());
}

#[test]
fn a_tampered_payload_fails_the_signature() {
    let token = sign(&claims(), signing_pem());
    let parts: Vec<&str> = token.split('.').collect();
    let mut payload = claims();
    payload["email"] = json!("admin@example.com");
    let forged_payload = base64_url(&serde_json::to_vec(&payload).expect("json"));
    let forged = format!("{}.{}.{}", parts[0], forged_payload, parts[2]);
    assert!(matches!(verify(&forged), Err(TokenError::Rejected(_))));
}

#[test]
fn a_token_signed_by_another_key_fails() {
    let token = sign(&claims(), include_bytes!("fixtures/other-key.pem"));
    assert!(matches!(verify(&token), Err(TokenError::Rejected(_))));
}

#[test]
fn other_algorithms_are_refused_whatever_the_header_says() {
    // HS256 keyed with the public key (algorithm confusion), and alg "none".
    let public = include_bytes!("fixtures/signing-key.pub.pem");
    let hs = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims(),
        &EncodingKey::from_secret(public.as_slice()).expect("key"),
    )
    .expect("sign");
    assert_eq!(verify(&hs).err(), Some(TokenError::AlgorithmNotAllowed));
    let none = format!(
        "{}.{}.",
        base64_url(br#"{"alg":"none","typ":"JWT"}"#),
        base64_url(&serde_json::to_vec(&claims()).expect("json"))
    );
    assert!(verify(&none).is_err());
}

#[test]
fn wrong_issuer_audience_and_times_are_refused() {
    for (what, token) in [
        (
            "issuer",
            with(|c| c["iss"] = json!("https://evil.example/dex")),
        ),
        ("audience", with(|c| c["aud"] = json!("another-client"))),
        ("empty audience list", with(|c| c["aud"] = json!([]))),
        ("expired", with(|c| c["exp"] = json!(now() - 120))),
        ("not yet valid", with(|c| c["nbf"] = json!(now() + 600))),
        (
            "issued in the future",
            with(|c| c["iat"] = json!(now() + 600)),
        ),
        (
            "exp as a string",
            with(|c| c["exp"] = json!((now() - 120).to_string())),
        ),
    ] {
        assert!(verify(&token).is_err(), "{what} must be refused");
    }
}

#[test]
fn required_claims_must_be_present() {
    for claim in ["exp", "iss", "aud", "sub", "iat"] {
        let token = with(|c| {
            c.as_object_mut().map(|o| o.remove(claim));
        });
        assert!(
            verify(&token).is_err(),
            "a token without {claim} must be refused"
        );
    }
}

#[test]
fn malformed_input_is_refused_cleanly() {
    for garbage in [
        "",
        "a",
        "a.b",
        "a.b.c",
        "...",
        "eyJhbGciOiJSUzI1NiJ9.e30.",
        "\u{0}\u{1}",
        &"x".repeat(10_000),
    ] {
        assert!(verify(garbage).is_err(), "{garbage:?}");
    }
}

fn base64_url(bytes: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(TABLE[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}
