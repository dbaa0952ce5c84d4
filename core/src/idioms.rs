//! What each language observes for an error — decided here, once, so the
//! Swift, Kotlin and Python layers only translate.
//!
//! - Swift: an `NSError` in `IdFlowErrorDomain` whose code equals MSAL's
//!   `MSALError` (network failures: `NSURLErrorDomain` with the NSURLError code).
//! - Kotlin: a class of the MSAL-for-Java hierarchy, the interaction-required
//!   reason, and for network failures the `java.net` cause.
//! - Python: msal Python's dict, or the exception msal would raise.

use crate::error::{ErrorKind, IdFlowError, LocalCode, NetworkKind, PythonForm};
use serde_json::{json, Map, Value};
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

/// The MSAL-for-Java class a Kotlin app catches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KotlinClass {
    ClientException,
    ServiceException,
    InteractionRequiredException,
    ThrottlingException,
}

/// The `java.net` cause attached to a network `ClientException`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JavaCause {
    SocketTimeoutException,
    UnknownHostException,
    ConnectException,
    SocketException,
    NoRouteToHostException,
    SSLException,
}

/// What Kotlin sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KotlinView {
    pub class: KotlinClass,
    pub cause: Option<JavaCause>,
}

impl KotlinClass {
    pub const ALL: [KotlinClass; 4] = [
        KotlinClass::ClientException,
        KotlinClass::ServiceException,
        KotlinClass::InteractionRequiredException,
        KotlinClass::ThrottlingException,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            KotlinClass::ClientException => "ClientException",
            KotlinClass::ServiceException => "ServiceException",
            KotlinClass::InteractionRequiredException => "InteractionRequiredException",
            KotlinClass::ThrottlingException => "ThrottlingException",
        }
    }
}

impl JavaCause {
    pub const ALL: [JavaCause; 6] = [
        JavaCause::SocketTimeoutException,
        JavaCause::UnknownHostException,
        JavaCause::ConnectException,
        JavaCause::SocketException,
        JavaCause::NoRouteToHostException,
        JavaCause::SSLException,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            JavaCause::SocketTimeoutException => "java.net.SocketTimeoutException",
            JavaCause::UnknownHostException => "java.net.UnknownHostException",
            JavaCause::ConnectException => "java.net.ConnectException",
            JavaCause::SocketException => "java.net.SocketException",
            JavaCause::NoRouteToHostException => "java.net.NoRouteToHostException",
            JavaCause::SSLException => "javax.net.ssl.SSLException",
        }
    }
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

/// The Kotlin view of an error.
pub fn kotlin(e: &IdFlowError) -> KotlinView {
    let class = match e.kind {
        ErrorKind::Client | ErrorKind::Network | ErrorKind::Cancelled => {
            KotlinClass::ClientException
        }
        ErrorKind::Service => KotlinClass::ServiceException,
        ErrorKind::InteractionRequired => KotlinClass::InteractionRequiredException,
        ErrorKind::Throttled => KotlinClass::ThrottlingException,
    };
    let cause = e.network.map(|n| match n {
        NetworkKind::Timeout => JavaCause::SocketTimeoutException,
        NetworkKind::Dns => JavaCause::UnknownHostException,
        NetworkKind::ConnectionRefused => JavaCause::ConnectException,
        NetworkKind::ConnectionLost => JavaCause::SocketException,
        NetworkKind::NotConnected => JavaCause::NoRouteToHostException,
        NetworkKind::Tls => JavaCause::SSLException,
    });
    KotlinView { class, cause }
}

/// What Python observes: a dict, `None`, or an exception.
#[derive(Clone, Debug, PartialEq)]
pub enum PythonView {
    Dict(Map<String, Value>),
    NoneResult,
    Raise {
        exception: PythonForm,
        message: String,
    },
}

/// The Python view of an error.
pub fn python(e: &IdFlowError) -> PythonView {
    let form = LocalCode::parse(&e.code).map_or(PythonForm::Dict, |c| c.spec().python);
    match form {
        PythonForm::Dict => PythonView::Dict(python_dict(e)),
        PythonForm::NoneResult => PythonView::NoneResult,
        other => PythonView::Raise {
            exception: other,
            message: e.to_string(),
        },
    }
}

