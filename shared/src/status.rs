//! The Kubernetes `Status` body (the shape of kube-core's `Status`): what the apiserver answers
//! when it refuses, what a watch's ERROR event carries, and what the apiserver-proxy writes so
//! that kubectl shows its refusals like the apiserver's own.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub api_version: String,
    /// Always empty here; written because the apiserver writes it.
    #[serde(default)]
    pub metadata: ListMeta,
    /// "Success" or "Failure".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default)]
    pub message: String,
    /// Machine-readable: NotFound, Forbidden, Conflict, Invalid, Expired…
    #[serde(default)]
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<StatusDetails>,
    /// The HTTP status; 0 when the body did not say.
    #[serde(default)]
    pub code: u16,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListMeta {}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusDetails {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub group: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub causes: Vec<StatusCause>,
}

/// One field the apiserver named as the reason for refusing a manifest.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusCause {
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub field: String,
}

impl Status {
    /// A refusal, as the apiserver words one.
    pub fn failure(code: u16, reason: &str, message: &str) -> Self {
        Status {
            kind: "Status".into(),
            api_version: "v1".into(),
            metadata: ListMeta {},
            status: Some("Failure".into()),
            message: message.into(),
            reason: reason.into(),
            details: None,
            code,
        }
    }

    /// The watch or continue token is too old: the list has to start again.
    pub fn is_gone(&self) -> bool {
        self.code == 410 || self.reason == "Expired" || self.reason == "Gone"
    }

    pub fn causes(&self) -> &[StatusCause] {
        self.details.as_ref().map_or(&[], |d| &d.causes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_is_written_as_the_apiserver_writes_it_and_read_back() {
        let status = Status::failure(403, "Forbidden", "no");
        let value = serde_json::to_value(&status).expect("json");
        assert_eq!(
            value,
            serde_json::json!({
                "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": "no", "reason": "Forbidden", "code": 403,
            })
        );
        let read: Status = serde_json::from_value(serde_json::json!({
            "kind": "Status", "code": 422, "reason": "Invalid", "message": "bad",
            "details": {"causes": [{"field": "metadata.name", "message": "invalid", "reason": "FieldValueInvalid"}]},
        }))
        .expect("status");
        assert_eq!(read.causes()[0].field, "metadata.name");
        assert!(!read.is_gone());
        assert!(Status::failure(410, "Expired", "too old").is_gone());
    }
}
