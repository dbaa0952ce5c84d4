//! The one list of codes idflow itself defines (snake_case, stable: apps may
//! match on them). Server-sent OAuth `error` values are passed through as-is
//! and are not listed here.
//!
//! Each row also fixes what the code looks like in every language, so the
//! language layers never decide anything: the Swift `NSError` code (and the
//! MSAL-style internal code under `IdFlowInternalErrorCodeKey` when the public
//! code is -50000), and the Python form (msal Python returns most failures as
//! a dict, raises `ValueError` for misuse and returns `None` for an empty
//! silent lookup).

use super::{Action, Classification, ErrorKind, NetworkKind};

/// What Python code observes for a failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PythonForm {
    /// An error dict (`error`, `error_description`, ...).
    Dict,
    /// `ValueError`: the call itself was wrong.
    ValueError,
    /// `None` from `acquire_token_silent` (nothing usable in the cache).
    NoneResult,
    /// Python's own `ConnectionError` (an `OSError`).
    ConnectionError,
    /// Python's own `TimeoutError` (an `OSError`).
    TimeoutError,
}

/// One row of the table.
#[derive(Clone, Debug)]
pub struct CodeSpec {
    pub kind: ErrorKind,
    pub classification: Option<Classification>,
    pub action: Action,
    /// Swift `NSError.code`: MSAL's public code, or the `NSURLError` code for network rows.
    pub swift_code: i64,
    /// MSAL-style internal code, present exactly when `swift_code == -50000`.
    pub swift_internal: Option<i64>,
    pub python: PythonForm,
}

macro_rules! local_codes {
    ($( $(#[$doc:meta])* $variant:ident = $code:literal :
        $kind:ident, $class:expr, $action:expr, $swift:literal, $internal:expr, $py:ident; )*) => {
        /// Codes idflow defines; see the module docs.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum LocalCode { $( $(#[$doc])* $variant, )* }

        impl LocalCode {
            pub const ALL: &'static [LocalCode] = &[ $( LocalCode::$variant, )* ];

            pub fn as_str(self) -> &'static str {
                match self { $( LocalCode::$variant => $code, )* }
            }

            pub fn spec(self) -> CodeSpec {
                match self { $( LocalCode::$variant => CodeSpec {
                    kind: ErrorKind::$kind,
                    classification: $class,
                    action: $action,
                    swift_code: $swift,
                    swift_internal: $internal,
                    python: PythonForm::$py,
                }, )* }
            }
        }
    };
}

use Classification as C;

