use std::sync::Arc;

use axum::{Json, Router, extract::State, routing::get};
use shared::ConsoleConfig;

use crate::{AppState, error::AppError};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/config", get(console_config))
        .fallback(|| async { AppError::NotFound })
}

async fn console_config(State(config): State<Arc<ConsoleConfig>>) -> Json<ConsoleConfig> {
    Json((*config).clone())
}
