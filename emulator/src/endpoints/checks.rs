//! The checks the platform's endpoints share before they answer: a POST
//! with a well-formed form, a tenant that allows the grant, the requested
//! scopes, the user's consent and an enabled account.

use crate::model::directory::{is_multi_tenant_alias, Client, UserSpec};
use crate::model::scopes::ScopeSet;
use crate::model::state::State;
use crate::wire::aad_error::AadError;
use crate::wire::request::Req;
use axum::http::Method;

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
                crate::wire::request::MAX_REQUEST_BODY
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

/// A form parameter the request must carry, or the missing-parameter error.
pub fn required_form<'r>(req: &'r Req, name: &str) -> Result<&'r str, AadError> {
    req.form.get(name).ok_or_else(|| AadError::missing(name))
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
