//! A token taken apart and held to every rule: structure, header, signature and claims.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::Value;

use super::{
    ALLOWED_ALGORITHMS, IdClaims, LEEWAY_SECONDS, MAX_KID_BYTES, MAX_TOKEN_BYTES,
    MAX_TOKEN_LIFETIME_SECONDS, Rejection, TokenError,
};

/// A compact JWS taken apart: exactly three non-empty base64url parts without padding, a header
/// and a payload that are JSON objects without duplicate keys.
pub(super) struct Parsed<'a> {
    token: &'a str,
    pub(super) kid: String,
    payload: serde_json::Map<String, Value>,
}

impl<'a> Parsed<'a> {
    pub(super) fn new(token: &'a str) -> Result<Self, TokenError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(TokenError::Malformed);
        }
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Malformed);
        };
        if signature.is_empty() || URL_SAFE_NO_PAD.decode(signature).is_err() {
            return Err(TokenError::Malformed);
        }
        let header = json_object(header)?;
        let payload = json_object(payload)?;
        check_header(&header)?;
        let kid = match header.get("kid") {
            Some(Value::String(kid)) if !kid.is_empty() && kid.len() <= MAX_KID_BYTES => {
                kid.clone()
            }
            _ => return Err(TokenError::UnknownKey),
        };
        Ok(Parsed {
            token,
            kid,
            payload,
        })
    }

    /// The rules that need no key: a logout token, another issuer or audience is refused before
    /// any key is looked up (the signature is checked after, on whatever passes).
    pub(super) fn check_unverified(
        &self,
        issuer: &str,
        client_ids: &[String],
    ) -> Result<(), TokenError> {
        // A back-channel logout token (or any security event token) is never an ID token.
        if self.payload.contains_key("events") {
            return Err(TokenError::Rejected(Rejection::LogoutToken));
        }
        match self.payload.get("iss") {
            Some(Value::String(iss)) if iss == issuer => {}
            Some(Value::String(_)) => return Err(TokenError::Rejected(Rejection::Issuer)),
            Some(_) => return Err(TokenError::Rejected(Rejection::ClaimFormat)),
            None => return Err(TokenError::Rejected(Rejection::MissingClaim)),
        }
        let names_client = |v: &Value| {
            v.as_str()
                .is_some_and(|a| client_ids.iter().any(|c| c == a))
        };
        let for_us = match self.payload.get("aud") {
            Some(Value::String(_)) => self.payload.get("aud").is_some_and(names_client),
            Some(Value::Array(many)) => many.iter().any(names_client),
            Some(_) => return Err(TokenError::Rejected(Rejection::ClaimFormat)),
            None => return Err(TokenError::Rejected(Rejection::MissingClaim)),
        };
        if !for_us {
            return Err(TokenError::Rejected(Rejection::Audience));
        }
        Ok(())
    }

    pub(super) fn verify(
        &self,
        key: &DecodingKey,
        issuer: &str,
        client_ids: &[String],
    ) -> Result<IdClaims, TokenError> {
        self.check_unverified(issuer, client_ids)?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.algorithms = ALLOWED_ALGORITHMS.to_vec();
        validation.set_issuer(&[issuer]);
        validation.set_audience(client_ids);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_nbf = true;
        let data =
            jsonwebtoken::decode::<IdClaims>(self.token, key, &validation).map_err(|err| {
                use jsonwebtoken::errors::ErrorKind;
                match err.kind() {
                    ErrorKind::InvalidToken
                    | ErrorKind::Base64(_)
                    | ErrorKind::Json(_)
                    | ErrorKind::Utf8(_) => TokenError::Malformed,
                    ErrorKind::InvalidAlgorithm | ErrorKind::MissingAlgorithm => {
                        TokenError::AlgorithmNotAllowed
                    }
                    ErrorKind::ExpiredSignature => TokenError::Rejected(Rejection::Expired),
                    ErrorKind::ImmatureSignature => TokenError::Rejected(Rejection::NotYetValid),
                    ErrorKind::InvalidIssuer => TokenError::Rejected(Rejection::Issuer),
                    ErrorKind::InvalidAudience => TokenError::Rejected(Rejection::Audience),
                    ErrorKind::MissingRequiredClaim(_) => {
                        TokenError::Rejected(Rejection::MissingClaim)
                    }
                    ErrorKind::InvalidClaimFormat(_) | ErrorKind::InvalidSubject => {
                        TokenError::Rejected(Rejection::ClaimFormat)
                    }
                    _ => TokenError::Rejected(Rejection::Signature),
                }
            })?;
        let claims = data.claims;
        let now = jsonwebtoken::get_current_timestamp();
        if claims.iat > now.saturating_add(LEEWAY_SECONDS) {
            return Err(TokenError::Rejected(Rejection::IssuedInTheFuture));
        }
        if claims.exp < claims.iat || claims.exp - claims.iat > MAX_TOKEN_LIFETIME_SECONDS {
            return Err(TokenError::Rejected(Rejection::Lifetime));
        }
        if claims.sub.is_empty() {
            return Err(TokenError::Rejected(Rejection::MissingClaim));
        }
        let audiences = claims.aud.as_slice();
        if audiences.is_empty() {
            return Err(TokenError::Rejected(Rejection::Audience));
        }
        // OIDC Core 3.1.3.7: with several audiences, the party the token was issued to must be
        // named, and it must be this client; when named, it must be this client and an audience.
        match &claims.azp {
            None if audiences.len() > 1 => return Err(TokenError::Rejected(Rejection::MissingAzp)),
            Some(azp) if !client_ids.contains(azp) || !audiences.contains(azp) => {
                return Err(TokenError::Rejected(Rejection::ForeignAzp));
            }
            _ => {}
        }
        Ok(claims)
    }
}

