//! Interaction-required classification, decided from `suberror` (values and
//! order as MSAL.NET's `UiRequiredExceptionClassification`).

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Classification {
    /// No further detail; an interactive sign-in may resolve it.
    None,
    /// Interactive sign-in will only show a message; it cannot fix the condition now.
    MessageOnly,
    /// The user can fix it during the interactive sign-in.
    BasicAction,
    /// The user must act outside the sign-in (e.g. enrol a device).
    AdditionalAction,
    /// Consent is missing or was revoked.
    ConsentRequired,
    /// The password expired; the interactive sign-in lets the user reset it.
    UserPasswordExpired,
    /// An authorize request with `prompt=none` could not complete silently.
    PromptNeverFailed,
    /// Silent acquisition had nothing usable locally (no account, no refresh token).
    AcquireTokenSilentFailed,
}

impl Classification {
    pub const ALL: [Classification; 8] = [
        Classification::None,
        Classification::MessageOnly,
        Classification::BasicAction,
        Classification::AdditionalAction,
        Classification::ConsentRequired,
        Classification::UserPasswordExpired,
        Classification::PromptNeverFailed,
        Classification::AcquireTokenSilentFailed,
    ];

    /// From a server `suberror`. Internal suberrors (`bad_token`,
    /// `token_expired`, `protection_policy_required`, `client_mismatch`,
    /// `device_authentication_failed`) and unknown ones give `None`.
    pub fn from_suberror(suberror: Option<&str>) -> Classification {
        match suberror.map(str::to_ascii_lowercase).as_deref() {
            Some("basic_action") => Classification::BasicAction,
            Some("additional_action") => Classification::AdditionalAction,
            Some("message_only") => Classification::MessageOnly,
            Some("consent_required") => Classification::ConsentRequired,
            Some("user_password_expired") => Classification::UserPasswordExpired,
            _ => Classification::None,
        }
    }

    /// The name MSAL.NET gives the value (also idflow's JSON form).
    pub fn as_str(self) -> &'static str {
        match self {
            Classification::None => "None",
            Classification::MessageOnly => "MessageOnly",
            Classification::BasicAction => "BasicAction",
            Classification::AdditionalAction => "AdditionalAction",
            Classification::ConsentRequired => "ConsentRequired",
            Classification::UserPasswordExpired => "UserPasswordExpired",
            Classification::PromptNeverFailed => "PromptNeverFailed",
            Classification::AcquireTokenSilentFailed => "AcquireTokenSilentFailed",
        }
    }

    pub fn parse(s: &str) -> Option<Classification> {
        Classification::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// Suberrors msal Python hides from the app (its `classification` is `""`).
const INTERNAL_SUBERRORS: [&str; 5] = [
    "bad_token",
    "token_expired",
    "protection_policy_required",
    "client_mismatch",
    "device_authentication_failed",
];

/// The `classification` value msal Python puts in a silent flow's error dict:
/// the suberror itself, or `""` for the internal ones; absent without suberror.
pub fn python_classification(suberror: Option<&str>) -> Option<String> {
    let s = suberror.filter(|s| !s.is_empty())?;
    if INTERNAL_SUBERRORS.contains(&s) {
        Some(String::new())
    } else {
        Some(s.to_owned())
    }
}
