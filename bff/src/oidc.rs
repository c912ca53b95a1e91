//! The BFF's view of its OIDC issuer; the verification itself is shared with the apiserver-proxy.

pub use server_common::oidc::{IdClaims, OidcVerifier, TokenError, http_client, keep_loaded};
