//! Logging in over plain HTTP, as a browser would but without one: for tests of the protocol
//! and for the benchmark, which need tokens of the real Dex.

use anyhow::Context;
use devstack::DemoUser;
use reqwest::{StatusCode, Url, header};

pub fn location(response: &reqwest::Response) -> anyhow::Result<String> {
    Ok(response
        .headers()
        .get(header::LOCATION)
        .ok_or_else(|| anyhow::anyhow!("no Location ({})", response.status()))?
        .to_str()?
        .to_string())
}

/// Enough HTML unescaping for the URLs in Dex's templates.
fn unescape_html(text: &str) -> String {
    text.replace("&#43;", "+")
        .replace("&#39;", "'")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

/// From Dex's authorization URL to the console's callback URL: the connector list, the password
/// form, the redirects. `http` must follow no redirects.
pub async fn at_dex(
    http: &reqwest::Client,
    console: &str,
    authorize: &Url,
    user: &DemoUser,
) -> anyhow::Result<Url> {
    let page = http.get(authorize.clone()).send().await?.text().await?;
    let href = page
        .split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .find(|href| href.contains("/auth/local"))
        .ok_or_else(|| anyhow::anyhow!("no password connector in:\n{page}"))?
        .to_string();
    let mut url = authorize.join(&unescape_html(&href))?;
    let form_url = loop {
        let response = http.get(url.clone()).send().await?;
        if response.status() == StatusCode::OK {
            let html = response.text().await?;
            let action = html
                .split("action=\"")
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .ok_or_else(|| anyhow::anyhow!("no login form in:\n{html}"))?
                .to_string();
            break url.join(&unescape_html(&action))?;
        }
        url = url.join(&location(&response)?)?;
    };
    let mut response = http
        .post(form_url)
        .form(&[
            ("login", user.email.as_str()),
            ("password", user.password.as_str()),
        ])
        .send()
        .await?;
    loop {
        let next = Url::parse(console)?.join(&location(&response)?)?;
        if next
            .as_str()
            .starts_with(&format!("{console}/auth/callback"))
        {
            return Ok(next);
        }
        response = http.get(next).send().await?;
    }
}

/// Every Set-Cookie header of `response`, whole (attributes included).
pub fn set_cookies(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(str::to_string)
        .collect()
}

/// The Set-Cookie header among `set_cookies` that sets the cookie `name`, whole.
pub fn set_cookie_named(set_cookies: &[String], name: &str) -> Option<String> {
    set_cookies
        .iter()
        .find(|c| c.starts_with(&format!("{name}=")))
        .cloned()
}

/// The value a Set-Cookie header sets.
pub fn cookie_value(set_cookie: &str) -> String {
    set_cookie
        .split(';')
        .next()
        .unwrap_or_default()
        .split_once('=')
        .map(|(_, v)| v.to_string())
        .unwrap_or_default()
}

/// The value of the cookie `name` that `response` sets.
fn cookie_named(response: &reqwest::Response, name: &str) -> Option<String> {
    set_cookie_named(&set_cookies(response), name).map(|c| cookie_value(&c))
}

/// The whole login through the BFF; returns the ID token the app would store.
pub async fn id_token(
    http: &reqwest::Client,
    console: &str,
    user: &DemoUser,
) -> anyhow::Result<String> {
    let start = http.get(format!("{console}/auth/login")).send().await?;
    let login_cookie = cookie_named(&start, "__Host-kc-login").context("no login cookie")?;
    let authorize = Url::parse(&location(&start)?)?;
    let callback = at_dex(http, console, &authorize, user).await?;
    let finished = http
        .get(callback)
        .header(header::COOKIE, format!("__Host-kc-login={login_cookie}"))
        .send()
        .await?;
    let handoff = cookie_named(&finished, "__Host-kc-handoff").context("no hand-off cookie")?;
    let refresh = cookie_named(&finished, "__Host-kc-refresh").context("no refresh cookie")?;
    let session: shared::TokenHandoff = http
        .post(format!("{console}/auth/session"))
        .header(
            header::COOKIE,
            format!("__Host-kc-handoff={handoff}; __Host-kc-refresh={refresh}"),
        )
        // What a browser sends with the app's fetch: the BFF refuses state-changing /auth
        // requests that do not show they come from the console.
        .header(header::ORIGIN, console)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok(session.id_token)
}

/// `GET /api/me` with `token`: who the BFF says the token belongs to.
pub async fn me(
    http: &reqwest::Client,
    console: &str,
    token: &str,
) -> anyhow::Result<shared::UserInfo> {
    Ok(me_response(http, console, token)
        .await?
        .error_for_status()?
        .json()
        .await?)
}

pub async fn me_response(
    http: &reqwest::Client,
    console: &str,
    token: &str,
) -> anyhow::Result<reqwest::Response> {
    Ok(http
        .get(format!("{console}/api/me"))
        .bearer_auth(token)
        .send()
        .await?)
}
