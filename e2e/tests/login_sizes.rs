//! Logins whose tokens and return paths are large: a user in 100 groups (the real Dex issues an
//! ID token of several kilobytes) and the longest return path the BFF accepts. Every cookie the
//! BFF sets stays under the browser's 4096-byte limit, and the login finishes.

use devstack::Role;
use e2e::{
    TestStack,
    browser::Browser,
    http_login::{cookie_value, location, set_cookie_named, set_cookies},
};
use reqwest::{Url, header};

const COOKIE_LIMIT: usize = 4096;

fn value_of(cookies: &[String], name: &str) -> Option<String> {
    set_cookie_named(cookies, name).map(|c| cookie_value(&c))
}

#[tokio::test]
async fn a_user_in_100_groups_logs_in_with_the_longest_return_path() -> anyhow::Result<()> {
    let stack = TestStack::get().await?;
    let description = stack.description();
    let console = &description.console_url;
    let http = stack.http()?;
    let user = description.require_user(Role::ManyGroups)?;
    // The longest return path the BFF accepts (bff/src/auth/return_to.rs).
    let prefix = "/ns/team-a/core/v1/configmaps?filter=";
    let return_to = format!("{prefix}{}", "x".repeat(2048 - prefix.len()));

    let start = http
        .get(format!("{console}/auth/login?return_to={return_to}"))
        .send()
        .await?;
    let mut cookies = set_cookies(&start);
    let login = value_of(&cookies, "__Host-kc-login").ok_or_else(|| {
        anyhow::anyhow!("no login cookie: {}", location(&start).unwrap_or_default())
    })?;
    let authorize = Url::parse(&location(&start)?)?;
    let callback = e2e::http_login::at_dex(&http, console, &authorize, &user).await?;
    let finished = http
        .get(callback)
        .header(header::COOKIE, format!("__Host-kc-login={login}"))
        .send()
        .await?;
    assert_eq!(location(&finished)?, "/auth/complete");
    cookies.extend(set_cookies(&finished));
    for cookie in &cookies {
        assert!(
            cookie.len() <= COOKIE_LIMIT,
            "a Set-Cookie of {} bytes: {}",
            cookie.len(),
            &cookie[..cookie.len().min(40)]
        );
    }
    let handoff =
        value_of(&cookies, "__Host-kc-handoff").ok_or_else(|| anyhow::anyhow!("no hand-off"))?;
    let refresh =
        value_of(&cookies, "__Host-kc-refresh").ok_or_else(|| anyhow::anyhow!("no refresh"))?;
    let session = http
        .post(format!("{console}/auth/session"))
        .header(
            header::COOKIE,
            format!("__Host-kc-handoff={handoff}; __Host-kc-refresh={refresh}"),
        )
        .header(header::ORIGIN, console.as_str())
        .send()
        .await?;
    for cookie in set_cookies(&session) {
        assert!(cookie.len() <= COOKIE_LIMIT, "{} bytes", cookie.len());
    }
    let session: shared::TokenHandoff = session.error_for_status()?.json().await?;
    assert_eq!(session.return_to, return_to);
    assert!(
        session.id_token.len() > COOKIE_LIMIT,
        "the token ({} bytes) is larger than a cookie may be",
        session.id_token.len()
    );
    let me = e2e::http_login::me(&http, console, &session.id_token).await?;
    assert_eq!(me.groups.len(), devstack::stack::MANY_GROUPS);
    e2e::assert_not_logged(&description.log_dir, &session.id_token);
    Ok(())
}

#[tokio::test]
async fn a_user_in_100_groups_logs_in_in_chromium() -> anyhow::Result<()> {
    let stack = TestStack::get().await?;
    let description = stack.description();
    let browser = Browser::logged_in(
        description,
        Role::ManyGroups,
        "/ns/team-a/core/v1/configmaps",
    )
    .await?;
    let groups = browser
        .wait_for("[data-testid=current-user]")
        .await?
        .attr("title")
        .await?
        .unwrap_or_default();
    assert!(groups.contains("team-099-members"), "{groups}");
    browser.list_is_live().await?;
    browser.close().await
}
