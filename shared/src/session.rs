use serde::{Deserialize, Serialize};

/// `POST /auth/session`: the ID token of a login that just finished, handed over once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenHandoff {
    pub id_token: String,
    /// The route inside the console the user asked for before logging in.
    pub return_to: String,
}

/// `POST /auth/refresh`: a fresh ID token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionToken {
    pub id_token: String,
}

/// `GET /api/me`: who the verified token says the user is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserInfo {
    pub subject: String,
    pub email: Option<String>,
    pub name: Option<String>,
    pub groups: Vec<String>,
    /// Unix seconds at which the token expires.
    pub expires_at: u64,
}

impl UserInfo {
    /// What the console shows for the user: the name, else the email, else the subject.
    pub fn display_name(&self) -> &str {
        self.name
            .as_deref()
            .filter(|n| !n.is_empty())
            .or(self.email.as_deref())
            .unwrap_or(&self.subject)
    }
}
