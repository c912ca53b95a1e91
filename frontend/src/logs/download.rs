//! Download of the whole log (no `tailLines`: not only what the view holds): fetched through
//! the request core with the bearer header, streamed chunk by chunk into a Blob, and saved from
//! an object URL (a `blob:` URL carries no token).

use leptos::{prelude::*, task::spawn_local};
use wasm_bindgen::JsValue;
use web_sys::AbortController;

use super::streams::{LOG_ACCEPT, Streams};
use crate::{api, kube::stream, util};

#[component]
pub fn DownloadButton(streams: Streams, file_name: String) -> impl IntoView {
    let busy = RwSignal::new(false);
    let failed = RwSignal::new(None::<String>);
    let click = move |_| {
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        failed.set(None);
        let name = format!("{file_name}.log");
        spawn_local(async move {
            if let Err(error) = download(streams, &name).await {
                failed.set(Some(error.describe()));
            }
            busy.set(false);
        });
    };
    view! {
        <button type="button" class="secondary" data-testid="log-download" on:click=click disabled=move || busy.get()>
            {move || if busy.get() { "Downloading…" } else { "Download" }}
        </button>
        {move || failed.get().map(|e| view! { <span class="error" role="alert" data-testid="log-download-error">{e}</span> })}
    }
}

async fn download(streams: Streams, name: &str) -> Result<(), api::Error> {
    let keys = streams.keys();
    let namespace = streams.namespace();
    let controller = AbortController::new()
        .map_err(|_| api::Error::internal("The browser refused the download."))?;
    let parts = js_sys::Array::new();
    let several = keys.len() > 1;
    for key in keys {
        if several {
            // As `tail` heads several files.
            parts.push(&JsValue::from_str(&format!(
                "==> {}/{} <==\n",
                key.pod, key.container
            )));
        }
        let end = stream::chunks(
            &key.path(&namespace, false),
            LOG_ACCEPT,
            &controller.signal(),
            || (),
            |chunk| {
                parts.push(&chunk);
            },
        )
        .await;
        if let stream::StreamEnd::Failed(error) = end {
            return Err(error);
        }
    }
    util::save_file(name, "text/plain", &parts)
}
