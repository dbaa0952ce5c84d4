//! The Kotlin view: the MSAL-for-Java exception class, the
//! interaction-required reason and the `java.net` cause.

use crate::error::{ErrorKind, IdFlowError, NetworkKind};

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
