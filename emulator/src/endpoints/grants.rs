//! The grants of the token endpoint (the device-code grant is in
//! [`crate::endpoints::device`]): authorization code with PKCE, refresh token (rotating,
//! FOCI-aware), resource-owner password, client credentials, on-behalf-of.

use crate::crypto::jwt::Jwt;
use crate::endpoints::checks::{
    check_enabled, require_tenant, required_form, required_scopes, tenant,
};
use crate::endpoints::client_auth::{authenticate, public_or_confidential, Need};
use crate::endpoints::issue::{
    issue_for_sign_in, issue_for_user, server_error, token_response, Issue, SignIn,
};
use crate::model::directory::{tenant_id, UserSpec};
use crate::model::scopes::ScopeSet;
use crate::model::state::{App, State};
use crate::wire::aad_error::AadError;
use crate::wire::request::Req;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::Value;

/// `grant_type=authorization_code`.
pub fn authorization_code(
    app: &App,
    state: &mut State,
    req: &Req,
    now: i64,
) -> Result<Value, AadError> {
    let (client, auth) = public_or_confidential(req, state, now)?;
    let code = required_form(req, "code")?;
    let redirect_uri = required_form(req, "redirect_uri")?;
    let grant = state.codes.get(code).cloned().ok_or_else(|| {
        AadError::grant(
            70000,
            "The provided value for the 'code' parameter is not valid.",
        )
    })?;
    if grant.redeemed {
        return Err(AadError::grant(
            54005,
            "The OAuth2 authorization code was already redeemed. Codes are single-use: start a new \
             authorization request.",
        ));
    }
    if grant.expires_at <= now {
        return Err(AadError::grant(
            70008,
            "The provided authorization code has expired.",
        ));
    }
    if !grant.client_id.eq_ignore_ascii_case(client.id()) {
        return Err(AadError::grant(
            70000,
            "The authorization code was issued to a different client.",
        ));
    }
    if grant.redirect_uri != redirect_uri {
        return Err(AadError::grant(
            70000,
            "The redirect_uri must be the one the authorization request used.",
        ));
    }
    if let Some((challenge, method)) = &grant.challenge {
        let verifier = req.form.get("code_verifier").ok_or_else(|| {
            AadError::grant(
                501481,
                "The code_verifier is missing: the authorization request sent a code_challenge.",
            )
        })?;
        let computed = if method == "S256" {
            let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes());
            URL_SAFE_NO_PAD.encode(d.as_ref())
        } else {
            verifier.to_owned()
        };
        if &computed != challenge {
            return Err(AadError::grant(
                501481,
                "The code_verifier does not match the code_challenge of the authorization request.",
            ));
        }
    }
    let user = granted_user(
        state,
        &grant.username,
        "The signed-in user no longer exists.",
    )?;
    let scopes = requested_or_granted(state, req, &grant.scope)?;
    let sign_in = SignIn {
        nonce: grant.nonce.as_deref(),
        auth_time: Some(grant.auth_time),
    };
    let body = issue_for_sign_in(app, state, req, &client, auth, &user, &scopes, sign_in)?;
    if let Some(g) = state.codes.get_mut(code) {
        g.redeemed = true;
    }
    Ok(body)
}

/// `grant_type=refresh_token`: a new refresh token every time (the old one
/// stays usable unless `single_use_refresh_tokens` is set, as on the platform).
pub fn refresh_token(app: &App, state: &mut State, req: &Req, now: i64) -> Result<Value, AadError> {
    let (client, auth) = public_or_confidential(req, state, now)?;
    let rt = required_form(req, "refresh_token")?;
    let grant = state.refresh_tokens.get(rt).cloned().ok_or_else(|| {
        AadError::grant(
            9002313,
            "Invalid request: the refresh token is malformed or unknown.",
        )
    })?;
    if grant.revoked {
        return Err(AadError::grant(
            50173,
            "The provided grant has been revoked (for example after a password change or a sign-out). A fresh sign-in is needed.",
        ));
    }
    if grant.expires_at <= now {
        return Err(AadError::grant(
            70008,
            "The provided refresh token has expired due to inactivity.",
        ));
    }
    if grant.used && state.settings.single_use_refresh_tokens {
        return Err(AadError::grant(
            70000,
            "The refresh token was already redeemed (this emulator has single_use_refresh_tokens on).",
        ));
    }
    let same_client = grant.client_id.eq_ignore_ascii_case(client.id());
    let same_family = grant.family.is_some() && grant.family == client.spec.foci;
    if !same_client && !same_family {
        return Err(
            AadError::grant(70000, "The refresh token was issued to a different client.")
                .with_suberror("client_mismatch"),
        );
    }
    let user = granted_user(state, &grant.username, "The user account no longer exists.")?;
    let mut scopes = requested_or_granted(state, req, &grant.scope)?;
    if !scopes.wants_refresh_token() {
        scopes.oidc.push("offline_access".into());
    }
    let body = issue_for_user(app, state, req, &client, auth, &user, &scopes, None)?;
    if let Some(g) = state.refresh_tokens.get_mut(rt) {
        g.used = true;
    }
    Ok(body)
}

