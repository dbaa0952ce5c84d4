//! Core → FFI conversions. Exhaustive matches: a new core variant without an
//! FFI mirror fails to compile.

use crate::types::*;
use idflow::error::{Action, PythonForm as CorePythonForm};
use idflow::idioms::{self, JavaCause as CoreCause, KotlinClass as CoreClass, PythonView};
use idflow::{
    Classification as CoreClass8, ErrorKind as CoreKind, IdFlowError, NetworkKind as CoreNet,
};
use std::time::{SystemTime, UNIX_EPOCH};

impl From<CoreKind> for ErrorKind {
    fn from(k: CoreKind) -> Self {
        match k {
            CoreKind::Client => ErrorKind::Client,
            CoreKind::Service => ErrorKind::Service,
            CoreKind::InteractionRequired => ErrorKind::InteractionRequired,
            CoreKind::Network => ErrorKind::Network,
            CoreKind::Throttled => ErrorKind::Throttled,
            CoreKind::Cancelled => ErrorKind::Cancelled,
        }
    }
}

impl From<CoreClass8> for Classification {
    fn from(c: CoreClass8) -> Self {
        match c {
            CoreClass8::None => Classification::None,
            CoreClass8::MessageOnly => Classification::MessageOnly,
            CoreClass8::BasicAction => Classification::BasicAction,
            CoreClass8::AdditionalAction => Classification::AdditionalAction,
            CoreClass8::ConsentRequired => Classification::ConsentRequired,
            CoreClass8::UserPasswordExpired => Classification::UserPasswordExpired,
            CoreClass8::PromptNeverFailed => Classification::PromptNeverFailed,
            CoreClass8::AcquireTokenSilentFailed => Classification::AcquireTokenSilentFailed,
        }
    }
}

impl From<CoreNet> for NetworkKind {
    fn from(n: CoreNet) -> Self {
        match n {
            CoreNet::Timeout => NetworkKind::Timeout,
            CoreNet::Dns => NetworkKind::Dns,
            CoreNet::ConnectionRefused => NetworkKind::ConnectionRefused,
            CoreNet::ConnectionLost => NetworkKind::ConnectionLost,
            CoreNet::NotConnected => NetworkKind::NotConnected,
            CoreNet::Tls => NetworkKind::Tls,
        }
    }
}

impl From<NetworkKind> for CoreNet {
    fn from(n: NetworkKind) -> Self {
        match n {
            NetworkKind::Timeout => CoreNet::Timeout,
            NetworkKind::Dns => CoreNet::Dns,
            NetworkKind::ConnectionRefused => CoreNet::ConnectionRefused,
            NetworkKind::ConnectionLost => CoreNet::ConnectionLost,
            NetworkKind::NotConnected => CoreNet::NotConnected,
            NetworkKind::Tls => CoreNet::Tls,
        }
    }
}

impl From<idflow::Flow> for Flow {
    fn from(f: idflow::Flow) -> Self {
        match f {
            idflow::Flow::Token => Flow::Token,
            idflow::Flow::Silent => Flow::Silent,
            idflow::Flow::DeviceCode => Flow::DeviceCode,
            idflow::Flow::Authorize => Flow::Authorize,
            idflow::Flow::AuthorizePromptNone => Flow::AuthorizePromptNone,
        }
    }
}

impl From<CoreClass> for KotlinClass {
    fn from(c: CoreClass) -> Self {
        match c {
            CoreClass::ClientException => KotlinClass::ClientException,
            CoreClass::ServiceException => KotlinClass::ServiceException,
            CoreClass::InteractionRequiredException => KotlinClass::InteractionRequiredException,
            CoreClass::ThrottlingException => KotlinClass::ThrottlingException,
        }
    }
}

impl From<CoreCause> for JavaCause {
    fn from(c: CoreCause) -> Self {
        match c {
            CoreCause::SocketTimeoutException => JavaCause::SocketTimeoutException,
            CoreCause::UnknownHostException => JavaCause::UnknownHostException,
            CoreCause::ConnectException => JavaCause::ConnectException,
            CoreCause::SocketException => JavaCause::SocketException,
            CoreCause::NoRouteToHostException => JavaCause::NoRouteToHostException,
            CoreCause::SSLException => JavaCause::SslException,
        }
    }
}

impl From<CorePythonForm> for PythonForm {
    fn from(f: CorePythonForm) -> Self {
        match f {
            CorePythonForm::Dict => PythonForm::Dict,
            CorePythonForm::NoneResult => PythonForm::NoneResult,
            CorePythonForm::ValueError => PythonForm::ValueError,
            CorePythonForm::ConnectionError => PythonForm::ConnectionError,
            CorePythonForm::TimeoutError => PythonForm::TimeoutError,
        }
    }
}

