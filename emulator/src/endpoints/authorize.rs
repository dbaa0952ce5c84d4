//! The authorize endpoint, as a scriptable sign-in: by default the default
//! user (or the `login_hint` user) signs in at once and the browser is sent
//! back with a code; `prompt=none` needs a session; the admin API can script
//! the next outcome (another user, or any error).
//!
//! Errors go back to the redirect URI once it is trusted; before that (an
//! unknown client, an unregistered redirect URI) the platform shows an error
//! page instead, and so does the emulator.

use crate::endpoints::client_auth::unknown_client;
use crate::endpoints::issue::client_info_for;
use crate::model::directory::{is_multi_tenant_alias, tenant_id, Client, UserSpec};
use crate::model::state::{random_token, App, AuthorizeOutcome, CodeGrant, State};
use crate::wire::aad_error::{redirect_with, AadError};
use crate::wire::reply::html;
use crate::wire::request::Req;
use axum::response::Response;

const PROMPTS: [&str; 5] = ["none", "login", "consent", "select_account", "create"];
const RESPONSE_MODES: [&str; 3] = ["query", "fragment", "form_post"];

/// `GET` (or form `POST`) `/{tenant}/oauth2/v2.0/authorize`.
pub fn handle(app: &App, req: &Req) -> Response {
    let ctx = &req.ctx;
    let p = req.params();
    let mut state = app.lock();
    let Some(client_id) = p.get("client_id") else {
        return AadError::missing("client_id").error_page(ctx);
    };
    let tenant = req.tenant.as_deref().unwrap_or("common");
    let Some(client) = state.client(client_id).cloned() else {
        return unknown_client(client_id, tenant).error_page(ctx);
    };
    let redirect_uri = match p.get("redirect_uri") {
        Some(u) => u.to_owned(),
        None => match client.spec.redirect_uris.first() {
            Some(u) => u.clone(),
            None => return AadError::missing("redirect_uri").error_page(ctx),
        },
    };
    if !client.redirect_allowed(&redirect_uri) {
        return AadError::bad(
            "invalid_request",
            50011,
            format!(
                "The redirect URI '{redirect_uri}' specified in the request does not match the \
                 redirect URIs configured for the application '{}'.",
                client.id()
            ),
        )
        .error_page(ctx);
    }
    let state_param = p.get("state");
    let mode = p.get("response_mode").unwrap_or("query");
    let valid_mode = RESPONSE_MODES.contains(&mode);
    let fail = |e: AadError| {
        e.redirect(
            ctx,
            &redirect_uri,
            state_param,
            if valid_mode { mode } else { "query" },
        )
    };
    if !valid_mode {
        return fail(malformed(&format!(
            "response_mode '{mode}' is not supported"
        )));
    }
    match sign_in(app, &mut state, req, &client, tenant) {
        Ok((code, user)) => {
            let mut pairs = vec![("code", code)];
            if let Some(s) = state_param {
                pairs.push(("state", s.to_owned()));
            }
            if matches!(p.get("client_info"), Some("1" | "2")) {
                pairs.push(("client_info", client_info_for(&user)));
            }
            pairs.push(("session_state", uuid::Uuid::new_v4().to_string()));
            redirect_with(ctx, &redirect_uri, &pairs, mode)
        }
        Err(e) => fail(e),
    }
}

fn malformed(why: &str) -> AadError {
    AadError::bad(
        "invalid_request",
        9002313,
        format!("Invalid request: {why}."),
    )
}

