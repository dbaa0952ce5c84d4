//! The error model: what a failure is, and what the caller should do about it.
//!
//! Every failure is exactly one [`ErrorKind`]. Service-side failures keep every
//! field the identity provider sent ([`ServiceDetails`]); every failure carries
//! a recommended [`Action`] and a mitigation text so an app can decide what to
//! do next without parsing messages.

pub mod aadsts;
mod action;
mod classification;
mod classify;
mod codes;
pub mod explain;
mod kind;
mod polling;
mod response;
mod retry_after;
pub mod scenarios;

pub use aadsts::{AadstsRow, FixedBy, AADSTS};
pub use action::{classification_text, mitigation_for};
pub use classification::{python_classification, Classification};
pub use classify::{classify, classify_at, interaction_required, Classified, Outcome};
pub use codes::{CodeSpec, LocalCode, PythonForm};
pub use kind::{Action, ErrorKind, Flow, NetworkKind};
pub use polling::{Polling, SLOW_DOWN_STEP};
pub(crate) use response::text_lossy;
pub use response::{
    leading_aadsts, parse_error_body, read_body, Body, HttpResponse, OAuthErrorBody, Unreadable,
    MAX_ERROR_BODY_BYTES,
};
pub use retry_after::parse_retry_after;

use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// A classified failure: the one error type every idflow operation returns.
///
/// `code` is the OAuth `error` sent by the server, or one of the stable
/// snake_case [`LocalCode`]s for failures decided on this side. React to
/// `kind`, `classification` and `action`, never to `message`.
#[derive(Clone, Debug, PartialEq, Serialize, thiserror::Error)]
#[error("{code}: {message}")]
pub struct IdFlowError {
    pub kind: ErrorKind,
    pub code: String,
    /// Human-readable, safe to log: never holds tokens, secrets or raw bodies.
    pub message: String,
    pub correlation_id: Option<String>,
    /// Set on every interaction-required error (`None` is a value too).
    pub classification: Option<Classification>,
    pub retryable: bool,
    #[serde(serialize_with = "serialize_secs")]
    pub retry_after: Option<Duration>,
    pub action: Action,
    pub mitigation: &'static str,
    /// Only for `kind == Network`: which transport failure it was.
    pub network: Option<NetworkKind>,
    /// Only for failures the server reported (including unreadable responses).
    pub service: Option<Box<ServiceDetails>>,
    /// The flow the failure came from; it decides the Python `classification` key.
    pub flow: Flow,
}

/// Everything the server said about a failure, kept as sent.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ServiceDetails {
    pub http_status: u16,
    /// Response headers, names lower-cased, repeated headers kept in order.
    /// `set-cookie` is dropped: it can carry session secrets.
    pub headers: Vec<(String, String)>,
    pub error_description: Option<String>,
    /// AADSTS numbers, from `error_codes` or the description's leading `AADSTSnnnn`.
    pub error_codes: Vec<i64>,
    pub suberror: Option<String>,
    /// A claims challenge (a JSON string) to pass to the next interactive request.
    pub claims: Option<String>,
    pub trace_id: Option<String>,
    pub timestamp: Option<String>,
    pub error_uri: Option<String>,
    /// The JSON object the server sent, with token-bearing keys removed; the
    /// Python dict is built from it so unknown server keys reach the app as-is.
    #[serde(skip)]
    pub body: Option<serde_json::Map<String, serde_json::Value>>,
}

impl ServiceDetails {
    /// Headers grouped by name, as Java's `Map<String, List<String>>` has them.
    pub fn header_map(&self) -> BTreeMap<String, Vec<String>> {
        let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (n, v) in &self.headers {
            map.entry(n.clone()).or_default().push(v.clone());
        }
        map
    }
}

impl IdFlowError {
    /// A failure decided on this side, from the one table of local codes.
    pub fn local(code: LocalCode, message: impl Into<String>) -> Self {
        if let Some(n) = NetworkKind::ALL
            .into_iter()
            .find(|n| n.local_code() == code)
        {
            return IdFlowError::network(n, message);
        }
        let spec = code.spec();
        let mut e = IdFlowError {
            kind: spec.kind,
            code: code.as_str().to_owned(),
            message: message.into(),
            correlation_id: None,
            classification: spec.classification,
            retryable: false,
            retry_after: None,
            action: spec.action,
            mitigation: "",
            network: None,
            service: None,
            flow: Flow::Token,
        };
        e.mitigation = mitigation_for(&e);
        e
    }

    /// A transport failure: the request never got an HTTP answer.
    pub fn network(kind: NetworkKind, detail: impl Into<String>) -> Self {
        let mut e = IdFlowError {
            kind: ErrorKind::Network,
            code: kind.local_code().as_str().to_owned(),
            message: detail.into(),
            correlation_id: None,
            classification: None,
            retryable: kind == NetworkKind::Timeout,
            retry_after: None,
            action: if kind == NetworkKind::Timeout {
                Action::Retry
            } else {
                Action::CheckNetwork
            },
            mitigation: "",
            network: Some(kind),
            service: None,
            flow: Flow::Token,
        };
        e.mitigation = mitigation_for(&e);
        e
    }

    /// Attach the correlation id of the request that failed (kept if already set).
    pub fn with_correlation_id(mut self, id: impl Into<String>) -> Self {
        if self.correlation_id.is_none() {
            self.correlation_id = Some(id.into());
        }
        self
    }

    pub fn with_flow(mut self, flow: Flow) -> Self {
        self.flow = flow;
        self
    }

    /// AADSTS numbers the server sent (empty for local and network failures).
    pub fn aadsts(&self) -> &[i64] {
        self.service
            .as_ref()
            .map_or(&[], |s| s.error_codes.as_slice())
    }

    pub fn suberror(&self) -> Option<&str> {
        self.service.as_ref().and_then(|s| s.suberror.as_deref())
    }

    pub fn claims(&self) -> Option<&str> {
        self.service.as_ref().and_then(|s| s.claims.as_deref())
    }

    pub fn http_status(&self) -> Option<u16> {
        self.service.as_ref().map(|s| s.http_status)
    }
}

fn serialize_secs<S: serde::Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_some(&d.as_secs()),
        None => s.serialize_none(),
    }
}
