//! The Kubernetes stream protocol over a WebSocket (`v5.channel.k8s.io`, falling back to
//! `v4.channel.k8s.io`): every binary message is one channel byte and its data. 0 stdin,
//! 1 stdout, 2 stderr, 3 the outcome (a `Status` in JSON), 4 resize (`{"Width":…,"Height":…}`);
//! v5 adds 255, "close this channel". Pure functions, so that they are tested natively.

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;

pub const V5: &str = "v5.channel.k8s.io";
pub const V4: &str = "v4.channel.k8s.io";
/// What the terminal offers, most preferred first.
pub const PROTOCOLS: [&str; 2] = [V5, V4];
/// The subprotocol the kube-apiserver (and the BFF) reads the bearer token from.
pub const BEARER_PROTOCOL_PREFIX: &str = "base64url.bearer.authorization.k8s.io.";

const STDIN: u8 = 0;
const STDOUT: u8 = 1;
const STDERR: u8 = 2;
const STATUS: u8 = 3;
const RESIZE: u8 = 4;

/// The shell a user expects: bash where the image has it, else sh (busybox has no bash).
pub const SHELL_SCRIPT: &str =
    "if command -v bash >/dev/null 2>&1; then exec bash; else exec sh; fi";

/// The exec query of an interactive shell in `container` (None: the pod's default one). With a
/// TTY, stderr is merged into stdout (the apiserver refuses both).
pub fn exec_query(container: Option<&str>) -> String {
    let encode = |value: &str| utf8_percent_encode(value, NON_ALPHANUMERIC).to_string();
    let mut query = format!(
        "command=sh&command=-c&command={}&stdin=true&stdout=true&tty=true",
        encode(SHELL_SCRIPT)
    );
    if let Some(container) = container {
        query.push_str(&format!("&container={}", encode(container)));
    }
    query
}

/// `base64url.bearer.authorization.k8s.io.<token>` from the token's base64 (standard
/// alphabet, as `btoa` writes it): base64url without padding.
pub fn bearer_protocol(standard_base64: &str) -> String {
    let url_safe: String = standard_base64
        .trim_end_matches('=')
        .chars()
        .map(|c| match c {
            '+' => '-',
            '/' => '_',
            c => c,
        })
        .collect();
    format!("{BEARER_PROTOCOL_PREFIX}{url_safe}")
}

pub fn stdin(data: &[u8]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(data.len() + 1);
    frame.push(STDIN);
    frame.extend_from_slice(data);
    frame
}

pub fn resize(columns: u32, rows: u32) -> Vec<u8> {
    let mut frame = vec![RESIZE];
    frame.extend_from_slice(
        serde_json::json!({ "Width": columns, "Height": rows })
            .to_string()
            .as_bytes(),
    );
    frame
}

/// How a session ended, from its status channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ended {
    /// The command's exit code, where the status names one.
    pub exit_code: Option<i32>,
    /// The apiserver's message for anything but a plain exit.
    pub message: Option<String>,
}

impl Ended {
    pub fn describe(&self) -> String {
        match (&self.exit_code, &self.message) {
            (Some(code), _) => format!("The session ended with exit code {code}."),
            (None, Some(message)) => format!("The session ended: {message}"),
            (None, None) => "The session ended.".to_string(),
        }
    }
}

/// What one message from the server is.
#[derive(Debug, PartialEq, Eq)]
pub enum Incoming<'a> {
    /// stdout or stderr: bytes for the terminal.
    Output(&'a [u8]),
    Ended(Ended),
    /// Anything else (a close signal, an empty message): nothing to show.
    Other,
}

pub fn incoming(message: &[u8]) -> Incoming<'_> {
    match message.split_first() {
        Some((&STDOUT | &STDERR, data)) => Incoming::Output(data),
        Some((&STATUS, status)) => Incoming::Ended(ended(status)),
        _ => Incoming::Other,
    }
}

/// `{"status":"Success"}` is exit code 0; a failure names its exit code in a cause with reason
/// `ExitCode` (reason `NonZeroExitCode`), or is another error with a message.
fn ended(status: &[u8]) -> Ended {
    let Ok(status) = serde_json::from_slice::<Value>(status) else {
        return Ended {
            exit_code: None,
            message: Some(String::from_utf8_lossy(status).into_owned()),
        };
    };
    if status["status"] == "Success" {
        return Ended {
            exit_code: Some(0),
            message: None,
        };
    }
    let exit_code = status["details"]["causes"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|cause| cause["reason"] == "ExitCode")
        .and_then(|cause| cause["message"].as_str())
        .and_then(|code| code.parse().ok());
    Ended {
        exit_code,
        message: status["message"].as_str().map(str::to_string),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_carry_their_channel_first() {
        assert_eq!(stdin(b"ls\r"), b"\x00ls\r");
        assert_eq!(resize(80, 24), b"\x04{\"Height\":24,\"Width\":80}");
        assert_eq!(incoming(b"\x01hello"), Incoming::Output(b"hello"));
        assert_eq!(incoming(b"\x02oops"), Incoming::Output(b"oops"));
        assert_eq!(incoming(b"\xff\x00"), Incoming::Other);
        assert_eq!(incoming(b""), Incoming::Other);
    }

    #[test]
    fn the_status_channel_tells_the_exit_code_or_the_reason() {
        assert_eq!(
            incoming(b"\x03{\"metadata\":{},\"status\":\"Success\"}"),
            Incoming::Ended(Ended {
                exit_code: Some(0),
                message: None
            })
        );
        let failed = br#"{"metadata":{},"status":"Failure","message":"command terminated with non-zero exit code: error executing command [sh], exit code 3","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"3"}]}}"#;
        let mut message = vec![3u8];
        message.extend_from_slice(failed);
        let Incoming::Ended(ended) = incoming(&message) else {
            panic!("an end");
        };
        assert_eq!(ended.exit_code, Some(3));
        assert_eq!(ended.describe(), "The session ended with exit code 3.");
        let other = br#"{"status":"Failure","message":"container not found (\"web\")"}"#;
        let mut message = vec![3u8];
        message.extend_from_slice(other);
        let Incoming::Ended(ended) = incoming(&message) else {
            panic!("an end");
        };
        assert_eq!(
            ended.describe(),
            "The session ended: container not found (\"web\")"
        );
    }

    #[test]
    fn the_shell_is_bash_where_there_is_one_and_the_query_says_so() {
        assert_eq!(
            exec_query(Some("web")),
            "command=sh&command=-c&command=if%20command%20%2Dv%20bash%20%3E%2Fdev%2Fnull%202%3E%261%3B%20then%20exec%20bash%3B%20else%20exec%20sh%3B%20fi&stdin=true&stdout=true&tty=true&container=web"
        );
        assert!(!exec_query(None).contains("container"));
    }

    #[test]
    fn the_bearer_protocol_is_base64url_without_padding() {
        assert_eq!(
            bearer_protocol("ab+/cd=="),
            "base64url.bearer.authorization.k8s.io.ab-_cd"
        );
    }
}
