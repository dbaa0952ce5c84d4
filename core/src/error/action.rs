//! What the caller should do next, and the mitigation text that explains it.
//! The texts are idflow's own; they cover every row of the seed's tables
//! (via the AADSTS table), every classification, every local code and the
//! OAuth errors of RFC 6749 / RFC 8628.

use super::{aadsts, Action, Classification, ErrorKind, IdFlowError, LocalCode};

/// The action for a service error that is not interaction-required, from its
/// OAuth `error` alone.
pub(crate) fn action_for_oauth_error(error: &str) -> Action {
    match error {
        "invalid_client"
        | "unauthorized_client"
        | "invalid_scope"
        | "invalid_request"
        | "unsupported_grant_type"
        | "unsupported_response_type"
        | "invalid_resource"
        | "invalid_target"
        | "invalid_client_metadata"
        | "bad_verification_code" => Action::FixConfiguration,
        "temporarily_unavailable" | "server_error" => Action::Retry,
        "expired_token" | "access_denied" | "authorization_declined" => {
            Action::AcquireInteractively
        }
        _ => Action::None,
    }
}

/// The mitigation text for an error: the most specific of its AADSTS row,
/// its classification, its code, and its kind.
pub fn mitigation_for(e: &IdFlowError) -> &'static str {
    if e.kind == ErrorKind::Throttled {
        // A throttled error keeps the original code; what to do now is wait.
        if e.action == Action::AcquireInteractively {
            return "This request failed moments ago asking for an interactive sign-in and is \
                blocked locally. Sign the user in interactively (with the error's claims, if \
                any); that lifts the block.";
        }
        if let Some(text) = local_text(LocalCode::ThrottledRequest) {
            return text;
        }
    }
    if let Some(code) = LocalCode::parse(&e.code) {
        if let Some(text) = local_text(code) {
            return text;
        }
    }
    if let Some(row) = aadsts::mitigation_match(&e.code, e.kind, e.aadsts()) {
        return row.mitigation;
    }
    if e.kind == ErrorKind::InteractionRequired {
        if let Some(c) = e.classification.filter(|c| *c != Classification::None) {
            return classification_text(c);
        }
        if e.claims().is_some() {
            return CLAIMS_CHALLENGE;
        }
    }
    if e.kind == ErrorKind::Cancelled {
        return "The user cancelled or declined the sign-in. Offer to try again; do not retry automatically.";
    }
    if e.retry_after.is_some() && e.kind == ErrorKind::Service {
        return "The identity provider asked the app to wait (Retry-After). Do not send this request \
            again before retry_after has passed; cache tokens so the app asks less often.";
    }
    if let Some(text) = oauth_text(&e.code) {
        return text;
    }
    kind_text(e.kind)
}

const CLAIMS_CHALLENGE: &str = "The resource demands more than the current sign-in provides (a \
    claims challenge, e.g. from Conditional Access). Start an interactive sign-in and pass the \
    error's claims with it.";

/// One text per classification, so the app can tell the user what will happen.
pub fn classification_text(c: Classification) -> &'static str {
    match c {
        Classification::None => {
            "An interactive sign-in is needed; no further detail was given. \
            Show the sign-in UI for the same scopes."
        }
        Classification::MessageOnly => {
            "The condition cannot be fixed now. An interactive sign-in \
            will only show a message explaining it, then end as cancelled; apps may skip it when \
            the message would not help the user."
        }
        Classification::BasicAction => {
            "The user can resolve this during an interactive sign-in \
            (for example by completing MFA or accepting terms). Show the sign-in UI."
        }
        Classification::AdditionalAction => {
            "The user must take a step outside the sign-in (for \
            example enrol the device). An interactive sign-in explains the step; apps may skip it \
            when the user is unlikely to complete it."
        }
        Classification::ConsentRequired => {
            "Consent is missing or was revoked. Show the sign-in UI \
            so the user (or an administrator) can consent."
        }
        Classification::UserPasswordExpired => {
            "The user's password has expired. Show the sign-in \
            UI so they can change it."
        }
        Classification::PromptNeverFailed => {
            "A sign-in with prompt=none could not complete from \
            the browser's session. Repeat it interactively, without prompt=none."
        }
        Classification::AcquireTokenSilentFailed => {
            "Nothing in the cache can be used for this \
            request (no account, or no token to refresh). Sign the user in interactively."
        }
    }
}

