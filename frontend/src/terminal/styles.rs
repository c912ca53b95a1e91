//! xterm.js under the console's CSP. Its DOM renderer writes its rules (cell size, colours,
//! scrollbar) into `<style>` elements it creates; `style-src 'self'` refuses every such element
//! (and would need `'unsafe-inline'` for the whole app to allow them). Rules in a constructed
//! stylesheet (`new CSSStyleSheet()`, adopted by the document) are not inline styles and pass.
//!
//! So xterm gets a `documentOverride` (an option it has for documents other than the page's):
//! the page's document behind a `Proxy` whose `createElement("style")` hands out an inert,
//! hidden `<kc-xterm-style>` element instead. xterm writes its rules into those as text, which
//! no browser applies; a `MutationObserver` on the terminal's element copies that text into the
//! terminal's one constructed sheet. Every other property is the document's own.

use js_sys::{Array, Function, Object, Proxy, Reflect};
use leptos::prelude::document;
use wasm_bindgen::{JsCast, prelude::*};

/// The inert element xterm gets for a `<style>`.
const INERT_STYLE: &str = "kc-xterm-style";

thread_local! {
    /// One proxy per tab: its two closures live as long as the page.
    static DOCUMENT_OVERRIDE: JsValue = make_document_override();
}

pub fn document_override() -> JsValue {
    DOCUMENT_OVERRIDE.with(JsValue::clone)
}

fn make_document_override() -> JsValue {
    let create_element = Closure::<dyn Fn(String, JsValue) -> JsValue>::new(|tag: String, _| {
        let document = document();
        let inert = tag.eq_ignore_ascii_case("style");
        let element = document.create_element(if inert { INERT_STYLE } else { &tag });
        match element {
            Ok(element) => {
                if inert {
                    let _ = element.set_attribute("hidden", "");
                }
                element.into()
            }
            Err(error) => error,
        }
    })
    .into_js_value();
    let get = Closure::<dyn Fn(JsValue, JsValue) -> JsValue>::new(
        move |target: JsValue, property: JsValue| {
            if property.as_string().as_deref() == Some("createElement") {
                return create_element.clone();
            }
            let value = Reflect::get(&target, &property).unwrap_or(JsValue::UNDEFINED);
            // The document's methods need the document itself as `this`, not the proxy.
            match value.dyn_ref::<Function>() {
                Some(method) => method.bind0(&target).into(),
                None => value,
            }
        },
    )
    .into_js_value();
    let handler = Object::new();
    let _ = Reflect::set(&handler, &JsValue::from_str("get"), &get);
    Proxy::new(&document(), &handler).into()
}

/// The constructed sheet of one terminal, fed from the inert elements under its element while
/// it lives; dropped, it leaves the document's sheets.
pub struct TerminalStyles {
    sheet: web_sys::CssStyleSheet,
    observer: web_sys::MutationObserver,
    _on_change: Closure<dyn FnMut()>,
}

impl TerminalStyles {
    /// Watches `host` (the element xterm is opened in): start it before `Terminal::open`.
    pub fn watch(host: &web_sys::HtmlElement) -> Result<Self, JsValue> {
        let sheet = web_sys::CssStyleSheet::new()?;
        let adopted = document().adopted_style_sheets();
        adopted.push(&sheet);
        document().set_adopted_style_sheets(&adopted);
        let on_change = {
            let (host, sheet) = (host.clone(), sheet.clone());
            Closure::<dyn FnMut()>::new(move || copy_rules(&host, &sheet))
        };
        let observer = web_sys::MutationObserver::new(on_change.as_ref().unchecked_ref())?;
        let options = web_sys::MutationObserverInit::new();
        options.set_child_list(true);
        options.set_character_data(true);
        options.set_subtree(true);
        observer.observe_with_options(host, &options)?;
        Ok(TerminalStyles {
            sheet,
            observer,
            _on_change: on_change,
        })
    }
}

fn copy_rules(host: &web_sys::HtmlElement, sheet: &web_sys::CssStyleSheet) {
    let Ok(elements) = host.query_selector_all(INERT_STYLE) else {
        return;
    };
    let rules: String = (0..elements.length())
        .filter_map(|i| elements.item(i)?.text_content())
        .collect::<Vec<_>>()
        .join("\n");
    let _ = sheet.replace_sync(&rules);
}

impl Drop for TerminalStyles {
    fn drop(&mut self) {
        self.observer.disconnect();
        let own: &JsValue = self.sheet.as_ref();
        let kept: Array = document()
            .adopted_style_sheets()
            .iter()
            .filter(|sheet| sheet != own)
            .collect();
        document().set_adopted_style_sheets(&kept);
    }
}
