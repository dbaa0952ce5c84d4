// The names an app matches on when it catches an idflow failure as an `NSError`.
// The values are fixed by the Rust core (see `mappingCatalogue()`); this file only names them,
// and `CatalogueTests` fails when a name here and a value there drift apart.

import Foundation

/// The `NSError` domain of every idflow failure except transport failures, which use
/// `NSURLErrorDomain` with the matching `URLError` code.
public let IdFlowErrorDomain = "IdFlowErrorDomain"

// MARK: - userInfo keys (each value equals its name)

/// The OAuth `error` the server sent (`invalid_grant`, ...). Present only when the server
/// answered with an OAuth error body. Log it; branch on `code` and the recommended action instead.
public let IdFlowOAuthErrorKey = "IdFlowOAuthErrorKey"
/// The server's `suberror` (`basic_action`, `consent_required`, ...), when it sent one.
public let IdFlowOAuthSubErrorKey = "IdFlowOAuthSubErrorKey"
/// The server's `error_description`. For logs and support tickets, not for end users.
public let IdFlowErrorDescriptionKey = "IdFlowErrorDescriptionKey"
/// The AADSTS numbers (`[Int]`) the server sent in `error_codes`. Diagnostics only: do not branch
/// on them, the classification already accounts for them.
public let IdFlowSTSErrorCodesKey = "IdFlowSTSErrorCodesKey"
/// The specific cause (`Int`, an ``IdFlowInternalErrorCode`` raw value) when the error's code is
/// ``IdFlowErrorCode/internal``. Absent for every other code.
public let IdFlowInternalErrorCodeKey = "IdFlowInternalErrorCodeKey"
/// The response headers (`[String: String]`, names lower-cased, repeated headers joined).
public let IdFlowHTTPHeadersKey = "IdFlowHTTPHeadersKey"
/// The HTTP status of the failed response, as a decimal `String` (MSAL's convention).
public let IdFlowHTTPResponseCodeKey = "IdFlowHTTPResponseCodeKey"
/// The correlation id of the failed request. Quote it when you contact support.
public let IdFlowCorrelationIDKey = "IdFlowCorrelationIDKey"
/// The scopes (`[String]`) the server declined, with ``IdFlowErrorCode/serverDeclinedScopes``.
public let IdFlowDeclinedScopesKey = "IdFlowDeclinedScopesKey"
/// The scopes (`[String]`) the server granted, with ``IdFlowErrorCode/serverDeclinedScopes``.
public let IdFlowGrantedScopesKey = "IdFlowGrantedScopesKey"
/// `true` when the client-side throttle refused to repeat a request that recently failed; wait
/// for ``IdFlowRetryAfterKey`` before trying again.
public let IdFlowThrottlingCacheHitKey = "IdFlowThrottlingCacheHitKey"
/// A claims challenge (`String`, JSON). Pass it unchanged to the next interactive sign-in.
public let IdFlowClaimsKey = "IdFlowClaimsKey"
/// Why interaction is required (`String`: `BasicAction`, `ConsentRequired`, ... as in MSAL.NET's
/// UiRequiredExceptionClassification). Present only on interaction-required errors.
public let IdFlowClassificationKey = "IdFlowClassificationKey"
/// What to do next (`String`: `retry`, `retry_after`, `acquire_interactively`,
/// `fix_configuration`, `contact_admin`, `check_network`, `none`).
public let IdFlowRecommendedActionKey = "IdFlowRecommendedActionKey"
/// A paragraph that explains the failure and its fix to a developer or an admin.
public let IdFlowMitigationKey = "IdFlowMitigationKey"
/// Seconds (`Int`) to wait before retrying, from the server's Retry-After or the throttle.
public let IdFlowRetryAfterKey = "IdFlowRetryAfterKey"
/// `true` (`Bool`) when the same request may succeed if retried.
public let IdFlowIsRetryableKey = "IdFlowIsRetryableKey"
/// The error kind (`String`: `client`, `service`, `interaction_required`, `network`,
/// `throttled`, `cancelled`), the same as the `AuthError` case.
public let IdFlowErrorKindKey = "IdFlowErrorKindKey"

// MARK: - codes

/// `NSError.code` in ``IdFlowErrorDomain``; numerically equal to MSAL's `MSALError`.
public enum IdFlowErrorCode: Int, CaseIterable, Sendable {
    /// Not something the user can fix. Read ``IdFlowInternalErrorCodeKey`` for the cause and
    /// ``IdFlowRecommendedActionKey`` for what to do; log the correlation id.
    case `internal` = -50000
    /// Only an interactive sign-in can fix this: call the interactive flow, passing
    /// ``IdFlowClaimsKey`` when present. ``IdFlowClassificationKey`` says why.
    case interactionRequired = -50002
    /// The server granted fewer scopes than requested; see ``IdFlowGrantedScopesKey`` and
    /// ``IdFlowDeclinedScopesKey``, then continue with what was granted or ask again.
    case serverDeclinedScopes = -50003
    /// A Conditional Access policy requires a managed app (Intune app protection): enroll the
    /// app with the policy SDK, then retry.
    case serverProtectionPoliciesRequired = -50004
    /// The user or the app cancelled. Do not show an error; let the user start again.
    case userCanceled = -50005
    /// The user must reset their password: start an interactive sign-in so they can.
    case serverInvalidRequestResetPasswordRequired = -50142
}

/// The cause under ``IdFlowInternalErrorCodeKey`` when the code is
/// ``IdFlowErrorCode/internal``; numerically equal to MSAL's `MSALInternalError`.
public enum IdFlowInternalErrorCode: Int, CaseIterable, Sendable {
    /// An argument is missing or malformed: fix the call.
    case invalidParameter = -42000
    /// The server rejected the request as malformed: check the app's configuration.
    case invalidRequest = -42002
    /// The server does not accept this client (id, secret or certificate): fix the app
    /// registration or its credentials.
    case invalidClient = -42003
    /// The grant (refresh token, code) is not valid for this request and interaction will not
    /// help (for example a client mismatch): check which app and account the token belongs to.
    case invalidGrant = -42004
    /// A requested scope is not valid: fix the scopes.
    case invalidScope = -42005
    /// This client may not use this grant or resource: fix the app registration.
    case unauthorizedClient = -42006
    /// The server's answer could not be used (unreadable or no OAuth body, 5xx, throttled): retry as the
    /// recommended action says.
    case unhandledResponse = -42007
    /// Something idflow did not expect, including its own bugs: report it with the correlation id.
    case unexpected = -42008
    /// A non-success HTTP status without an OAuth error: check the authority and endpoints.
    case unexpectedHttpResponse = -42009
    /// The authority is malformed, not https, or not a known authority: fix the configuration.
    case failedAuthorityValidation = -42010
    /// The server refused for a reason not listed here: read the OAuth error and description.
    case authorizationFailed = -42104
    /// The redirect's state does not match the request: sign in again, and check that nothing
    /// else answers on the redirect URI.
    case invalidState = -42501
    /// The server's answer is not a valid token response (or its id token failed validation).
    case invalidResponse = -42600
    /// The server reported `server_error`: retry later.
    case serverError = -50006
}
