//! The device-code flow (RFC 8628 as the platform runs it): `/devicecode`
//! hands out a device code and a user code; polls answer
//! `authorization_pending` until the code is approved (through the admin API,
//! the `/devicelogin` page, or automatically after N polls), then tokens once;
//! `authorization_declined` once declined; `expired_token` after expiry.

use crate::endpoints::checks::{check_post_form, required_form, required_scopes, tenant};
use crate::endpoints::client_auth::{public_or_confidential, unknown_client};
use crate::endpoints::issue::issue_for_user;
use crate::model::state::{random_token, random_user_code, App, DeviceGrant, DeviceStatus, State};
use crate::wire::aad_error::AadError;
use crate::wire::reply::{escape, html, json};
use crate::wire::request::Req;
use axum::http::Method;
use axum::response::Response;
use serde::Serialize;
use serde_json::{json, Value};

/// `POST /{tenant}/oauth2/v2.0/devicecode`.
pub fn start(app: &App, req: &Req) -> Response {
    match start_flow(app, req) {
        Ok(v) => json(200, &req.ctx, &v),
        Err(e) => e.into_response(&req.ctx),
    }
}

fn start_flow(app: &App, req: &Req) -> Result<Value, AadError> {
    check_post_form(req)?;
    let client_id = required_form(req, "client_id")?;
    let now = app.clock.unix();
    let mut state = app.lock();
    let client = state
        .client(client_id)
        .cloned()
        .ok_or_else(|| unknown_client(client_id, tenant(req)))?;
    if !client.may_skip_credential() {
        return Err(AadError::client(
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or \
             'client_secret'. Register the app as a public client (allowPublicClient) to use the \
             device code flow without a credential.",
        ));
    }
    let scopes = required_scopes(&state, req.form.get("scope"))?;
    let expires_in = state.settings.device_code_expires_in_secs;
    let interval = state.settings.device_code_interval_secs;
    let device_code = format!("DAQABAAEAAA{}", random_token(48));
    let user_code = random_user_code();
    state.devices.insert(
        device_code.clone(),
        DeviceGrant {
            user_code: user_code.clone(),
            client_id: client.id().to_owned(),
            tenant: tenant(req).to_owned(),
            scope: scopes.request_string(),
            expires_at: now.saturating_add(i64::try_from(expires_in).unwrap_or(i64::MAX)),
            status: DeviceStatus::Pending,
            polls: 0,
        },
    );
    let uri = format!("{}/devicelogin", app.base_url);
    Ok(json!({
        "user_code": user_code,
        "device_code": device_code,
        "verification_uri": uri,
        "expires_in": expires_in,
        "interval": interval,
        "message": format!(
            "To sign in, use a web browser to open the page {uri} and enter the code {user_code} to authenticate."
        ),
    }))
}

/// A poll: `grant_type=urn:ietf:params:oauth:grant-type:device_code`.
pub fn poll(app: &App, state: &mut State, req: &Req, now: i64) -> Result<Value, AadError> {
    let (client, auth) = public_or_confidential(req, state, now)?;
    let code = req
        .form
        .get("device_code")
        .or_else(|| req.form.get("code"))
        .ok_or_else(|| AadError::missing("device_code"))?;
    let auto_after = state.settings.device_code_auto_approve_after_polls;
    let default_user = state.settings.default_username.clone();
    let grant = state.devices.get_mut(code).ok_or_else(|| {
        AadError::bad(
            "bad_verification_code",
            70000,
            "The device code is not recognised.",
        )
    })?;
    if !grant.client_id.eq_ignore_ascii_case(client.id()) {
        return Err(AadError::grant(
            70000,
            "The device code was issued to a different client.",
        ));
    }
    if grant.expires_at <= now && grant.status != DeviceStatus::Redeemed {
        return Err(AadError::bad(
            "expired_token",
            70019,
            "The verification code expired. Start a new device code flow.",
        ));
    }
    grant.polls = grant.polls.saturating_add(1);
    if grant.status == DeviceStatus::Pending && auto_after.is_some_and(|n| grant.polls > n) {
        grant.status = DeviceStatus::Approved(default_user);
    }
    let username = match &grant.status {
        DeviceStatus::Pending => {
            return Err(AadError::bad(
                "authorization_pending",
                70016,
                "The user has not yet finished signing in; keep polling at the interval.",
            ))
        }
        DeviceStatus::Declined => {
            return Err(AadError::bad(
                "authorization_declined",
                70000,
                "The user declined the sign-in request.",
            ))
        }
        DeviceStatus::Redeemed => {
            return Err(AadError::grant(
                54005,
                "The device code was already redeemed.",
            ))
        }
        DeviceStatus::Approved(u) => u.clone(),
    };
    let scope = grant.scope.clone();
    let user = state
        .user(&username)
        .cloned()
        .ok_or_else(|| AadError::grant(50034, "The approving user no longer exists."))?;
    let scopes = required_scopes(state, Some(&scope))?;
    state.record_consent(&user.username, &client, &scopes);
    let body = issue_for_user(app, state, req, &client, auth, &user, &scopes, None)?;
    if let Some(g) = state.devices.get_mut(code) {
        g.status = DeviceStatus::Redeemed;
    }
    Ok(body)
}

