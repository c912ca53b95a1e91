//! From a verified token's claims to the Kubernetes identity the proxy impersonates.
//!
//! Every rule applies to the name the kube-apiserver will see, prefix included, and what it will
//! see is not always what is sent: HTTP drops the spaces and tabs around a field value (Go's
//! parser trims them), so a group " system:masters" would arrive as `system:masters`. A name is
//! therefore refused when trimming (Unicode whitespace, a superset of what HTTP trims) would
//! change it, when it holds a control, line-breaking or invisible formatting character, when it
//! is empty, when it is reserved (`system:`) or when it cannot be a header value.
//!
//! A refused user name refuses the request (403). A refused group is dropped and the request
//! goes on without it: Kubernetes RBAC only ever grants, so a missing group can only take
//! permissions away, and a token with one bad group still works for what its other groups allow.

use std::fmt;

use axum::http::HeaderValue;
use server_common::oidc::IdClaims;

/// Names Kubernetes keeps for itself (`system:masters`, `system:serviceaccount:…`, `system:node:…`).
const RESERVED_PREFIX: &str = "system:";

/// The most groups a token may name. Each is a header line to the kube-apiserver, which refuses
/// requests whose headers exceed 1 MiB; no one is in this many groups on purpose.
pub const MAX_GROUPS: usize = 500;

/// Which claims name the user and the groups, and the prefixes put before them, as the
/// kube-apiserver's `--oidc-*` flags have it.
#[derive(Debug, Clone)]
pub struct ClaimMapping {
    username_claim: String,
    username_prefix: String,
    groups_claim: String,
    groups_prefix: String,
}

/// The `--oidc-username-prefix` value that turns prefixing off, as the kube-apiserver reads it.
pub const NO_PREFIX: &str = "-";

impl ClaimMapping {
    /// As the kube-apiserver reads `--oidc-username-prefix`: when it is empty and the user name
    /// is not taken from `email`, the issuer URL and `#` go before it, so that a claim the user
    /// may choose (`name`, `preferred_username`, `sub` of another connector) cannot take the
    /// name of an email-named user; `-` means no prefix at all. Prefixes that are unsafe
    /// whatever the token says are refused here rather than on every request.
    pub fn new(
        username_claim: &str,
        username_prefix: &str,
        groups_claim: &str,
        groups_prefix: &str,
        issuer: &str,
    ) -> anyhow::Result<Self> {
        let username_prefix = match username_prefix {
            NO_PREFIX => String::new(),
            "" if username_claim != "email" => format!("{issuer}#"),
            prefix => prefix.to_string(),
        };
        for (flag, prefix) in [
            ("--oidc-username-prefix", &username_prefix),
            ("--oidc-groups-prefix", &groups_prefix.to_string()),
        ] {
            if let Err(problem) = check_prefix(prefix) {
                anyhow::bail!("{flag} {prefix:?} is refused: {problem}");
            }
        }
        Ok(ClaimMapping {
            username_claim: username_claim.to_string(),
            username_prefix,
            groups_claim: groups_claim.to_string(),
            groups_prefix: groups_prefix.to_string(),
        })
    }

    /// The Kubernetes identity of verified `claims`, or why the proxy refuses to act for them.
    pub fn identity(&self, claims: &IdClaims) -> Result<Identity, Refused> {
        // As the kube-apiserver does: an email is a user name only when it is not unverified.
        if self.username_claim == "email" && claims.email_verified == Some(false) {
            return Err(Refused::EmailNotVerified);
        }
        let Some(user) = claims.string_claim(&self.username_claim) else {
            return Err(Refused::NoUserClaim(self.username_claim.clone()));
        };
        let user = match Name::prefixed(&self.username_prefix, &user) {
            Ok(user) => user,
            Err(problem) => {
                tracing::warn!(user = ?user, %problem, "the token's user name is refused");
                return Err(Refused::User(problem));
            }
        };
        let claimed = claims.strings_claim(&self.groups_claim);
        if claimed.len() > MAX_GROUPS {
            tracing::warn!(user = ?user.text, groups = claimed.len(), "the token names too many groups");
            return Err(Refused::TooManyGroups(claimed.len()));
        }
        let mut groups: Vec<Name> = Vec::with_capacity(claimed.len());
        for group in claimed {
            match Name::prefixed(&self.groups_prefix, &group) {
                Ok(name) if !groups.contains(&name) => groups.push(name),
                Ok(_) => {}
                Err(problem) => {
                    tracing::warn!(user = ?user.text, group = ?group, %problem, "a group of the token is dropped");
                }
            }
        }
        Ok(Identity { user, groups })
    }
}

