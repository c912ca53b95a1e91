//! What the terminal's WebSocket tests share: the console's origin (as `fault_upstream::Harness`
//! configures it), an exec path, and the bearer subprotocol a browser offers.

use base64::Engine;

pub const OWN_ORIGIN: &str = "https://127.0.0.1:8443";
pub const EXEC: &str = "/api/k8s/api/v1/namespaces/team-a/pods/chatty-1/exec?command=sh&stdin=true&stdout=true&tty=true";

pub fn bearer_protocol(token: &str) -> String {
    format!(
        "base64url.bearer.authorization.k8s.io.{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(token)
    )
}
