//! The user's session in this tab: the ID token in sessionStorage, who it belongs to, its
//! renewal before it expires, and logout across every tab of the console.
//!
//! Only a refusal ends a session: a 401 first tries a renewal, and only a renewal refused (the
//! BFF's 401) sends the user to log in, at most once a minute. A 503 or an unreachable server is
//! an outage: the page says so and tries again by itself.

use std::{cell::Cell, time::Duration};

use gloo_storage::{LocalStorage, SessionStorage, Storage};
use leptos::{prelude::*, task::spawn_local};
use shared::{ApiError, ErrorCode, UserInfo};

use crate::{api, kube::resource_type::encode, page::Page};

const TOKEN_KEY: &str = "kc.id_token";
/// Written to localStorage on logout; the `storage` event tells every other tab.
const LOGOUT_KEY: &str = "kc.logout";
/// When this tab last went to log in (ms since the epoch): a refusal soon after means the new
/// session is refused too, and going again would loop through Dex forever.
const LOGIN_AT_KEY: &str = "kc.login_started_at";
/// No second automatic login within this window.
const RELOGIN_WINDOW_MS: f64 = 60_000.0;
/// The BFF accepts return paths up to this length (bff/src/auth/return_to.rs).
const MAX_RETURN_TO: usize = 2048;
/// Retries of an unavailable BFF or identity provider back off up to this.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, PartialEq)]
pub enum SessionState {
    Checking,
    Active(UserInfo),
    /// The console's server or its identity provider is down for a moment; retried by itself.
    Unavailable(api::Error),
    /// The console cannot confirm the session and does not try again by itself.
    Failed(api::Error),
}

#[derive(Clone, Copy)]
pub struct Session {
    pub state: RwSignal<SessionState>,
}

thread_local! {
    /// The tab's session, for the API clients that see a 401 far from any component.
    static CURRENT: Cell<Option<Session>> = const { Cell::new(None) };
    /// One renewal at a time per tab, however many requests saw a 401.
    static RENEWING: Cell<bool> = const { Cell::new(false) };
    /// This tab's session ended by a logout (its own or another tab's): a request that sees a
    /// 401 on the way out renews nothing (the refresh cookie is gone: the BFF would answer 401,
    /// and the tab would go to log in again instead of staying logged out).
    static LOGGED_OUT: Cell<bool> = const { Cell::new(false) };
}

pub fn provide_session_context() -> Session {
    let session = Session {
        state: RwSignal::new(SessionState::Checking),
    };
    provide_context(session);
    CURRENT.with(|current| current.set(Some(session)));
    // Another tab logged out: so does this one.
    let handle = window_event_listener(leptos::ev::storage, |event| {
        if event.key().as_deref() == Some(LOGOUT_KEY) {
            LOGGED_OUT.with(|out| out.set(true));
            SessionStorage::delete(TOKEN_KEY);
            go_to(&Page::LoggedOut.path());
        }
    });
    on_cleanup(move || handle.remove());
    session
}

impl Session {
    /// True while the session is confirmed; changes only on login and logout, not on renewal.
    pub fn is_active(self) -> Memo<bool> {
        Memo::new(move |_| matches!(self.state.get(), SessionState::Active(_)))
    }
}

pub fn expect_session() -> Session {
    expect_context::<Session>()
}

pub fn stored_token() -> Option<String> {
    SessionStorage::get::<String>(TOKEN_KEY)
        .ok()
        .filter(|t| !t.is_empty())
}

pub fn store_token(token: &str) {
    let _ = SessionStorage::set(TOKEN_KEY, token);
}

fn go_to(url: &str) {
    let _ = window().location().set_href(url);
}

