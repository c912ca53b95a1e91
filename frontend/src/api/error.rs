//! The one error of every request the app makes, whichever server answered: callers match on it
//! and show `describe()`.

use serde_json::Value;
use shared::{ApiError, ErrorCode, Status, StatusCause, StatusDetails};

/// Which API a request went to: the console's own (`/api`, `/auth`) or the cluster's (through
/// the BFF's `/api/k8s`). It decides how a bare failure is worded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    Console,
    Cluster,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// The cluster refused; the apiserver's `Status` says why (its `code` is the HTTP status).
    Cluster(Box<Status>),
    /// The console refused (its server, in the shared error body, or this app itself, in the same
    /// shape): the message is already a whole sentence for people.
    Console(ApiError),
    /// A failure status with no body either server writes.
    Status { code: u16, api: Api },
    /// The console's server could not be reached at all.
    Unreachable(Api),
    /// A success whose body cannot be read.
    Unreadable(Api),
}

impl Error {
    /// The tab has no token to send.
    pub fn not_logged_in() -> Self {
        Error::Console(ApiError::new(
            ErrorCode::Unauthenticated,
            "You are not logged in.",
        ))
    }

    /// Something this app does itself (build a file, save it) failed.
    pub fn internal(message: &str) -> Self {
        Error::Console(ApiError::new(ErrorCode::Internal, message))
    }

    /// Reads a failure's body: the apiserver's `Status`, or the BFF's shared `ApiError`.
    pub fn from_body(status: u16, body: &str, api: Api) -> Self {
        if let Ok(value) = serde_json::from_str::<Value>(body) {
            if value.get("kind").and_then(Value::as_str) == Some("Status") {
                return Self::from_status_object(status, value);
            }
            if let Ok(error) = serde_json::from_value::<ApiError>(value) {
                return Error::Console(error);
            }
        }
        Error::Status { code: status, api }
    }

    /// A `Status` object (a failure's body or a watch's ERROR event); `status` stands in for a
    /// code it does not state.
    pub fn from_status_object(status: u16, value: Value) -> Self {
        let mut object = status_of(&value);
        if object.code == 0 {
            object.code = status;
        }
        Error::Cluster(Box::new(object))
    }

    /// What the failure means for the app (the session's outage and refusal rules read this).
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::Cluster(status) => ErrorCode::from_status(status.code),
            Error::Console(error) => error.code,
            Error::Status { code, .. } => ErrorCode::from_status(*code),
            Error::Unreachable(_) => ErrorCode::UpstreamUnavailable,
            Error::Unreadable(_) => ErrorCode::Internal,
        }
    }

    /// The session behind the request has ended (or there is none).
    pub fn is_session_ended(&self) -> bool {
        self.code() == ErrorCode::Unauthenticated
    }

    /// The watch or continue token is too old: the list has to start again.
    pub fn is_gone(&self) -> bool {
        match self {
            Error::Cluster(status) => status.is_gone(),
            Error::Status { code, .. } => *code == 410,
            _ => false,
        }
    }

    /// The text a person reads: what happened, and what the server said.
    pub fn describe(&self) -> String {
        match self {
            Error::Cluster(status) => format!("{} {}", lead(status.code), status.message),
            Error::Console(error) => error.message.clone(),
            Error::Status {
                code,
                api: Api::Console,
            } => format!("The console's server answered with status {code}."),
            Error::Status {
                code,
                api: Api::Cluster,
            } => format!("{} status {code}", lead(*code)),
            Error::Unreachable(Api::Console) => {
                "The console's server cannot be reached. Check your connection and try again."
                    .into()
            }
            Error::Unreachable(Api::Cluster) => {
                "The console's server cannot be reached. Check your connection.".into()
            }
            Error::Unreadable(Api::Console) => {
                "The console's server sent an unreadable answer.".into()
            }
            Error::Unreadable(Api::Cluster) => {
                "The request failed: The cluster sent an answer the console cannot read.".into()
            }
        }
    }
}

