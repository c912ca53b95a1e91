//! Login through Dex with authorization code + PKCE, and the session around it. The BFF keeps no
//! server-side session: what it must remember between requests travels in encrypted, HttpOnly
//! `__Host-` cookies, so any replica (or a restarted one with the same key) can continue.

pub mod bearer;
pub mod return_to;
pub mod routes;
pub mod sealed_cookie;
