//! Small browser helpers.

use wasm_bindgen::JsCast;

/// Resolves after `ms` milliseconds (a retry delay, never a way to wait for something to happen).
pub async fn delay(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let _ = web_sys::window().map(|w| {
            w.set_timeout_with_callback_and_timeout_and_arguments_0(resolve.unchecked_ref(), ms)
        });
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// Saves `parts` (strings, byte arrays) as a file named `name`, through an object URL: the
/// data never travels in a URL of its own, and neither does a token.
pub fn save_file(
    name: &str,
    content_type: &str,
    parts: &js_sys::Array,
) -> Result<(), crate::api::Error> {
    let failed = || crate::api::Error::internal("The browser refused to save the file.");
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(content_type);
    let blob =
        web_sys::Blob::new_with_str_sequence_and_options(parts, &options).map_err(|_| failed())?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(|_| failed())?;
    let anchor: web_sys::HtmlAnchorElement = leptos::prelude::document()
        .create_element("a")
        .map_err(|_| failed())?
        .dyn_into()
        .map_err(|_| failed())?;
    anchor.set_href(&url);
    anchor.set_download(name);
    anchor.click();
    // The download reads the blob after `click` returns; revoking at once can leave it with
    // nothing to read (FileSaver.js waits 40 s for the same reason).
    leptos::task::spawn_local(async move {
        delay(40_000).await;
        let _ = web_sys::Url::revoke_object_url(&url);
    });
    Ok(())
}

/// "5m", "3h", "2d" from an RFC 3339 timestamp, as kubectl prints ages.
pub fn age(timestamp: &str) -> String {
    if timestamp.is_empty() {
        return String::new();
    }
    let then = js_sys::Date::parse(timestamp);
    if then.is_nan() {
        return String::new();
    }
    let seconds = ((js_sys::Date::now() - then) / 1000.0).max(0.0) as u64;
    short_duration(seconds)
}

pub fn short_duration(seconds: u64) -> String {
    match seconds {
        s if s < 120 => format!("{s}s"),
        s if s < 3600 * 2 => format!("{}m", s / 60),
        s if s < 86_400 * 2 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn durations_read_like_kubectl() {
        assert_eq!(super::short_duration(5), "5s");
        assert_eq!(super::short_duration(600), "10m");
        assert_eq!(super::short_duration(3 * 3600), "3h");
        assert_eq!(super::short_duration(5 * 86_400), "5d");
    }
}