local_codes! {
    // --- misuse and local state (client) ---
    /// An argument is missing or malformed.
    InvalidParameter = "invalid_parameter": Client, None, Action::FixConfiguration, -50000, Some(-42000), ValueError;
    /// The authority URL is malformed or not a known kind of authority.
    InvalidAuthority = "invalid_authority": Client, None, Action::FixConfiguration, -50000, Some(-42010), ValueError;
    /// The authority is not https (only loopback hosts may use http).
    InsecureAuthority = "authority_uri_insecure": Client, None, Action::FixConfiguration, -50000, Some(-42010), ValueError;
    /// The app passed a reserved scope (`openid`, `profile`, `offline_access`).
    ReservedScope = "reserved_scope": Client, None, Action::FixConfiguration, -50000, Some(-42000), ValueError;
    /// A flow that needs scopes was called without any.
    ScopesRequired = "scopes_required": Client, None, Action::FixConfiguration, -50000, Some(-42000), ValueError;
    /// The claims request is not a JSON object.
    InvalidJsonClaimsFormat = "invalid_json_claims_format": Client, None, Action::FixConfiguration, -50000, Some(-42000), ValueError;
    /// A `WWW-Authenticate` header could not be parsed.
    UnableToParseAuthenticationHeader = "unable_to_parse_authentication_header": Client, None, Action::FixConfiguration, -50000, Some(-42000), ValueError;
    /// The redirect's `state` is not the one this request sent.
    StateMismatch = "state_mismatch": Client, None, Action::AcquireInteractively, -50000, Some(-42501), ValueError;
    /// The id token's `nonce` is not the one this request sent.
    NonceMismatch = "nonce_mismatch": Client, None, Action::AcquireInteractively, -50000, Some(-42600), Dict;
    /// The id token failed validation (signature, issuer, audience, expiry).
    InvalidIdToken = "invalid_jwt": Client, None, Action::None, -50000, Some(-42600), Dict;
    /// The device code expired before the user finished signing in.
    CodeExpired = "code_expired": Client, None, Action::AcquireInteractively, -50000, Some(-42008), Dict;
    /// Windows integrated auth could not identify the signed-in user.
    UnknownUser = "unknown_user": Client, None, Action::FixConfiguration, -50000, Some(-42000), Dict;
    /// Windows integrated auth was used for a cloud-only (managed) user.
    IntegratedWindowsAuthNotSupportedManagedUser = "integrated_windows_auth_not_supported_managed_user": Client, None, Action::AcquireInteractively, -50000, Some(-42000), Dict;
    /// The system browser could not be opened, or the loopback redirect listener failed.
    AuthenticationUiFailed = "authentication_ui_failed": Client, None, Action::None, -50000, Some(-42008), Dict;
    /// A bug in idflow (a caught panic); report it with the correlation id.
    InternalError = "internal_error": Client, None, Action::None, -50000, Some(-42008), Dict;
    /// A serialized token cache (given to `deserialize`, or read from storage) is not
    /// JSON in the MSAL cache schema; the cache was left unchanged. msal Python's
    /// `json.loads` raises a `ValueError` for the same input.
    InvalidCacheFormat = "invalid_cache_format": Client, None, Action::FixConfiguration, -50000, Some(-42000), ValueError;
    /// The token cache storage could not be read, locked or written (the message
    /// names the operation and the OS error); the in-memory cache is intact.
    CacheStorageFailed = "cache_storage_failed": Client, None, Action::None, -50000, Some(-42008), Dict;

    /// The password of a PKCS#12 (.pfx) file or the passphrase of an encrypted
    /// private key is wrong or missing. msal Python raises `ValueError` (from
    /// `cryptography`) for the same input.
    CertificatePasswordIncorrect = "certificate_password_incorrect": Client, None, Action::FixConfiguration, -50000, Some(-42000), ValueError;
    /// The private key is not the one whose public half the certificate holds:
    /// assertions signed with it would be refused as `invalid_client`.
    CertificateKeyMismatch = "certificate_key_mismatch": Client, None, Action::FixConfiguration, -50000, Some(-42000), ValueError;
    /// The app's client assertion callback failed or returned nothing, or the
    /// federated token file (`AZURE_FEDERATED_TOKEN_FILE`) could not be read.
    ClientAssertionUnavailable = "client_assertion_unavailable": Client, None, Action::FixConfiguration, -50000, Some(-42000), Dict;

    // --- silent acquisition found nothing usable (interaction required) ---
    /// Silent acquisition was called without an account.
    NoAccount = "no_account": InteractionRequired, Some(C::AcquireTokenSilentFailed), Action::AcquireInteractively, -50002, None, NoneResult;
    /// The cache holds neither a usable access token nor a refresh token.
    NoTokensFound = "no_tokens_found": InteractionRequired, Some(C::AcquireTokenSilentFailed), Action::AcquireInteractively, -50002, None, NoneResult;

    // --- the server's answer could not be used (service) ---
    /// The body is not an OAuth error (HTML, truncated, not JSON, over the size cap).
    NonParsableOAuthError = "non_parsable_oauth_error": Service, None, Action::None, -50000, Some(-42007), Dict;
    /// A non-2xx status with no OAuth error in the body.
    HttpStatusNotOk = "http_status_not_200": Service, None, Action::None, -50000, Some(-42009), Dict;
    /// HTTP 404 with no OAuth error: usually a wrong authority or endpoint.
    NotFound = "not_found": Service, None, Action::FixConfiguration, -50000, Some(-42007), Dict;
    /// HTTP 5xx with no OAuth error.
    ServiceNotAvailable = "service_not_available": Service, None, Action::Retry, -50000, Some(-42007), Dict;
    /// HTTP 429 with no OAuth error.
    RequestThrottled = "request_throttled": Service, None, Action::Retry, -50000, Some(-42007), Dict;
    /// A 2xx answer that is neither a token nor an error (e.g. no `access_token`).
    InvalidTokenResponse = "invalid_token_response": Service, None, Action::None, -50000, Some(-42600), Dict;
    /// The server granted fewer scopes than requested.
    ServerDeclinedScopes = "server_declined_scopes": Service, None, Action::None, -50003, None, Dict;

    // --- the client-side throttle ---
    /// A repeat of a request that recently failed, blocked locally until its Retry-After.
    ThrottledRequest = "throttled_request": Throttled, None, Action::Retry, -50000, Some(-42007), Dict;

    // --- managed identity (names as MSAL.NET's MsalError has them) ---
    /// The managed identity kind is not one this source can serve (Cloud Shell and
    /// Azure Arc serve only the system-assigned identity). msal Python raises
    /// `ManagedIdentityError`, a `ValueError`.
    UserAssignedManagedIdentityNotSupported = "user_assigned_managed_identity_not_supported": Client, None, Action::FixConfiguration, -50000, Some(-42000), ValueError;
    /// An endpoint variable of the environment (`IDENTITY_ENDPOINT`, `MSI_ENDPOINT`,
    /// `IMDS_ENDPOINT`, `AZURE_POD_IDENTITY_AUTHORITY_HOST`) is not an http(s) URL.
    InvalidManagedIdentityEndpoint = "invalid_managed_identity_endpoint": Client, None, Action::FixConfiguration, -50000, Some(-42010), ValueError;
    /// The managed identity endpoint answered with something that is neither a
    /// token nor an error (not JSON, or JSON without a token). msal Python's
    /// `json.loads` raises a `ValueError` for the same answer.
    InvalidManagedIdentityResponse = "invalid_managed_identity_response": Service, None, Action::None, -50000, Some(-42007), ValueError;
    /// The managed identity request could not be completed on this side: an
    /// unrecognizable Azure Arc challenge, or a key file outside the agent's
    /// directory, not named `*.key`, or larger than 4 KiB.
    ManagedIdentityRequestFailed = "managed_identity_request_failed": Client, None, Action::None, -50000, Some(-42008), ValueError;

    // --- cancellation ---
    /// The user closed the sign-in UI, declined, or the app cancelled the request.
    UserCancelled = "user_cancelled": Cancelled, None, Action::None, -50005, None, Dict;

    // --- transport (network); Swift codes are NSURLErrorDomain codes ---
    /// No answer within the timeout.
    RequestTimeout = "request_timeout": Network, None, Action::Retry, -1001, None, TimeoutError;
    /// The host name did not resolve.
    CannotFindHost = "cannot_find_host": Network, None, Action::CheckNetwork, -1003, None, ConnectionError;
    /// The connection was refused.
    CannotConnectToHost = "cannot_connect_to_host": Network, None, Action::CheckNetwork, -1004, None, ConnectionError;
    /// The connection dropped before the answer was complete.
    NetworkConnectionLost = "network_connection_lost": Network, None, Action::CheckNetwork, -1005, None, ConnectionError;
    /// The device is offline.
    NoNetworkConnectivity = "no_network_connectivity": Network, None, Action::CheckNetwork, -1009, None, ConnectionError;
    /// The TLS handshake or certificate check failed.
    TlsFailure = "tls_failure": Network, None, Action::CheckNetwork, -1200, None, ConnectionError;
}