fn local_text(code: LocalCode) -> Option<&'static str> {
    use LocalCode::*;
    Some(match code {
        InvalidParameter => "An argument of the call is missing or malformed; the message names it. Fix the call.",
        InvalidAuthority => "The authority URL is not valid. Use https://login.microsoftonline.com/<tenant> (or a sovereign-cloud host, a B2C policy URL, or an OpenID issuer URL).",
        InsecureAuthority => "Authorities must use https; plain http is accepted only for loopback hosts used in tests.",
        ReservedScope => "openid, profile and offline_access are added automatically; remove them from the requested scopes.",
        ScopesRequired => "This flow needs at least one scope; for client credentials pass '<resource>/.default'.",
        InvalidJsonClaimsFormat => "The claims request must be a JSON object. Pass the claims string from the error or WWW-Authenticate header unchanged.",
        UnableToParseAuthenticationHeader => "The WWW-Authenticate header could not be parsed. Pass the header value exactly as the API returned it.",
        StateMismatch => "The redirect's state does not match the request, so it may be forged or stale. Discard it and start a new interactive sign-in.",
        NonceMismatch => "The id token's nonce does not match the request: the response may be replayed. Start a new interactive sign-in.",
        InvalidIdToken => "The id token failed validation (signature, issuer, audience or expiry). Check the authority configuration and the device clock.",
        CodeExpired => "The device code expired before the user finished. Start a new device code flow and show the new code promptly.",
        UnknownUser => "The signed-in Windows user could not be identified, or is not domain-joined. Pass the username explicitly, or use an interactive sign-in.",
        IntegratedWindowsAuthNotSupportedManagedUser => "Windows integrated authentication only works for federated users (created in on-premises AD). This user is cloud-only: use an interactive sign-in.",
        AuthenticationUiFailed => "The interactive sign-in could not start: the browser did not open or the local redirect listener failed. Check that a browser is installed and loopback connections are allowed, or use the device code flow.",
        InternalError => "idflow hit an internal error. Report it with the correlation id; retrying is unlikely to help.",
        InvalidCacheFormat => "The serialized token cache is not JSON in the MSAL cache schema (truncated, or written by something else). The cache was left as it was; discard the bad copy and let the cache be rebuilt by signing in.",
        CacheStorageFailed => "The token cache could not be read or written where it is stored (permissions, disk full, missing directory). Tokens still work in memory; fix the storage location.",
        CertificatePasswordIncorrect => "The certificate's password or the private key's passphrase is wrong or missing. Pass the one the file was exported with.",
        CertificateKeyMismatch => "The private key does not belong to the certificate given with it. Pass the key the certificate was issued for (the pair exported together).",
        ClientAssertionUnavailable => "No client assertion could be obtained: the app's assertion callback failed, or the federated token file is missing, unreadable or empty. Check the callback, or that AZURE_FEDERATED_TOKEN_FILE names the projected token file.",
        UserAssignedManagedIdentityNotSupported => "This managed identity source serves only the system-assigned identity (Cloud Shell, Azure Arc). Use SystemAssignedManagedIdentity here, or run where user-assigned identities are available.",
        InvalidManagedIdentityEndpoint => "An endpoint variable of the managed identity environment is not an http(s) URL. Fix or unset IDENTITY_ENDPOINT, MSI_ENDPOINT, IMDS_ENDPOINT or AZURE_POD_IDENTITY_AUTHORITY_HOST.",
        InvalidManagedIdentityResponse => "The managed identity endpoint answered without a token or an error. Check that the endpoint variables point at the platform's identity endpoint; retry later if the platform is starting up.",
        ManagedIdentityRequestFailed => "The managed identity request could not be completed: the Azure Arc agent's challenge or key file was not acceptable. Check that the Arc agent is installed and running, and that the process may read its token directory.",
        NoAccount | NoTokensFound => classification_text(Classification::AcquireTokenSilentFailed),
        NonParsableOAuthError => "The identity provider answered with something that is not an OAuth response (often an HTML page from a proxy or gateway). Check the authority URL and any proxy; report the correlation id.",
        HttpStatusNotOk => "The identity provider answered with an HTTP error and no OAuth error. Check the authority and endpoint; report the correlation id if it persists.",
        NotFound => "The endpoint does not exist (HTTP 404). The authority URL or tenant is probably wrong.",
        ServiceNotAvailable => "The identity provider is failing (HTTP 5xx). Retry once after a short delay; if it persists, check its health.",
        RequestThrottled => "The identity provider is throttling this client (HTTP 429). Wait for Retry-After before the next request, and cache tokens to ask less often.",
        InvalidTokenResponse => "The identity provider answered 2xx without a usable token. Report it with the correlation id.",
        ServerDeclinedScopes => "The server granted fewer scopes than requested. Continue with the granted scopes, or stop and tell the user what is missing.",
        ThrottledRequest => "This request failed moments ago and is blocked locally until its Retry-After passes, to protect the service. Wait, then retry.",
        UserCancelled => "The user cancelled the sign-in. Offer to try again; do not retry automatically.",
        RequestTimeout => "The identity provider did not answer in time. Retry once; if it keeps timing out, check connectivity.",
        CannotFindHost => "The authority's host name does not resolve. Check the authority URL and DNS.",
        CannotConnectToHost => "The connection to the identity provider was refused. Check the authority URL, proxy and firewall.",
        NetworkConnectionLost => "The connection dropped mid-request. Retry when the network is stable.",
        NoNetworkConnectivity => "The device is offline. Wait for connectivity, then retry.",
        TlsFailure => "The TLS connection failed (certificate or handshake). Check the device clock, proxy and trusted certificates.",
    })
}

