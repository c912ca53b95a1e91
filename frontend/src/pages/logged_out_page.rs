use leptos::prelude::*;

use crate::session;

#[component]
pub fn LoggedOutPage() -> impl IntoView {
    view! {
        <h1 data-testid="logged-out">"You have logged out"</h1>
        <p>
            "The console no longer holds your token in any tab. Dex, the identity provider, has no "
            "logout of its own, so the next login may not ask for your password again."
        </p>
        <button type="button" on:click=|_| session::log_in("/")>"Log in again"</button>
    }
}
