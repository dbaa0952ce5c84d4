//! The AADSTS numbers idflow knows something about. The Microsoft identity
//! platform warns that apps must not branch on these numbers (they change);
//! idflow uses them only to pick a better mitigation text and, for `explain`,
//! the OAuth error the number usually travels with. Behaviour comes from
//! `error` and `suberror`.

use super::{Action, Flow};

/// One known AADSTS number.
#[derive(Clone, Copy, Debug)]
pub struct AadstsRow {
    pub number: i64,
    pub name: &'static str,
    /// The OAuth `error` (and `suberror`) this number is usually sent with.
    pub error: &'static str,
    pub suberror: Option<&'static str>,
    /// The flow it is usually seen in.
    pub flow: Flow,
    /// What to do when the error is not interaction-required (then it is always
    /// "sign in interactively").
    pub action: Action,
    pub mitigation: &'static str,
}

const fn row(
    number: i64,
    name: &'static str,
    error: &'static str,
    action: Action,
    mitigation: &'static str,
) -> AadstsRow {
    AadstsRow {
        number,
        name,
        error,
        suberror: None,
        flow: Flow::Token,
        action,
        mitigation,
    }
}

const RT_DEAD: &str = "The refresh token can no longer be used (it expired, was revoked, or the \
    session ended). Sign the user in interactively; the new sign-in stores a fresh refresh \
    token in the cache.";
const CONFIG_TENANT: &str = "This grant or resource is not available on the /common or /consumers \
    endpoint. Configure the authority with the tenant id or domain (or /organizations) instead.";
const RETRY_LATER: &str =
    "The identity platform is temporarily unable to answer. Retry once after \
    a short delay, honouring Retry-After when present; if it persists, check the service health.";

