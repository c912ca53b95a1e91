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
        "provider_unavailable" => "The identity provider cannot be reached right now.",
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
        <button type="button" on:click=move |_| session::log_in(&return_to())>"Try again"</button>
    }
}
