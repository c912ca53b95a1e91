//! The reflector's copy of the collection and how each list page and watch event changes it.
//! Objects are keyed by uid, so an event seen twice changes nothing; a relist fills a pending
//! copy that replaces the shown one only when complete.

use std::{collections::HashMap, sync::Arc};

use serde_json::Value;

use super::Mode;
use crate::{api::Error, kube::stream::WatchEvent};

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
    Reconnecting(Error),
    Failed(Error),
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
    Failed(Error),
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
                let error = Error::from_status_object(500, event.object);
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

#[cfg(test)]
mod tests;
