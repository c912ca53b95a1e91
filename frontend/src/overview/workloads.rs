//! Workloads short of their desired replicas: Deployments, StatefulSets and DaemonSets, each a
//! bar of ready against desired, the biggest shortfall first.

use leptos::prelude::*;
use serde_json::Value;

use super::{
    chart,
    feeds::{Feed, ObjectRef, detail_path, feed_note, no_feed, number, part},
    order,
};
use crate::kube::{ResourceType, reflector::ReflectorState};

/// How many short workloads the overview names.
const TOP_SHORT: usize = 10;

#[derive(Debug, Clone, PartialEq)]
pub struct Replicas {
    pub object: ObjectRef,
    pub ready: u64,
    pub desired: u64,
}

impl Replicas {
    pub fn missing(&self) -> u64 {
        self.desired.saturating_sub(self.ready)
    }
}

/// Ready and desired replicas of a workload of `kind` ("DaemonSet" counts scheduled nodes; the
/// others `spec.replicas`, which defaults to 1).
pub fn replicas(kind: &str, object: &Value) -> Replicas {
    let (ready, desired) = if kind == "DaemonSet" {
        (
            number(object, "/status/numberReady", 0),
            number(object, "/status/desiredNumberScheduled", 0),
        )
    } else {
        (
            number(object, "/status/readyReplicas", 0),
            number(object, "/spec/replicas", 1),
        )
    };
    Replicas {
        object: ObjectRef::of(object),
        ready,
        desired,
    }
}

/// The workloads short of their desired replicas, most missing first, then by namespace and name.
pub fn shortfalls(all: impl Iterator<Item = Replicas>) -> Vec<Replicas> {
    let short: Vec<Replicas> = all.filter(|r| r.missing() > 0).collect();
    order::by_key(short, |r| {
        format!("{}\0{}", order::descending(r.missing()), r.object.key())
    })
}

/// One kind's line: how many have all their replicas ready, then its short ones as bars.
fn kind_line(ty: &ResourceType, state: &ReflectorState) -> AnyView {
    let total = state.items.len();
    let short = shortfalls(state.items.values().map(|i| replicas(&ty.kind, &i.object)));
    let count = format!("{} of {total} at desired replicas", total - short.len());
    let more = short.len().saturating_sub(TOP_SHORT);
    let bars = short
        .into_iter()
        .take(TOP_SHORT)
        .map(|r| {
            let label = format!(
                "{} {}: {} of {} ready",
                ty.kind,
                r.object.label(),
                r.ready,
                r.desired
            );
            view! {
                <li data-name=r.object.name.clone()>
                    <a href=detail_path(ty, &r.object)>{r.object.label()}</a>
                    {chart::bar(r.ready, r.desired, "wait", label)}
                    <strong class="count">{format!("{}/{}", r.ready, r.desired)}</strong>
                </li>
            }
        })
        .collect_view();
    let more = (more > 0).then(|| format!("and {more} more"));
    view! {
        <span class="count">{count}</span>
        <ol class="bars">{bars}</ol>
        <p class="muted">{more}</p>
    }
    .into_any()
}

/// Each kind's count of workloads at their desired replicas, then the short ones as bars.
pub fn workloads_part(feeds: [(&'static str, Feed); 3]) -> AnyView {
    let lines = feeds
        .into_iter()
        .map(|(plural, feed)| {
            let Feed::Live { ty, list, state } = feed.clone() else {
                return view! { <li data-kind=plural>{plural} ": " {no_feed(&feed)}</li> }
                    .into_any();
            };
            view! {
                <li data-kind=plural>
                    <a href=list>{plural}</a> ": "
                    {feed_note(state)}
                    {move || state.with(|s| kind_line(&ty, s))}
                </li>
            }
            .into_any()
        })
        .collect_view();
    part(
        "Workloads short of replicas",
        "workloads",
        None,
        view! { <ul class="kinds-short">{lines}</ul> }.into_any(),
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn workload(name: &str, spec: Value, status: Value) -> Value {
        json!({"metadata": {"namespace": "a", "name": name}, "spec": spec, "status": status})
    }

    #[test]
    fn desired_and_ready_come_from_each_kind_s_own_fields() {
        let deployment = workload("web", json!({"replicas": 3}), json!({"readyReplicas": 1}));
        assert_eq!(
            (
                replicas("Deployment", &deployment).ready,
                replicas("Deployment", &deployment).desired
            ),
            (1, 3)
        );
        // spec.replicas defaults to 1, a missing readyReplicas is 0.
        let fresh = workload("fresh", json!({}), json!({}));
        assert_eq!(replicas("StatefulSet", &fresh).missing(), 1);
        let daemons = workload(
            "agent",
            json!({}),
            json!({"desiredNumberScheduled": 2, "numberReady": 2}),
        );
        assert_eq!(replicas("DaemonSet", &daemons).missing(), 0);
        // Scaled to zero is not short.
        let idle = workload("idle", json!({"replicas": 0}), json!({}));
        assert_eq!(replicas("Deployment", &idle).missing(), 0);
    }

    #[test]
    fn shortfalls_are_the_short_ones_biggest_first() {
        let all = [
            workload("b", json!({"replicas": 2}), json!({"readyReplicas": 1})),
            workload("ok", json!({"replicas": 2}), json!({"readyReplicas": 2})),
            workload("c", json!({"replicas": 5}), json!({})),
            workload("a", json!({"replicas": 1}), json!({})),
        ];
        let short = shortfalls(all.iter().map(|w| replicas("Deployment", w)));
        let names: Vec<(&str, u64)> = short
            .iter()
            .map(|r| (r.object.name.as_str(), r.missing()))
            .collect();
        assert_eq!(names, [("c", 5), ("a", 1), ("b", 1)]);
    }
}
