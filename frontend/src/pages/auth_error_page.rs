use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::session;

fn explain(reason: &str) -> &'static str {
    match reason {
        "provider_error" => "The identity provider refused the login.",
        "state_mismatch" | "bad_callback" => {
            "The answer from the identity provider did not belong to this login. It may have been replayed or tampered with."
        }
        "no_login_in_progress" => "No login was in progress in this browser, or it took too long.",
        "exchange_failed" => {
            "The identity provider would not exchange the login for a token (a code can be used only once)."
        }
        "token_rejected" => {
            "The token the identity provider issued did not pass the console's checks."
        }
        "idp_unreachable" | "provider_unavailable" => {
            "The identity provider is unreachable, so the console cannot log you in right now. Try again in a moment."
        }
        "return_to_too_long" => {
            "The address you came from is too long to come back to after the login. Try again to log in and start from the overview."
        }
        "no_refresh_token" => {
            "The identity provider did not grant the console a refresh token (scope offline_access), which it needs to keep you logged in."
        }
        "token_too_large" => "The identity provider issued a token too large to keep in a cookie.",
        _ => "The login failed.",
    }
}

#[component]
pub fn AuthErrorPage() -> impl IntoView {
    let query = use_query_map();
    let reason = move || query.read().get("reason").unwrap_or_default();
    let return_to = move || query.read().get("return_to").unwrap_or_else(|| "/".into());
    view! {
        <h1>"Login failed"</h1>
        <p class="error" role="alert" data-testid="login-error">{move || explain(&reason())}</p>
        <button type="button" data-testid="login-try-again" on:click=move |_| session::log_in(&return_to())>
            "Try again"
        </button>
    }
}
