//! `GET /api/k8s/api/v1/namespaces/{namespace}/pods/{name}/exec|attach` as a WebSocket: the
//! app's terminal. A browser cannot set `Authorization` on a WebSocket, so it offers its token
//! as the subprotocol `base64url.bearer.authorization.k8s.io.<token>` (the way the kube-apiserver
//! takes one) beside the channel protocols `v5.channel.k8s.io` and `v4.channel.k8s.io`.
//!
//! In this order: the `Origin` must be the console's own (a WebSocket is not bound by the
//! same-origin policy, so any page could otherwise open one with a token it got hold of); the
//! request must be a WebSocket handshake; the names and the query are checked and the path
//! rebuilt from them; the token is verified. Upstream, the apiserver-proxy gets the token as
//! `Authorization` (as for every API call, through `crate::upstream`) and is offered only the
//! channel protocols; the browser is answered with the one the apiserver chose, never the
//! bearer one. After `101 Switching Protocols` the BFF splices bytes both ways and reads no
//! frame. Nothing here logs a header: the token is in one.
//!
//! Every other request that asks for an upgrade is refused by `refuse_other_upgrades`.

mod handshake;

use std::time::Duration;

use axum::{
    RequestExt, Router,
    body::Body,
    extract::{MatchedPath, Path, Request, State},
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
    routing::get,
};
use hyper_util::rt::TokioIo;

pub use handshake::{BEARER_PROTOCOL_PREFIX, CHANNEL_PROTOCOLS};

use crate::{
    AppState, auth::bearer::Authenticated, error::AppError, middleware::same_origin,
    routes::kube_proxy::downstream_headers, upstream::UpstreamError,
};

pub const EXEC_ROUTE: &str = "/api/k8s/api/v1/namespaces/{namespace}/pods/{name}/exec";
pub const ATTACH_ROUTE: &str = "/api/k8s/api/v1/namespaces/{namespace}/pods/{name}/attach";
/// How long the apiserver may take to answer the handshake (it reaches the kubelet first).
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);

/// A pod's two streams a terminal can open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Exec,
    Attach,
}

impl Stream {
    fn subresource(self) -> &'static str {
        match self {
            Stream::Exec => "exec",
            Stream::Attach => "attach",
        }
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            EXEC_ROUTE,
            get(|State(state): State<AppState>, request: Request| {
                open(state, Stream::Exec, request)
            }),
        )
        .route(
            ATTACH_ROUTE,
            get(|State(state): State<AppState>, request: Request| {
                open(state, Stream::Attach, request)
            }),
        )
}

async fn open(state: AppState, stream: Stream, mut request: Request) -> Response {
    if !same_origin::has_console_origin(request.headers(), &state) {
        return AppError::Forbidden("A terminal opens only from the console's own pages.")
            .into_response();
    }
    if let Err(refused) = handshake::check_websocket(request.headers()) {
        return refused.into_response();
    }
    let Ok(Path((namespace, name))) = request.extract_parts::<Path<(String, String)>>().await
    else {
        return AppError::NotFound.into_response();
    };
    let path = match handshake::upstream_path(stream, &namespace, &name, request.uri().query()) {
        Ok(path) => path,
        Err(refused) => return refused.into_response(),
    };
    let offered = match handshake::offered_protocols(request.headers()) {
        Ok(offered) => offered,
        Err(refused) => return refused.into_response(),
    };
    let user = match Authenticated::verify(&state, &offered.token).await {
        Ok(user) => user,
        Err(err) => return err.into_response(),
    };
    let lifecycle = request
        .extensions()
        .get::<server_common::serve::Lifecycle>()
        .cloned();
    let client_upgrade = hyper::upgrade::on(&mut request);
    let sent = state
        .upstream
        .open_websocket(
            &path,
            &user.token,
            request.headers(),
            &offered.channels.join(", "),
            HANDSHAKE_TIMEOUT,
        )
        .await;
    let mut response = match sent {
        Ok(response) => response,
        Err(UpstreamError::BadUri(_)) => return AppError::NotFound.into_response(),
        Err(err) => {
            server_common::metrics::global().upstream_error(err.metric_reason());
            return AppError::from(err).into_response();
        }
    };
    if response.status() != StatusCode::SWITCHING_PROTOCOLS {
        // The apiserver's refusal (its `Status`: 403 for a user who may not exec, 404, 400 for
        // a pod that is not running), with the API proxy's headers.
        downstream_headers(response.headers_mut());
        return response.map(Body::new);
    }
    let chosen = response
        .headers()
        .get(header::SEC_WEBSOCKET_PROTOCOL)
        .filter(|chosen| {
            offered
                .channels
                .iter()
                .any(|c| c.as_bytes() == chosen.as_bytes())
        })
        .cloned();
    let (Some(chosen), Some(accept)) = (
        chosen,
        response
            .headers()
            .get(header::SEC_WEBSOCKET_ACCEPT)
            .cloned(),
    ) else {
        return AppError::Upstream("an upgrade without a channel protocol or accept key".into())
            .into_response();
    };
    let upstream_upgrade = hyper::upgrade::on(&mut response);
    tokio::spawn(async move {
        match tokio::try_join!(client_upgrade, upstream_upgrade) {
            Ok((client, upstream)) => {
                server_common::serve::splice_upgraded(
                    TokioIo::new(client),
                    TokioIo::new(upstream),
                    lifecycle,
                )
                .await;
            }
            Err(err) => tracing::debug!(%err, "the WebSocket upgrade failed"),
        }
    });
    let mut answer = Response::new(Body::empty());
    *answer.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let headers = answer.headers_mut();
    headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    headers.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    headers.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
    headers.insert(header::SEC_WEBSOCKET_PROTOCOL, chosen);
    answer
}

/// Layered on the whole router (after routing, so that `MatchedPath` is there): a request that
/// asks for an upgrade anywhere but on the exec and attach routes is refused, so that no other
/// handler is ever reached by one (the API proxy would forward it without its upgrade, the app's
/// files would answer it as a GET).
pub async fn refuse_other_upgrades(request: Request, next: Next) -> Response {
    let asks_for_upgrade = request.headers().contains_key(header::UPGRADE);
    let on_socket_route = request
        .extensions()
        .get::<MatchedPath>()
        .is_some_and(|route| [EXEC_ROUTE, ATTACH_ROUTE].contains(&route.as_str()));
    if asks_for_upgrade && !on_socket_route {
        return AppError::Forbidden(
            "Only a pod's exec and attach open as WebSockets through the console.",
        )
        .into_response();
    }
    next.run(request).await
}
