//! A Secret's values: hidden (each replaced by its size) until the user reveals them, here and in
//! the other sections, which get the object masked.

use leptos::prelude::*;
use serde_json::Value;

use super::sections::Shown;

/// The annotation `kubectl apply` leaves: for a Secret it holds the values, often as plain text.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// A Secret as shown before its values are revealed: each value replaced by its size, and the
/// last-applied annotation (which repeats them) withheld.
pub fn masked(object: &Value) -> Value {
    let mut object = object.clone();
    for field in ["data", "stringData"] {
        if let Some(map) = object.get_mut(field).and_then(Value::as_object_mut) {
            for value in map.values_mut() {
                let size = match field {
                    "data" => decoded_len(value.as_str().unwrap_or_default()),
                    _ => value.as_str().map_or(0, str::len),
                };
                *value = Value::String(format!("<hidden: {size} bytes>"));
            }
        }
    }
    if let Some(annotation) = object
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
        .and_then(|a| a.get_mut(LAST_APPLIED))
    {
        *annotation = Value::String("<hidden: it repeats the values>".into());
    }
    object
}

/// The size of what a base64 text decodes to.
fn decoded_len(base64: &str) -> usize {
    let text = base64.trim();
    let padding = text.chars().rev().take_while(|c| *c == '=').count();
    (text.len() / 4 * 3).saturating_sub(padding)
}

/// A Secret value as text: UTF-8 when it is, otherwise its size.
fn decoded(base64: &str) -> String {
    match window().atob(base64.trim()) {
        // atob gives one char per byte.
        Ok(binary) => {
            let bytes: Vec<u8> = binary.chars().map(|c| c as u32 as u8).collect();
            let size = bytes.len();
            String::from_utf8(bytes).unwrap_or_else(|_| format!("<{size} bytes of binary data>"))
        }
        Err(_) => "<not valid base64>".into(),
    }
}

pub fn view(shown: &Shown) -> AnyView {
    let revealed = shown.revealed;
    let entries: Vec<(String, String)> = shown
        .full
        .get("data")
        .and_then(Value::as_object)
        .map(|map| {
            map.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default();
    view! {
        <section aria-labelledby="secret-data-heading">
            <h2 id="secret-data-heading">"Data"</h2>
            <p class="muted">"Values stay hidden until you reveal them, so that they are not on screen by accident."</p>
            <button type="button" class="secondary" data-testid="reveal-secret"
                aria-pressed=move || revealed.get().to_string()
                on:click=move |_| revealed.update(|r| *r = !*r)>
                {move || if revealed.get() { "Hide values" } else { "Reveal values" }}
            </button>
            <dl class="meta" data-testid="secret-data">
                {entries.into_iter().map(|(key, base64)| {
                    let shown = move || if revealed.get() {
                        decoded(&base64)
                    } else {
                        format!("{} bytes", decoded_len(&base64))
                    };
                    view! { <dt><code>{key}</code></dt><dd>{shown}</dd> }
                }).collect_view()}
            </dl>
        </section>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_secret_is_shown_without_its_values_until_revealed() {
        let secret = json!({
            "metadata": {"name": "db", "annotations": {
                LAST_APPLIED: "{\"stringData\":{\"password\":\"hunter2\"}}",
                "team": "a"
            }},
            "data": {"password": "aHVudGVyMg==", "token": "YWJj"},
            "type": "Opaque"
        });
        let masked = masked(&secret);
        let text = masked.to_string();
        assert!(
            !text.contains("hunter2") && !text.contains("aHVudGVyMg=="),
            "{text}"
        );
        assert_eq!(masked["data"]["password"], "<hidden: 7 bytes>");
        assert_eq!(masked["data"]["token"], "<hidden: 3 bytes>");
        assert_eq!(masked["metadata"]["annotations"]["team"], "a");
        assert_eq!(decoded_len(""), 0);
    }
}