/// The header rules: RS256 only, no `typ` but JWT, no critical parameters. Key hints (`jku`,
/// `jwk`, `x5u`, `x5c`) are never read: keys come from the issuer's JWKS only.
fn check_header(header: &serde_json::Map<String, Value>) -> Result<(), TokenError> {
    if header.get("alg") != Some(&Value::String("RS256".into())) {
        return Err(TokenError::AlgorithmNotAllowed);
    }
    match header.get("typ") {
        None => {}
        Some(Value::String(typ))
            if typ.eq_ignore_ascii_case("JWT") || typ.eq_ignore_ascii_case("application/jwt") => {}
        Some(Value::String(typ)) if typ.to_ascii_lowercase().contains("logout") => {
            return Err(TokenError::Rejected(Rejection::LogoutToken));
        }
        Some(_) => return Err(TokenError::Rejected(Rejection::TokenType)),
    }
    if header.contains_key("crit") {
        return Err(TokenError::Rejected(Rejection::CriticalHeader));
    }
    Ok(())
}

/// A base64url (no padding) JSON object, refused if any object in it has a key twice: parsers
/// differ on which one wins, and a claim must mean the same to every reader.
fn json_object(part: &str) -> Result<serde_json::Map<String, Value>, TokenError> {
    if part.is_empty() {
        return Err(TokenError::Malformed);
    }
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| TokenError::Malformed)?;
    match serde_json::from_slice::<NoDuplicateKeys>(&bytes) {
        Ok(NoDuplicateKeys(Value::Object(object))) => Ok(object),
        _ => Err(TokenError::Malformed),
    }
}

struct NoDuplicateKeys(Value);

impl<'de> Deserialize<'de> for NoDuplicateKeys {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_any(NoDuplicateKeysVisitor)
            .map(NoDuplicateKeys)
    }
}

struct NoDuplicateKeysVisitor;

impl<'de> serde::de::Visitor<'de> for NoDuplicateKeysVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("JSON without duplicate keys")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(NoDuplicateKeys(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(serde::de::Error::custom("a key appears twice"));
            }
            let NoDuplicateKeys(value) = map.next_value()?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

/// Every check that needs no network, on a token and a key made in tests: structure, header,
/// signature and claims, as `OidcVerifier::verify` applies them (but no nonce).
pub fn decode(
    token: &str,
    key: &DecodingKey,
    issuer: &str,
    client_ids: &[String],
) -> Result<IdClaims, TokenError> {
    Parsed::new(token)?.verify(key, issuer, client_ids)
}

pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
