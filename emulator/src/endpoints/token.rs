//! The token endpoint: request checks common to every grant, then dispatch
//! to the grant. Every failure is an [`AadError`] in the platform's shape.

use crate::endpoints::checks::check_post_form;
use crate::endpoints::{device, grants};
use crate::grant_types::{DEVICE_CODE_GRANT, JWT_BEARER_GRANT};
use crate::model::state::App;
use crate::wire::aad_error::AadError;
use crate::wire::reply::json;
use crate::wire::request::Req;
use axum::response::Response;
use serde_json::Value;

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
