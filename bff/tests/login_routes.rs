//! The login routes, driven with `oneshot` while Dex is unreachable: a callback without its
//! login, the token handoff, logout, a login that cannot reach Dex.

use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};

mod support;

use support::{dist, get, location, send, state};

#[tokio::test]
async fn a_callback_without_a_login_in_progress_ends_on_the_error_page() {
    let dir = dist();
    let app = bff::app(state(&dir));
    let response = get(app, "/auth/callback?code=abc&state=xyz").await;
    assert!(response.status().is_redirection());
    assert!(location(&response).starts_with("/auth/error?reason=no_login_in_progress"));
    assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
}

#[tokio::test]
async fn a_callback_with_a_wrong_or_missing_state_is_refused_and_only_its_own_answer_ends_the_login()
 {
    let dir = dist();
    let state = state(&dir);
    let pending = serde_json::json!({
        "state": "the-right-state", "nonce": "n", "verifier": "v", "return_to": "/namespaces/team-a"
    });
    let sealed = state
        .cookie_key
        .seal("__Host-kc-login", &pending, 600)
        .expect("seal");
    let app = bff::app(state);
    // An answer without this login's state is not its answer: it leaves the login going.
    for (query, reason, ends_the_login) in [
        ("code=abc&state=the-wrong-state", "state_mismatch", false),
        ("code=abc", "state_mismatch", false),
        ("state=the-right-state", "bad_callback", true),
        (
            "error=access_denied&state=the-right-state",
            "provider_error",
            true,
        ),
    ] {
        let response = send(
            app.clone(),
            Request::get(format!("/auth/callback?{query}"))
                .header(header::COOKIE, format!("__Host-kc-login={sealed}"))
                .body(Body::empty())
                .expect("request"),
        )
        .await;
        let target = location(&response);
        assert!(
            target.starts_with(&format!("/auth/error?reason={reason}")),
            "{query}: {target}"
        );
        // The route the user asked for survives the failure, for "try again".
        assert!(target.contains("return_to=/namespaces/team-a"), "{target}");
        let cleared = response
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .any(|c| {
                c.to_str()
                    .is_ok_and(|c| c.starts_with("__Host-kc-login=;") && c.contains("Max-Age=0"))
            });
        assert_eq!(cleared, ends_the_login, "{query}: the login cookie");
    }
    // A login cookie sealed with another key, or tampered with, is no login at all.
    let response = send(
        app,
        Request::get("/auth/callback?code=abc&state=the-right-state")
            .header(
                header::COOKIE,
                format!("__Host-kc-login={}x", &sealed[..sealed.len() - 1]),
            )
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert!(location(&response).starts_with("/auth/error?reason=no_login_in_progress"));
}

#[tokio::test]
async fn the_token_handoff_is_for_this_origin_only_and_needs_its_cookie() {
    let dir = dist();
    let state = state(&dir);
    let handoff = serde_json::json!({"return_to": "/x"});
    let sealed = state
        .cookie_key
        .seal("__Host-kc-handoff", &handoff, 60)
        .expect("seal");
    let app = bff::app(state);

    let without_cookie = send(
        app.clone(),
        Request::post("/auth/session")
            .header("sec-fetch-site", "same-origin")
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(without_cookie.status(), StatusCode::UNAUTHORIZED);

    let cross_site = send(
        app.clone(),
        Request::post("/auth/session")
            .header("sec-fetch-site", "cross-site")
            .header(header::COOKIE, format!("__Host-kc-handoff={sealed}"))
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(cross_site.status(), StatusCode::FORBIDDEN);

    // The hand-off holds no token: without the refresh cookie it gives nothing, and is spent.
    let no_session = send(
        app,
        Request::post("/auth/session")
            .header("sec-fetch-site", "same-origin")
            .header(header::COOKIE, format!("__Host-kc-handoff={sealed}"))
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(no_session.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(no_session.headers()[header::CACHE_CONTROL], "no-store");
    assert!(
        no_session
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .any(|c| {
                c.to_str()
                    .is_ok_and(|c| c.starts_with("__Host-kc-handoff=;"))
            })
    );
}

#[tokio::test]
async fn logout_clears_every_session_cookie() {
    let dir = dist();
    let app = bff::app(state(&dir));
    let response = send(
        app,
        Request::post("/auth/logout")
            .header("sec-fetch-site", "same-origin")
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let cleared: Vec<_> = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|c| c.to_str().ok())
        .filter(|c| c.contains("Max-Age=0") && c.contains("Secure") && c.contains("HttpOnly"))
        .map(|c| c.split('=').next().unwrap_or_default().to_string())
        .collect();
    assert_eq!(
        cleared,
        ["__Host-kc-login", "__Host-kc-handoff", "__Host-kc-refresh"]
    );
}

#[tokio::test]
async fn a_login_while_dex_is_unreachable_ends_on_the_error_page() {
    let dir = dist();
    let app = bff::app(state(&dir));
    let response = get(app, "/auth/login?return_to=/namespaces/team-a").await;
    assert!(response.status().is_redirection());
    assert_eq!(
        location(&response),
        "/auth/error?reason=idp_unreachable&return_to=/namespaces/team-a"
    );
}
