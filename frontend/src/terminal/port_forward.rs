//! Port-forward, which a browser cannot do: a copy-ready `kubectl port-forward` command for the
//! kubeconfig the console downloads.

use leptos::prelude::*;
use serde_json::Value;

/// The ports the pod's containers declare, in order, once each.
pub fn declared_ports(pod: &Value) -> Vec<u64> {
    let mut ports: Vec<u64> = Vec::new();
    let containers = pod["spec"]["containers"].as_array().into_iter().flatten();
    for port in containers.flat_map(|c| c["ports"].as_array().into_iter().flatten()) {
        if let Some(number) = port["containerPort"].as_u64()
            && !ports.contains(&number)
        {
            ports.push(number);
        }
    }
    ports
}

/// The command, with a placeholder where the pod declares no port. Names are Kubernetes names
/// (no shell metacharacters); the file name is the download's.
pub fn command(kubeconfig_file: &str, namespace: &str, pod: &str, ports: &[u64]) -> String {
    let mappings = if ports.is_empty() {
        "<local-port>:<pod-port>".to_string()
    } else {
        ports
            .iter()
            .map(|p| format!("{p}:{p}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    format!(
        "kubectl --kubeconfig {kubeconfig_file} -n {namespace} port-forward pod/{pod} {mappings}"
    )
}

#[component]
pub fn PortForwardCommand(command: String) -> impl IntoView {
    let copied = RwSignal::new(None::<bool>);
    let copy = {
        let command = command.clone();
        move |_| {
            let promise = window().navigator().clipboard().write_text(&command);
            leptos::task::spawn_local(async move {
                let done = wasm_bindgen_futures::JsFuture::from(promise).await.is_ok();
                copied.set(Some(done));
            });
        }
    };
    view! {
        <section class="port-forward" aria-labelledby="port-forward-heading">
            <h2 id="port-forward-heading">"Port-forward"</h2>
            <p class="muted">"A browser cannot forward ports; with the downloaded kubeconfig, kubectl can:"</p>
            <div class="port-forward-command">
                <code data-testid="port-forward-command">{command}</code>
                <button type="button" class="secondary" data-testid="copy-port-forward" on:click=copy>"Copy"</button>
                {move || copied.get().map(|done| if done {
                    view! { <span class="muted" role="status">"Copied"</span> }.into_any()
                } else {
                    view! { <span class="error" role="alert">"The browser refused to copy: select the command instead."</span> }.into_any()
                })}
            </div>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_mapping_per_declared_port_or_a_placeholder() {
        let pod = serde_json::json!({"spec": {"containers": [
            {"name": "web", "ports": [{"containerPort": 8080}, {"containerPort": 9090}]},
            {"name": "sidecar", "ports": [{"containerPort": 8080}]},
            {"name": "plain"}
        ]}});
        let ports = declared_ports(&pod);
        assert_eq!(ports, [8080, 9090]);
        assert_eq!(
            command(
                "kubeconfig-kube-console.yaml",
                "team-a",
                "two-containers",
                &ports
            ),
            "kubectl --kubeconfig kubeconfig-kube-console.yaml -n team-a port-forward pod/two-containers 8080:8080 9090:9090"
        );
        assert_eq!(
            command("k.yaml", "team-a", "p", &[]),
            "kubectl --kubeconfig k.yaml -n team-a port-forward pod/p <local-port>:<pod-port>"
        );
    }
}
