//! List-then-watch: the app's copy of a collection that stays current without polling.
//!
//! The list is read in pages (limit/continue) so the first rows show before the rest arrive; a
//! watch from the list's resourceVersion then applies each change. Objects are keyed by uid, so an
//! event seen twice changes nothing; a closed or dropped watch resumes from the last
//! resourceVersion seen (bookmarks included), and a 410 Gone starts a fresh list that replaces the
//! old one when complete, so nothing deleted meanwhile lingers and nothing is lost.

use std::{collections::HashMap, sync::Arc};

use leptos::{prelude::*, task::spawn_local};
use serde_json::Value;
use web_sys::{AbortController, AbortSignal};

use super::{
    client::{self, KubeError},
    stream::{self, WatchEnd, WatchEvent},
};

/// The first page is small so that rows show at once; later pages are larger to cut round trips.
const FIRST_PAGE: u32 = 250;
const PAGE: u32 = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Rows of the apiserver's Table output (kubectl's columns), with object metadata.
    Table,
    /// Whole objects.
    Objects,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    pub description: String,
    /// 0 is what `kubectl get` shows; higher ones are for `-o wide`.
    pub priority: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub uid: String,
    pub name: String,
    pub namespace: String,
    pub created: String,
    pub resource_version: String,
    /// Table mode only: the printed cells, in column order.
    pub cells: Vec<String>,
    /// The object (Objects mode) or its metadata (Table mode), without managedFields.
    pub object: Value,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub enum Phase {
    #[default]
    Loading,
    /// Some pages are in; more are coming.
    Partial,
    /// Listed completely and watching.
    Current,
    /// Listed, but the watch broke and could not be opened again yet: what is shown may be out of
    /// date until it is (retried with backoff, resumed from the last resourceVersion).
    Reconnecting(KubeError),
    Failed(KubeError),
}

#[derive(Debug, Clone, Default)]
pub struct ReflectorState {
    pub columns: Vec<Column>,
    pub items: HashMap<String, Arc<Item>>,
    pub phase: Phase,
    pub resource_version: String,
    /// A relist in progress: filled here, swapped in when complete.
    pending: Option<HashMap<String, Arc<Item>>>,
}

pub enum EventOutcome {
    Applied,
    /// The resourceVersion is too old: list again.
    Gone,
    Failed(KubeError),
}