/// Why a verified token gets no Kubernetes identity: the proxy answers 403 with this message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    EmailNotVerified,
    NoUserClaim(String),
    User(NameProblem),
    TooManyGroups(usize),
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refused::EmailNotVerified => write!(f, "the token's email is not verified"),
            Refused::NoUserClaim(claim) => {
                write!(
                    f,
                    "the token has no {claim:?} claim to take the user name from"
                )
            }
            Refused::User(problem) => write!(f, "the token's user name is refused: {problem}"),
            Refused::TooManyGroups(count) => write!(
                f,
                "the token names {count} groups, more than the {MAX_GROUPS} the proxy forwards"
            ),
        }
    }
}

/// What makes a name unsafe to send as a Kubernetes user or group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameProblem {
    Empty,
    SurroundingWhitespace,
    ControlCharacter,
    InvisibleCharacter,
    Reserved,
    NotAHeaderValue,
}

impl fmt::Display for NameProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NameProblem::Empty => "it is empty",
            NameProblem::SurroundingWhitespace => "it begins or ends with whitespace",
            NameProblem::ControlCharacter => "it holds a control character",
            NameProblem::InvisibleCharacter => {
                "it holds an invisible formatting or line-breaking character"
            }
            NameProblem::Reserved => "names beginning with \"system:\" are reserved",
            NameProblem::NotAHeaderValue => "it cannot be sent in an HTTP header",
        })
    }
}

/// Characters that draw nothing or reorder what is drawn (zero-width space, word joiner, byte
/// order mark, bidirectional controls) or break lines: a name holding them can look like another
/// in logs and audit records. Zero-width (non-)joiners, which some scripts need, are kept.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200B}'
            | '\u{200E}'..='\u{200F}'
            | '\u{2028}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
    )
}

/// The rules that hold for a claim value and a prefix alike.
fn check_text(text: &str) -> Result<(), NameProblem> {
    if text.trim() != text {
        return Err(NameProblem::SurroundingWhitespace);
    }
    if text.chars().any(char::is_control) {
        return Err(NameProblem::ControlCharacter);
    }
    if text.chars().any(is_invisible) {
        return Err(NameProblem::InvisibleCharacter);
    }
    Ok(())
}

/// A prefix may be empty, but may not make or complete a reserved name on its own: `sys` before
/// the group `tem:masters` would be `system:masters`.
fn check_prefix(prefix: &str) -> Result<(), NameProblem> {
    check_text(prefix)?;
    if !prefix.is_empty()
        && (prefix.starts_with(RESERVED_PREFIX) || RESERVED_PREFIX.starts_with(prefix))
    {
        return Err(NameProblem::Reserved);
    }
    Ok(())
}

/// A user or group name that passed every rule, with the header value it is sent as: a name
/// that could not be sent cannot exist, so no request goes upstream without its identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name {
    text: String,
    header: HeaderValue,
}

impl Name {
    pub fn new(text: &str) -> Result<Name, NameProblem> {
        if text.is_empty() {
            return Err(NameProblem::Empty);
        }
        check_text(text)?;
        if text.starts_with(RESERVED_PREFIX) {
            return Err(NameProblem::Reserved);
        }
        let header = HeaderValue::from_str(text).map_err(|_| NameProblem::NotAHeaderValue)?;
        Ok(Name {
            text: text.to_string(),
            header,
        })
    }

    /// `prefix` then `claimed`, where the claim value must pass the rules on its own too: with
    /// a prefix " admins" would not be trimmed, but is still not what anyone meant.
    fn prefixed(prefix: &str, claimed: &str) -> Result<Name, NameProblem> {
        if claimed.is_empty() {
            return Err(NameProblem::Empty);
        }
        check_text(claimed)?;
        Name::new(&format!("{prefix}{claimed}"))
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn header(&self) -> &HeaderValue {
        &self.header
    }
}

/// Who a verified token says the caller is, in Kubernetes terms; every name in it is safe to
/// send (see [`Name`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    user: Name,
    groups: Vec<Name>,
}

impl Identity {
    pub fn new(user: Name, groups: Vec<Name>) -> Identity {
        Identity { user, groups }
    }

    pub fn user(&self) -> &Name {
        &self.user
    }

    pub fn groups(&self) -> &[Name] {
        &self.groups
    }
}

#[cfg(test)]
mod tests;
