use serde_json::json;

use super::*;
use crate::api::error::Api;

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
    state.phase = Phase::Reconnecting(Error::from_body(502, "{}", Api::Cluster));
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
    let gone = json!({"kind": "Status", "code": 410, "reason": "Expired", "message": "too old"});
    assert!(matches!(
        state.apply_event(event("ERROR", gone), Mode::Objects),
        EventOutcome::Gone
    ));
    let other = json!({"kind": "Status", "code": 500, "reason": "InternalError", "message": "x"});
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
