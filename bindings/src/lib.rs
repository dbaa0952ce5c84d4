//! The one native library: a thin uniffi layer over the `idflow` core.
//!
//! Nothing here decides anything. Every exported value is the core's decision
//! converted into FFI-shaped types; every export runs inside a wrapper of
//! `guard.rs`, so a panic reaches the caller as a classified `internal_error`,
//! never a crash.
//!
//! Modules, bottom to top: `types` (the records and enums), `convert` (core
//! values into them), `guard` (the guarded call), `foreign_http` (the app's
//! own HTTP client as the core's transport), `logging`, `cache` (the
//! token cache object), `apps` (configuration and flow objects), `clients`
//! (the two application objects), `managed_identity` (its client),
//! `python_fast` (the Python-only fast paths), `typed_fast` and
//! `managed_identity_probe` (cache probes), `packed` (whole-cache answers as
//! one buffer), `fill` (the cache document written into the caller's memory), `account_lookup` (an account by its id, its partition read
//! first).

// uniffi errors carry their records by value (no Box across FFI), and the error path is not hot.
#![allow(clippy::result_large_err)]

mod account_lookup;
mod apps;
mod cache;
mod cache_query;
mod clients;
mod convert;
mod credentials;
mod fill;
mod foreign_http;
mod guard;
mod http_cache;
mod logging;
mod managed_identity;
mod managed_identity_probe;
mod packed;
mod partitioned_cache;
mod python_fast;
mod region;
mod tenant;
mod typed_fast;
mod types;
mod web_flow;

pub use apps::*;
pub use cache::*;
pub use clients::*;
pub use credentials::*;
pub use fill::FilledDocument;
pub use foreign_http::{
    FormField, HttpClient, HttpClientError, HttpClientRequest, HttpClientResponse,
};
pub use http_cache::HttpCache;
pub use logging::*;
pub use managed_identity::*;
pub use managed_identity_probe::*;
pub use partitioned_cache::*;
pub use python_fast::*;
pub use region::AzureRegion;
pub use types::*;

use guard::{call, guard, guard_async};
use idflow::error::{
    Flow as CoreFlow, HttpResponse, IdFlowError, LocalCode, NetworkKind as CoreNetwork,
};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::task::Poll;

uniffi::setup_scaffolding!("idflow");

fn response(status: u16, headers: Vec<Header>, body: Vec<u8>) -> HttpResponse {
    HttpResponse::new(
        status,
        headers.into_iter().map(|h| (h.name, h.value)).collect(),
        body,
    )
}

/// Classifies a token-endpoint (or authorize-redirect) response: the decision
/// as data, never thrown. `flow` is the request the response answered.
#[uniffi::export]
pub fn classify_response(
    status: u16,
    headers: Vec<Header>,
    body: Vec<u8>,
    flow: Flow,
) -> Result<Classified, AuthError> {
    guard(|| {
        Ok(Classified::from_core(&idflow::classify(
            &response(status, headers, body),
            flow.into(),
        )))
    })
}

/// Like [`classify_response`], but throws the idiomatic error unless the
/// response is a success (a device-code `authorization_pending` throws too).
#[uniffi::export]
pub fn raise_for_response(
    status: u16,
    headers: Vec<Header>,
    body: Vec<u8>,
    flow: Flow,
) -> Result<Classified, AuthError> {
    guard(|| {
        let c = idflow::classify(&response(status, headers, body), flow.into());
        match &c.error {
            Some(e) => Err(AuthError::from_core(e)),
            None => Ok(Classified::from_core(&c)),
        }
    })
}

/// The error for a transport failure (the request got no HTTP answer).
#[uniffi::export]
pub fn transport_failure(kind: NetworkKind, detail: String) -> Result<ErrorInfo, AuthError> {
    guard(|| {
        Ok(ErrorInfo::from_core(&IdFlowError::network(
            CoreNetwork::from(kind),
            detail,
        )))
    })
}

/// The decision for an AADSTS number (`AADSTS50079`), an error code
/// (`state_mismatch`, `invalid_grant`) or an error body (`{"error": ...}`).
/// Throws `invalid_parameter` for anything else.
#[uniffi::export]
pub fn explain(query: String) -> Result<ErrorInfo, AuthError> {
    call(
        || idflow::explain::explain(&query),
        |e| ErrorInfo::from_core(&e),
    )
}

