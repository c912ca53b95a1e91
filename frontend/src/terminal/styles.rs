//! xterm.js under the console's CSP. Its DOM renderer writes its rules (cell size, colours,
//! scrollbar) into `<style>` elements it creates; `style-src 'self'` refuses every such element
//! (and would need `'unsafe-inline'` for the whole app to allow them). Rules in a constructed
//! stylesheet (`new CSSStyleSheet()`, adopted by the document) are not inline styles and pass.
//!
//! So xterm gets a `documentOverride` (an option it has for documents other than the page's):
//! the page's document behind a `Proxy` whose `createElement("style")` hands out an inert,
//! hidden `<kc-xterm-style>` element instead (and the page's own `createElement` is the same
//! while xterm opens, for the parts that ask the page's document). xterm writes its rules into
//! those as text, which no browser applies; a `MutationObserver` on the terminal's element
//! copies that text into the terminal's one constructed sheet. Every other property is the
//! document's own.

use js_sys::{Array, Function, Object, Proxy, Reflect};
use leptos::prelude::document;
use wasm_bindgen::{JsCast, prelude::*};

/// The inert element xterm gets for a `<style>`.
const INERT_STYLE: &str = "kc-xterm-style";

thread_local! {
    /// `createElement` as xterm gets it, and the proxy of the document that has it: made once
    /// per tab, they live as long as the page.
    static CREATE_ELEMENT: JsValue = make_create_element();
    static DOCUMENT_OVERRIDE: JsValue = make_document_override();
}

pub fn document_override() -> JsValue {
    DOCUMENT_OVERRIDE.with(JsValue::clone)
}

/// Runs `open` (xterm's `Terminal::open`) with the page's own `document.createElement` shadowed
/// by xterm's: a few of xterm's parts (the scrollbar's style) ask the page's document rather
/// than `documentOverride`. Synchronous, so nothing else of the app runs meanwhile.
pub fn while_opening<R>(open: impl FnOnce() -> R) -> R {
    let document = document();
    let name = JsValue::from_str("createElement");
    let shadowed = CREATE_ELEMENT.with(|create| Reflect::set(&document, &name, create));
    let opened = open();
    if shadowed.is_ok() {
        let _ = Reflect::delete_property(document.unchecked_ref::<Object>(), &name);
    }
    opened
}

/// `createElement(tag)`, but an inert, hidden element for a `style`. It calls the prototype's
/// own function, so that it works while it shadows it (`while_opening`).
fn make_create_element() -> JsValue {
    let original = Reflect::get(&document(), &JsValue::from_str("createElement"))
        .ok()
        .and_then(|f| f.dyn_into::<Function>().ok());
    Closure::<dyn Fn(JsValue) -> JsValue>::new(move |tag: JsValue| {
        let Some(original) = &original else {
            return JsValue::NULL;
        };
        let document = document();
        let inert = tag
            .as_string()
            .is_some_and(|tag| tag.eq_ignore_ascii_case("style"));
        if !inert {
            return original.call1(&document, &tag).unwrap_or(JsValue::NULL);
        }
        let element = original
            .call1(&document, &JsValue::from_str(INERT_STYLE))
            .unwrap_or(JsValue::NULL);
        if let Some(element) = element.dyn_ref::<web_sys::Element>() {
            let _ = element.set_attribute("hidden", "");
        }
        element
    })
    .into_js_value()
}

fn make_document_override() -> JsValue {
    let create_element = CREATE_ELEMENT.with(JsValue::clone);
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
