//! What a terminal's WebSocket handshake must be before anything goes upstream: a WebSocket
//! upgrade, pod and container names Kubernetes could have, only the query parameters a terminal
//! uses, and the subprotocols: the channel protocols and exactly one bearer.

use axum::http::{HeaderMap, header};
use base64::Engine;
use shared::ErrorCode;

use super::Stream;
use crate::{error::AppError, routes::permissions::is_dns_label};

/// The stream protocols the terminal speaks, most preferred first: v5 adds a close signal
/// (channel 255) to v4's channels (0 stdin, 1 stdout, 2 stderr, 3 status, 4 resize).
pub const CHANNEL_PROTOCOLS: [&str; 2] = ["v5.channel.k8s.io", "v4.channel.k8s.io"];
/// The subprotocol the kube-apiserver reads a bearer token from, as the browser offers it.
pub const BEARER_PROTOCOL_PREFIX: &str = "base64url.bearer.authorization.k8s.io.";
/// More command words than a shell line needs is not a terminal.
const MAX_COMMAND_WORDS: usize = 64;
const MAX_QUERY_LENGTH: usize = 8192;

/// The subprotocols a browser offered: the channel protocols it speaks (in its order) and its
/// token.
pub struct Offered {
    pub channels: Vec<&'static str>,
    pub token: String,
}

/// `Upgrade: websocket` on a `Connection: upgrade`, with a key and version 13 (RFC 6455).
pub fn check_websocket(headers: &HeaderMap) -> Result<(), AppError> {
    let has = |name: header::HeaderName, wanted: &str| {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|token| token.trim().eq_ignore_ascii_case(wanted))
    };
    let key = headers.get(header::SEC_WEBSOCKET_KEY).is_some();
    let version = headers
        .get(header::SEC_WEBSOCKET_VERSION)
        .is_some_and(|v| v.as_bytes() == b"13");
    if has(header::UPGRADE, "websocket") && has(header::CONNECTION, "upgrade") && key && version {
        Ok(())
    } else {
        Err(AppError::refused(
            ErrorCode::BadRequest,
            "A terminal is opened as a WebSocket (version 13).",
        ))
    }
}

/// The apiserver path of `stream` for the pod, with the query rebuilt from the parameters a
/// terminal uses: `command` (exec only, the user's words), `container`, and `stdin`, `stdout`,
/// `stderr`, `tty` as booleans. Anything else is refused rather than passed on.
pub fn upstream_path(
    stream: Stream,
    namespace: &str,
    name: &str,
    query: Option<&str>,
) -> Result<String, AppError> {
    let bad = |message: String| AppError::refused(ErrorCode::BadRequest, message);
    if !is_dns_label(namespace) || !is_dns_subdomain(name) {
        return Err(bad("That is not a namespace and pod name.".into()));
    }
    let query = query.unwrap_or_default();
    if query.len() > MAX_QUERY_LENGTH {
        return Err(bad("The terminal's query is too long.".into()));
    }
    let mut out = form_urlencoded::Serializer::new(String::new());
    let mut words = 0;
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        match key.as_ref() {
            "command" if stream == Stream::Exec => {
                words += 1;
                if words > MAX_COMMAND_WORDS || value.chars().any(|c| c == '\0') {
                    return Err(bad("The command is not one a terminal runs.".into()));
                }
            }
            "container" if is_dns_label(&value) => {}
            "stdin" | "stdout" | "stderr" | "tty"
                if ["true", "false", "1", "0"].contains(&value.as_ref()) => {}
            other => {
                return Err(bad(format!(
                    "The terminal does not pass on the parameter {other:?} with that value."
                )));
            }
        }
        out.append_pair(&key, &value);
    }
    if stream == Stream::Exec && words == 0 {
        return Err(bad("A terminal needs a command to run.".into()));
    }
    let query = out.finish();
    let mut path = format!(
        "/api/v1/namespaces/{namespace}/pods/{name}/{}",
        stream.subresource()
    );
    if !query.is_empty() {
        path.push('?');
        path.push_str(&query);
    }
    Ok(path)
}

/// The channel protocols offered and the one bearer token. No bearer is a 401 (the app logs in
/// again); two are a 400 (which one would speak?); no channel protocol the terminal speaks is a
/// 400. The token's text is never part of an answer.
pub fn offered_protocols(headers: &HeaderMap) -> Result<Offered, AppError> {
    let bad = |message: &str| AppError::refused(ErrorCode::BadRequest, message);
    let mut channels = Vec::new();
    let mut tokens = Vec::new();
    for value in headers.get_all(header::SEC_WEBSOCKET_PROTOCOL) {
        let value = value
            .to_str()
            .map_err(|_| bad("The WebSocket protocols are not text."))?;
        for protocol in value.split(',').map(str::trim) {
            if let Some(encoded) = protocol.strip_prefix(BEARER_PROTOCOL_PREFIX) {
                tokens.push(encoded);
            } else if let Some(known) = CHANNEL_PROTOCOLS.iter().find(|c| **c == protocol)
                && !channels.contains(known)
            {
                channels.push(*known);
            }
        }
    }
    let encoded = match tokens.as_slice() {
        [] => return Err(AppError::Unauthenticated),
        [one] => *one,
        _ => return Err(bad("The WebSocket offers more than one bearer token.")),
    };
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(encoded)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .filter(|token| !token.is_empty())
        .ok_or(AppError::Unauthenticated)?;
    if channels.is_empty() {
        return Err(bad(
            "The terminal speaks v5.channel.k8s.io or v4.channel.k8s.io; neither was offered.",
        ));
    }
    Ok(Offered { channels, token })
}