/// The flow a name stands for: a flow's own name (`token`, `silent`,
/// `device_code`, `authorize`, `authorize_prompt_none`) or a grant name
/// (`client_credentials`, `refresh_token`, `authorization_code`, `password`,
/// `on_behalf_of`, `device_code`). Throws `invalid_parameter` for anything else.
#[uniffi::export]
pub fn parse_flow(name: String) -> Result<Flow, AuthError> {
    guard(|| match CoreFlow::parse(&name) {
        Some(f) => Ok(f.into()),
        None => {
            let known: Vec<&str> = CoreFlow::ALL
                .iter()
                .map(|f| f.as_str())
                .chain(CoreFlow::GRANT_ALIASES)
                .collect();
            Err(AuthError::from_core(&IdFlowError::local(
                LocalCode::InvalidParameter,
                format!("unknown flow {name:?}; one of {}", known.join(", ")),
            )))
        }
    })
}

/// Throws `info` as the idiomatic error (for apps that hold an `ErrorInfo`,
/// e.g. from [`classify_response`], and want the same throw a flow would make).
#[uniffi::export]
pub fn raise_error(info: ErrorInfo) -> Result<(), AuthError> {
    guard(|| Err(AuthError::from_info(info)))
}

/// Parses every `WWW-Authenticate` header among `headers` into its
/// challenges. Throws `unable_to_parse_authentication_header` (a client
/// error) for a header that does not parse.
#[uniffi::export]
pub fn parse_www_authenticate(headers: Vec<Header>) -> Result<Vec<AuthChallenge>, AuthError> {
    call(
        || {
            let pairs: Vec<(String, String)> =
                headers.into_iter().map(|h| (h.name, h.value)).collect();
            idflow::parse_www_authenticate_headers(&pairs)
        },
        |cs| cs.iter().map(AuthChallenge::from_core).collect(),
    )
}

/// The claims to pass to the next token request when a resource's 401
/// carries a claims challenge (`error="insufficient_claims"`), decoded;
/// `None` otherwise (and for headers that do not parse).
#[uniffi::export]
pub fn claims_challenge(headers: Vec<Header>) -> Option<String> {
    let pairs: Vec<(String, String)> = headers.into_iter().map(|h| (h.name, h.value)).collect();
    catch_unwind(AssertUnwindSafe(|| idflow::claims_challenge(&pairs)))
        .ok()
        .flatten()
}

/// Everything the language layers must be able to translate; each language's
/// consistency test fails when one of these has no mapping there.
#[uniffi::export]
pub fn mapping_catalogue() -> Catalogue {
    Catalogue::build()
}

/// Throws `internal_error` from a deliberate panic inside the core: shows that
/// no panic crosses the FFI boundary as a crash.
#[uniffi::export]
pub fn self_test_panic() -> Result<(), AuthError> {
    guard(|| {
        let v: Vec<u8> = Vec::new();
        let i = v.len() + 1;
        #[allow(clippy::indexing_slicing)]
        let _ = v[i];
        Ok(())
    })
}

/// The async form of [`self_test_panic`]: a panic after the first await
/// point (on a runtime worker) reaches the caller as `internal_error` too.
#[uniffi::export(async_runtime = "tokio")]
pub async fn self_test_panic_async() -> Result<(), AuthError> {
    guard_async(async {
        tokio_yield().await;
        let v: Vec<u8> = Vec::new();
        let i = v.len() + 1;
        #[allow(clippy::indexing_slicing)]
        let _ = v[i];
        Ok(())
    })
    .await
}

/// Yields once to the executor, so the panic happens on a later poll.
async fn tokio_yield() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
    .await;
}

impl From<Flow> for CoreFlow {
    fn from(f: Flow) -> Self {
        match f {
            Flow::Token => CoreFlow::Token,
            Flow::Silent => CoreFlow::Silent,
            Flow::DeviceCode => CoreFlow::DeviceCode,
            Flow::Authorize => CoreFlow::Authorize,
            Flow::AuthorizePromptNone => CoreFlow::AuthorizePromptNone,
        }
    }
}
