//! What each language observes for an error — decided here, once, so the
//! Swift, Kotlin and Python layers only translate. One file per language:
//!
//! - [`swift`]: an `NSError` in `IdFlowErrorDomain` whose code equals MSAL's
//!   `MSALError` (network failures: `NSURLErrorDomain` with the NSURLError code).
//! - [`kotlin`]: a class of the MSAL-for-Java hierarchy, the interaction-required
//!   reason, and for network failures the `java.net` cause.
//! - [`python`]: msal Python's dict, or the exception msal would raise.
//!
//! The functions and types are re-exported here, so callers write
//! `idioms::swift(&e)` whatever file holds them.

mod kotlin;
mod python;
mod swift;

pub use kotlin::{kotlin, kotlin_reason, JavaCause, KotlinClass, KotlinView};
pub use python::{python, python_dict, python_success, python_token_result, PythonView};
pub use swift::{
    swift, swift_code, user_info_key, SwiftView, UserInfoValue, NSURL_DOMAIN, SWIFT_DOMAIN,
    SWIFT_INTERNAL_CODES,
};

use crate::error::IdFlowError;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// A service error's headers, each name's values joined with ", " (how
/// Swift's userInfo and msal Python's dict show them).
fn joined_headers(s: &crate::ServiceDetails) -> BTreeMap<String, String> {
    s.header_map()
        .into_iter()
        .map(|(k, v)| (k, v.join(", ")))
        .collect()
}

/// The whole decision and every language's view, as JSON (what
/// `idflow explain` prints).
pub fn report(e: &IdFlowError) -> Value {
    let s = swift(e);
    let user_info: Map<String, Value> = s
        .user_info
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_json()))
        .collect();
    let k = kotlin(e);
    let py = match python(e) {
        PythonView::Dict(d) => json!({ "form": "dict", "dict": d }),
        PythonView::NoneResult => json!({ "form": "None", "dict": Value::Null }),
        PythonView::Raise { exception, message } => {
            json!({ "form": exception.as_str(), "message": message })
        }
    };
    json!({
        "kind": e.kind.as_str(),
        "code": e.code,
        "message": e.message,
        "classification": e.classification.map(|c| c.as_str()),
        "retryable": e.retryable,
        "retry_after_secs": e.retry_after.map(|d| d.as_secs()),
        "aadsts": e.aadsts(),
        "action": e.action.as_str(),
        "mitigation": e.mitigation,
        "correlation_id": e.correlation_id,
        "http_status": e.http_status(),
        "swift": {
            "domain": s.domain,
            "code": s.code,
            "internal_code": s.internal_code,
            "user_info": user_info,
        },
        "kotlin": {
            "class": k.class.as_str(),
            "reason": e.classification.filter(|_| k.class == KotlinClass::InteractionRequiredException).map(kotlin_reason),
            "cause": k.cause.map(JavaCause::as_str),
        },
        "python": py,
    })
}