fn text(value: &Value, pointer: &str) -> String {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn cell_text(cell: &Value) -> String {
    match cell {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Array(values) => values.iter().map(cell_text).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

/// The item of a list entry or a table row.
fn item_from(mut entry: Value, mode: Mode) -> Option<Item> {
    let (cells, mut object) = match mode {
        Mode::Table => {
            let cells = entry
                .get("cells")
                .and_then(Value::as_array)
                .map(|cells| cells.iter().map(cell_text).collect())
                .unwrap_or_default();
            (cells, entry.get_mut("object").map(Value::take)?)
        }
        Mode::Objects => (Vec::new(), entry),
    };
    if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        metadata.remove("managedFields");
    }
    let uid = text(&object, "/metadata/uid");
    let name = text(&object, "/metadata/name");
    if uid.is_empty() && name.is_empty() {
        return None;
    }
    Some(Item {
        uid: if uid.is_empty() { name.clone() } else { uid },
        namespace: text(&object, "/metadata/namespace"),
        created: text(&object, "/metadata/creationTimestamp"),
        resource_version: text(&object, "/metadata/resourceVersion"),
        name,
        cells,
        object,
    })
}

fn entries(page: &mut Value, mode: Mode) -> Vec<Value> {
    let key = match mode {
        Mode::Table => "rows",
        Mode::Objects => "items",
    };
    page.get_mut(key)
        .and_then(Value::as_array_mut)
        .map(std::mem::take)
        .unwrap_or_default()
}

impl ReflectorState {
    fn target(&mut self) -> &mut HashMap<String, Arc<Item>> {
        match &mut self.pending {
            Some(pending) => pending,
            None => &mut self.items,
        }
    }

    /// A list (or relist) starts. A relist keeps showing the old items until it completes.
    pub fn begin_list(&mut self) {
        if matches!(self.phase, Phase::Current | Phase::Reconnecting(_)) || !self.items.is_empty() {
            self.pending = Some(HashMap::new());
        } else {
            self.items.clear();
            self.phase = Phase::Loading;
        }
    }

    /// Applies one page; returns the continue token when more pages follow.
    pub fn apply_page(&mut self, mut page: Value, mode: Mode) -> Option<String> {
        if mode == Mode::Table
            && let Some(columns) = page.get("columnDefinitions").and_then(Value::as_array)
        {
            self.columns = columns
                .iter()
                .map(|c| Column {
                    name: text(c, "/name"),
                    description: text(c, "/description"),
                    priority: c.get("priority").and_then(Value::as_i64).unwrap_or(0),
                })
                .collect();
        }
        for entry in entries(&mut page, mode) {
            if let Some(item) = item_from(entry, mode) {
                self.target().insert(item.uid.clone(), Arc::new(item));
            }
        }
        self.resource_version = text(&page, "/metadata/resourceVersion");
        let next = text(&page, "/metadata/continue");
        if next.is_empty() {
            if let Some(pending) = self.pending.take() {
                self.items = pending;
            }
            self.phase = Phase::Current;
            None
        } else {
            if self.pending.is_none() {
                self.phase = Phase::Partial;
            }
            Some(next)
        }
    }

    pub fn apply_event(&mut self, event: WatchEvent, mode: Mode) -> EventOutcome {
        match event.kind.as_str() {
            "ERROR" => {
                let error = KubeError::from_status_object(500, &event.object);
                if error.is_gone() {
                    EventOutcome::Gone
                } else {
                    EventOutcome::Failed(error)
                }
            }
            "BOOKMARK" => {
                let mut object = event.object;
                let rv = match mode {
                    Mode::Objects => text(&object, "/metadata/resourceVersion"),
                    Mode::Table => {
                        let own = text(&object, "/metadata/resourceVersion");
                        let row = entries(&mut object, mode)
                            .into_iter()
                            .next()
                            .map(|row| text(&row, "/object/metadata/resourceVersion"))
                            .unwrap_or_default();
                        if row.is_empty() { own } else { row }
                    }
                };
                if !rv.is_empty() {
                    self.resource_version = rv;
                }
                EventOutcome::Applied
            }
            kind @ ("ADDED" | "MODIFIED" | "DELETED") => {
                let mut object = event.object;
                let table_rv = text(&object, "/metadata/resourceVersion");
                let changed: Vec<Item> = match mode {
                    Mode::Objects => item_from(object, mode).into_iter().collect(),
                    Mode::Table => entries(&mut object, mode)
                        .into_iter()
                        .filter_map(|row| item_from(row, mode))
                        .collect(),
                };
                for item in changed {
                    if !item.resource_version.is_empty() {
                        self.resource_version = item.resource_version.clone();
                    }
                    if kind == "DELETED" {
                        self.items.remove(&item.uid);
                    } else {
                        self.items.insert(item.uid.clone(), Arc::new(item));
                    }
                }
                if mode == Mode::Table && !table_rv.is_empty() && self.resource_version.is_empty() {
                    self.resource_version = table_rv;
                }
                EventOutcome::Applied
            }
            _ => EventOutcome::Applied,
        }
    }
}

/// What to list and watch.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    /// The collection's API path, without a query.
    pub path: String,
    /// Extra query (already encoded), e.g. `fieldSelector=metadata.name%3Dweb`.
    pub query: String,
    pub mode: Mode,
}

impl Source {
    fn accept(&self) -> &'static str {
        match self.mode {
            Mode::Table => client::TABLE,
            Mode::Objects => client::JSON,
        }
    }

    fn url(&self, params: &str) -> String {
        if self.query.is_empty() {
            format!("{}?{params}", self.path)
        } else {
            format!("{}?{params}&{}", self.path, self.query)
        }
    }
}

/// Lists and watches `source` for as long as the calling view lives.
pub fn reflect(source: Source) -> ReadSignal<ReflectorState> {
    let state = RwSignal::new(ReflectorState::default());
    if let Ok(controller) = AbortController::new() {
        let signal = controller.signal();
        let controller = StoredValue::new_local(controller);
        on_cleanup(move || {
            let _ = controller.try_with_value(|c| c.abort());
        });
        spawn_local(run(source, state, signal));
    }
    state.read_only()
}

