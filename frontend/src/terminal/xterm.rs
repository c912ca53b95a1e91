//! xterm.js, served from the console's own origin (`/xterm/`, vendored by `cargo xtask` from the
//! npm registry) and loaded the first time a terminal opens: the scripts and the stylesheet are
//! not in the first load. The script URLs pass the index page's Trusted Types policy, which
//! allows exactly these files (frontend/index.html). Only the bindings the terminal uses.

use std::cell::RefCell;

use futures::{
    FutureExt,
    future::{LocalBoxFuture, Shared},
};
use js_sys::{Object, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, prelude::*};
use wasm_bindgen_futures::JsFuture;

/// The vendored files, as `cargo xtask` copies them (see xtask/src/tools.rs) and the index
/// page's policy names them.
const SCRIPTS: [&str; 2] = ["/xterm/xterm.js", "/xterm/addon-fit.js"];
const STYLESHEET: &str = "/xterm/xterm.css";

#[wasm_bindgen]
extern "C" {
    /// `window.Terminal`, defined by xterm.js once loaded.
    #[derive(Clone)]
    pub type Terminal;

    #[wasm_bindgen(constructor)]
    pub fn new(options: &Object) -> Terminal;
    #[wasm_bindgen(method)]
    pub fn open(this: &Terminal, parent: &web_sys::HtmlElement);
    #[wasm_bindgen(method, js_name = write)]
    pub fn write_bytes(this: &Terminal, data: &Uint8Array);
    #[wasm_bindgen(method, js_name = write)]
    pub fn write_text(this: &Terminal, data: &str);
    #[wasm_bindgen(method)]
    pub fn reset(this: &Terminal);
    #[wasm_bindgen(method)]
    pub fn focus(this: &Terminal);
    #[wasm_bindgen(method)]
    pub fn dispose(this: &Terminal);
    #[wasm_bindgen(method, getter)]
    pub fn cols(this: &Terminal) -> u32;
    #[wasm_bindgen(method, getter)]
    pub fn rows(this: &Terminal) -> u32;
    #[wasm_bindgen(method, js_name = loadAddon)]
    pub fn load_addon(this: &Terminal, addon: &Fit);
    /// Keystrokes and pastes, as text for stdin.
    #[wasm_bindgen(method, js_name = onData)]
    pub fn on_data(this: &Terminal, listener: &Closure<dyn FnMut(String)>) -> Disposable;
    #[wasm_bindgen(method, js_name = onResize)]
    pub fn on_resize(this: &Terminal, listener: &Closure<dyn FnMut(JsValue)>) -> Disposable;
    /// Returning false leaves the key to the browser (its copy and paste).
    #[wasm_bindgen(method, js_name = attachCustomKeyEventHandler)]
    pub fn attach_custom_key_event_handler(
        this: &Terminal,
        handler: &Closure<dyn FnMut(web_sys::KeyboardEvent) -> bool>,
    );
    #[wasm_bindgen(method, js_name = getSelection)]
    pub fn get_selection(this: &Terminal) -> String;

    pub type Disposable;
    #[wasm_bindgen(method)]
    pub fn dispose(this: &Disposable);
}

#[wasm_bindgen]
extern "C" {
    /// `window.FitAddon.FitAddon`: sizes the terminal to its element.
    #[wasm_bindgen(js_namespace = FitAddon, js_name = FitAddon)]
    pub type Fit;
    #[wasm_bindgen(constructor, js_namespace = FitAddon, js_class = "FitAddon")]
    pub fn new() -> Fit;
    #[wasm_bindgen(method, js_class = "FitAddon")]
    pub fn fit(this: &Fit);
}

type Loading = Shared<LocalBoxFuture<'static, Result<(), String>>>;

thread_local! {
    /// One load per tab, shared by whoever waits for it; a failed load is tried again.
    static LOADING: RefCell<Option<Loading>> = const { RefCell::new(None) };
}

/// Resolves once xterm.js, its fit addon and its stylesheet are loaded.
pub async fn load() -> Result<(), String> {
    let loading = LOADING.with(|slot| {
        slot.borrow_mut()
            .get_or_insert_with(|| load_files().boxed_local().shared())
            .clone()
    });
    let outcome = loading.await;
    if outcome.is_err() {
        LOADING.with(|slot| slot.borrow_mut().take());
    }
    outcome
}

async fn load_files() -> Result<(), String> {
    let document = leptos::prelude::document();
    let head = document.head().ok_or("the page has no head")?;
    let link: web_sys::HtmlLinkElement = document
        .create_element("link")
        .map_err(describe)?
        .unchecked_into();
    link.set_rel("stylesheet");
    link.set_href(STYLESHEET);
    let styled = loaded(&link);
    head.append_child(&link).map_err(describe)?;
    // In order: the addon is defined in terms of nothing, but xterm.js first keeps it simple.
    for src in SCRIPTS {
        let script: web_sys::HtmlScriptElement = document
            .create_element("script")
            .map_err(describe)?
            .unchecked_into();
        // A string for a script URL: the index page's Trusted Types policy checks it.
        script.set_src(src);
        let done = loaded(&script);
        head.append_child(&script).map_err(describe)?;
        done.await
            .map_err(|_| format!("The terminal could not be loaded ({src})."))?;
    }
    styled
        .await
        .map(|_| ())
        .map_err(|_| "The terminal's stylesheet could not be loaded.".to_string())
}

/// Settles when `element` fires `load` (Ok) or `error` (Err).
fn loaded(element: &web_sys::HtmlElement) -> JsFuture {
    let element = element.clone();
    let promise = js_sys::Promise::new(&mut |resolve, reject| {
        element.set_onload(Some(&resolve));
        element.set_onerror(Some(&reject));
    });
    JsFuture::from(promise)
}

fn describe(error: JsValue) -> String {
    error
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .unwrap_or_else(|| "the browser refused".to_string())
}

/// The terminal's options: the app's monospace font, and `documentOverride` (see `styles`).
pub fn options(document_override: &JsValue) -> Object {
    let options = Object::new();
    let set = |key: &str, value: &JsValue| {
        let _ = Reflect::set(&options, &JsValue::from_str(key), value);
    };
    set("cursorBlink", &JsValue::TRUE);
    set("fontSize", &JsValue::from_f64(14.0));
    set(
        "fontFamily",
        &JsValue::from_str("ui-monospace, SFMono-Regular, Menlo, Consolas, monospace"),
    );
    set("scrollback", &JsValue::from_f64(5000.0));
    set("documentOverride", document_override);
    options
}
