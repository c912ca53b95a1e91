//! "Download kubeconfig": the file is built here in the browser from the current token and the
//! BFF's public configuration (never from anything in the page URL).

use leptos::prelude::*;
use shared::{ConsoleConfig, kubeconfig::Kubeconfig};

use crate::{api, session, util};

pub fn file_name(config: &ConsoleConfig) -> String {
    let safe: String = config
        .cluster_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("kubeconfig-{safe}.yaml")
}

pub fn build(config: &ConsoleConfig, token: &str) -> Result<String, api::Error> {
    let ca = window()
        .btoa(&config.apiserver_proxy_ca_pem)
        .map_err(|_| api::Error::internal("The CA in the console's configuration is not text."))?;
    let kubeconfig = Kubeconfig::for_token(
        &config.cluster_name,
        &config.apiserver_proxy_url,
        &ca,
        token,
    );
    serde_json::to_value(&kubeconfig)
        .map(|value| crate::yaml::to_string(&value))
        .map_err(|_| api::Error::internal("The kubeconfig could not be written."))
}

async fn download() -> Result<(), api::Error> {
    let token = session::stored_token().ok_or_else(api::Error::not_logged_in)?;
    let config = api::console_config().await?;
    let text = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(&build(&config, &token)?));
    util::save_file(&file_name(&config), "application/yaml", &text)
}

fn expiry_text(expires_at: u64) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(expires_at as f64 * 1000.0));
    String::from(date.to_locale_string("default", &wasm_bindgen::JsValue::UNDEFINED))
}

#[component]
pub fn KubeconfigButton(expires_at: u64) -> impl IntoView {
    let download = Action::new_unsync(|_: &()| download());
    let outcome = download.value();
    let error = move || outcome.get().and_then(Result::err);
    view! {
        <button type="button" class="secondary" on:click=move |_| { download.dispatch(()); }>"Download kubeconfig"</button>
        <span class="muted" data-testid="token-expiry" title="The downloaded kubeconfig stops working then">
            "token valid until " {expiry_text(expires_at)}
        </span>
        {move || error().map(|error| view! { <span class="error" role="alert">{error.describe()}</span> })}
    }
}