/// How an approval or decline went.
#[derive(Debug, PartialEq, Eq)]
pub enum Decision {
    Done,
    UnknownCode,
    UnknownUser,
    /// The code expired or was already decided.
    NotPending,
}

/// Approves (with `Some(user)`, or the default user) or declines a user code.
pub fn decide(app: &App, user_code: &str, approve: bool, username: Option<&str>) -> Decision {
    let now = app.clock.unix();
    let mut state = app.lock();
    let username = username
        .map(str::to_owned)
        .unwrap_or_else(|| state.settings.default_username.clone());
    if approve && state.user(&username).is_none() {
        return Decision::UnknownUser;
    }
    let wanted = user_code.trim().replace('-', "").to_ascii_uppercase();
    let Some(grant) = state.devices.values_mut().find(|g| g.user_code == wanted) else {
        return Decision::UnknownCode;
    };
    if grant.status != DeviceStatus::Pending || grant.expires_at <= now {
        return Decision::NotPending;
    }
    grant.status = if approve {
        DeviceStatus::Approved(username)
    } else {
        DeviceStatus::Declined
    };
    Decision::Done
}

/// What the admin API lists about a device code (never the device code itself).
#[derive(Debug, Serialize)]
pub struct DeviceSummary {
    pub user_code: String,
    pub client_id: String,
    pub tenant: String,
    pub scope: String,
    pub expires_at: i64,
    pub polls: u32,
    #[serde(flatten)]
    pub status: DeviceStatus,
}

pub fn list(state: &State) -> Vec<DeviceSummary> {
    let mut v: Vec<DeviceSummary> = state
        .devices
        .values()
        .map(|g| DeviceSummary {
            user_code: g.user_code.clone(),
            client_id: g.client_id.clone(),
            tenant: g.tenant.clone(),
            scope: g.scope.clone(),
            expires_at: g.expires_at,
            polls: g.polls,
            status: g.status.clone(),
        })
        .collect();
    v.sort_by_key(|d| d.expires_at);
    v
}

/// `/devicelogin`: a page to approve a code by hand (user code, username and
/// password), for demos and manual testing.
pub fn login_page(app: &App, req: &Req) -> Response {
    let form = |msg: &str| {
        format!(
            "<!DOCTYPE html><html><head><title>Enter code</title></head><body>\
             <h1>idflow emulator: device sign-in</h1><p>{}</p>\
             <form method=\"POST\" action=\"/devicelogin\">\
             <label>Code <input name=\"otc\"></label><br>\
             <label>Username <input name=\"username\"></label><br>\
             <label>Password <input name=\"password\" type=\"password\"></label><br>\
             <button name=\"action\" value=\"approve\">Sign in</button>\
             <button name=\"action\" value=\"decline\">Decline</button></form></body></html>",
            escape(msg)
        )
    };
    if req.method != Method::POST {
        return html(200, &req.ctx, form("Enter the code shown on your device."));
    }
    let code = req.form.get("otc").unwrap_or("");
    if req.form.get("action") == Some("decline") {
        let d = decide(app, code, false, None);
        let msg = if d == Decision::Done {
            "Declined."
        } else {
            "That code is not pending."
        };
        return html(200, &req.ctx, form(msg));
    }
    let username = req.form.get("username").unwrap_or("");
    let password_ok = app
        .lock()
        .user(username)
        .is_some_and(|u| Some(u.password.as_str()) == req.form.get("password"));
    if !password_ok {
        return html(200, &req.ctx, form("Wrong username or password."));
    }
    let msg = match decide(app, code, true, Some(username)) {
        Decision::Done => "You are signed in. You may close this window.",
        _ => "That code is not pending.",
    };
    html(200, &req.ctx, form(msg))
}