fn oauth_text(error: &str) -> Option<&'static str> {
    Some(match error {
        "invalid_request" => "The request is malformed or missing a parameter. Fix the request; retrying it unchanged will fail again.",
        "invalid_client" => "Client authentication failed: wrong, expired or missing secret or certificate. Update the app's credential in its configuration.",
        "unauthorized_client" => "This client is not allowed to use this grant type or is not registered in this tenant. Fix the app registration.",
        "invalid_scope" => "A requested scope is unknown or not allowed for this client. Check the scopes and the app's API permissions.",
        "unsupported_grant_type" => "The identity provider does not support this grant for this client. Use another flow or enable the grant.",
        "invalid_resource" | "invalid_target" => "The requested resource is unknown or not allowed. Check the resource or scope URI.",
        "invalid_grant" => "The grant (refresh token, code or credential) is no longer valid. Sign the user in interactively.",
        "interaction_required" | "login_required" | "consent_required" => classification_text(Classification::None),
        "temporarily_unavailable" | "server_error" => "The identity provider could not process the request right now. Retry once after a short delay.",
        "access_denied" => "Access was denied (by the user or by policy). If a policy denied it, an administrator must change the policy.",
        "authorization_declined" => "The user declined the sign-in on the other device. Offer to start again.",
        "expired_token" => "The device code expired before the user signed in. Start a new device code flow.",
        "bad_verification_code" => "The device code sent while polling is not the one issued. Poll with the device_code from the start of this flow.",
        "authorization_pending" => "The user has not finished signing in yet. Keep polling at the interval.",
        "slow_down" => "Polling too fast: add five seconds to the interval and keep polling.",
        _ => return None,
    })
}

fn kind_text(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Client => "The call or the local configuration is wrong; the message says how.",
        ErrorKind::Service => "The identity provider rejected the request. Read error_description; report the correlation id if the cause is unclear.",
        ErrorKind::InteractionRequired => classification_text(Classification::None),
        ErrorKind::Network => "The request did not reach the identity provider. Check connectivity and retry.",
        ErrorKind::Throttled => "Blocked locally until Retry-After passes. Wait, then retry.",
        ErrorKind::Cancelled => "The sign-in was cancelled. Offer to try again.",
    }
}
