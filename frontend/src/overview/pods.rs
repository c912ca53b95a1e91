//! Pods by phase (a donut), the reasons worth calling out (CrashLoopBackOff, image pulls,
//! unschedulable), and the containers restarting most.

use leptos::prelude::*;
use serde_json::Value;

use super::{
    chart,
    feeds::{Feed, ObjectRef, detail_path, live_part, number, text},
    order,
};
use crate::kube::ResourceType;

/// Pod phases in the order the donut and its legend show them, with their colour's class.
pub const PHASES: [(&str, &str); 5] = [
    ("Running", "ok"),
    ("Pending", "wait"),
    ("Succeeded", "done"),
    ("Failed", "bad"),
    ("Unknown", "unknown"),
];

/// Waiting reasons that are a normal step on the way to running, not trouble.
const ON_THE_WAY: [&str; 2] = ["ContainerCreating", "PodInitializing"];

/// How many restarting containers the overview names.
const TOP_RESTARTS: usize = 5;
/// How many pods a callout names before "and N more".
const NAMED_PODS: usize = 5;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct PodCounts {
    /// Pods per phase, in the order of `PHASES`.
    pub phases: [u64; 5],
    /// Pods in trouble by reason, most pods first.
    pub callouts: Vec<Callout>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Callout {
    pub reason: String,
    /// Sorted by namespace and name.
    pub pods: Vec<ObjectRef>,
}

/// The phase's place in `PHASES`; a phase the API may add later counts as Unknown.
fn phase_index(phase: &str) -> usize {
    PHASES
        .iter()
        .position(|(name, _)| *name == phase)
        .unwrap_or(PHASES.len() - 1)
}

fn statuses(pod: &Value) -> impl Iterator<Item = &Value> {
    ["/status/initContainerStatuses", "/status/containerStatuses"]
        .into_iter()
        .filter_map(|pointer| pod.pointer(pointer).and_then(Value::as_array))
        .flatten()
}

/// Why a pod is in trouble, if it is: a container waiting for a reason other than its way up
/// (CrashLoopBackOff, ImagePullBackOff, …), or no node to run on.
pub fn trouble(pod: &Value) -> Option<String> {
    let waiting = statuses(pod)
        .map(|status| text(status, "/state/waiting/reason"))
        .find(|reason| !reason.is_empty() && !ON_THE_WAY.contains(&reason.as_str()));
    waiting.or_else(|| {
        pod.pointer("/status/conditions")
            .and_then(Value::as_array)?
            .iter()
            .find(|c| text(c, "/type") == "PodScheduled" && text(c, "/status") == "False")
            .map(|c| text(c, "/reason"))
            .filter(|reason| !reason.is_empty())
    })
}

pub fn count_pods<'a>(pods: impl Iterator<Item = &'a Value>) -> PodCounts {
    let mut counts = PodCounts::default();
    for pod in pods {
        counts.phases[phase_index(&text(pod, "/status/phase"))] += 1;
        if let Some(reason) = trouble(pod) {
            let object = ObjectRef::of(pod);
            match counts.callouts.iter_mut().find(|c| c.reason == reason) {
                Some(callout) => callout.pods.push(object),
                None => counts.callouts.push(Callout {
                    reason,
                    pods: vec![object],
                }),
            }
        }
    }
    for callout in &mut counts.callouts {
        callout.pods = order::by_key(std::mem::take(&mut callout.pods), ObjectRef::key);
    }
    counts.callouts = order::by_key(std::mem::take(&mut counts.callouts), |c| {
        format!("{}\0{}", order::descending(c.pods.len() as u64), c.reason)
    });
    counts
}

/// The words a screen reader says for the donut: every phase's count, and the total.
pub fn phases_label(phases: &[u64; 5]) -> String {
    let total: u64 = phases.iter().sum();
    let parts: Vec<String> = PHASES
        .iter()
        .zip(phases)
        .map(|((name, _), n)| format!("{n} {name}"))
        .collect();
    format!("Pods by phase: {}; {total} in all", parts.join(", "))
}

#[derive(Debug, Clone, PartialEq)]
pub struct Restarting {
    pub pod: ObjectRef,
    pub container: String,
    pub restarts: u64,
    /// How the container last ended ("Error, exit 3"), if it has.
    pub last: String,
}

