//! The user's session in this tab: the ID token in sessionStorage, who it belongs to, its
//! renewal before it expires, and logout across every tab of the console.

use std::time::Duration;

use gloo_storage::{LocalStorage, SessionStorage, Storage};
use leptos::{prelude::*, task::spawn_local};
use shared::{ApiError, ErrorCode, UserInfo};

use crate::api;

const TOKEN_KEY: &str = "kc.id_token";
/// Written to localStorage on logout; the `storage` event tells every other tab.
const LOGOUT_KEY: &str = "kc.logout";

#[derive(Debug, Clone, PartialEq)]
pub enum SessionState {
    Checking,
    Active(UserInfo),
    /// The token is fine as far as anyone knows, but the console could not confirm it.
    Failed(ApiError),
}

#[derive(Clone, Copy)]
pub struct Session {
    pub state: RwSignal<SessionState>,
}

pub fn provide_session_context() -> Session {
    let session = Session {
        state: RwSignal::new(SessionState::Checking),
    };
    provide_context(session);
    // Another tab logged out: so does this one.
    let handle = window_event_listener(leptos::ev::storage, |event| {
        if event.key().as_deref() == Some(LOGOUT_KEY) {
            SessionStorage::delete(TOKEN_KEY);
            go_to("/logged-out");
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

fn current_route() -> String {
    let location = window().location();
    format!(
        "{}{}",
        location.pathname().unwrap_or_default(),
        location.search().unwrap_or_default()
    )
}

/// Off to the BFF's login, remembering where the user was.
pub fn log_in(return_to: &str) {
    let encoded: String = js_sys::encode_uri_component(return_to).into();
    go_to(&format!("/auth/login?return_to={encoded}"));
}

/// The cluster refused the token (it expired, or the issuer's keys changed): log in again and
/// come back to the same route.
pub fn expect_session_ended() {
    SessionStorage::delete(TOKEN_KEY);
    log_in(&current_route());
}

/// Paths that work without a session: the end of a login, its failures, and the logged-out page.
pub fn is_public_route(path: &str) -> bool {
    path.starts_with("/auth/") || path == "/logged-out"
}

impl Session {
    /// Checks the stored token with the BFF; without one (or with a refused one) the user logs in.
    pub fn start(self) {
        let Some(token) = stored_token() else {
            log_in(&current_route());
            return;
        };
        spawn_local(async move { self.confirm(&token).await });
    }

    async fn confirm(self, token: &str) {
        match api::me(token).await {
            Ok(user) => {
                self.schedule_renewal(user.expires_at);
                self.state.set(SessionState::Active(user));
            }
            Err(error) if error.code == ErrorCode::Unauthenticated => {
                SessionStorage::delete(TOKEN_KEY);
                log_in(&current_route());
            }
            Err(error) => self.state.set(SessionState::Failed(error)),
        }
    }

    /// Renews a minute before expiry (half-way for short-lived tokens), without a reload.
    fn schedule_renewal(self, expires_at: u64) {
        let now = (js_sys::Date::now() / 1000.0) as u64;
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

    async fn renew(self) {
        match api::refresh().await {
            Ok(fresh) => {
                store_token(&fresh.id_token);
                self.confirm(&fresh.id_token).await;
            }
            Err(error) if error.code == ErrorCode::Unauthenticated => {
                SessionStorage::delete(TOKEN_KEY);
                log_in(&current_route());
            }
            // The BFF or Dex is down for a moment: the token still works until it expires.
            Err(_) => set_timeout(move || spawn_local(self.renew()), Duration::from_secs(10)),
        }
    }

    pub fn log_out(self) {
        spawn_local(async move {
            let _ = api::logout().await;
            SessionStorage::delete(TOKEN_KEY);
            let _ = LocalStorage::set(LOGOUT_KEY, js_sys::Date::now());
            go_to("/logged-out");
        });
    }
}
