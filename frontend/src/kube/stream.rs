//! Reads a watch response line by line as it arrives (a fetch body stream), so that each event is
//! applied when the apiserver sends it rather than when the response ends.

use gloo_net::http::Method;
use js_sys::{Reflect, Uint8Array};
use serde_json::Value;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortSignal, ReadableStreamDefaultReader};

use crate::api::{Error, Request};

#[derive(Debug, Clone, PartialEq)]
pub struct WatchEvent {
    /// ADDED, MODIFIED, DELETED, BOOKMARK or ERROR.
    pub kind: String,
    pub object: Value,
}

/// How a watch ended.
#[derive(Debug)]
pub enum WatchEnd {
    /// The server closed it (its timeout); watch again from the last resourceVersion.
    Closed,
    /// The page went away or the view changed.
    Aborted,
    Failed(Error),
}

/// Streams the watch at `path` (query included), calling `on_open` once the apiserver has
/// accepted it and `on_event` for each event, until the server closes it, `signal` aborts it, or
/// it fails.
pub async fn watch(
    path: &str,
    accept: &str,
    signal: &AbortSignal,
    on_open: impl FnOnce(),
    mut on_event: impl FnMut(WatchEvent),
) -> WatchEnd {
    let sent = Request::cluster(Method::GET, path)
        .accept(accept)
        .abort_on(signal)
        .send()
        .await;
    if signal.aborted() {
        return WatchEnd::Aborted;
    }
    let response = match sent {
        Ok(response) => response,
        Err(error) => return WatchEnd::Failed(error),
    };
    on_open();
    let Some(body) = response.body() else {
        return WatchEnd::Closed;
    };
    let Ok(reader) = body.get_reader().dyn_into::<ReadableStreamDefaultReader>() else {
        return WatchEnd::Closed;
    };
    let mut buffer: Vec<u8> = Vec::new();
    loop {
        let chunk = match JsFuture::from(reader.read()).await {
            Ok(chunk) => chunk,
            Err(_) if signal.aborted() => return WatchEnd::Aborted,
            // A dropped connection: the caller watches again from where it was.
            Err(_) => return WatchEnd::Closed,
        };
        let done = Reflect::get(&chunk, &JsValue::from_str("done"))
            .ok()
            .and_then(|d| d.as_bool())
            .unwrap_or(true);
        if done {
            return WatchEnd::Closed;
        }
        if let Ok(value) = Reflect::get(&chunk, &JsValue::from_str("value")) {
            buffer.extend(Uint8Array::new(&value).to_vec());
        }
        while let Some(end) = buffer.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = buffer.drain(..=end).collect();
            if let Some(event) = parse_event(&line) {
                on_event(event);
            }
        }
    }
}

pub fn parse_event(line: &[u8]) -> Option<WatchEvent> {
    let mut value: Value = serde_json::from_slice(line).ok()?;
    let kind = value.get("type")?.as_str()?.to_string();
    let object = value
        .get_mut("object")
        .map(Value::take)
        .unwrap_or(Value::Null);
    Some(WatchEvent { kind, object })
}