/// Validates the request, decides who signs in, and hands out a code.
fn sign_in(
    app: &App,
    state: &mut State,
    req: &Req,
    client: &Client,
    tenant: &str,
) -> Result<(String, UserSpec), AadError> {
    let p = req.params();
    if let Some(name) = p.duplicate() {
        return Err(malformed(&format!(
            "the parameter '{name}' was sent more than once"
        )));
    }
    match p.get("response_type") {
        None => return Err(AadError::missing("response_type")),
        Some("code") => {}
        Some(other) => {
            return Err(AadError::bad(
                "unsupported_response_type",
                700054,
                format!("response_type '{other}' is not enabled for the application; the emulator supports 'code'."),
            ))
        }
    }
    let scopes = crate::endpoints::checks::required_scopes(state, p.get("scope"))?;
    let challenge = match p.get("code_challenge") {
        None => None,
        Some(c) => {
            let method = p.get("code_challenge_method").unwrap_or("plain");
            if method != "S256" && method != "plain" {
                return Err(malformed("code_challenge_method must be S256 or plain"));
            }
            let well_formed = (43..=128).contains(&c.len())
                && c.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
            if !well_formed {
                return Err(AadError::bad(
                    "invalid_request",
                    501491,
                    "The code_challenge must be 43 to 128 characters of [A-Za-z0-9-._~].",
                ));
            }
            Some((c.to_owned(), method.to_owned()))
        }
    };
    let prompt = p.get("prompt");
    if let Some(pr) = prompt {
        if !PROMPTS.contains(&pr) {
            return Err(malformed(&format!("prompt '{pr}' is not supported")));
        }
    }
    if let Some(claims) = p.get("claims") {
        if !serde_json::from_str::<serde_json::Value>(claims).is_ok_and(|v| v.is_object()) {
            return Err(malformed("the claims parameter is not a JSON object"));
        }
    }
    let user = match take_script(state, client) {
        Some(AuthorizeOutcome::Error {
            error,
            error_description,
            error_codes,
            suberror,
            claims,
        }) => {
            return Err(AadError {
                status: 302,
                error,
                message: error_description
                    .unwrap_or_else(|| "Scripted by the emulator's admin API.".into()),
                codes: error_codes,
                suberror,
                claims,
                headers: Vec::new(),
            });
        }
        Some(AuthorizeOutcome::User { username }) => {
            state.user(&username).cloned().ok_or_else(|| {
                AadError::bad(
                    "invalid_request",
                    50034,
                    format!("The scripted user {username} does not exist."),
                )
            })?
        }
        None if prompt == Some("none") => silent_user(state, req)?,
        None => {
            let name = p
                .get("login_hint")
                .filter(|h| state.user(h).is_some())
                .map_or_else(|| state.settings.default_username.clone(), str::to_owned);
            state.user(&name).cloned().ok_or_else(|| {
                AadError::bad(
                    "invalid_request",
                    50034,
                    format!("The user {name} does not exist."),
                )
            })?
        }
    };
    if !is_multi_tenant_alias(tenant) && tenant_id(tenant) != user.tenant_id() {
        return Err(AadError::bad(
            "invalid_request",
            50020,
            format!(
                "The user account {} does not exist in tenant '{tenant}'.",
                user.username
            ),
        ));
    }
    if user.disabled {
        return Err(AadError::bad(
            "access_denied",
            50057,
            "The user account is disabled.",
        ));
    }
    if prompt == Some("none") {
        if !state.consented(&user.username, client, &scopes) {
            return Err(
                crate::endpoints::checks::consent_required(client).with_error("consent_required")
            );
        }
    } else {
        state.sessions.insert(user.username.to_lowercase());
        state.record_consent(&user.username, client, &scopes);
    }
    let code = format!("1.{}", random_token(48));
    let lifetime = i64::try_from(state.settings.auth_code_lifetime_secs).unwrap_or(600);
    state.codes.insert(
        code.clone(),
        CodeGrant {
            client_id: client.id().to_owned(),
            redirect_uri: p.get("redirect_uri").map(str::to_owned).unwrap_or_else(|| {
                client
                    .spec
                    .redirect_uris
                    .first()
                    .cloned()
                    .unwrap_or_default()
            }),
            challenge,
            username: user.username.clone(),
            scope: scopes.request_string(),
            nonce: p.get("nonce").map(str::to_owned),
            auth_time: app.clock.unix(),
            expires_at: app.clock.unix().saturating_add(lifetime),
            redeemed: false,
        },
    );
    Ok((code, user))
}

/// The next scripted outcome for this client, if any.
fn take_script(state: &mut State, client: &Client) -> Option<AuthorizeOutcome> {
    let i = state.authorize_scripts.iter().position(|s| {
        s.client_id
            .as_deref()
            .is_none_or(|c| c.eq_ignore_ascii_case(client.id()))
    })?;
    state.authorize_scripts.remove(i).map(|s| s.outcome)
}

/// `prompt=none`: the hinted user's session, or any session; else `login_required`.
fn silent_user(state: &State, req: &Req) -> Result<UserSpec, AadError> {
    let hint = req.params().get("login_hint").map(str::to_lowercase);
    let session = match &hint {
        Some(h) => state.sessions.get(h),
        None => state.sessions.iter().next(),
    };
    session.and_then(|u| state.user(u)).cloned().ok_or_else(|| {
        AadError::bad(
            "login_required",
            50058,
            "A silent sign-in request was sent but no user is signed in.",
        )
    })
}

/// `/{tenant}/oauth2/v2.0/logout`: ends the emulated browser session(s).
pub fn logout(app: &App, req: &Req) -> Response {
    let p = req.params();
    {
        let mut state = app.lock();
        match p.get("logout_hint") {
            Some(h) => {
                state.sessions.remove(&h.to_lowercase());
            }
            None => state.sessions.clear(),
        }
    }
    match p
        .get("post_logout_redirect_uri")
        .filter(|u| url::Url::parse(u).is_ok())
    {
        Some(uri) => {
            let pairs: Vec<(&str, String)> = p
                .get("state")
                .map(|s| ("state", s.to_owned()))
                .into_iter()
                .collect();
            redirect_with(&req.ctx, uri, &pairs, "query")
        }
        None => html(
            200,
            &req.ctx,
            "<!DOCTYPE html><html><body><p>You signed out of your account.</p></body></html>"
                .into(),
        ),
    }
}
