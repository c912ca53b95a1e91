//! `POST /auth/logout`: the browser forgets every cookie of the login.

use axum::{
    http::{StatusCode, header},
    response::{AppendHeaders, IntoResponse, Response},
};

use super::cookies::{HANDOFF_COOKIE, LOGIN_COOKIE, REFRESH_COOKIE, cleared};
use crate::middleware::same_origin::SameOrigin;

pub(super) async fn logout(_: SameOrigin) -> Response {
    // Released Dex has no end-session endpoint: its own login state, if any, stays.
    (
        StatusCode::NO_CONTENT,
        AppendHeaders(
            [LOGIN_COOKIE, HANDOFF_COOKIE, REFRESH_COOKIE]
                .map(|name| (header::SET_COOKIE, cleared(name))),
        ),
    )
        .into_response()
}