/// msal Python's error dict: the server's keys as sent (or `error` and
/// `error_description` for failures without a server body), `classification`
/// where msal computes it (silent flows, when there is a suberror), plus
/// idflow's extras.
pub fn python_dict(e: &IdFlowError) -> Map<String, Value> {
    let mut d = match e.service.as_ref().and_then(|s| s.body.clone()) {
        // msal reduces an authorize redirect's error to these keys (no state, no codes).
        Some(mut body) if e.flow.is_authorize() => {
            body.retain(|k, _| matches!(k.as_str(), "error" | "error_description" | "error_uri"));
            body
        }
        Some(body) => body,
        None => {
            let mut m = Map::new();
            m.insert("error".into(), json!(e.code));
            m.insert("error_description".into(), json!(e.message));
            // A JSON body without `error` still gave its platform fields.
            if let Some(s) = &e.service {
                if !s.error_codes.is_empty() {
                    m.insert("error_codes".into(), json!(s.error_codes));
                }
                if let Some(v) = &s.suberror {
                    m.insert("suberror".into(), json!(v));
                }
                if let Some(v) = &s.claims {
                    m.insert("claims".into(), json!(v));
                }
            }
            m
        }
    };
    if e.flow == crate::Flow::Silent {
        if let Some(c) = crate::error::python_classification(e.suberror()) {
            d.insert("classification".into(), json!(c));
        }
    }
    if let Some(id) = &e.correlation_id {
        d.entry("correlation_id").or_insert_with(|| json!(id));
    }
    d.insert("error_kind".into(), json!(e.kind.as_str()));
    d.insert("action".into(), json!(e.action.as_str()));
    d.insert("mitigation".into(), json!(e.mitigation));
    d.insert("retryable".into(), json!(e.retryable));
    if let Some(r) = e.retry_after {
        d.insert("retry_after".into(), json!(r.as_secs()));
    }
    if let Some(s) = &e.service {
        d.insert("http_status".into(), json!(s.http_status));
        d.insert("headers".into(), json!(joined_headers(s)));
    }
    d
}

/// msal Python's success dict for a token response.
pub fn python_success(result: &Map<String, Value>) -> Map<String, Value> {
    let mut d = result.clone();
    d.insert("token_source".into(), json!("identity_provider"));
    d
}

fn joined_headers(s: &crate::ServiceDetails) -> BTreeMap<String, String> {
    s.header_map()
        .into_iter()
        .map(|(k, v)| (k, v.join(", ")))
        .collect()
}

/// The Kotlin `InteractionRequiredReason` constant for a classification.
pub fn kotlin_reason(c: crate::Classification) -> &'static str {
    use crate::Classification::*;
    match c {
        None => "NONE",
        MessageOnly => "MESSAGE_ONLY",
        BasicAction => "BASIC_ACTION",
        AdditionalAction => "ADDITIONAL_ACTION",
        ConsentRequired => "CONSENT_REQUIRED",
        UserPasswordExpired => "USER_PASSWORD_EXPIRED",
        PromptNeverFailed => "PROMPT_NEVER_FAILED",
        AcquireTokenSilentFailed => "ACQUIRE_TOKEN_SILENT_FAILED",
    }
}

impl PythonForm {
    pub const ALL: [PythonForm; 5] = [
        PythonForm::Dict,
        PythonForm::NoneResult,
        PythonForm::ValueError,
        PythonForm::ConnectionError,
        PythonForm::TimeoutError,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            PythonForm::Dict => "dict",
            PythonForm::NoneResult => "None",
            PythonForm::ValueError => "ValueError",
            PythonForm::ConnectionError => "ConnectionError",
            PythonForm::TimeoutError => "TimeoutError",
        }
    }
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

/// msal Python's result dict for a token: the server's fields as msal keeps
/// them (`access_token`, `token_type`, `expires_in` counted from `now`,
/// `ext_expires_in`, `scope` space-joined, `refresh_token`, `id_token`,
/// `client_info`), plus `id_token_claims`, `token_source` and `refresh_on`.
pub fn python_token_result(
    r: &crate::AuthenticationResult,
    now: std::time::SystemTime,
) -> Map<String, Value> {
    let secs = |t: std::time::SystemTime| {
        t.duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    };
    let mut d = Map::new();
    d.insert("access_token".into(), json!(r.access_token.expose()));
    d.insert("token_type".into(), json!(r.token_type));
    d.insert("expires_in".into(), json!(r.expires_in(now)));
    if r.token_source == crate::TokenSource::Cache {
        // msal's cache hit mimics a minimal response: no scope, no other tokens.
        d.insert("token_source".into(), json!("cache"));
        if let Some(on) = r.refresh_on {
            d.insert("refresh_on".into(), json!(secs(on)));
        }
        return d;
    }
    if let Some(ext) = r.ext_expires_on {
        d.insert(
            "ext_expires_in".into(),
            json!(ext.duration_since(now).map_or(0, |d| d.as_secs())),
        );
    }
    d.insert("scope".into(), json!(r.scopes.join(" ")));
    if let Some(rt) = &r.refresh_token {
        d.insert("refresh_token".into(), json!(rt.expose()));
    }
    if let Some(id) = &r.id_token {
        d.insert("id_token".into(), json!(id.expose()));
    }
    if let Some(ci) = &r.client_info {
        d.insert("client_info".into(), json!(ci));
    }
    if let Some(claims) = &r.id_token_claims {
        d.insert("id_token_claims".into(), Value::Object(claims.all.clone()));
    }
    let source = match r.token_source {
        crate::TokenSource::IdentityProvider => "identity_provider",
        crate::TokenSource::Cache => "cache",
    };
    d.insert("token_source".into(), json!(source));
    if let Some(on) = r.refresh_on {
        d.insert("refresh_on".into(), json!(secs(on)));
    }
    d
}
