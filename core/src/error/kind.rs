//! The small vocabularies of the error model: kinds, flows, transport
//! failures and the recommended action. A leaf: the tables (`codes`,
//! `aadsts`) and the decisions (`classify`, `action`) build on it.

use serde::{Deserialize, Serialize};

/// What kind of failure this is; every failure is exactly one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The app or the local state is wrong; never from the wire. Fix the call or the configuration.
    Client,
    /// The identity provider said no, and showing UI will not help.
    Service,
    /// Only an interactive sign-in can fix it: show UI (with the claims, if any).
    InteractionRequired,
    /// The transport failed before an HTTP answer arrived.
    Network,
    /// The client-side throttle blocked a repeat of a request that recently failed.
    Throttled,
    /// The app or the user cancelled.
    Cancelled,
}

impl ErrorKind {
    pub const ALL: [ErrorKind; 6] = [
        ErrorKind::Client,
        ErrorKind::Service,
        ErrorKind::InteractionRequired,
        ErrorKind::Network,
        ErrorKind::Throttled,
        ErrorKind::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Client => "client",
            ErrorKind::Service => "service",
            ErrorKind::InteractionRequired => "interaction_required",
            ErrorKind::Network => "network",
            ErrorKind::Throttled => "throttled",
            ErrorKind::Cancelled => "cancelled",
        }
    }
}

/// The request a response answered. The same body means different things in
/// different flows: `authorization_pending` is "keep polling" only for the
/// device code, `login_required` is `PromptNeverFailed` only for a silent
/// authorize, and msal Python adds `classification` only in silent acquisition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Flow {
    /// Any token-endpoint call made on the app's request (client credentials,
    /// auth-code redemption, refresh-token import, ROPC, on-behalf-of).
    Token,
    /// A token-endpoint call made by silent acquisition (refresh from the cache).
    Silent,
    /// A device-code polling request; errors may arrive with HTTP 200.
    DeviceCode,
    /// The redirect back from `/authorize` (body: its query string or URL).
    Authorize,
    /// The redirect back from `/authorize` requested with `prompt=none`.
    AuthorizePromptNone,
}

impl Flow {
    pub const ALL: [Flow; 5] = [
        Flow::Token,
        Flow::Silent,
        Flow::DeviceCode,
        Flow::Authorize,
        Flow::AuthorizePromptNone,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Flow::Token => "token",
            Flow::Silent => "silent",
            Flow::DeviceCode => "device_code",
            Flow::Authorize => "authorize",
            Flow::AuthorizePromptNone => "authorize_prompt_none",
        }
    }

    /// A flow by its name, or by the OAuth grant that makes the request (how
    /// users name them): `client_credentials`, `authorization_code`,
    /// `password` and `on_behalf_of` (or its `jwt-bearer` grant type) are
    /// token-endpoint calls made on the app's request; `refresh_token` is the
    /// grant silent acquisition sends; `device_code` (or its full URN) is the
    /// device-code poll.
    pub fn parse(s: &str) -> Option<Flow> {
        Flow::ALL.into_iter().find(|f| f.as_str() == s).or(match s {
            "client_credentials"
            | "authorization_code"
            | "password"
            | "on_behalf_of"
            | "urn:ietf:params:oauth:grant-type:jwt-bearer" => Some(Flow::Token),
            "refresh_token" => Some(Flow::Silent),
            "urn:ietf:params:oauth:grant-type:device_code" => Some(Flow::DeviceCode),
            _ => None,
        })
    }

    /// The grant names [`Flow::parse`] also accepts (`device_code` is a
    /// flow's own name already).
    pub const GRANT_ALIASES: [&'static str; 5] = [
        "client_credentials",
        "refresh_token",
        "authorization_code",
        "password",
        "on_behalf_of",
    ];

    /// Whether the response is an `/authorize` redirect rather than a token-endpoint answer.
    pub fn is_authorize(self) -> bool {
        matches!(self, Flow::Authorize | Flow::AuthorizePromptNone)
    }
}

/// The recommended next step. The data it needs (the Retry-After wait, the
/// claims for the interactive request) is on the error itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Retry the same request once, after a short delay.
    Retry,
    /// Retry no sooner than the error's `retry_after`.
    RetryAfter,
    /// Sign the user in interactively, passing the error's claims if any.
    AcquireInteractively,
    /// The app's configuration or the call is wrong: a developer must fix it.
    FixConfiguration,
    /// Only a tenant administrator can resolve it.
    ContactAdmin,
    /// The device has no working connection to the identity provider.
    CheckNetwork,
    /// Nothing automatic helps; report the error (with its correlation id).
    None,
}

impl Action {
    pub const ALL: [Action; 7] = [
        Action::Retry,
        Action::RetryAfter,
        Action::AcquireInteractively,
        Action::FixConfiguration,
        Action::ContactAdmin,
        Action::CheckNetwork,
        Action::None,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Retry => "retry",
            Action::RetryAfter => "retry_after",
            Action::AcquireInteractively => "acquire_interactively",
            Action::FixConfiguration => "fix_configuration",
            Action::ContactAdmin => "contact_admin",
            Action::CheckNetwork => "check_network",
            Action::None => "none",
        }
    }
}

/// Which transport failure happened; each maps to the platform's own error
/// (NSURLError code in Swift, java.net exception in Kotlin, OSError in Python).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NetworkKind {
    Timeout,
    Dns,
    ConnectionRefused,
    ConnectionLost,
    NotConnected,
    Tls,
}

impl NetworkKind {
    pub const ALL: [NetworkKind; 6] = [
        NetworkKind::Timeout,
        NetworkKind::Dns,
        NetworkKind::ConnectionRefused,
        NetworkKind::ConnectionLost,
        NetworkKind::NotConnected,
        NetworkKind::Tls,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NetworkKind::Timeout => "timeout",
            NetworkKind::Dns => "dns",
            NetworkKind::ConnectionRefused => "connection_refused",
            NetworkKind::ConnectionLost => "connection_lost",
            NetworkKind::NotConnected => "not_connected",
            NetworkKind::Tls => "tls",
        }
    }

    pub fn parse(s: &str) -> Option<NetworkKind> {
        NetworkKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grant_names_are_flow_aliases() {
        for f in Flow::ALL {
            assert_eq!(Flow::parse(f.as_str()), Some(f));
        }
        for g in [
            "client_credentials",
            "authorization_code",
            "password",
            "on_behalf_of",
        ] {
            assert_eq!(Flow::parse(g), Some(Flow::Token), "{g}");
        }
        assert_eq!(Flow::parse("refresh_token"), Some(Flow::Silent));
        assert_eq!(Flow::parse("device_code"), Some(Flow::DeviceCode));
        assert_eq!(
            Flow::parse("urn:ietf:params:oauth:grant-type:device_code"),
            Some(Flow::DeviceCode)
        );
        for g in Flow::GRANT_ALIASES {
            assert!(Flow::parse(g).is_some(), "{g}");
        }
        assert_eq!(Flow::parse("Token"), None);
        assert_eq!(Flow::parse("implicit"), None);
    }
}
