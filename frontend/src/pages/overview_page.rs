use leptos::prelude::*;

use crate::{api, app::Page};

#[component]
pub fn OverviewPage() -> impl IntoView {
    let config = LocalResource::new(api::console_config);
    view! {
        <h1>"Cluster overview"</h1>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match config.await {
                    Ok(config) => view! {
                        <p data-testid="cluster-name">"Cluster " <strong>{config.cluster_name}</strong></p>
                        <p>"API endpoint for kubectl: " <code>{config.apiserver_proxy_url}</code></p>
                        <p><a href=Page::Namespace("team-a".into()).path()>"Namespace team-a"</a></p>
                    }.into_any(),
                    Err(error) => view! {
                        <p class="error" role="alert">{error.message}</p>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}
