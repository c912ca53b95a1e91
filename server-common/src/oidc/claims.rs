//! What a verified ID token says, and why a token was refused.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    pub(super) fn as_slice(&self) -> &[String] {
        match self {
            Audience::One(one) => std::slice::from_ref(one),
            Audience::Many(many) => many,
        }
    }
}

/// The claims of a verified ID token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdClaims {
    pub iss: String,
    pub sub: String,
    pub aud: Audience,
    pub exp: u64,
    pub iat: u64,
    #[serde(default)]
    pub nonce: Option<String>,
    #[serde(default)]
    pub azp: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub email_verified: Option<bool>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub groups: Vec<String>,
    /// Every other claim, for deployments that take the username or groups from another one.
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

impl IdClaims {
    /// A string claim by name, the named fields included.
    pub fn string_claim(&self, name: &str) -> Option<String> {
        match name {
            "email" => self.email.clone(),
            "sub" => Some(self.sub.clone()),
            "name" => self.name.clone(),
            _ => self
                .other
                .get(name)
                .and_then(|v| v.as_str())
                .map(str::to_string),
        }
    }

    /// A list-of-strings claim by name (a single string counts as a list of one).
    pub fn strings_claim(&self, name: &str) -> Vec<String> {
        if name == "groups" {
            return self.groups.clone();
        }
        match self.other.get(name) {
            Some(serde_json::Value::String(one)) => vec![one.clone()],
            Some(serde_json::Value::Array(many)) => many
                .iter()
                .filter_map(|v| v.as_str())
                .map(str::to_string)
                .collect(),
            _ => Vec::new(),
        }
    }
}

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("the token is not a well-formed JWT")]
    Malformed,
    #[error("the token's algorithm is not allowed")]
    AlgorithmNotAllowed,
    #[error("the token names no key the issuer publishes")]
    UnknownKey,
    #[error("the token was rejected: {0}")]
    Rejected(Rejection),
    #[error("the token was not issued for this login (nonce)")]
    NonceMismatch,
    /// The issuer's keys were never loaded, are older than `max_key_age`, or could not be fetched
    /// for a new key id: the token cannot be checked now (both servers answer 503).
    #[error("the issuer's keys are not loaded or too old")]
    NotLoaded,
}

/// Why a well-formed token signed by a known key (or claiming to be) was refused.
#[derive(Debug, Clone, Copy, thiserror::Error, PartialEq, Eq)]
pub enum Rejection {
    #[error("bad signature")]
    Signature,
    #[error("expired")]
    Expired,
    #[error("not valid yet (nbf)")]
    NotYetValid,
    #[error("issued in the future")]
    IssuedInTheFuture,
    #[error("lifetime too long or negative")]
    Lifetime,
    #[error("another issuer")]
    Issuer,
    #[error("not issued for this client (aud)")]
    Audience,
    #[error("several audiences and no azp")]
    MissingAzp,
    #[error("azp names another client")]
    ForeignAzp,
    #[error("a logout or other security event token")]
    LogoutToken,
    #[error("a typ other than JWT")]
    TokenType,
    #[error("a critical header parameter")]
    CriticalHeader,
    #[error("a required claim is missing or empty")]
    MissingClaim,
    #[error("a claim has the wrong type")]
    ClaimFormat,
}

impl Rejection {
    /// A fixed name for metrics labels.
    pub fn label(self) -> &'static str {
        match self {
            Rejection::Signature => "signature",
            Rejection::Expired => "expired",
            Rejection::NotYetValid => "not_yet_valid",
            Rejection::IssuedInTheFuture => "issued_in_the_future",
            Rejection::Lifetime => "lifetime",
            Rejection::Issuer => "issuer",
            Rejection::Audience => "audience",
            Rejection::MissingAzp => "missing_azp",
            Rejection::ForeignAzp => "foreign_azp",
            Rejection::LogoutToken => "logout_token",
            Rejection::TokenType => "token_type",
            Rejection::CriticalHeader => "critical_header",
            Rejection::MissingClaim => "missing_claim",
            Rejection::ClaimFormat => "claim_format",
        }
    }
}
