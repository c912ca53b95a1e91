//! The latest Warning events (the feed asks only for `type=Warning`), newest first, each linking
//! to the object it is about.

use leptos::prelude::*;
use serde_json::Value;

use super::{
    feeds::{Access, Feed, ObjectRef, detail_path, live_part, number, text},
    order,
};
use crate::util;

/// How many events the overview shows.
const LATEST: usize = 10;

#[derive(Debug, Clone, PartialEq)]
pub struct Warning {
    /// When it last happened (RFC 3339), as the apiserver wrote it.
    pub when: String,
    pub reason: String,
    pub message: String,
    pub count: u64,
    pub kind: String,
    pub api_version: String,
    pub object: ObjectRef,
}

/// When an event last happened: `lastTimestamp` (core events), else the series' last
/// observation, `eventTime` (events.k8s.io writers), then creation.
fn last_seen(event: &Value) -> String {
    [
        "/lastTimestamp",
        "/series/lastObservedTime",
        "/eventTime",
        "/metadata/creationTimestamp",
    ]
    .iter()
    .map(|pointer| text(event, pointer))
    .find(|when| !when.is_empty())
    .unwrap_or_default()
}

/// An RFC 3339 UTC time as a key that sorts in time order whether or not it has a fraction
/// ("…:05Z" and "…:05.250000Z" otherwise compare by 'Z' against '.').
pub fn time_key(when: &str) -> String {
    let (seconds, rest) = when.split_at(when.len().min(19));
    let fraction: String = rest
        .strip_prefix('.')
        .unwrap_or_default()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    format!("{seconds}.{fraction:0<9}")
}

pub fn warning(event: &Value) -> Warning {
    Warning {
        when: last_seen(event),
        reason: text(event, "/reason"),
        message: text(event, "/message"),
        count: number(event, "/count", 1).max(1),
        kind: text(event, "/involvedObject/kind"),
        api_version: text(event, "/involvedObject/apiVersion"),
        object: ObjectRef {
            namespace: text(event, "/involvedObject/namespace"),
            name: text(event, "/involvedObject/name"),
        },
    }
}

/// The `n` latest events, newest first (ties by object, then reason), and how many there are.
pub fn latest<'a>(events: impl Iterator<Item = &'a Value>, n: usize) -> (Vec<Warning>, usize) {
    let all: Vec<Warning> = events.map(warning).collect();
    let total = all.len();
    let mut all = order::by_key(all, |w| {
        let when = order::latest_first(&time_key(&w.when));
        format!("{when}\0{}\0{}", w.object.key(), w.reason)
    });
    all.truncate(n);
    (all, total)
}

/// The latest Warning events, each naming (and linking to) its object.
pub fn events_part(feed: &Feed, access: &Access) -> AnyView {
    let access = access.clone();
    live_part("Latest warnings", "warnings", feed, move |_, _, state| {
        let (events, total) = latest(state.items.values().map(|i| &i.object), LATEST);
        let rows = events
            .into_iter()
            .map(|w| {
                let subject = format!("{} {}", w.kind, w.object.label());
                // A link when the console has a page for its kind, else the name alone.
                let href = access
                    .type_of(&w.api_version, &w.kind)
                    .map(|ty| detail_path(ty, &w.object));
                let times = (w.count > 1).then(|| format!(" (×{})", w.count));
                let reason = w.reason.clone();
                view! {
                    <li data-reason=reason>
                        <span class="muted">{util::age(&w.when)}</span> " "
                        <strong>{w.reason}</strong> " " <a href=href>{subject}</a> {times}
                        <div class="message">{w.message}</div>
                    </li>
                }
            })
            .collect_view();
        let summary = if total == 0 {
            "No Warning events.".to_string()
        } else {
            format!("{total} Warning event(s); the latest:")
        };
        view! {
            <p class="muted">{summary}</p>
            <ol class="events">{rows}</ol>
        }
        .into_any()
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn times_with_and_without_fractions_sort_in_time_order() {
        let mut keys = [
            time_key("2026-12-02T10:00:05Z"),
            time_key("2026-12-02T10:00:05.250000Z"),
            time_key("2026-12-02T10:00:04.999999Z"),
        ];
        keys.sort();
        assert_eq!(
            keys,
            [
                time_key("2026-12-02T10:00:04.999999Z"),
                time_key("2026-12-02T10:00:05Z"),
                time_key("2026-12-02T10:00:05.250000Z"),
            ]
        );
        assert_eq!(time_key(""), ".000000000");
    }

    #[test]
    fn the_latest_come_first_by_when_they_last_happened() {
        let event = |name: &str, fields: Value| {
            let mut e = json!({
                "metadata": {"name": name, "creationTimestamp": "2026-12-02T09:00:00Z"},
                "type": "Warning", "reason": "BackOff",
                "involvedObject": {"kind": "Pod", "apiVersion": "v1", "namespace": "a", "name": name},
            });
            if let (Some(e), Some(fields)) = (e.as_object_mut(), fields.as_object()) {
                e.extend(fields.clone());
            }
            e
        };
        let events = [
            event(
                "old",
                json!({"lastTimestamp": "2026-12-02T09:30:00Z", "count": 7}),
            ),
            event("created-only", json!({})),
            event(
                "micro",
                json!({"eventTime": "2026-12-02T10:00:00.500000Z", "lastTimestamp": null}),
            ),
            event(
                "series",
                json!({"series": {"lastObservedTime": "2026-12-02T09:45:00.000000Z"}}),
            ),
        ];
        let (latest, total) = latest(events.iter(), 3);
        assert_eq!(total, 4);
        let names: Vec<&str> = latest.iter().map(|w| w.object.name.as_str()).collect();
        assert_eq!(names, ["micro", "series", "old"]);
        assert_eq!(latest[2].count, 7);
        assert_eq!(latest[0].count, 1);
    }
}