fn user_info_value(v: idioms::UserInfoValue) -> UserInfoValue {
    match v {
        idioms::UserInfoValue::Text(value) => UserInfoValue::Text { value },
        idioms::UserInfoValue::Int(value) => UserInfoValue::Int { value },
        idioms::UserInfoValue::Bool(value) => UserInfoValue::Bool { value },
        idioms::UserInfoValue::Ints(values) => UserInfoValue::Ints { values },
        idioms::UserInfoValue::Texts(values) => UserInfoValue::Texts { values },
        idioms::UserInfoValue::Map(m) => UserInfoValue::Map {
            entries: m.into_iter().collect(),
        },
    }
}

fn action(e: &IdFlowError) -> RecommendedAction {
    match e.action {
        Action::Retry => RecommendedAction::Retry,
        Action::RetryAfter => RecommendedAction::RetryAfter {
            seconds: e.retry_after.map_or(0, |d| d.as_secs()),
        },
        Action::AcquireInteractively => RecommendedAction::AcquireInteractively {
            claims: e.claims().map(str::to_owned),
        },
        Action::FixConfiguration => RecommendedAction::FixConfiguration,
        Action::ContactAdmin => RecommendedAction::ContactAdmin,
        Action::CheckNetwork => RecommendedAction::CheckNetwork,
        Action::None => RecommendedAction::None,
    }
}

impl ErrorInfo {
    pub(crate) fn from_core(e: &IdFlowError) -> Self {
        let swift = idioms::swift(e);
        let kotlin = idioms::kotlin(e);
        let (form, dict) = match idioms::python(e) {
            PythonView::Dict(d) => (PythonForm::Dict, d),
            PythonView::NoneResult => (PythonForm::NoneResult, idioms::python_dict(e)),
            PythonView::Raise { exception, .. } => (exception.into(), idioms::python_dict(e)),
        };
        let s = e.service.as_ref();
        ErrorInfo {
            kind: e.kind.into(),
            code: e.code.clone(),
            message: e.message.clone(),
            correlation_id: e.correlation_id.clone(),
            classification: e.classification.map_or(Classification::None, Into::into),
            retryable: e.retryable,
            retry_after_secs: e.retry_after.map(|d| d.as_secs()),
            action: action(e),
            mitigation: e.mitigation.to_owned(),
            flow: e.flow.into(),
            network: e.network.map(Into::into),
            http_status: e.http_status(),
            headers: s.map_or_else(Vec::new, |s| {
                s.headers
                    .iter()
                    .map(|(n, v)| Header {
                        name: n.clone(),
                        value: v.clone(),
                    })
                    .collect()
            }),
            error_description: s.and_then(|s| s.error_description.clone()),
            error_codes: e.aadsts().to_vec(),
            suberror: e.suberror().map(str::to_owned),
            claims: e.claims().map(str::to_owned),
            trace_id: s.and_then(|s| s.trace_id.clone()),
            timestamp: s.and_then(|s| s.timestamp.clone()),
            error_uri: s.and_then(|s| s.error_uri.clone()),
            swift: SwiftInfo {
                domain: swift.domain.to_owned(),
                code: swift.code,
                internal_code: swift.internal_code,
                user_info: swift
                    .user_info
                    .into_iter()
                    .map(|(k, v)| UserInfoEntry {
                        key: k.to_owned(),
                        value: user_info_value(v),
                    })
                    .collect(),
            },
            kotlin: KotlinInfo {
                class_name: kotlin.class.into(),
                cause: kotlin.cause.map(Into::into),
            },
            python: PythonInfo {
                form,
                dict_json: serde_json::Value::Object(dict).to_string(),
            },
        }
    }
}

impl AuthError {
    pub(crate) fn from_core(e: &IdFlowError) -> Self {
        AuthError::from_info(ErrorInfo::from_core(e))
    }

    pub(crate) fn from_info(info: ErrorInfo) -> Self {
        let message = info.message.clone();
        match info.kind {
            ErrorKind::Client => AuthError::Client { info, message },
            ErrorKind::Service => AuthError::Service { info, message },
            ErrorKind::InteractionRequired => AuthError::InteractionRequired { info, message },
            ErrorKind::Network => AuthError::Network { info, message },
            ErrorKind::Throttled => AuthError::Throttled { info, message },
            ErrorKind::Cancelled => AuthError::Cancelled { info, message },
        }
    }

    /// The decision this error carries.
    pub fn info(&self) -> &ErrorInfo {
        match self {
            AuthError::Client { info, .. }
            | AuthError::Service { info, .. }
            | AuthError::InteractionRequired { info, .. }
            | AuthError::Network { info, .. }
            | AuthError::Throttled { info, .. }
            | AuthError::Cancelled { info, .. } => info,
        }
    }
}

