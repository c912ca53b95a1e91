//! The JWT rules the list in `oidc.rs` adds to the signature: audiences and `azp`, logout tokens,
//! header fields, duplicate JSON keys, lifetimes. Tokens are signed with the fixture keys, raw
//! JSON included (`sign_raw`) so that the signature is right and only the rule under test fails.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use serde_json::{Value, json};
use server_common::oidc::{TokenError, decode};

const ISSUER: &str = "https://dex.example/dex";
const CLIENT: &str = "kube-console";
const PEM: &[u8] = include_bytes!("fixtures/signing-key.pem");
const OTHER_PEM: &[u8] = include_bytes!("fixtures/other-key.pem");

fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

fn claims() -> Value {
    json!({"iss": ISSUER, "sub": "user-1", "aud": CLIENT, "exp": now() + 600, "iat": now(),
           "email": "viewer@example.com"})
}

fn header() -> Value {
    json!({"alg": "RS256", "kid": "k1"})
}

/// Signs the exact bytes given as header and payload.
fn sign_raw_with(header: &str, payload: &str, pem: &[u8]) -> String {
    let message = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let signature = jsonwebtoken::crypto::sign(
        message.as_bytes(),
        &EncodingKey::from_rsa_pem(pem).expect("key"),
        Algorithm::RS256,
    )
    .expect("sign");
    format!("{message}.{signature}")
}

fn sign_raw(header: &str, payload: &str) -> String {
    sign_raw_with(header, payload, PEM)
}

fn sign(header: &Value, claims: &Value) -> String {
    sign_raw(&header.to_string(), &claims.to_string())
}

fn verify(token: &str) -> Result<server_common::oidc::IdClaims, TokenError> {
    let key = DecodingKey::from_rsa_pem(include_bytes!("fixtures/signing-key.pub.pem"))
        .expect("public key");
    decode(token, &key, ISSUER, &[CLIENT.to_string()])
}

fn with_claims(change: impl FnOnce(&mut Value)) -> String {
    let mut value = claims();
    change(&mut value);
    sign(&header(), &value)
}

fn with_header(change: impl FnOnce(&mut Value)) -> String {
    let mut value = header();
    change(&mut value);
    sign(&value, &claims())
}

#[test]
fn the_reference_token_passes() {
    assert_eq!(verify(&sign(&header(), &claims())).err(), None);
}

#[test]
fn several_audiences_need_an_azp_naming_this_client() {
    let refused = [
        ("several audiences, no azp", json!(["other", CLIENT]), None),
        (
            "several audiences, azp another client",
            json!(["other", CLIENT]),
            Some("other"),
        ),
        (
            "one audience, azp another client",
            json!(CLIENT),
            Some("other"),
        ),
        (
            "azp this client, audiences without it",
            json!(["other", "third"]),
            Some(CLIENT),
        ),
    ];
    for (what, aud, azp) in refused {
        let token = with_claims(|c| {
            c["aud"] = aud;
            if let Some(azp) = azp {
                c["azp"] = json!(azp);
            }
        });
        assert!(
            matches!(verify(&token), Err(TokenError::Rejected(_))),
            "{what} must be refused"
        );
    }
    for (what, aud) in [
        ("several audiences", json!(["other", CLIENT])),
        ("one audience", json!(CLIENT)),
        ("a list of one", json!([CLIENT])),
    ] {
        let token = with_claims(|c| {
            c["aud"] = aud;
            c["azp"] = json!(CLIENT);
        });
        assert_eq!(verify(&token).err(), None, "{what} with azp {CLIENT}");
    }
}

#[test]
fn a_logout_token_is_never_a_bearer() {
    let events = with_claims(|c| {
        c["events"] = json!({"http://schemas.openid.net/event/backchannel-logout": {}});
    });
    assert!(matches!(verify(&events), Err(TokenError::Rejected(_))));
    let typed = with_header(|h| h["typ"] = json!("logout+jwt"));
    assert!(matches!(verify(&typed), Err(TokenError::Rejected(_))));
    // Even an empty or odd `events` value marks a security event token.
    for odd in [json!({}), json!(null), json!("x")] {
        let token = with_claims(|c| c["events"] = odd.clone());
        assert!(verify(&token).is_err(), "events {odd}");
    }
}

#[test]
fn only_jwt_or_no_typ_is_accepted() {
    for typ in ["JWT", "jwt", "application/jwt"] {
        assert_eq!(
            verify(&with_header(|h| h["typ"] = json!(typ))).err(),
            None,
            "{typ}"
        );
    }
    for typ in [
        json!("at+jwt"),
        json!("application/at+jwt"),
        json!("secevent+jwt"),
        json!("JWS"),
        json!(""),
        json!(1),
        json!(null),
    ] {
        assert!(
            verify(&with_header(|h| h["typ"] = typ.clone())).is_err(),
            "typ {typ}"
        );
    }
}