/// The fields of a `Status` the app reads, picked from the object: a derived `Deserialize` would
/// add more to the first load than the app needs from it.
fn status_of(value: &Value) -> Status {
    let text = |pointer: &str| {
        value
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let causes: Vec<StatusCause> = value
        .pointer("/details/causes")
        .and_then(Value::as_array)
        .map(|causes| {
            causes
                .iter()
                .map(|cause| {
                    let text = |key: &str| {
                        cause
                            .get(key)
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string()
                    };
                    StatusCause {
                        reason: text("reason"),
                        message: text("message"),
                        field: text("field"),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    Status {
        kind: text("/kind"),
        api_version: text("/apiVersion"),
        status: value
            .get("status")
            .and_then(Value::as_str)
            .map(str::to_string),
        message: text("/message"),
        reason: text("/reason"),
        details: (!causes.is_empty()).then(|| StatusDetails {
            causes,
            ..StatusDetails::default()
        }),
        code: value
            .get("code")
            .and_then(Value::as_u64)
            .and_then(|code| u16::try_from(code).ok())
            .unwrap_or_default(),
        ..Status::default()
    }
}

/// How the cluster's refusal with this HTTP status is introduced.
fn lead(code: u16) -> &'static str {
    match code {
        401 => "Your session has ended; log in again.",
        403 => "Forbidden by the cluster:",
        404 => "Not found:",
        409 => "Conflict: the object changed since you loaded it, or already exists.",
        422 => "The cluster refused the manifest:",
        502..=504 => "The cluster's API cannot be reached:",
        _ => "The request failed:",
    }
}

#[cfg(test)]
mod tests {
    use shared::{ApiError, ErrorCode};

    use super::*;

    #[test]
    fn the_apiservers_status_is_introduced_and_the_consoles_own_errors_are_shown_as_written() {
        let forbidden = Error::from_body(
            403,
            r#"{"kind":"Status","code":403,"reason":"Forbidden","message":"configmaps is forbidden"}"#,
            Api::Cluster,
        );
        assert_eq!(
            forbidden.describe(),
            "Forbidden by the cluster: configmaps is forbidden"
        );
        let body = serde_json::to_string(&ApiError::new(
            ErrorCode::UpstreamUnavailable,
            "The cluster's API cannot be reached right now.",
        ))
        .expect("json");
        let unreachable = Error::from_body(502, &body, Api::Cluster);
        assert_eq!(
            unreachable.describe(),
            "The cluster's API cannot be reached right now."
        );
        assert_eq!(
            Error::from_body(503, "<html>", Api::Cluster).describe(),
            "The cluster's API cannot be reached: status 503"
        );
    }

    #[test]
    fn a_bare_failure_of_the_consoles_api_keeps_the_code_its_status_implies() {
        let outage = Error::from_body(503, "", Api::Console);
        assert_eq!(outage.code(), ErrorCode::NotReady);
        assert_eq!(
            outage.describe(),
            "The console's server answered with status 503."
        );
        assert!(Error::from_body(401, "", Api::Console).is_session_ended());
    }

    #[test]
    fn a_status_body_keeps_what_the_app_reads() {
        let body = r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
            "message":"ConfigMap \"x\" is invalid","reason":"Invalid","code":422,
            "details":{"name":"x","kind":"ConfigMap","causes":[
                {"reason":"FieldValueInvalid","message":"Invalid value","field":"metadata.name"}]}}"#;
        let Error::Cluster(status) = Error::from_body(500, body, Api::Cluster) else {
            panic!("not a cluster error");
        };
        assert_eq!(status.code, 422);
        assert_eq!(status.reason, "Invalid");
        assert_eq!(status.message, "ConfigMap \"x\" is invalid");
        assert_eq!(status.status.as_deref(), Some("Failure"));
        assert_eq!(
            status.causes(),
            [StatusCause {
                reason: "FieldValueInvalid".into(),
                message: "Invalid value".into(),
                field: "metadata.name".into(),
            }]
        );
        let Error::Cluster(without_code) =
            Error::from_body(410, r#"{"kind":"Status","reason":"Expired"}"#, Api::Cluster)
        else {
            panic!("not a cluster error");
        };
        assert_eq!(without_code.code, 410);
        assert!(without_code.causes().is_empty());
    }
}