impl LocalCode {
    pub fn parse(code: &str) -> Option<LocalCode> {
        LocalCode::ALL.iter().copied().find(|c| c.as_str() == code)
    }
}

impl NetworkKind {
    /// The code a network failure carries, from the one table of local codes.
    pub fn local_code(self) -> LocalCode {
        match self {
            NetworkKind::Timeout => LocalCode::RequestTimeout,
            NetworkKind::Dns => LocalCode::CannotFindHost,
            NetworkKind::ConnectionRefused => LocalCode::CannotConnectToHost,
            NetworkKind::ConnectionLost => LocalCode::NetworkConnectionLost,
            NetworkKind::NotConnected => LocalCode::NoNetworkConnectivity,
            NetworkKind::Tls => LocalCode::TlsFailure,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_snake_case() {
        let mut seen = HashSet::new();
        for c in LocalCode::ALL {
            let s = c.as_str();
            assert!(seen.insert(s), "duplicate {s}");
            assert!(
                s.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "{s}"
            );
        }
    }

    #[test]
    fn internal_code_exactly_under_minus_50000() {
        for c in LocalCode::ALL {
            let spec = c.spec();
            assert_eq!(
                spec.swift_code == -50000,
                spec.swift_internal.is_some(),
                "{}",
                c.as_str()
            );
            assert_eq!(
                spec.kind == ErrorKind::InteractionRequired,
                spec.classification.is_some()
            );
        }
    }
}
