//! The request body, read in full before anything goes upstream: Kubernetes API bodies are
//! small (manifests, patches), so buffering up to `BODY_LIMIT` costs little and means a body
//! over the limit, or one that never arrives, is answered here (413, 408) instead of being
//! half-streamed to the apiserver.

use std::time::Duration;

use axum::body::{Body, Bytes};
use http_body_util::BodyExt;
use shared::ErrorCode;

use crate::{error::AppError, middleware::body_limit};

/// The largest request body forwarded (manifests are far smaller; the apiserver's own limit is
/// the same 3 MiB).
pub const BODY_LIMIT: usize = 3 * 1024 * 1024;
/// How long a request body may take to arrive in full, by default.
pub const REQUEST_BODY_TIMEOUT: Duration = Duration::from_secs(30);

/// The whole body, limited to `BODY_LIMIT` by the route's `body_limit` layer, within `timeout`.
pub(super) async fn read_body(body: Body, timeout: Duration) -> Result<Bytes, AppError> {
    match tokio::time::timeout(timeout, body.collect()).await {
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(err)) if body_limit::is_over_limit(&err) => Err(body_limit::too_large(BODY_LIMIT)),
        Ok(Err(err)) => {
            tracing::debug!(%err, "the request body could not be read");
            Err(AppError::refused(
                ErrorCode::BadRequest,
                "The request body could not be read.",
            ))
        }
        Err(_) => Err(AppError::refused(
            ErrorCode::RequestTimeout,
            format!(
                "The request body did not arrive within {} seconds.",
                timeout.as_secs()
            ),
        )),
    }
}