/// The table, by number.
pub const AADSTS: &[AadstsRow] = &[
    row(50034, "UserAccountNotFound", "invalid_grant", Action::AcquireInteractively,
        "The account is not in this tenant. Let the user sign in interactively with another \
         account, or invite the user to the tenant."),
    row(50053, "IdsLocked", "invalid_grant", Action::ContactAdmin,
        "The account is locked, or sign-in came from an address the service distrusts. The user \
         must wait or contact the administrator; retrying immediately makes it worse."),
    AadstsRow { suberror: Some("user_password_expired"), ..row(50055, "InvalidPasswordExpiredPassword",
        "invalid_grant", Action::AcquireInteractively,
        "The password has expired. Sign the user in interactively so they can set a new one.") },
    row(50057, "UserDisabled", "invalid_grant", Action::ContactAdmin,
        "The account is disabled. Only an administrator can re-enable it; tell the user so."),
    AadstsRow { flow: Flow::AuthorizePromptNone, ..row(50058, "UserInformationNotProvided",
        "login_required", Action::AcquireInteractively,
        "There is no usable sign-in session in the browser. Repeat the request interactively, \
         without prompt=none.") },
    row(50076, "UserStrongAuthClientAuthNRequired", "invalid_grant", Action::AcquireInteractively,
        "Multi-factor authentication is required for this resource. Sign the user in \
         interactively; silent and non-interactive flows cannot satisfy MFA."),
    row(50079, "UserStrongAuthEnrollmentRequired", "interaction_required", Action::AcquireInteractively,
        "The tenant requires multi-factor authentication and the user has not completed it (or \
         must register for it). There is nothing to fix silently: fall back to an interactive \
         sign-in or the device code flow, which walk the user through MFA."),
    row(50126, "InvalidUserNameOrPassword", "invalid_grant", Action::AcquireInteractively,
        "The user name or password is wrong. Ask again, or better, sign the user in \
         interactively instead of collecting passwords."),
    row(50142, "PasswordResetRequired", "invalid_request", Action::AcquireInteractively,
        "The user must reset their password. Sign them in interactively; the sign-in page \
         offers the reset."),
    row(50158, "ExternalSecurityChallenge", "interaction_required", Action::AcquireInteractively,
        "An external security challenge was not satisfied. Sign the user in interactively so \
         the challenge can be completed."),
    row(50173, "FreshTokenNeeded", "invalid_grant", Action::AcquireInteractively, RT_DEAD),
    row(50196, "LoopDetected", "invalid_request", Action::None,
        "The app is asking for the same token over and over. Cache tokens and reuse them until \
         they expire; the service rejects the loop until it stops."),
    AadstsRow { suberror: Some("additional_action"), ..row(53000, "DeviceNotCompliant",
        "interaction_required", Action::AcquireInteractively,
        "Conditional Access requires a compliant or managed device. Pass the error's claims to \
         an interactive sign-in; the user is shown how to enrol or comply the device.") },
    row(53003, "BlockedByConditionalAccess", "access_denied", Action::ContactAdmin,
        "A Conditional Access policy blocks this sign-in. The user cannot fix it; an \
         administrator must change the policy or grant an exception."),
    row(54005, "OAuth2AuthorizationCodeAlreadyRedeemed", "invalid_grant", Action::AcquireInteractively,
        "The authorization code was already used. Codes are single-use: start a new interactive \
         sign-in rather than replaying the code."),
    AadstsRow { suberror: Some("consent_required"), ..row(65001, "DelegationDoesNotExist",
        "invalid_grant", Action::AcquireInteractively,
        "The user or an administrator has not consented to the app's permissions. Sign the user \
         in interactively (with the error's claims) so they can consent, or have an \
         administrator grant tenant-wide consent.") },
    AadstsRow { flow: Flow::Authorize, ..row(65004, "UserDeclinedConsent", "access_denied", Action::None,
        "The user declined to consent. Explain why the app needs the permission before asking \
         again.") },
    row(70000, "InvalidGrant", "invalid_grant", Action::AcquireInteractively, RT_DEAD),
    row(70002, "InvalidClient", "invalid_client", Action::FixConfiguration,
        "The token endpoint expected a client secret or assertion. If this app is a public \
         client (desktop, mobile, device code), mark the registration as a public client \
         (allowPublicClient in the manifest); if it is confidential, send its credential."),
    row(70008, "ExpiredOrRevokedGrant", "invalid_grant", Action::AcquireInteractively, RT_DEAD),
    row(70011, "InvalidScope", "invalid_scope", Action::FixConfiguration,
        "A requested scope is invalid. Check the scope strings; for client credentials use \
         'resource/.default'."),
    AadstsRow { flow: Flow::DeviceCode, ..row(70016, "AuthorizationPending", "authorization_pending",
        Action::None, "The user has not finished signing in yet. Keep polling at the interval.") },
    AadstsRow { flow: Flow::DeviceCode, ..row(70019, "CodeExpired", "expired_token",
        Action::AcquireInteractively,
        "The device code expired before the user signed in. Start a new device code flow.") },
    row(70043, "BadTokenDueToSignInFrequency", "invalid_grant", Action::AcquireInteractively,
        "The sign-in frequency policy requires a fresh sign-in. Sign the user in interactively."),
    row(700016, "UnauthorizedClient_DoesNotMatchRequest", "unauthorized_client", Action::FixConfiguration,
        "The application id is not registered in this tenant. Check the client id and the \
         authority's tenant, or have the app provisioned in the tenant."),
    row(700082, "ExpiredOrRevokedGrantInactiveToken", "invalid_grant", Action::AcquireInteractively, RT_DEAD),
    row(700084, "RefreshTokenLifetimeExceeded", "invalid_grant", Action::AcquireInteractively, RT_DEAD),
    row(7000215, "InvalidClientSecretProvided", "invalid_client", Action::FixConfiguration,
        "The client secret is wrong. Send the secret's value (not its id) and check for \
         stray whitespace."),
    row(7000218, "MissingClientCredential", "invalid_client", Action::FixConfiguration,
        "The request must carry client_secret or client_assertion. Configure the confidential \
         client's credential, or register the app as a public client."),
    row(7000222, "InvalidClientSecretExpiredKeysProvided", "invalid_client", Action::FixConfiguration,
        "The client secret has expired. Create a new secret in the app registration and deploy it."),
    row(90002, "InvalidTenantName", "invalid_request", Action::FixConfiguration,
        "The tenant in the authority does not exist. Check the tenant id or domain."),
    row(90010, "NotSupported", "invalid_request", Action::FixConfiguration, CONFIG_TENANT),
    row(9001023, "GrantNotSupportedOnCommon", "invalid_request", Action::FixConfiguration, CONFIG_TENANT),
    row(90124, "ResourceNotSupportedOnCommon", "invalid_request", Action::FixConfiguration, CONFIG_TENANT),
    row(90130, "AppNotSupportedOnCommon", "invalid_request", Action::FixConfiguration, CONFIG_TENANT),
    row(900144, "MissingRequiredParameter", "invalid_request", Action::FixConfiguration,
        "The request lacks a required parameter. If the authority is a generic OpenID issuer, \
         check that it is the issuer URL itself."),
    row(90033, "MsodsServiceUnavailable", "temporarily_unavailable", Action::Retry, RETRY_LATER),
    row(90006, "ServiceUnavailable", "temporarily_unavailable", Action::Retry, RETRY_LATER),
    row(90090, "ServiceUnavailable", "temporarily_unavailable", Action::Retry, RETRY_LATER),
    row(50033, "RetryableError", "temporarily_unavailable", Action::Retry, RETRY_LATER),
];

pub fn lookup(number: i64) -> Option<&'static AadstsRow> {
    AADSTS.iter().find(|r| r.number == number)
}

/// The row that best describes a response: the first of its AADSTS numbers
/// whose usual `error` is the one sent (a body listing `[70002, 70008]` with
/// `invalid_grant` is about the expired grant, not the client secret), else
/// the first number the table knows.
pub fn best_match(error: &str, codes: &[i64]) -> Option<&'static AadstsRow> {
    let known = || codes.iter().filter_map(|n| lookup(*n));
    known()
        .find(|r| r.error == error)
        .or_else(|| known().next())
}
