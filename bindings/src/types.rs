//! FFI-shaped mirrors of the core's decision. Field docs say what the caller
//! should do with each; the values are filled by `convert.rs` only.

use std::collections::HashMap;

/// `Display` as the (redacting) `Debug`, for the records that export both:
/// Swift reads `description`, Kotlin `toString` and Python `str` from
/// `Display`, and Python `repr` and Swift `debugDescription` from `Debug`.
macro_rules! display_as_debug {
    ($($t:ty),+ $(,)?) => {$(
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Debug::fmt(self, f)
            }
        }
    )+};
}
pub(crate) use display_as_debug;

/// One HTTP header (repeated headers are repeated entries).
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
#[uniffi::export(Debug, Display)]
pub struct Header {
    pub name: String,
    pub value: String,
}

/// A credential's value (`Authorization` of a Basic-authenticated request,
/// a managed identity's secret header) is shown as `[redacted]`.
impl std::fmt::Debug for Header {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut s = f.debug_struct("Header");
        s.field("name", &self.name);
        if idflow::is_credential_header(&self.name) {
            s.field("value", &REDACTED);
        } else {
            s.field("value", &self.value);
        }
        s.finish()
    }
}

/// The request a response answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum Flow {
    Token,
    Silent,
    DeviceCode,
    Authorize,
    AuthorizePromptNone,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum ErrorKind {
    Client,
    Service,
    InteractionRequired,
    Network,
    Throttled,
    Cancelled,
}

/// MSAL.NET's UiRequiredExceptionClassification. Meaningful only when the
/// kind is `InteractionRequired`; `None` otherwise.
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum Classification {
    None,
    MessageOnly,
    BasicAction,
    AdditionalAction,
    ConsentRequired,
    UserPasswordExpired,
    PromptNeverFailed,
    AcquireTokenSilentFailed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum NetworkKind {
    Timeout,
    Dns,
    ConnectionRefused,
    ConnectionLost,
    NotConnected,
    Tls,
}

/// What to do next.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum RecommendedAction {
    /// Retry once after a short delay.
    Retry,
    /// Retry no sooner than this.
    RetryAfter {
        seconds: u64,
    },
    /// Sign in interactively, passing these claims if present.
    AcquireInteractively {
        claims: Option<String>,
    },
    FixConfiguration,
    ContactAdmin,
    CheckNetwork,
    None,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum Outcome {
    Success,
    Pending,
    Error,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum Polling {
    Continue,
    SlowDown,
    Stop,
}

/// The MSAL-for-Java class a Kotlin app catches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum KotlinClass {
    ClientException,
    ServiceException,
    InteractionRequiredException,
    ThrottlingException,
}

/// The `java.net` exception a network failure has as its cause in Kotlin.
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum JavaCause {
    SocketTimeoutException,
    UnknownHostException,
    ConnectException,
    SocketException,
    NoRouteToHostException,
    SslException,
}

/// What Python code observes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum PythonForm {
    Dict,
    NoneResult,
    ValueError,
    ConnectionError,
    TimeoutError,
}

/// A Swift userInfo value, to become the matching Foundation type.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum UserInfoValue {
    Text { value: String },
    Int { value: i64 },
    Bool { value: bool },
    Ints { values: Vec<i64> },
    Texts { values: Vec<String> },
    Map { entries: HashMap<String, String> },
}

#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct UserInfoEntry {
    pub key: String,
    pub value: UserInfoValue,
}

/// What Swift sees: `NSError(domain:code:userInfo:)`.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct SwiftInfo {
    pub domain: String,
    pub code: i64,
    pub internal_code: Option<i64>,
    pub user_info: Vec<UserInfoEntry>,
}

/// What Kotlin sees.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct KotlinInfo {
    pub class_name: KotlinClass,
    pub cause: Option<JavaCause>,
}

/// What Python sees: `form`, and msal's dict as JSON (also the message source
/// when `form` is an exception).
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct PythonInfo {
    pub form: PythonForm,
    pub dict_json: String,
}

/// A classified failure with every field the server sent and every
/// language's view of it.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct ErrorInfo {
    pub kind: ErrorKind,
    /// The OAuth `error`, or an idflow code (stable snake_case).
    pub code: String,
    /// Safe to log; never holds secrets. Do not branch on it.
    pub message: String,
    pub correlation_id: Option<String>,
    pub classification: Classification,
    pub retryable: bool,
    pub retry_after_secs: Option<u64>,
    pub action: RecommendedAction,
    pub mitigation: String,
    pub flow: Flow,
    pub network: Option<NetworkKind>,
    pub http_status: Option<u16>,
    /// Response headers, names lower-cased (`set-cookie` dropped).
    pub headers: Vec<Header>,
    pub error_description: Option<String>,
    /// AADSTS numbers (diagnostics: do not branch on them).
    pub error_codes: Vec<i64>,
    pub suberror: Option<String>,
    /// A claims challenge to pass to the next interactive request.
    pub claims: Option<String>,
    pub trace_id: Option<String>,
    pub timestamp: Option<String>,
    pub error_uri: Option<String>,
    pub swift: SwiftInfo,
    pub kotlin: KotlinInfo,
    pub python: PythonInfo,
}

