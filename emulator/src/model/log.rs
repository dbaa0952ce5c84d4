//! The request log: what each request to the platform asked for, so a test
//! can assert what its app sent (the right grant, the `client-request-id`,
//! the `x-ms-lib-capability` header, `client_info=1`...).
//!
//! It records names, never values that grant access: no secrets, passwords,
//! codes, tokens, assertions or verifiers. Parameter *names* are recorded;
//! parameter values only for a short list of non-secret parameters.

use crate::wire::request::{Endpoint, Req};
use serde::Serialize;
use std::collections::VecDeque;

/// How many records are kept (the oldest are dropped first). Enough for the
/// largest test run's every request (8 processes × 500 tenants, each app
/// also fetching discovery: about 8,500), at well under 1 KB a record.
pub const LOG_CAPACITY: usize = 20_000;

/// Request headers worth recording: identification, never credentials.
const RECORDED_HEADERS: [&str; 8] = [
    "client-request-id",
    "return-client-request-id",
    "x-ms-lib-capability",
    "x-client-sku",
    "x-client-ver",
    "x-client-os",
    "x-app-name",
    "x-app-ver",
];

/// One request, as recorded.
#[derive(Clone, Debug, Serialize)]
pub struct RequestRecord {
    /// Increasing from 1; `GET /_admin/requests?since=N` returns later ones.
    pub seq: u64,
    /// The emulator clock's time of arrival (`2016-01-09 02:02:12Z`).
    pub timestamp: String,
    pub method: String,
    pub path: String,
    pub endpoint: Endpoint,
    pub tenant: Option<String>,
    pub grant_type: Option<String>,
    pub client_id: Option<String>,
    pub scope: Option<String>,
    /// `prompt`, `response_type`, `response_mode`, `requested_token_use`,
    /// `client_info`, `client_assertion_type`, `code_challenge_method`,
    /// `claims` (a claims request is not a secret).
    pub params: Vec<(String, String)>,
    /// Every parameter name sent (body for POST, query for GET).
    pub param_names: Vec<String>,
    /// Whether the request authenticated with HTTP Basic (the header itself is not kept).
    pub basic_auth: bool,
    pub headers: Vec<(String, String)>,
    /// The answer's status (0 when the connection was dropped instead).
    pub status: u16,
    /// The fault rule that answered, if any.
    pub fault_id: Option<u64>,
    pub fault: Option<String>,
    pub correlation_id: String,
    pub trace_id: String,
    /// The JOSE header of a `client_assertion` (`alg`, `x5t`, `x5t#S256`,
    /// `x5c`, `kid`: identifiers, no secret), so tests can compare what
    /// libraries send; the signed assertion itself is never kept.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_assertion_header: Option<serde_json::Map<String, serde_json::Value>>,
    /// The claim names of that assertion (not their values).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub client_assertion_claims: Vec<String>,
}

/// Parameters whose values are safe and useful to record.
const RECORDED_PARAMS: [&str; 8] = [
    "prompt",
    "response_type",
    "response_mode",
    "requested_token_use",
    "client_info",
    "client_assertion_type",
    "code_challenge_method",
    "claims",
];

impl RequestRecord {
    pub fn of(req: &Req) -> RequestRecord {
        let params = req.params();
        let assertion = params
            .get("client_assertion")
            .and_then(crate::crypto::jwt::Jwt::parse);
        let headers = RECORDED_HEADERS
            .iter()
            .filter_map(|h| req.header(h).map(|v| ((*h).to_owned(), clip(v))))
            .collect();
        RequestRecord {
            seq: 0,
            timestamp: req.ctx.timestamp.clone(),
            method: req.method.to_string(),
            path: clip(&req.path),
            endpoint: req.endpoint,
            tenant: req.tenant.as_deref().map(clip),
            grant_type: req.grant_type().map(clip),
            client_id: params.get("client_id").map(clip),
            scope: params.get("scope").map(clip),
            params: RECORDED_PARAMS
                .iter()
                .filter_map(|p| params.get(p).map(|v| ((*p).to_owned(), clip(v))))
                .collect(),
            param_names: params.names().into_iter().map(|n| clip(&n)).collect(),
            basic_auth: req
                .header("authorization")
                .is_some_and(|a| a.trim_start().to_ascii_lowercase().starts_with("basic ")),
            headers,
            status: 0,
            fault_id: None,
            fault: None,
            correlation_id: req.ctx.correlation_id.clone(),
            trace_id: req.ctx.trace_id.clone(),
            client_assertion_header: assertion.as_ref().map(|j| j.header.clone()),
            client_assertion_claims: assertion
                .map(|j| j.claims.keys().cloned().collect())
                .unwrap_or_default(),
        }
    }
}

/// Values are clipped so that a huge parameter cannot balloon the log.
fn clip(s: &str) -> String {
    s.chars().take(512).collect()
}

/// The bounded log.
#[derive(Debug, Default)]
pub struct RequestLog {
    next_seq: u64,
    records: VecDeque<RequestRecord>,
}

impl RequestLog {
    pub fn push(&mut self, mut record: RequestRecord) -> u64 {
        self.next_seq += 1;
        record.seq = self.next_seq;
        if self.records.len() >= LOG_CAPACITY {
            self.records.pop_front();
        }
        self.records.push_back(record);
        self.next_seq
    }

    /// Fills in how a logged request was answered.
    pub fn set_outcome(&mut self, seq: u64, status: u16) {
        if let Some(r) = self.records.iter_mut().rev().find(|r| r.seq == seq) {
            r.status = status;
        }
    }

    /// Records after `since` (all with 0).
    pub fn since(&self, since: u64) -> Vec<RequestRecord> {
        self.records
            .iter()
            .filter(|r| r.seq > since)
            .cloned()
            .collect()
    }

    pub fn clear(&mut self) {
        self.records.clear();
    }
}
