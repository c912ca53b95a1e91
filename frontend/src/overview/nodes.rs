//! The nodes' condition: Ready, and no memory, disk or PID pressure. Nodes are cluster-scoped,
//! so only a user who may list them cluster-wide sees them.

use leptos::prelude::*;
use serde_json::Value;

use super::{
    chart,
    feeds::{Feed, ObjectRef, detail_path, live_part, text},
    order,
};

/// The conditions shown, each with the status that is healthy.
pub const CONDITIONS: [(&str, &str); 4] = [
    ("Ready", "True"),
    ("MemoryPressure", "False"),
    ("DiskPressure", "False"),
    ("PIDPressure", "False"),
];

/// How many nodes the overview names (the unhealthy first).
const NAMED_NODES: usize = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    Good,
    Bad,
    /// Not reported (yet), or "Unknown".
    Unknown,
}

impl Health {
    fn class(self) -> &'static str {
        match self {
            Health::Good => "ok",
            Health::Bad => "bad",
            Health::Unknown => "unknown",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct NodeHealth {
    pub object: ObjectRef,
    /// In the order of `CONDITIONS`, with the status as reported ("" when not).
    pub conditions: [(Health, String); 4],
}

impl NodeHealth {
    pub fn healthy(&self) -> bool {
        self.conditions.iter().all(|(h, _)| *h == Health::Good)
    }
}

pub fn node_health(node: &Value) -> NodeHealth {
    let reported = node
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let conditions = CONDITIONS.map(|(kind, good)| {
        let status = reported
            .iter()
            .find(|c| text(c, "/type") == kind)
            .map(|c| text(c, "/status"))
            .unwrap_or_default();
        let health = match status.as_str() {
            s if s == good => Health::Good,
            "True" | "False" => Health::Bad,
            _ => Health::Unknown,
        };
        (health, status)
    });
    NodeHealth {
        object: ObjectRef::of(node),
        conditions,
    }
}

/// Every node's health, the unhealthy first, then by name.
pub fn nodes_health<'a>(nodes: impl Iterator<Item = &'a Value>) -> Vec<NodeHealth> {
    let all: Vec<NodeHealth> = nodes.map(node_health).collect();
    order::by_key(all, |n| {
        format!("{}\0{}", u8::from(n.healthy()), n.object.key())
    })
}

/// A donut of healthy and unhealthy nodes, then each node's conditions as coloured marks.
pub fn nodes_part(feed: &Feed) -> AnyView {
    live_part("Nodes", "nodes", feed, |ty, _, state| {
        let nodes = nodes_health(state.items.values().map(|i| &i.object));
        let healthy = nodes.iter().filter(|n| n.healthy()).count() as u64;
        let total = nodes.len() as u64;
        let label = format!(
            "Nodes: {healthy} healthy, {} not; {total} in all",
            total - healthy
        );
        let more = nodes.len().saturating_sub(NAMED_NODES);
        let rows = nodes
            .into_iter()
            .take(NAMED_NODES)
            .map(|node| {
                let marks = CONDITIONS
                    .iter()
                    .zip(node.conditions)
                    .map(|((kind, _), (health, status))| {
                        let shown = if status.is_empty() { "unknown" } else { status.as_str() };
                        let text = format!("{kind} {shown}");
                        view! {
                            <li class=health.class() data-condition=*kind data-status=status>
                                <svg class="mark" viewBox="0 0 10 10" aria-hidden="true"><circle cx="5" cy="5" r="5" /></svg>
                                {text}
                            </li>
                        }
                    })
                    .collect_view();
                view! {
                    <li data-name=node.object.name.clone()>
                        <a href=detail_path(ty, &node.object)>{node.object.name.clone()}</a>
                        <ul class="conditions">{marks}</ul>
                    </li>
                }
            })
            .collect_view();
        let more = (more > 0).then(|| format!("and {more} more"));
        view! {
            <div class="ov-figure">
                {chart::donut(vec![("ok", healthy), ("bad", total - healthy)], label, "nodes-donut")}
                <ul class="node-list">{rows}</ul>
            </div>
            <p class="muted">{more}</p>
        }
        .into_any()
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn node(name: &str, conditions: Value) -> Value {
        json!({"metadata": {"name": name}, "status": {"conditions": conditions}})
    }

    #[test]
    fn conditions_are_healthy_when_ready_and_under_no_pressure() {
        let good = node(
            "good",
            json!([
                {"type": "MemoryPressure", "status": "False"},
                {"type": "DiskPressure", "status": "False"},
                {"type": "PIDPressure", "status": "False"},
                {"type": "Ready", "status": "True"},
            ]),
        );
        assert!(node_health(&good).healthy());
        let pressed = node(
            "pressed",
            json!([
                {"type": "Ready", "status": "True"},
                {"type": "DiskPressure", "status": "True"},
                {"type": "PIDPressure", "status": "Unknown"},
            ]),
        );
        let health: Vec<Health> = node_health(&pressed)
            .conditions
            .iter()
            .map(|(h, _)| *h)
            .collect();
        assert_eq!(
            health,
            [Health::Good, Health::Unknown, Health::Bad, Health::Unknown]
        );
    }

    #[test]
    fn unhealthy_nodes_come_first() {
        let ready = |name| {
            node(
                name,
                json!([{"type": "Ready", "status": "True"},
            {"type": "MemoryPressure", "status": "False"}, {"type": "DiskPressure", "status": "False"},
            {"type": "PIDPressure", "status": "False"}]),
            )
        };
        let nodes = [
            ready("a"),
            node("z", json!([{"type": "Ready", "status": "False"}])),
            ready("b"),
        ];
        let names: Vec<String> = nodes_health(nodes.iter())
            .into_iter()
            .map(|n| n.object.name)
            .collect();
        assert_eq!(names, ["z", "a", "b"]);
    }
}