pub fn current_route() -> String {
    let location = window().location();
    format!(
        "{}{}",
        location.pathname().unwrap_or_default(),
        location.search().unwrap_or_default()
    )
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

async fn sleep(delay: Duration) {
    crate::util::delay(i32::try_from(delay.as_millis()).unwrap_or(i32::MAX)).await;
}

/// Off to the BFF's login, remembering where the user was (the route only, if the whole of it
/// is longer than the BFF accepts).
pub fn log_in(return_to: &str) {
    let route = if return_to.len() > MAX_RETURN_TO {
        window().location().pathname().unwrap_or_default()
    } else {
        return_to.to_string()
    };
    let route = if route.len() > MAX_RETURN_TO {
        "/".to_string()
    } else {
        route
    };
    let _ = SessionStorage::set(LOGIN_AT_KEY, now_ms());
    go_to(&format!("/auth/login?return_to={}", encode(&route)));
}

/// The session was refused for good (the BFF said 401 to a renewal): log in again, unless this
/// tab went to log in less than a minute ago; then the new session is being refused as well,
/// and another trip to Dex would only loop.
fn log_in_again(session: Option<Session>) {
    let last = SessionStorage::get::<f64>(LOGIN_AT_KEY).unwrap_or(0.0);
    let elapsed = now_ms() - last;
    SessionStorage::delete(TOKEN_KEY);
    if (0.0..RELOGIN_WINDOW_MS).contains(&elapsed) {
        if let Some(session) = session {
            let refused = ApiError::new(
                ErrorCode::Unauthenticated,
                "The console refused your session again right after you logged in, so it \
                 stopped instead of sending you to log in once more. The cluster's \
                 configuration may not accept this identity provider's tokens; if that \
                 persists, contact the console's administrators.",
            );
            session
                .state
                .set(SessionState::Failed(api::Error::Console(refused)));
        }
        return;
    }
    log_in(&current_route());
}

/// A request was refused with 401 (the token expired, or the issuer's keys changed): renew, and
/// log in again only if the renewal is refused too.
pub fn expect_session_ended() {
    match CURRENT.with(Cell::get) {
        Some(session) => spawn_local(session.renew()),
        None => log_in_again(None),
    }
}

/// The failures that pass: the BFF or Dex down or restarting.
fn is_outage(error: &api::Error) -> bool {
    matches!(
        error.code(),
        ErrorCode::NotReady | ErrorCode::UpstreamUnavailable | ErrorCode::Internal
    )
}

impl Session {
    /// Checks the stored token with the BFF; without one (or with a refused one) the user logs in.
    pub fn start(self) {
        if stored_token().is_none() {
            log_in(&current_route());
            return;
        }
        spawn_local(self.confirm(false));
    }

    /// Asks the BFF whose the stored token is, retrying while the BFF is unavailable.
    async fn confirm(self, renewed: bool) {
        let mut delay = Duration::from_secs(1);
        loop {
            match api::me().await {
                Ok(user) => {
                    self.schedule_renewal(user.expires_at);
                    self.state.set(SessionState::Active(user));
                    return;
                }
                Err(error) if error.is_session_ended() => {
                    if renewed {
                        // A token fresh from a renewal refused: renewing again would loop.
                        log_in_again(Some(self));
                    } else {
                        // Boxed: a renewal confirms its new token, which may renew again.
                        Box::pin(self.renew()).await;
                    }
                    return;
                }
                Err(error) if is_outage(&error) => {
                    self.state.set(SessionState::Unavailable(error));
                    sleep(delay).await;
                    delay = (delay * 2).min(MAX_RETRY_DELAY);
                }
                Err(error) => {
                    self.state.set(SessionState::Failed(error));
                    return;
                }
            }
        }
    }

    /// Renews a minute before expiry (half-way for short-lived tokens), without a reload.
    fn schedule_renewal(self, expires_at: u64) {
        let now = (now_ms() / 1000.0) as u64;
        let remaining = expires_at.saturating_sub(now);
        let delay = if remaining > 120 {
            remaining - 60
        } else {
            remaining / 2
        };
        set_timeout(
            move || spawn_local(self.renew()),
            Duration::from_secs(delay.max(1)),
        );
    }

    /// A fresh token through the refresh cookie. While Dex or the BFF is down the current token
    /// keeps working until it expires, so this waits and asks again with backoff; only the BFF's
    /// 401 ends the session.
    async fn renew(self) {
        if LOGGED_OUT.with(Cell::get) || RENEWING.with(|renewing| renewing.replace(true)) {
            return;
        }
        let mut delay = Duration::from_secs(2);
        let outcome = loop {
            match api::refresh().await {
                Ok(fresh) => break Ok(fresh.id_token),
                Err(error) if error.is_session_ended() => break Err(()),
                Err(error) => {
                    // Only once the token has expired does the outage show: until then every
                    // page works as before.
                    let expired = match self.state.get_untracked() {
                        SessionState::Active(user) => user.expires_at <= (now_ms() / 1000.0) as u64,
                        _ => true,
                    };
                    if expired {
                        self.state.set(SessionState::Unavailable(error));
                    }
                    sleep(delay).await;
                    delay = (delay * 2).min(MAX_RETRY_DELAY);
                }
            }
        };
        RENEWING.with(|renewing| renewing.set(false));
        match outcome {
            Ok(token) => {
                store_token(&token);
                // The session works: a refusal from now on is not part of a login loop.
                SessionStorage::delete(LOGIN_AT_KEY);
                self.confirm(true).await;
            }
            Err(()) => log_in_again(Some(self)),
        }
    }

    pub fn log_out(self) {
        LOGGED_OUT.with(|out| out.set(true));
        spawn_local(async move {
            let _ = api::logout().await;
            SessionStorage::delete(TOKEN_KEY);
            SessionStorage::delete(LOGIN_AT_KEY);
            let _ = LocalStorage::set(LOGOUT_KEY, now_ms());
            go_to(&Page::LoggedOut.path());
        });
    }
}
