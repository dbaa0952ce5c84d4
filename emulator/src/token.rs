//! The token endpoint: request checks common to every grant, then dispatch
//! to the grant. Every failure is an [`AadError`] in the platform's shape.

use crate::aad_error::AadError;
use crate::client_auth::{authenticate, Need};
use crate::directory::{is_multi_tenant_alias, Client, UserSpec};
use crate::issue::{token_response, ClientAuth, Issue};
use crate::request::{json, Req};
use crate::scopes::ScopeSet;
use crate::state::{App, State};
use crate::{device, grants};
use axum::http::Method;
use axum::response::Response;
use serde_json::Value;

/// The device-code grant type (MSAL.NET sends the short `device_code`, which is accepted too).
pub const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// The grant type of on-behalf-of requests.
pub const JWT_BEARER_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// Answers a token request.
pub fn handle(app: &App, req: &Req) -> Response {
    match token(app, req) {
        Ok(body) => json(200, &req.ctx, &body),
        Err(e) => e.into_response(&req.ctx),
    }
}

fn token(app: &App, req: &Req) -> Result<Value, AadError> {
    check_post_form(req)?;
    let grant = req
        .grant_type()
        .ok_or_else(|| AadError::missing("grant_type"))?;
    let now = app.clock.unix();
    let mut state = app.lock();
    let state = &mut *state;
    match grant {
        "authorization_code" => grants::authorization_code(app, state, req, now),
        "refresh_token" => grants::refresh_token(app, state, req, now),
        "password" => grants::password(app, state, req, now),
        "client_credentials" => grants::client_credentials(app, state, req, now),
        JWT_BEARER_GRANT => grants::on_behalf_of(app, state, req, now),
        DEVICE_CODE_GRANT => device::poll(app, state, req, now),
        other => Err(AadError::bad(
            "unsupported_grant_type",
            70003,
            format!(
                "The app requested an unsupported grant type '{}'.",
                other.chars().take(100).collect::<String>()
            ),
        )),
    }
}

/// The checks every POST endpoint of the platform makes before reading parameters.
pub fn check_post_form(req: &Req) -> Result<(), AadError> {
    if req.method != Method::POST {
        return Err(AadError::bad(
            "invalid_request",
            900561,
            format!(
                "The endpoint only accepts POST requests. Received a {} request.",
                req.method
            ),
        ));
    }
    if req.body_refused {
        return Err(AadError::new(
            413,
            "invalid_request",
            90015,
            format!(
                "The request body is too large (over {} bytes).",
                crate::request::MAX_REQUEST_BODY
            ),
        ));
    }
    if let Some(name) = req.form.duplicate() {
        return Err(AadError::bad(
            "invalid_request",
            9002313,
            format!(
                "Invalid request: the parameter '{}' was sent more than once.",
                name.chars().take(100).collect::<String>()
            ),
        ));
    }
    Ok(())
}

/// The tenant segment of the request.
pub fn tenant(req: &Req) -> &str {
    req.tenant.as_deref().unwrap_or("common")
}

/// Refuses grants that need a real tenant on `/common` and friends.
pub fn require_tenant(req: &Req, code: i64, allow_organizations: bool) -> Result<(), AadError> {
    let t = tenant(req);
    let refused = is_multi_tenant_alias(t)
        && !(allow_organizations && t.eq_ignore_ascii_case("organizations"));
    if refused {
        let message = if allow_organizations {
            "The grant type is not supported over the /common or /consumers endpoints. Use the \
             /organizations or a tenant-specific endpoint."
        } else {
            "The grant type is not supported over the /common, /organizations or /consumers \
             endpoints. Use a tenant-specific endpoint."
        };
        return Err(AadError::bad("invalid_request", code, message));
    }
    Ok(())
}

/// The requested scopes, or the missing-parameter error.
pub fn required_scopes(state: &State, scope: Option<&str>) -> Result<ScopeSet, AadError> {
    let scope = scope.ok_or_else(|| AadError::missing("scope"))?;
    state
        .scopes(scope)?
        .ok_or_else(|| AadError::missing("scope"))
}

/// `invalid_grant` AADSTS65001 with `suberror: consent_required`.
pub fn consent_required(client: &Client) -> AadError {
    AadError::grant(
        65001,
        format!(
            "The user or administrator has not consented to use the application with ID '{}' \
             named '{}'. Send an interactive authorization request for this user and resource.",
            client.id(),
            client.display_name()
        ),
    )
    .with_suberror("consent_required")
}

/// `invalid_grant` AADSTS50057 for a disabled account.
pub fn check_enabled(user: &UserSpec) -> Result<(), AadError> {
    if user.disabled {
        return Err(AadError::grant(
            50057,
            "The user account is disabled. An administrator must enable it.",
        ));
    }
    Ok(())
}

/// Mints the response for a user, after the consent check.
#[allow(clippy::too_many_arguments)]
pub fn issue_for_user(
    app: &App,
    state: &mut State,
    req: &Req,
    client: &Client,
    auth: ClientAuth,
    user: &UserSpec,
    scopes: &ScopeSet,
    nonce: Option<&str>,
) -> Result<Value, AadError> {
    if !state.consented(&user.username, client, scopes) {
        return Err(consent_required(client));
    }
    let issue = Issue {
        client,
        auth,
        user: Some(user),
        tenant: tenant(req),
        scopes,
        nonce,
        client_info: wants_client_info(req),
    };
    token_response(app, state, issue).map_err(server_error)
}

/// `client_info=1` (or 2, as MSAL.NET sends for some flows).
pub fn wants_client_info(req: &Req) -> bool {
    matches!(req.params().get("client_info"), Some("1" | "2"))
}

/// Authenticates for a grant a public client may use.
pub fn public_or_confidential(
    req: &Req,
    state: &State,
    now: i64,
) -> Result<(Client, ClientAuth), AadError> {
    authenticate(req, state, now, Need::PublicAllowed)
}

/// A failure on the emulator's side (signing failed).
pub fn server_error(why: String) -> AadError {
    AadError::new(
        500,
        "server_error",
        50000,
        format!("There was an error issuing a token: {why}."),
    )
}
