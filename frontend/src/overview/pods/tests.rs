use serde_json::{Value, json};

use super::*;

fn pod(namespace: &str, name: &str, status: Value) -> Value {
    json!({"metadata": {"namespace": namespace, "name": name}, "status": status})
}

fn crashing(namespace: &str, name: &str, restarts: u64) -> Value {
    pod(
        namespace,
        name,
        json!({
            "phase": "Running",
            "containerStatuses": [{
                "name": "main",
                "restartCount": restarts,
                "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                "lastState": {"terminated": {"reason": "Error", "exitCode": 3}},
            }],
        }),
    )
}

#[test]
fn pods_are_counted_by_phase_and_unknown_phases_are_unknown() {
    let pods = [
        pod("a", "r1", json!({"phase": "Running"})),
        pod("a", "r2", json!({"phase": "Running"})),
        pod("a", "p", json!({"phase": "Pending"})),
        pod("a", "s", json!({"phase": "Succeeded"})),
        pod("a", "f", json!({"phase": "Failed"})),
        pod("a", "new", json!({"phase": "Hibernating"})),
        pod("a", "none", json!({})),
    ];
    let counts = count_pods(pods.iter());
    assert_eq!(counts.phases, [2, 1, 1, 1, 2]);
    assert_eq!(
        phases_label(&counts.phases),
        "Pods by phase: 2 Running, 1 Pending, 1 Succeeded, 1 Failed, 2 Unknown; 7 in all"
    );
}

#[test]
fn trouble_is_called_out_by_reason_most_pods_first() {
    let unschedulable = |name| {
        pod(
            "b",
            name,
            json!({"phase": "Pending", "conditions": [
                {"type": "PodScheduled", "status": "False", "reason": "Unschedulable"}
            ]}),
        )
    };
    let creating = pod(
        "a",
        "creating",
        json!({"phase": "Pending", "containerStatuses": [
            {"name": "c", "restartCount": 0, "state": {"waiting": {"reason": "ContainerCreating"}}}
        ]}),
    );
    let pulling = pod(
        "a",
        "pull",
        json!({"phase": "Pending", "initContainerStatuses": [
            {"name": "init", "state": {"waiting": {"reason": "ImagePullBackOff"}}}
        ]}),
    );
    let pods = [
        crashing("a", "crasher", 4),
        unschedulable("z"),
        unschedulable("y"),
        creating,
        pulling,
    ];
    let counts = count_pods(pods.iter());
    let reasons: Vec<(&str, Vec<String>)> = counts
        .callouts
        .iter()
        .map(|c| {
            (
                c.reason.as_str(),
                c.pods.iter().map(ObjectRef::label).collect(),
            )
        })
        .collect();
    assert_eq!(
        reasons,
        [
            ("Unschedulable", vec!["b/y".to_string(), "b/z".into()]),
            ("CrashLoopBackOff", vec!["a/crasher".into()]),
            ("ImagePullBackOff", vec!["a/pull".into()]),
        ]
    );
}

#[test]
fn restarts_are_ranked_most_first_and_cut_to_the_top() {
    let mut quiet = crashing("a", "quiet", 0);
    quiet["status"]["containerStatuses"][0]["lastState"] = json!({});
    let two = pod(
        "a",
        "two",
        json!({"phase": "Running", "containerStatuses": [
            {"name": "web", "restartCount": 2},
            {"name": "sidecar", "restartCount": 9},
        ]}),
    );
    let pods = [
        crashing("a", "crasher", 4),
        quiet,
        two,
        crashing("b", "crasher", 4),
    ];
    let (top, restarting) = top_restarts(pods.iter(), 3);
    assert_eq!(restarting, 4);
    let ranked: Vec<(String, &str, u64)> = top
        .iter()
        .map(|r| (r.pod.label(), r.container.as_str(), r.restarts))
        .collect();
    assert_eq!(
        ranked,
        [
            ("a/two".to_string(), "sidecar", 9),
            ("a/crasher".into(), "main", 4),
            ("b/crasher".into(), "main", 4),
        ]
    );
    assert_eq!(top[1].last, "Error, exit 3");
    assert_eq!(top[0].last, "");
}