/// The containers that restarted most (most first, then by pod and container), at most `n`,
/// and how many containers restarted at all.
pub fn top_restarts<'a>(
    pods: impl Iterator<Item = &'a Value>,
    n: usize,
) -> (Vec<Restarting>, usize) {
    let all: Vec<Restarting> = pods
        .flat_map(|pod| {
            statuses(pod).filter_map(move |status| {
                let restarts = number(status, "/restartCount", 0);
                (restarts > 0).then(|| {
                    let reason = text(status, "/lastState/terminated/reason");
                    let last = match status.pointer("/lastState/terminated/exitCode") {
                        Some(code) => format!("{reason}, exit {code}"),
                        None => reason,
                    };
                    Restarting {
                        pod: ObjectRef::of(pod),
                        container: text(status, "/name"),
                        restarts,
                        last,
                    }
                })
            })
        })
        .collect();
    let restarting = all.len();
    let mut all = order::by_key(all, |r| {
        format!(
            "{}\0{}\0{}",
            order::descending(r.restarts),
            r.pod.key(),
            r.container
        )
    });
    all.truncate(n);
    (all, restarting)
}

fn pod_links(ty: &ResourceType, pods: &[ObjectRef]) -> AnyView {
    let more = pods.len().saturating_sub(NAMED_PODS);
    let links = pods
        .iter()
        .take(NAMED_PODS)
        .map(|pod| view! { " " <a href=detail_path(ty, pod)>{pod.label()}</a> })
        .collect_view();
    view! { {links} {(more > 0).then(|| format!(" and {more} more"))} }.into_any()
}

/// Pods by phase: a donut, a legend with the counts, and the pods in trouble by reason.
pub fn pods_part(feed: &Feed) -> AnyView {
    live_part("Pods by phase", "pods-by-phase", feed, |ty, list, state| {
        let counts = count_pods(state.items.values().map(|i| &i.object));
        let phases = counts.phases;
        let values = PHASES
            .iter()
            .zip(phases)
            .map(|((_, class), n)| (*class, n))
            .collect();
        let legend = PHASES
            .iter()
            .zip(phases)
            .map(|((name, class), n)| {
                view! {
                    <li data-phase=*name>
                        <span class=format!("swatch {class}")></span>
                        <a href=list.to_string()>{*name}</a>
                        " " <strong class="count">{n}</strong>
                    </li>
                }
            })
            .collect_view();
        let callouts = counts
            .callouts
            .iter()
            .map(|callout| {
                let n = callout.pods.len();
                view! {
                    <p class="callout" data-reason=callout.reason.clone()>
                        <strong>{callout.reason.clone()}</strong>
                        {format!(": {n} pod{}", if n == 1 { "" } else { "s" })}
                        {pod_links(ty, &callout.pods)}
                    </p>
                }
            })
            .collect_view();
        view! {
            <div class="ov-figure">
                {chart::donut(values, phases_label(&phases), "pods-donut")}
                <ul class="legend">{legend}</ul>
            </div>
            {callouts}
        }
        .into_any()
    })
}

/// The containers restarting most, each a bar against the most restarts, linking to its pod.
pub fn restarts_part(feed: &Feed) -> AnyView {
    live_part("Restarting containers", "restarts", feed, |ty, _, state| {
        let (rows, restarting) =
            top_restarts(state.items.values().map(|i| &i.object), TOP_RESTARTS);
        let most = rows.first().map_or(0, |r| r.restarts);
        let rows = rows
            .into_iter()
            .map(|r| {
                let label = format!(
                    "{} in {}: {} restarts",
                    r.container,
                    r.pod.label(),
                    r.restarts
                );
                view! {
                    <li data-pod=r.pod.name.clone()>
                        <a href=detail_path(ty, &r.pod)>{r.pod.label()}</a>
                        " " <span class="muted">{r.container}</span>
                        {chart::bar(r.restarts, most, "bad", label)}
                        <strong class="count">{r.restarts}</strong>
                        " " <span class="muted">{r.last}</span>
                    </li>
                }
            })
            .collect_view();
        let summary = if restarting == 0 {
            "No container has restarted.".to_string()
        } else {
            format!("{restarting} container(s) have restarted; the most:")
        };
        view! {
            <p class="muted">{summary}</p>
            <ol class="bars">{rows}</ol>
        }
        .into_any()
    })
}

#[cfg(test)]
mod tests;
