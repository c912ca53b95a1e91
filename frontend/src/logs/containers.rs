//! A pod's containers as the Logs view offers them: init, regular and ephemeral, each with what
//! its status says about a previous instance (exit code and reason) and its current state.

use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerKind {
    Init,
    Regular,
    Ephemeral,
}

impl ContainerKind {
    pub fn label(self) -> &'static str {
        match self {
            ContainerKind::Init => "init",
            ContainerKind::Regular => "",
            ContainerKind::Ephemeral => "ephemeral",
        }
    }
}

/// How a previous instance of the container ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ended {
    pub exit_code: i64,
    /// Error, OOMKilled, Completed …
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Container {
    pub name: String,
    pub kind: ContainerKind,
    pub restarts: i64,
    /// The previous instance, where there is one (`previous=true` has a log to show).
    pub previous: Option<Ended>,
    /// Why it is waiting now (CrashLoopBackOff, ContainerCreating …), if it is.
    pub waiting: Option<String>,
    /// Has an instance started (so that there is a log to ask for)?
    pub started: bool,
}

impl Container {
    /// "exit code 3 (Error), now CrashLoopBackOff"
    pub fn previous_summary(&self) -> Option<String> {
        let ended = self.previous.as_ref()?;
        let reason = if ended.reason.is_empty() {
            String::new()
        } else {
            format!(" ({})", ended.reason)
        };
        let now = self
            .waiting
            .as_ref()
            .map(|w| format!(", now {w}"))
            .unwrap_or_default();
        Some(format!("exit code {}{reason}{now}", ended.exit_code))
    }
}

fn text(value: &Value, pointer: &str) -> Option<String> {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// The pod's containers in the order kubectl knows them: init, regular, ephemeral.
pub fn containers_of(pod: &Value) -> Vec<Container> {
    let mut containers = Vec::new();
    for (spec, status, kind) in [
        (
            "initContainers",
            "initContainerStatuses",
            ContainerKind::Init,
        ),
        ("containers", "containerStatuses", ContainerKind::Regular),
        (
            "ephemeralContainers",
            "ephemeralContainerStatuses",
            ContainerKind::Ephemeral,
        ),
    ] {
        let statuses = pod
            .pointer(&format!("/status/{status}"))
            .and_then(Value::as_array);
        let specs = pod
            .pointer(&format!("/spec/{spec}"))
            .and_then(Value::as_array);
        for container in specs.into_iter().flatten() {
            let Some(name) = container.get("name").and_then(Value::as_str) else {
                continue;
            };
            let status = statuses.and_then(|s| {
                s.iter()
                    .find(|s| s.get("name").and_then(Value::as_str) == Some(name))
            });
            containers.push(container_of(name, kind, status));
        }
    }
    containers
}

fn container_of(name: &str, kind: ContainerKind, status: Option<&Value>) -> Container {
    let status = status.unwrap_or(&Value::Null);
    let restarts = status
        .get("restartCount")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let previous = status
        .pointer("/lastState/terminated")
        .map(|terminated| Ended {
            exit_code: terminated
                .get("exitCode")
                .and_then(Value::as_i64)
                .unwrap_or(0),
            reason: text(terminated, "/reason").unwrap_or_default(),
        });
    let started = status.pointer("/state/running").is_some()
        || status.pointer("/state/terminated").is_some()
        || previous.is_some();
    Container {
        name: name.to_string(),
        kind,
        restarts,
        previous,
        waiting: text(status, "/state/waiting/reason"),
        started,
    }
}

/// The container shown first: the one `kubectl logs` picks (the `default-container`
/// annotation, else the first regular container).
pub fn default_container(pod: &Value, containers: &[Container]) -> Option<String> {
    let annotated = text(
        pod,
        "/metadata/annotations/kubectl.kubernetes.io~1default-container",
    )
    .filter(|name| containers.iter().any(|c| &c.name == name));
    annotated.or_else(|| {
        containers
            .iter()
            .find(|c| c.kind == ContainerKind::Regular)
            .map(|c| c.name.clone())
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn crasher() -> Value {
        json!({
            "metadata": {"name": "crasher"},
            "spec": {
                "initContainers": [{"name": "prepare"}],
                "containers": [{"name": "crasher"}, {"name": "sidecar"}],
                "ephemeralContainers": [{"name": "debugger"}]
            },
            "status": {
                "initContainerStatuses": [{"name": "prepare", "restartCount": 0,
                    "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}],
                "containerStatuses": [
                    {"name": "crasher", "restartCount": 4,
                     "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                     "lastState": {"terminated": {"exitCode": 3, "reason": "Error"}}},
                    {"name": "sidecar", "restartCount": 0, "state": {"running": {}}}
                ]
            }
        })
    }

    #[test]
    fn every_kind_of_container_is_offered_with_its_previous_instance() {
        let containers = containers_of(&crasher());
        let names: Vec<(&str, ContainerKind)> = containers
            .iter()
            .map(|c| (c.name.as_str(), c.kind))
            .collect();
        assert_eq!(
            names,
            [
                ("prepare", ContainerKind::Init),
                ("crasher", ContainerKind::Regular),
                ("sidecar", ContainerKind::Regular),
                ("debugger", ContainerKind::Ephemeral),
            ]
        );
        assert_eq!(
            containers[1].previous_summary().as_deref(),
            Some("exit code 3 (Error), now CrashLoopBackOff")
        );
        assert!(containers[1].started);
        // No previous instance: nothing to offer; no status yet: not started.
        assert_eq!(containers[2].previous_summary(), None);
        assert!(!containers[3].started);
    }

    #[test]
    fn the_default_container_is_kubectls() {
        let mut pod = crasher();
        let containers = containers_of(&pod);
        assert_eq!(
            default_container(&pod, &containers).as_deref(),
            Some("crasher")
        );
        pod["metadata"]["annotations"] =
            json!({"kubectl.kubernetes.io/default-container": "sidecar"});
        assert_eq!(
            default_container(&pod, &containers).as_deref(),
            Some("sidecar")
        );
        pod["metadata"]["annotations"] = json!({"kubectl.kubernetes.io/default-container": "nope"});
        assert_eq!(
            default_container(&pod, &containers).as_deref(),
            Some("crasher")
        );
    }
}
