use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use shared::LoginFailure;

use crate::session;

#[component]
pub fn AuthErrorPage() -> impl IntoView {
    let query = use_query_map();
    let reason = move || query.read().get("reason").unwrap_or_default();
    let return_to = move || query.read().get("return_to").unwrap_or_else(|| "/".into());
    view! {
        <h1>"Login failed"</h1>
        <p class="error" role="alert" data-testid="login-error">{move || LoginFailure::message_for(&reason())}</p>
        <button type="button" data-testid="login-try-again" on:click=move |_| session::log_in(&return_to())>
            "Try again"
        </button>
    }
}