/// The decision for one response. Its string form (Kotlin `toString`, Swift
/// `description`, Python `str`/`repr`) leaves out the result's tokens.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
#[uniffi::export(Debug, Display)]
pub struct Classified {
    pub outcome: Outcome,
    /// Device code only.
    pub polling: Option<Polling>,
    pub error: Option<ErrorInfo>,
    /// On success: msal Python's result dict as JSON (holds tokens).
    pub result_json: Option<String>,
}

impl std::fmt::Debug for Classified {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Classified")
            .field("outcome", &self.outcome)
            .field("polling", &self.polling)
            .field("error", &self.error)
            .field("result_json", &self.result_json.as_ref().map(|_| REDACTED))
            .finish()
    }
}

display_as_debug!(Classified);

/// One idflow-defined code and its fixed views.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct LocalCodeInfo {
    pub code: String,
    pub kind: ErrorKind,
    pub swift_code: i64,
    pub swift_internal_code: Option<i64>,
    pub python_form: PythonForm,
}

/// Every value the language layers must translate.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct Catalogue {
    pub local_codes: Vec<LocalCodeInfo>,
    pub kinds: Vec<ErrorKind>,
    pub classifications: Vec<Classification>,
    pub network_kinds: Vec<NetworkKind>,
    pub kotlin_classes: Vec<KotlinClass>,
    pub java_causes: Vec<JavaCause>,
    pub python_forms: Vec<PythonForm>,
    pub swift_public_codes: Vec<i64>,
    pub swift_internal_codes: Vec<i64>,
    pub user_info_keys: Vec<String>,
    /// Kotlin's `InteractionRequiredReason` constant names, in classification order.
    pub kotlin_reasons: Vec<String>,
}

/// The one public error. Each variant carries the whole decision in `info`;
/// `message` repeats `info.message` because uniffi does not carry `Display`.
#[derive(Clone, Debug, thiserror::Error, uniffi::Error)]
pub enum AuthError {
    #[error("{message}")]
    Client { info: ErrorInfo, message: String },
    #[error("{message}")]
    Service { info: ErrorInfo, message: String },
    #[error("{message}")]
    InteractionRequired { info: ErrorInfo, message: String },
    #[error("{message}")]
    Network { info: ErrorInfo, message: String },
    #[error("{message}")]
    Throttled { info: ErrorInfo, message: String },
    #[error("{message}")]
    Cancelled { info: ErrorInfo, message: String },
}

/// One `WWW-Authenticate` challenge.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct AuthChallenge {
    /// As sent (`Bearer`, `PoP`, ...).
    pub scheme: String,
    /// Parameter names lower-cased, values unquoted.
    pub params: HashMap<String, String>,
    /// The `error` parameter (`insufficient_claims`, `invalid_token`, ...).
    pub error: Option<String>,
    /// The `claims` parameter, base64-decoded when it is base64 of a JSON object.
    pub claims: Option<String>,
    /// The authority named by `authorization_uri` / `authorization` / `authority`.
    pub authority: Option<String>,
}

/// The signed-in user (absent for app-only tokens).
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct AccountInfo {
    /// `uid.utid` for Microsoft authorities, the id token's `sub` otherwise.
    pub home_account_id: String,
    pub environment: String,
    pub tenant_id: String,
    pub username: String,
    pub local_account_id: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum TokenSource {
    IdentityProvider,
    Cache,
}

/// A successful token acquisition. Holds tokens: its string form (Kotlin
/// `toString`, Swift `description`, Python `str`/`repr`) shows every other
/// field and `[redacted]` for the tokens; read the fields themselves to use them.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
#[uniffi::export(Debug, Display)]
pub struct TokenResult {
    pub access_token: String,
    pub token_type: String,
    /// Unix seconds.
    pub expires_on: i64,
    pub scopes: Vec<String>,
    pub refresh_token: Option<String>,
    pub id_token: Option<String>,
    /// The validated id token's claims as a JSON object.
    pub id_token_claims_json: Option<String>,
    pub account: Option<AccountInfo>,
    pub correlation_id: String,
    pub token_source: TokenSource,
    /// Unix seconds after which a refresh is advised, if the server said.
    pub refresh_on: Option<i64>,
    pub family_id: Option<String>,
    /// msal Python's result dict, as JSON.
    pub python_json: String,
}

impl std::fmt::Debug for TokenResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redacted = |v: &Option<String>| v.as_ref().map(|_| REDACTED);
        f.debug_struct("TokenResult")
            .field("access_token", &REDACTED)
            .field("token_type", &self.token_type)
            .field("expires_on", &self.expires_on)
            .field("scopes", &self.scopes)
            .field("refresh_token", &redacted(&self.refresh_token))
            .field("id_token", &redacted(&self.id_token))
            .field(
                "id_token_claims_json",
                &redacted(&self.id_token_claims_json),
            )
            .field("account", &self.account)
            .field("correlation_id", &self.correlation_id)
            .field("token_source", &self.token_source)
            .field("refresh_on", &self.refresh_on)
            .field("family_id", &self.family_id)
            .field("python_json", &REDACTED)
            .finish()
    }
}

display_as_debug!(TokenResult);

display_as_debug!(Header);

/// What the string forms show in place of a secret.
pub(crate) const REDACTED: Redacted = Redacted;

/// Formats as `[redacted]` (without quotes) in `Debug` and `Display`.
#[derive(Clone, Copy)]
pub(crate) struct Redacted;

impl std::fmt::Debug for Redacted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}
