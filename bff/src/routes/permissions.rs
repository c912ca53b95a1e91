//! `/api/permissions` and `/api/namespaces`: what the signed-in user may do, asked of the
//! apiserver as that user (through the apiserver-proxy, with their verified token), so that the
//! app can hide or disable what would only fail.
//!
//! A view asks many questions at once; most are about a few namespaces. One
//! SelfSubjectRulesReview per namespace answers all of that namespace's checks, matched here the
//! way RBAC matches; a SelfSubjectAccessReview per check is left for what a rules review cannot
//! answer: cluster-wide checks, and namespaces whose rules the apiserver could not list in full.
//!
//! One concern per file: `rules` (RBAC's matching), `request` (what a query may ask), `reviews`
//! (the apiserver asked as the user), `handler` (the two endpoints).

mod handler;
mod request;
mod reviews;
mod rules;

use axum::{
    Router,
    routing::{get, post},
};

pub use request::{MAX_NAMESPACES, is_dns_label, validate};
pub use reviews::CLUSTER_WIDE;
pub use rules::ResourceRule;

use crate::{AppState, permissions_cache::PermissionsCache};

/// The permission endpoints' state: the review cache and the namespaces to try for users who
/// may not list namespaces.
#[derive(Default)]
pub struct PermissionSettings {
    pub cache: PermissionsCache,
    pub namespaces: Vec<String>,
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/permissions", post(handler::permissions))
        .route("/namespaces", get(handler::namespaces))
}
