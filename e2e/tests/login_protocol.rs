//! The login round trip at the HTTP level against the real Dex: what `/auth/login` sends, and a
//! replayed callback (same state cookie, same code) refused.

use devstack::Role;
use e2e::{
    TestStack,
    http_login::{cookie_value, location, set_cookie_named, set_cookies},
};
use reqwest::{Url, header};

fn set_cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    set_cookie_named(&set_cookies(response), name)
}

fn query(url: &Url, key: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

#[tokio::test]
async fn each_login_has_its_own_pkce_state_and_nonce_and_a_replayed_callback_fails()
-> anyhow::Result<()> {
    let stack = TestStack::get().await?;
    let description = stack.description();
    let console = &description.console_url;
    let http = stack.http()?;
    let user = description.require_user(Role::Viewer)?;

    let mut attempts = Vec::new();
    for _ in 0..2 {
        let response = http
            .get(format!("{console}/auth/login?return_to=/namespaces/team-a"))
            .send()
            .await?;
        assert!(response.status().is_redirection());
        assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
        let cookie = set_cookie(&response, "__Host-kc-login")
            .ok_or_else(|| anyhow::anyhow!("no login cookie"))?;
        for flag in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
            assert!(cookie.contains(flag), "{flag} missing: {cookie}");
        }
        let authorize = Url::parse(&location(&response)?)?;
        assert!(authorize.as_str().starts_with(&description.dex_issuer));
        assert_eq!(
            query(&authorize, "code_challenge_method").as_deref(),
            Some("S256")
        );
        assert_eq!(query(&authorize, "response_type").as_deref(), Some("code"));
        assert!(
            query(&authorize, "scope")
                .is_some_and(|s| s.contains("openid") && s.contains("offline_access"))
        );
        let challenge = query(&authorize, "code_challenge").unwrap_or_default();
        assert_eq!(challenge.len(), 43, "a base64url SHA-256");
        let state = query(&authorize, "state").unwrap_or_default();
        let nonce = query(&authorize, "nonce").unwrap_or_default();
        assert!(!state.is_empty() && !nonce.is_empty());
        // Nothing of the login is readable in the cookie.
        let sealed = cookie_value(&cookie);
        assert!(!sealed.contains(&state) && !sealed.contains(&nonce));
        attempts.push((authorize, sealed, challenge, state, nonce));
    }
    assert_ne!(
        attempts[0].2, attempts[1].2,
        "a fresh PKCE verifier per attempt"
    );
    assert_ne!(attempts[0].3, attempts[1].3, "a fresh state per attempt");
    assert_ne!(attempts[0].4, attempts[1].4, "a fresh nonce per attempt");

    // Log in at Dex as a browser would: the connector list, the password form, the redirects.
    let (authorize, login_cookie, ..) = attempts.remove(0);
    let callback = e2e::http_login::at_dex(&http, console, &authorize, &user).await?;
    assert!(query(&callback, "code").is_some());

    let finished = http
        .get(callback.clone())
        .header(header::COOKIE, format!("__Host-kc-login={login_cookie}"))
        .send()
        .await?;
    assert_eq!(location(&finished)?, "/auth/complete");
    let handoff_cookie =
        set_cookie(&finished, "__Host-kc-handoff").ok_or_else(|| anyhow::anyhow!("no hand-off"))?;
    assert!(handoff_cookie.contains("SameSite=Strict") && handoff_cookie.contains("HttpOnly"));
    let refresh_cookie =
        set_cookie(&finished, "__Host-kc-refresh").ok_or_else(|| anyhow::anyhow!("no refresh"))?;
    assert!(refresh_cookie.contains("HttpOnly"));
    let handoff: shared::TokenHandoff = http
        .post(format!("{console}/auth/session"))
        .header(
            header::COOKIE,
            format!(
                "__Host-kc-handoff={}; __Host-kc-refresh={}",
                cookie_value(&handoff_cookie),
                cookie_value(&refresh_cookie)
            ),
        )
        .header(header::ORIGIN, console.as_str())
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    assert_eq!(handoff.return_to, "/namespaces/team-a");
    let me = e2e::http_login::me(&http, console, &handoff.id_token).await?;
    assert_eq!(me.email.as_deref(), Some(user.email.as_str()));
    assert!(me.groups.iter().any(|g| g == "console-viewers"));

    // Replayed: the same code with the same (stolen) login cookie. Dex refuses the used code.
    let replay = http
        .get(callback.clone())
        .header(header::COOKIE, format!("__Host-kc-login={login_cookie}"))
        .send()
        .await?;
    assert!(
        location(&replay)?.starts_with("/auth/error?reason=exchange_failed"),
        "{}",
        location(&replay)?
    );
    // Replayed by a browser that followed the first callback: its login cookie is gone.
    let replay = http.get(callback).send().await?;
    assert!(location(&replay)?.starts_with("/auth/error?reason=no_login_in_progress"));
    Ok(())
}