/// RFC 1123 subdomain, as Kubernetes names pods.
fn is_dns_subdomain(value: &str) -> bool {
    value.len() <= 253 && value.split('.').all(is_dns_label)
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn status(result: Result<impl Sized, AppError>) -> u16 {
        use axum::response::IntoResponse;
        match result {
            Ok(_) => 200,
            Err(err) => err.into_response().status().as_u16(),
        }
    }

    #[test]
    fn the_query_is_rebuilt_from_what_a_terminal_uses_only() {
        let path = upstream_path(
            Stream::Exec,
            "team-a",
            "chatty-7d9f.x",
            Some("command=sh&command=-c&command=exec%20bash%20||%20exec%20sh&stdin=true&stdout=true&tty=true&container=web"),
        )
        .expect("a terminal's query");
        assert_eq!(
            path,
            "/api/v1/namespaces/team-a/pods/chatty-7d9f.x/exec?command=sh&command=-c&command=exec+bash+%7C%7C+exec+sh&stdin=true&stdout=true&tty=true&container=web"
        );
        for query in [
            "command=sh&follow=true",
            "command=sh&container=Web",
            "command=sh&container=a/b",
            "command=sh&tty=yes",
            "command=sh&command=a%00b",
            "stdin=true",
            "command=sh&timeoutSeconds=1",
        ] {
            assert_eq!(
                status(upstream_path(Stream::Exec, "team-a", "p", Some(query))),
                400,
                "{query}"
            );
        }
        assert_eq!(
            status(upstream_path(
                Stream::Attach,
                "team-a",
                "p",
                Some("command=sh")
            )),
            400
        );
        assert_eq!(
            upstream_path(Stream::Attach, "team-a", "p", Some("stdin=1&tty=1")).expect("attach"),
            "/api/v1/namespaces/team-a/pods/p/attach?stdin=1&tty=1"
        );
        for (namespace, name) in [("Team-a", "p"), ("team-a", "a/b"), ("..", "p"), ("a", "")] {
            assert_eq!(
                status(upstream_path(
                    Stream::Exec,
                    namespace,
                    name,
                    Some("command=sh")
                )),
                400,
                "{namespace}/{name}"
            );
        }
    }

    fn protocols(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(
                header::SEC_WEBSOCKET_PROTOCOL,
                HeaderValue::from_str(value).expect("value"),
            );
        }
        headers
    }

    #[test]
    fn the_channels_and_exactly_one_bearer_are_taken_from_the_subprotocols() {
        // "the.token" in base64url without padding.
        let offered = offered_protocols(&protocols(&[
            "v5.channel.k8s.io, v4.channel.k8s.io",
            "base64url.bearer.authorization.k8s.io.dGhlLnRva2Vu, chat",
        ]))
        .expect("offered");
        assert_eq!(offered.channels, ["v5.channel.k8s.io", "v4.channel.k8s.io"]);
        assert_eq!(offered.token, "the.token");
        assert_eq!(
            status(offered_protocols(&protocols(&["v5.channel.k8s.io"]))),
            401
        );
        assert_eq!(
            status(offered_protocols(&protocols(&[
                "v4.channel.k8s.io, base64url.bearer.authorization.k8s.io.!!"
            ]))),
            401
        );
        assert_eq!(
            status(offered_protocols(&protocols(&[
                "v5.channel.k8s.io, base64url.bearer.authorization.k8s.io.YQ, base64url.bearer.authorization.k8s.io.Yg"
            ]))),
            400
        );
        assert_eq!(
            status(offered_protocols(&protocols(&[
                "v3.channel.k8s.io, base64url.bearer.authorization.k8s.io.YQ"
            ]))),
            400
        );
    }

    #[test]
    fn only_a_websocket_handshake_of_version_13_passes() {
        let with = |pairs: &[(&'static str, &'static str)]| {
            let mut headers = HeaderMap::new();
            for (name, value) in pairs {
                headers.append(*name, HeaderValue::from_static(value));
            }
            status(check_websocket(&headers))
        };
        let good = [
            ("upgrade", "websocket"),
            ("connection", "keep-alive, Upgrade"),
            ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
            ("sec-websocket-version", "13"),
        ];
        assert_eq!(with(&good), 200);
        for missing in 0..good.len() {
            let mut pairs = good.to_vec();
            pairs.remove(missing);
            assert_eq!(with(&pairs), 400, "without {:?}", good[missing]);
        }
        let mut spdy = good.to_vec();
        spdy[0] = ("upgrade", "SPDY/3.1");
        assert_eq!(with(&spdy), 400);
    }
}
