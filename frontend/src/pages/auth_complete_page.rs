use leptos::{prelude::*, task::spawn_local};

use crate::{api, session};

/// Where the BFF sends the browser after a successful callback: takes over the token and goes on
/// to the route the user asked for, replacing this page in the history.
#[component]
pub fn AuthCompletePage() -> impl IntoView {
    let failure = RwSignal::new(None::<String>);
    spawn_local(async move {
        match api::take_login_handoff().await {
            Ok(handoff) => {
                session::store_token(&handoff.id_token);
                let _ = window().location().replace(&handoff.return_to);
            }
            Err(error) => failure.set(Some(error.describe())),
        }
    });
    view! {
        {move || match failure.get() {
            None => view! { <p class="loading">"Finishing the login…"</p> }.into_any(),
            Some(message) => view! {
                <h1>"The login did not finish"</h1>
                <p class="error" role="alert">{message}</p>
                <button type="button" on:click=|_| session::log_in("/")>"Log in again"</button>
            }.into_any(),
        }}
    }
}