impl Classified {
    pub(crate) fn from_core(c: &idflow::Classified) -> Self {
        Classified {
            outcome: match c.outcome {
                idflow::Outcome::Success => Outcome::Success,
                idflow::Outcome::Pending => Outcome::Pending,
                idflow::Outcome::Error => Outcome::Error,
            },
            polling: c.polling.map(|p| match p {
                idflow::Polling::Continue => Polling::Continue,
                idflow::Polling::SlowDown => Polling::SlowDown,
                idflow::Polling::Stop => Polling::Stop,
            }),
            error: c.error.as_ref().map(ErrorInfo::from_core),
            result_json: c
                .result
                .as_ref()
                .map(|r| serde_json::Value::Object(idioms::python_success(r)).to_string()),
        }
    }
}

impl Catalogue {
    pub(crate) fn build() -> Self {
        use idflow::error::LocalCode;
        Catalogue {
            local_codes: LocalCode::ALL
                .iter()
                .map(|c| {
                    let s = c.spec();
                    LocalCodeInfo {
                        code: c.as_str().to_owned(),
                        kind: s.kind.into(),
                        swift_code: s.swift_code,
                        swift_internal_code: s.swift_internal,
                        python_form: s.python.into(),
                    }
                })
                .collect(),
            kinds: CoreKind::ALL.iter().map(|k| (*k).into()).collect(),
            classifications: CoreClass8::ALL.iter().map(|c| (*c).into()).collect(),
            network_kinds: CoreNet::ALL.iter().map(|n| (*n).into()).collect(),
            kotlin_classes: CoreClass::ALL.iter().map(|c| (*c).into()).collect(),
            java_causes: CoreCause::ALL.iter().map(|c| (*c).into()).collect(),
            python_forms: CorePythonForm::ALL.iter().map(|f| (*f).into()).collect(),
            swift_public_codes: idioms::swift_code::PUBLIC.to_vec(),
            swift_internal_codes: idioms::SWIFT_INTERNAL_CODES
                .iter()
                .map(|(c, _)| *c)
                .collect(),
            user_info_keys: idioms::user_info_key::ALL
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
            kotlin_reasons: CoreClass8::ALL
                .iter()
                .map(|c| idioms::kotlin_reason(*c).to_owned())
                .collect(),
        }
    }
}

/// A foreign callback (the app's `UrlOpener`) that failed with something other
/// than an `AuthError` ends the sign-in as `authentication_ui_failed`, never a panic.
impl From<uniffi::UnexpectedUniFFICallbackError> for AuthError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        AuthError::from_core(&IdFlowError::local(
            idflow::error::LocalCode::AuthenticationUiFailed,
            format!("the app's callback failed: {}", e.reason),
        ))
    }
}

impl AuthChallenge {
    pub(crate) fn from_core(c: &idflow::AuthChallenge) -> Self {
        AuthChallenge {
            scheme: c.scheme.clone(),
            params: c
                .params
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            error: c.error().map(str::to_owned),
            claims: c.claims(),
            authority: c.authority(),
        }
    }
}

/// `?` from a core error to the FFI error.
impl From<IdFlowError> for AuthError {
    fn from(e: IdFlowError) -> Self {
        AuthError::from_core(&e)
    }
}

/// Unix seconds (0 before the epoch).
pub(crate) fn unix(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// A token as the FFI returns it, with msal Python's dict beside it.
pub(crate) fn token_result(r: idflow::AuthenticationResult) -> TokenResult {
    let python = idflow::idioms::python_token_result(&r, SystemTime::now());
    TokenResult {
        access_token: r.access_token.expose().to_owned(),
        token_type: r.token_type.clone(),
        expires_on: unix(r.expires_on),
        scopes: r.scopes.clone(),
        refresh_token: r.refresh_token.as_ref().map(|t| t.expose().to_owned()),
        id_token: r.id_token.as_ref().map(|t| t.expose().to_owned()),
        id_token_claims_json: r
            .id_token_claims
            .as_ref()
            .map(|c| serde_json::Value::Object(c.all.clone()).to_string()),
        account: r.account.as_ref().map(account_info),
        correlation_id: r.correlation_id.clone(),
        token_source: match r.token_source {
            idflow::TokenSource::IdentityProvider => TokenSource::IdentityProvider,
            idflow::TokenSource::Cache => TokenSource::Cache,
        },
        refresh_on: r.refresh_on.map(unix),
        family_id: r.family_id.clone(),
        python_json: serde_json::Value::Object(python).to_string(),
    }
}

pub(crate) fn account_info(a: &idflow::Account) -> AccountInfo {
    AccountInfo {
        home_account_id: a.home_account_id.clone(),
        environment: a.environment.clone(),
        tenant_id: a.realm.clone(),
        username: a.username.clone(),
        local_account_id: a.local_account_id.clone(),
    }
}

pub(crate) fn core_account(a: AccountInfo) -> idflow::Account {
    idflow::Account {
        home_account_id: a.home_account_id,
        environment: a.environment,
        realm: a.tenant_id,
        username: a.username,
        local_account_id: a.local_account_id,
    }
}
