//! The Swift view: MSAL for iOS/macOS's `NSError` codes and userInfo keys.

use super::joined_headers;
use crate::error::{ErrorKind, IdFlowError, LocalCode};
use serde_json::{json, Value};
use std::collections::BTreeMap;

pub const SWIFT_DOMAIN: &str = "IdFlowErrorDomain";
pub const NSURL_DOMAIN: &str = "NSURLErrorDomain";

/// MSAL's public `MSALError` codes that idflow emits.
pub mod swift_code {
    pub const INTERNAL: i64 = -50000;
    pub const INTERACTION_REQUIRED: i64 = -50002;
    pub const SERVER_DECLINED_SCOPES: i64 = -50003;
    pub const SERVER_PROTECTION_POLICIES_REQUIRED: i64 = -50004;
    pub const USER_CANCELED: i64 = -50005;
    pub const SERVER_ERROR: i64 = -50006;
    pub const RESET_PASSWORD_REQUIRED: i64 = -50142;
    /// The public codes, for the language layers' consistency checks.
    pub const PUBLIC: [i64; 6] = [
        INTERNAL,
        INTERACTION_REQUIRED,
        SERVER_DECLINED_SCOPES,
        SERVER_PROTECTION_POLICIES_REQUIRED,
        USER_CANCELED,
        RESET_PASSWORD_REQUIRED,
    ];
}

/// MSAL's `MSALInternalError` codes idflow uses under `IdFlowInternalErrorCodeKey` (plus
/// -50006, which MSAL also reports there for `server_error`).
pub const SWIFT_INTERNAL_CODES: [(i64, &str); 14] = [
    (-42000, "invalidParameter"),
    (-42002, "invalidRequest"),
    (-42003, "invalidClient"),
    (-42004, "invalidGrant"),
    (-42005, "invalidScope"),
    (-42006, "unauthorizedClient"),
    (-42007, "unhandledResponse"),
    (-42008, "unexpected"),
    (-42009, "unexpectedHttpResponse"),
    (-42010, "failedAuthorityValidation"),
    (-42104, "authorizationFailed"),
    (-42501, "invalidState"),
    (-42600, "invalidResponse"),
    (swift_code::SERVER_ERROR, "serverError"),
];

/// The userInfo keys (each value equals its name, as MSAL's do).
pub mod user_info_key {
    pub const OAUTH_ERROR: &str = "IdFlowOAuthErrorKey";
    pub const OAUTH_SUBERROR: &str = "IdFlowOAuthSubErrorKey";
    pub const ERROR_DESCRIPTION: &str = "IdFlowErrorDescriptionKey";
    pub const STS_ERROR_CODES: &str = "IdFlowSTSErrorCodesKey";
    pub const INTERNAL_ERROR_CODE: &str = "IdFlowInternalErrorCodeKey";
    pub const HTTP_HEADERS: &str = "IdFlowHTTPHeadersKey";
    pub const HTTP_RESPONSE_CODE: &str = "IdFlowHTTPResponseCodeKey";
    pub const CORRELATION_ID: &str = "IdFlowCorrelationIDKey";
    pub const DECLINED_SCOPES: &str = "IdFlowDeclinedScopesKey";
    pub const GRANTED_SCOPES: &str = "IdFlowGrantedScopesKey";
    pub const THROTTLING_CACHE_HIT: &str = "IdFlowThrottlingCacheHitKey";
    pub const CLAIMS: &str = "IdFlowClaimsKey";
    pub const CLASSIFICATION: &str = "IdFlowClassificationKey";
    pub const RECOMMENDED_ACTION: &str = "IdFlowRecommendedActionKey";
    pub const MITIGATION: &str = "IdFlowMitigationKey";
    pub const RETRY_AFTER: &str = "IdFlowRetryAfterKey";
    pub const IS_RETRYABLE: &str = "IdFlowIsRetryableKey";
    pub const ERROR_KIND: &str = "IdFlowErrorKindKey";
    pub const LOCALIZED_DESCRIPTION: &str = "NSLocalizedDescription";
    /// Every key, for the language layers' consistency checks.
    pub const ALL: [&str; 19] = [
        OAUTH_ERROR,
        OAUTH_SUBERROR,
        ERROR_DESCRIPTION,
        STS_ERROR_CODES,
        INTERNAL_ERROR_CODE,
        HTTP_HEADERS,
        HTTP_RESPONSE_CODE,
        CORRELATION_ID,
        DECLINED_SCOPES,
        GRANTED_SCOPES,
        THROTTLING_CACHE_HIT,
        CLAIMS,
        CLASSIFICATION,
        RECOMMENDED_ACTION,
        MITIGATION,
        RETRY_AFTER,
        IS_RETRYABLE,
        ERROR_KIND,
        LOCALIZED_DESCRIPTION,
    ];
}

/// A userInfo value; the Swift layer turns each into the matching Foundation type.
#[derive(Clone, Debug, PartialEq)]
pub enum UserInfoValue {
    Text(String),
    Int(i64),
    Bool(bool),
    Ints(Vec<i64>),
    Texts(Vec<String>),
    /// Header name → value (repeated headers joined with ", ").
    Map(BTreeMap<String, String>),
}

impl UserInfoValue {
    /// The value as JSON (how `idflow explain` prints userInfo).
    pub fn to_json(&self) -> Value {
        match self {
            UserInfoValue::Text(t) => json!(t),
            UserInfoValue::Int(i) => json!(i),
            UserInfoValue::Bool(b) => json!(b),
            UserInfoValue::Ints(i) => json!(i),
            UserInfoValue::Texts(t) => json!(t),
            UserInfoValue::Map(m) => json!(m),
        }
    }
}