/// `grant_type=password` (ROPC), for managed users.
pub fn password(app: &App, state: &mut State, req: &Req, now: i64) -> Result<Value, AadError> {
    require_tenant(req, 90010, true)?;
    let (client, auth) = public_or_confidential(req, state, now)?;
    let username = required_form(req, "username")?;
    let password = required_form(req, "password")?;
    let scopes = required_scopes(state, req.form.get("scope"))?;
    let not_found = || {
        AadError::grant(
            50034,
            format!("The user account {username} does not exist in the directory. Sign in with another account."),
        )
    };
    let user = state.user(username).cloned().ok_or_else(not_found)?;
    let t = tenant(req);
    if !t.eq_ignore_ascii_case("organizations") && tenant_id(t) != user.tenant_id() {
        return Err(not_found());
    }
    check_enabled(&user)?;
    if user.password != password {
        return Err(AadError::grant(
            50126,
            "Error validating credentials due to invalid username or password.",
        ));
    }
    if user.password_expired {
        return Err(AadError::grant(50055, "The password is expired.")
            .with_suberror("user_password_expired"));
    }
    if user.mfa_required {
        return Err(AadError::grant(
            50076,
            "Due to a configuration change made by the administrator, or because the user moved \
             to a new location, the user must use multi-factor authentication to access this resource.",
        )
        .with_suberror("basic_action"));
    }
    issue_for_user(app, state, req, &client, auth, &user, &scopes, None)
}

/// `grant_type=client_credentials`: an app-only token for `{resource}/.default`.
pub fn client_credentials(
    app: &App,
    state: &mut State,
    req: &Req,
    now: i64,
) -> Result<Value, AadError> {
    let (client, auth) = authenticate(req, state, now, Need::Credential)?;
    require_tenant(req, 9001023, false)?;
    let scope = required_form(req, "scope")?;
    let scopes = required_scopes(state, Some(scope))?;
    scopes.require_default_only(scope)?;
    let issue = Issue {
        client: &client,
        auth,
        user: None,
        tenant: tenant(req),
        scopes: &scopes,
        nonce: None,
        auth_time: None,
        client_info: false,
    };
    token_response(app, state, issue).map_err(server_error)
}

/// `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer` with
/// `requested_token_use=on_behalf_of`: a middle-tier API exchanges the user's
/// access token (which this emulator must have issued, for this API) for one
/// to a downstream API.
pub fn on_behalf_of(app: &App, state: &mut State, req: &Req, now: i64) -> Result<Value, AadError> {
    let (client, auth) = authenticate(req, state, now, Need::Credential)?;
    if req.form.get("requested_token_use") != Some("on_behalf_of") {
        return Err(AadError::bad(
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'requested_token_use' (on_behalf_of).",
        ));
    }
    require_tenant(req, 9001023, true)?;
    let assertion = required_form(req, "assertion")?;
    let scopes = required_scopes(state, req.form.get("scope"))?;
    let bad = |msg: &str| AadError::grant(50013, format!("Assertion failed validation: {msg}."));
    let jwt = Jwt::parse(assertion).ok_or_else(|| bad("it is not a JWT"))?;
    if jwt.header_str("kid") != Some(app.kid.as_str()) || !jwt.verified_by(app.signer.public()) {
        return Err(bad("its signature is not from this identity platform"));
    }
    if jwt.claim_time("exp").is_none_or(|exp| exp <= now) {
        return Err(AadError::grant(
            500133,
            "The assertion is not within its valid time range: it has expired.",
        ));
    }
    let id = client.id();
    let api = format!("api://{id}");
    if !jwt.has_audience(|a| a.eq_ignore_ascii_case(id) || a.eq_ignore_ascii_case(&api)) {
        return Err(AadError::grant(
            500131,
            "The assertion's audience does not match the client presenting it.",
        ));
    }
    if jwt.claim_str("idtyp") != Some("user") {
        return Err(bad("it is not a user's access token"));
    }
    let user = jwt
        .claim_str("oid")
        .and_then(|oid| state.user_by_oid(oid))
        .cloned()
        .ok_or_else(|| bad("its user does not exist"))?;
    check_enabled(&user)?;
    issue_for_user(app, state, req, &client, auth, &user, &scopes, None)
}

/// The scopes a redemption asks for: the request's `scope` when it names
/// any, else those of the grant being redeemed.
fn requested_or_granted(state: &State, req: &Req, granted: &str) -> Result<ScopeSet, AadError> {
    match req
        .form
        .get("scope")
        .map(|s| state.scopes(s))
        .transpose()?
        .flatten()
    {
        Some(s) => Ok(s),
        None => required_scopes(state, Some(granted)),
    }
}

/// The user a grant was issued to, if still in the directory and enabled;
/// `gone` is the message when the account no longer exists.
fn granted_user(state: &State, username: &str, gone: &str) -> Result<UserSpec, AadError> {
    let user = state
        .user(username)
        .cloned()
        .ok_or_else(|| AadError::grant(50034, gone))?;
    check_enabled(&user)?;
    Ok(user)
}
