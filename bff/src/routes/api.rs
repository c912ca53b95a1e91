use std::sync::Arc;

use axum::{Json, Router, extract::State, routing::get};
use shared::{ConsoleConfig, UserInfo};

use crate::{AppState, auth::bearer::Authenticated, error::AppError};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/config", get(console_config))
        .route("/me", get(me))
        .fallback(|| async { AppError::NotFound })
}

async fn console_config(State(config): State<Arc<ConsoleConfig>>) -> Json<ConsoleConfig> {
    Json((*config).clone())
}

async fn me(user: Authenticated) -> Json<UserInfo> {
    let claims = user.claims;
    Json(UserInfo {
        subject: claims.sub,
        email: claims.email,
        name: claims.name,
        groups: claims.groups,
        expires_at: claims.exp,
    })
}