/// What Swift sees.
#[derive(Clone, Debug, PartialEq)]
pub struct SwiftView {
    pub domain: &'static str,
    pub code: i64,
    pub internal_code: Option<i64>,
    pub user_info: Vec<(&'static str, UserInfoValue)>,
}

/// The Swift view of an error.
pub fn swift(e: &IdFlowError) -> SwiftView {
    use user_info_key as k;
    let (domain, code, internal_code) = swift_codes(e);
    let mut info: Vec<(&'static str, UserInfoValue)> = Vec::new();
    let text = |s: &str| UserInfoValue::Text(s.to_owned());
    info.push((k::LOCALIZED_DESCRIPTION, text(&e.message)));
    info.push((k::ERROR_KIND, text(e.kind.as_str())));
    info.push((k::RECOMMENDED_ACTION, text(e.action.as_str())));
    info.push((k::MITIGATION, text(e.mitigation)));
    info.push((k::IS_RETRYABLE, UserInfoValue::Bool(e.retryable)));
    if let Some(internal) = internal_code {
        info.push((k::INTERNAL_ERROR_CODE, UserInfoValue::Int(internal)));
    }
    if let Some(c) = e.classification {
        info.push((k::CLASSIFICATION, text(c.as_str())));
    }
    if let Some(id) = &e.correlation_id {
        info.push((k::CORRELATION_ID, text(id)));
    }
    if let Some(d) = e.retry_after {
        info.push((
            k::RETRY_AFTER,
            UserInfoValue::Int(d.as_secs().min(i64::MAX as u64) as i64),
        ));
    }
    if e.kind == ErrorKind::Throttled {
        info.push((k::THROTTLING_CACHE_HIT, UserInfoValue::Bool(true)));
    }
    if let Some(s) = &e.service {
        if s.body.is_some() {
            info.push((k::OAUTH_ERROR, text(&e.code)));
        }
        if let Some(v) = &s.suberror {
            info.push((k::OAUTH_SUBERROR, text(v)));
        }
        if let Some(v) = &s.error_description {
            info.push((k::ERROR_DESCRIPTION, text(v)));
        }
        if !s.error_codes.is_empty() {
            info.push((
                k::STS_ERROR_CODES,
                UserInfoValue::Ints(s.error_codes.clone()),
            ));
        }
        if let Some(v) = &s.claims {
            info.push((k::CLAIMS, text(v)));
        }
        info.push((k::HTTP_RESPONSE_CODE, text(&s.http_status.to_string())));
        info.push((k::HTTP_HEADERS, UserInfoValue::Map(joined_headers(s))));
    }
    SwiftView {
        domain,
        code,
        internal_code,
        user_info: info,
    }
}

/// Whether MSAL for iOS/macOS reads this token-endpoint answer's body at all:
/// its request error handler hands 400 and 401 to the response serializer
/// (and a 2xx is read as a token or an error), while every other status —
/// 403, 404, 408, 429, 5xx — becomes an unhandled response (-42007, with the
/// headers and status code in userInfo) whatever the body holds
/// (AzureAD/microsoft-authentication-library-common-for-objc
/// IdentityCore/src/network/error_handler/MSIDAADRequestErrorHandler.m; MSAL's
/// AzureAD/microsoft-authentication-library-for-objc MSAL/src/MSALErrorConverter.m
/// maps its MSIDErrorServerUnhandledResponse to MSALInternalErrorUnhandledResponse).
/// Authorize redirects are not HTTP answers of the token endpoint.
fn swift_unhandled_response(e: &IdFlowError) -> bool {
    match e.service.as_ref() {
        Some(s) if !e.flow.is_authorize() => {
            !(200..300).contains(&s.http_status) && !matches!(s.http_status, 400 | 401)
        }
        _ => false,
    }
}

fn swift_codes(e: &IdFlowError) -> (&'static str, i64, Option<i64>) {
    use swift_code::*;
    if let Some(n) = e.network {
        return (NSURL_DOMAIN, n.local_code().spec().swift_code, None);
    }
    if swift_unhandled_response(e) {
        return (SWIFT_DOMAIN, INTERNAL, Some(-42007));
    }
    if let Some(local) = LocalCode::parse(&e.code) {
        let spec = local.spec();
        return (SWIFT_DOMAIN, spec.swift_code, spec.swift_internal);
    }
    let code = match e.kind {
        ErrorKind::Cancelled => USER_CANCELED,
        ErrorKind::InteractionRequired if e.aadsts().contains(&50142) => RESET_PASSWORD_REQUIRED,
        ErrorKind::InteractionRequired => INTERACTION_REQUIRED,
        // A throttled interaction-required error keeps its classification
        // and, as MSAL's throttled errors do, the original's code.
        ErrorKind::Throttled if e.classification.is_some() => INTERACTION_REQUIRED,
        _ if e.suberror() == Some("protection_policy_required") => {
            SERVER_PROTECTION_POLICIES_REQUIRED
        }
        _ => INTERNAL,
    };
    // The five standard OAuth errors keep their codes; any other error string
    // is MSIDErrorServerOauth, which MSAL reports as authorization failed
    // (IdentityCore/src/MSIDError.m `MSIDErrorCodeForOAuthError` with the
    // token response's default; MSAL/src/MSALErrorConverter.m).
    let internal = (code == INTERNAL).then_some(match e.code.as_str() {
        "invalid_request" => -42002,
        "invalid_client" => -42003,
        "invalid_grant" => -42004,
        "invalid_scope" => -42005,
        "unauthorized_client" => -42006,
        "server_error" => SERVER_ERROR,
        _ => -42104,
    });
    (SWIFT_DOMAIN, code, internal)
}