async fn run(source: Source, state: RwSignal<ReflectorState>, signal: AbortSignal) {
    let mut failures = 0u32;
    'list: loop {
        if state.try_update(|s| s.begin_list()).is_none() {
            return;
        }
        let mut next: Option<String> = None;
        let mut first = true;
        loop {
            let limit = if first { FIRST_PAGE } else { PAGE };
            first = false;
            let mut params = format!("limit={limit}");
            if let Some(token) = &next {
                params.push_str("&continue=");
                params.push_str(&String::from(js_sys::encode_uri_component(token)));
            }
            match client::get::<Value>(&source.url(&params), source.accept()).await {
                Ok(page) => match state.try_update(|s| s.apply_page(page, source.mode)) {
                    None => return,
                    Some(None) => break,
                    Some(Some(token)) => next = Some(token),
                },
                // The continue token expired: list again from the start.
                Err(error) if error.is_gone() => continue 'list,
                Err(error) => {
                    if signal.aborted()
                        || state
                            .try_update(|s| s.phase = Phase::Failed(error))
                            .is_none()
                    {
                        return;
                    }
                    failures += 1;
                    if !retry_after(failures, &signal).await {
                        return;
                    }
                    continue 'list;
                }
            }
        }
        failures = 0;
        loop {
            let Some(rv) = state.try_with_untracked(|s| s.resource_version.clone()) else {
                return;
            };
            // The server ends a watch after this long; a random one spreads reconnects.
            let timeout = 240 + (js_sys::Math::random() * 120.0) as u32;
            let url = source.url(&format!(
                "watch=1&allowWatchBookmarks=true&resourceVersion={rv}&timeoutSeconds={timeout}"
            ));
            let mut gone = false;
            let mut failed = None;
            let opened = || {
                state.try_update(|s| {
                    if matches!(s.phase, Phase::Reconnecting(_)) {
                        s.phase = Phase::Current;
                    }
                });
            };
            let end = stream::watch(&url, source.accept(), &signal, opened, |event| {
                if gone || failed.is_some() {
                    return;
                }
                match state.try_update(|s| s.apply_event(event, source.mode)) {
                    Some(EventOutcome::Gone) => gone = true,
                    Some(EventOutcome::Failed(error)) => failed = Some(error),
                    _ => {}
                }
            })
            .await;
            if signal.aborted() {
                return;
            }
            if gone {
                continue 'list;
            }
            match (end, failed) {
                (WatchEnd::Aborted, _) => return,
                (WatchEnd::Failed(error), _) | (_, Some(error)) => {
                    if error.is_gone() {
                        continue 'list;
                    }
                    if state
                        .try_update(|s| s.phase = Phase::Reconnecting(error))
                        .is_none()
                    {
                        return;
                    }
                    failures += 1;
                    if !retry_after(failures, &signal).await {
                        return;
                    }
                }
                (WatchEnd::Closed, None) => failures = 0,
            }
        }
    }
}