#[test]
fn a_critical_header_is_refused() {
    // jsonwebtoken understands `b64` as critical; nothing here does.
    for (crit, extra) in [
        (json!(["b64"]), Some(("b64", json!(true)))),
        (json!(["exp"]), Some(("exp", json!(1)))),
        (json!([]), None),
    ] {
        let token = with_header(|h| {
            h["crit"] = crit.clone();
            if let Some((name, value)) = extra {
                h[name] = value;
            }
        });
        assert!(verify(&token).is_err(), "crit {crit}");
    }
}

#[test]
fn duplicate_json_keys_are_refused() {
    let now = now();
    let exp = now + 600;
    for (what, header, payload) in [
        (
            "email twice",
            r#"{"alg":"RS256","kid":"k1"}"#.to_string(),
            format!(
                r#"{{"iss":"{ISSUER}","sub":"u","aud":"{CLIENT}","exp":{exp},"iat":{now},"email":"viewer@example.com","email":"admin@example.com"}}"#
            ),
        ),
        (
            "groups twice",
            r#"{"alg":"RS256","kid":"k1"}"#.to_string(),
            format!(
                r#"{{"iss":"{ISSUER}","sub":"u","aud":"{CLIENT}","exp":{exp},"iat":{now},"groups":["a"],"groups":["system:masters"]}}"#
            ),
        ),
        (
            "exp twice",
            r#"{"alg":"RS256","kid":"k1"}"#.to_string(),
            format!(
                r#"{{"iss":"{ISSUER}","sub":"u","aud":"{CLIENT}","exp":1,"exp":{exp},"iat":{now}}}"#
            ),
        ),
        (
            "nested twice",
            r#"{"alg":"RS256","kid":"k1"}"#.to_string(),
            format!(
                r#"{{"iss":"{ISSUER}","sub":"u","aud":"{CLIENT}","exp":{exp},"iat":{now},"x":{{"a":1,"a":2}}}}"#
            ),
        ),
        (
            "kid twice in the header",
            r#"{"alg":"RS256","kid":"k1","kid":"k2"}"#.to_string(),
            format!(r#"{{"iss":"{ISSUER}","sub":"u","aud":"{CLIENT}","exp":{exp},"iat":{now}}}"#),
        ),
    ] {
        assert_eq!(
            verify(&sign_raw(&header, &payload)).err(),
            Some(TokenError::Malformed),
            "{what}"
        );
    }
}

#[test]
fn key_hints_in_the_header_are_ignored() {
    // A token signed by another key that names it in every header a verifier might follow.
    let other_public = json!({"kty": "RSA", "kid": "k1", "n": "AQAB", "e": "AQAB"});
    for (name, value) in [
        ("jwk", other_public),
        ("jku", json!("https://evil.example/keys")),
        ("x5u", json!("https://evil.example/cert")),
        ("x5c", json!(["MIIB"])),
    ] {
        let mut header = header();
        header[name] = value;
        let token = sign_raw_with(&header.to_string(), &claims().to_string(), OTHER_PEM);
        assert!(verify(&token).is_err(), "{name}");
    }
}

#[test]
fn times_far_off_are_refused() {
    let day = 86_400;
    for (what, token) in [
        (
            "nbf far ahead",
            with_claims(|c| c["nbf"] = json!(now() + 365 * day)),
        ),
        (
            "iat far ahead",
            with_claims(|c| c["iat"] = json!(now() + 365 * day)),
        ),
        (
            "exp years ahead",
            with_claims(|c| c["exp"] = json!(now() + 3650 * day)),
        ),
        (
            "exp at the end of time",
            with_claims(|c| c["exp"] = json!(u64::MAX)),
        ),
        (
            "issued long ago, valid until now",
            with_claims(|c| c["iat"] = json!(now() - 365 * day)),
        ),
        (
            "exp before iat",
            with_claims(|c| {
                c["iat"] = json!(now() + 25);
                c["exp"] = json!(now() + 20);
            }),
        ),
        ("iat negative", with_claims(|c| c["iat"] = json!(-1))),
        ("exp fractional", with_claims(|c| c["exp"] = json!(1e30))),
    ] {
        assert!(verify(&token).is_err(), "{what} must be refused");
    }
}

#[test]
fn the_issuer_must_match_exactly() {
    for iss in [
        format!("{ISSUER}/"),
        ISSUER.trim_end_matches("/dex").to_string(),
        ISSUER.to_uppercase(),
        format!("{ISSUER} "),
    ] {
        let token = with_claims(|c| c["iss"] = json!(iss));
        assert!(verify(&token).is_err(), "{iss}");
    }
    let token = with_claims(|c| c["iss"] = json!([ISSUER, "https://evil.example"]));
    assert!(verify(&token).is_err(), "an issuer list");
}

#[test]
fn an_empty_subject_is_refused() {
    assert!(verify(&with_claims(|c| c["sub"] = json!(""))).is_err());
}
