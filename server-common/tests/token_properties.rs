//! Property tests of token parsing: arbitrary input and mutated tokens never panic and never
//! verify; the one valid token verifies, and no single changed byte of it does.

use std::sync::OnceLock;

use base64::{
    Engine,
    engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD},
};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use proptest::prelude::*;
use serde_json::{Value, json};
use server_common::{bearer::parse_bearer, oidc::decode};

const ISSUER: &str = "https://dex.example/dex";
const CLIENT: &str = "kube-console";

fn key() -> &'static DecodingKey {
    static KEY: OnceLock<DecodingKey> = OnceLock::new();
    KEY.get_or_init(|| {
        DecodingKey::from_rsa_pem(include_bytes!("fixtures/signing-key.pub.pem")).expect("key")
    })
}

fn claims() -> Value {
    let now = jsonwebtoken::get_current_timestamp();
    json!({"iss": ISSUER, "sub": "user-1", "aud": CLIENT, "exp": now + 3600, "iat": now,
           "email": "viewer@example.com", "groups": ["console-viewers"]})
}

/// One valid token, signed once.
fn valid() -> &'static str {
    static TOKEN: OnceLock<String> = OnceLock::new();
    TOKEN.get_or_init(|| {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some("k1".into());
        jsonwebtoken::encode(
            &header,
            &claims(),
            &EncodingKey::from_rsa_pem(include_bytes!("fixtures/signing-key.pem")).expect("key"),
        )
        .expect("sign")
    })
}

fn verifies(token: &str) -> bool {
    decode(token, key(), ISSUER, &[CLIENT.to_string()]).is_ok()
}

fn parts() -> (String, String, String) {
    let mut parts = valid().split('.').map(str::to_string);
    let (Some(h), Some(p), Some(s)) = (parts.next(), parts.next(), parts.next()) else {
        panic!("a JWT has three parts");
    };
    (h, p, s)
}

fn json_part(part: &str) -> Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("b64")).expect("json")
}

fn encode_part(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

/// A structural change to the valid token; none may verify.
fn mutate(mutation: u8, text: &str, number: u64) -> String {
    let (h, p, s) = parts();
    let mut header = json_part(&h);
    let mut payload = json_part(&p);
    match mutation % 24 {
        0 => format!("{p}.{h}.{s}"),
        1 => format!("{h}.{s}.{p}"),
        2 => format!("{s}.{p}.{h}"),
        3 => {
            let algs = [
                "none", "HS256", "RS384", "RS512", "PS256", "ES256", "EdDSA", "rs256", "",
            ];
            header["alg"] = json!(algs[(number as usize) % algs.len()]);
            format!("{}.{p}.{s}", encode_part(&header))
        }
        4 => {
            header["kid"] = json!(text);
            format!("{}.{p}.{s}", encode_part(&header))
        }
        5 => {
            let claim =
                ["email", "sub", "iss", "aud", "groups", "azp", "nonce"][(number as usize) % 7];
            payload[claim] = json!(text);
            format!("{h}.{}.{s}", encode_part(&payload))
        }
        6 => {
            payload["exp"] = json!(number);
            format!("{h}.{}.{s}", encode_part(&payload))
        }
        7 => {
            payload["groups"] = json!(["system:masters", text]);
            format!("{h}.{}.{s}", encode_part(&payload))
        }
        // Padding and other alphabets of the same bytes.
        8 => format!(
            "{}.{}.{}",
            URL_SAFE.encode(URL_SAFE_NO_PAD.decode(&h).unwrap_or_default()),
            p,
            s
        ),
        9 => format!(
            "{h}.{p}.{}",
            STANDARD.encode(URL_SAFE_NO_PAD.decode(&s).unwrap_or_default())
        ),
        10 => format!("{h}.{p}.{s}="),
        11 => format!("{h}=.{p}.{s}"),
        // Parts added, dropped, repeated, emptied.
        12 => format!("{h}.{p}.{s}.{s}"),
        13 => format!("{h}.{p}"),
        14 => format!("{h}.{p}."),
        15 => format!("{h}..{s}"),
        16 => format!(".{p}.{s}"),
        17 => format!("{h}.{p}.{}", &s[..s.len() / 2]),
        18 => format!("{h}.{p}.{s}{}", "A".repeat((number % 100_000) as usize + 1)),
        // The same claims formatted otherwise: other bytes, so another signature.
        19 => format!(
            "{h}.{}.{s}",
            URL_SAFE_NO_PAD.encode(serde_json::to_vec_pretty(&payload).unwrap_or_default())
        ),
        20 => format!("{h}.{p}.{s}{text}"),
        21 => format!("{text}{h}.{p}.{s}"),
        22 => {
            header["typ"] = json!(text);
            header["crit"] = json!([text]);
            format!("{}.{p}.{s}", encode_part(&header))
        }
        _ => {
            // A huge payload under the valid header and signature.
            payload["filler"] = json!("x".repeat((number % 200_000) as usize));
            format!("{h}.{}.{s}", encode_part(&payload))
        }
    }
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

#[test]
fn the_valid_token_verifies() {
    assert!(verifies(valid()));
}

/// The last character of a base64url part carries unused bits: no other character there may
/// decode to the same bytes and verify (the decoder must refuse non-zero trailing bits).
#[test]
fn no_other_last_character_of_any_part_verifies() {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let token = valid();
    let ends: Vec<usize> = token
        .match_indices('.')
        .map(|(at, _)| at - 1)
        .chain([token.len() - 1])
        .collect();
    for end in ends {
        for &c in ALPHABET {
            if token.as_bytes()[end] == c {
                continue;
            }
            let mut bytes = token.as_bytes().to_vec();
            bytes[end] = c;
            let changed = String::from_utf8_lossy(&bytes);
            assert!(!verifies(&changed), "{} at {end} verified", c as char);
        }
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_strings_never_verify(input in ".{0,2000}") {
        prop_assert!(!verifies(&input));
        let _ = parse_bearer(&input);
    }

    #[test]
    fn arbitrary_base64url_and_dots_never_verify(input in "[A-Za-z0-9_=.-]{0,3000}") {
        prop_assert!(!verifies(&input));
    }

    #[test]
    fn structurally_mutated_tokens_never_verify(
        mutation in any::<u8>(),
        text in ".{1,64}",
        number in any::<u64>(),
    ) {
        let token = mutate(mutation, &text, number);
        // A "mutation" that happens to change nothing (a kid set to what it was).
        prop_assume!(token != valid());
        prop_assert!(!verifies(&token), "mutation {} verified: {}", mutation % 24, token);
    }

    #[test]
    fn no_single_changed_byte_verifies(position in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let mut bytes = valid().as_bytes().to_vec();
        let at = position.index(bytes.len());
        prop_assume!(bytes[at] != byte);
        bytes[at] = byte;
        let token = String::from_utf8_lossy(&bytes);
        prop_assert!(!verifies(&token), "byte {} set to {:#x} verified", at, byte);
    }

    #[test]
    fn a_parsed_bearer_is_one_token68_from_the_value(value in "[ \\tA-Za-z0-9._~+/=-]{0,80}") {
        if let Some(token) = parse_bearer(&value) {
            prop_assert!(!token.is_empty());
            prop_assert!(!token.contains([' ', '\t']));
            prop_assert!(value.contains(token));
            prop_assert!(value.trim_start().to_ascii_lowercase().starts_with("bearer "));
        }
    }
}