/// Waits before trying again (1 s, 2 s, 4 s … up to 30 s); false when the view went away.
async fn retry_after(failures: u32, signal: &AbortSignal) -> bool {
    let delay = 1000 * 2i32.saturating_pow(failures.saturating_sub(1).min(5));
    crate::util::delay(delay.min(30_000)).await;
    !signal.aborted()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn row(uid: &str, name: &str, rv: &str) -> Value {
        json!({"cells": [name, 1, "5m"], "object": {"metadata": {
            "uid": uid, "name": name, "resourceVersion": rv, "managedFields": [{"manager": "kubectl"}]
        }}})
    }

    fn table(rows: Vec<Value>, rv: &str, next: &str) -> Value {
        json!({"kind": "Table", "columnDefinitions": [{"name": "Name", "priority": 0}],
               "rows": rows, "metadata": {"resourceVersion": rv, "continue": next}})
    }

    fn event(kind: &str, object: Value) -> WatchEvent {
        WatchEvent {
            kind: kind.into(),
            object,
        }
    }

    #[test]
    fn a_list_after_a_broken_watch_keeps_showing_the_items_until_it_completes() {
        let mut state = ReflectorState::default();
        state.begin_list();
        state.apply_page(table(vec![row("1", "a", "10")], "10", ""), Mode::Table);
        state.phase = Phase::Reconnecting(KubeError::from_body(502, "{}"));
        state.begin_list();
        state.apply_page(table(vec![row("2", "b", "20")], "20", "more"), Mode::Table);
        assert!(
            matches!(state.phase, Phase::Reconnecting(_)),
            "still not live until the list is complete"
        );
        assert_eq!(state.items.len(), 1);
        assert_eq!(state.items["1"].name, "a");
        state.apply_page(table(vec![row("3", "c", "21")], "21", ""), Mode::Table);
        assert_eq!(state.phase, Phase::Current);
        let mut names: Vec<_> = state.items.values().map(|i| i.name.clone()).collect();
        names.sort();
        assert_eq!(
            names,
            ["b", "c"],
            "the old items are gone once the new list is in"
        );
    }

    #[test]
    fn pages_then_events_keep_one_entry_per_object() {
        let mut state = ReflectorState::default();
        state.begin_list();
        let next = state.apply_page(table(vec![row("1", "a", "10")], "12", "tok"), Mode::Table);
        assert_eq!(next.as_deref(), Some("tok"));
        assert_eq!(state.phase, Phase::Partial);
        assert_eq!(state.items.len(), 1, "the first page shows before the rest");
        assert!(
            state
                .apply_page(table(vec![row("2", "b", "11")], "12", ""), Mode::Table)
                .is_none()
        );
        assert_eq!(state.phase, Phase::Current);
        assert_eq!(state.resource_version, "12");
        assert!(
            state.items["1"]
                .object
                .pointer("/metadata/managedFields")
                .is_none()
        );

        // The same ADDED twice (a resumed watch) is still one row; MODIFIED replaces; DELETED removes.
        for _ in 0..2 {
            state.apply_event(
                event("ADDED", table(vec![row("3", "c", "13")], "", "")),
                Mode::Table,
            );
        }
        state.apply_event(
            event("MODIFIED", table(vec![row("1", "a", "14")], "", "")),
            Mode::Table,
        );
        state.apply_event(
            event("DELETED", table(vec![row("2", "b", "15")], "", "")),
            Mode::Table,
        );
        let mut names: Vec<_> = state.items.values().map(|i| i.name.clone()).collect();
        names.sort();
        assert_eq!(names, ["a", "c"]);
        assert_eq!(state.items["1"].resource_version, "14");
        assert_eq!(
            state.resource_version, "15",
            "watch resumes after the last event seen"
        );
    }

    #[test]
    fn bookmarks_move_the_resource_version_and_410_asks_for_a_relist() {
        let mut state = ReflectorState::default();
        state.begin_list();
        state.apply_page(
            json!({"items": [], "metadata": {"resourceVersion": "5"}}),
            Mode::Objects,
        );
        state.apply_event(
            event("BOOKMARK", json!({"metadata": {"resourceVersion": "90"}})),
            Mode::Objects,
        );
        assert_eq!(state.resource_version, "90");
        let gone =
            json!({"kind": "Status", "code": 410, "reason": "Expired", "message": "too old"});
        assert!(matches!(
            state.apply_event(event("ERROR", gone), Mode::Objects),
            EventOutcome::Gone
        ));
        let other =
            json!({"kind": "Status", "code": 500, "reason": "InternalError", "message": "x"});
        assert!(matches!(
            state.apply_event(event("ERROR", other), Mode::Objects),
            EventOutcome::Failed(_)
        ));
    }

    #[test]
    fn a_relist_replaces_the_old_items_only_when_complete() {
        let mut state = ReflectorState::default();
        state.begin_list();
        state.apply_page(
            json!({"items": [{"metadata": {"uid": "1", "name": "old"}}], "metadata": {"resourceVersion": "5"}}),
            Mode::Objects,
        );
        state.begin_list();
        state.apply_page(
            json!({"items": [{"metadata": {"uid": "2", "name": "new"}}], "metadata": {"resourceVersion": "50", "continue": "t"}}),
            Mode::Objects,
        );
        assert!(
            state.items.contains_key("1"),
            "the old list stays on screen meanwhile"
        );
        state.apply_page(
            json!({"items": [{"metadata": {"uid": "3", "name": "newer"}}], "metadata": {"resourceVersion": "50"}}),
            Mode::Objects,
        );
        let mut uids: Vec<_> = state.items.keys().cloned().collect();
        uids.sort();
        assert_eq!(
            uids,
            ["2", "3"],
            "an object deleted while the watch was gone is gone"
        );
        assert_eq!(state.phase, Phase::Current);
    }
}
