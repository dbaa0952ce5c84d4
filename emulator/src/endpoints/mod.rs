//! The emulated identity platform's front door: every non-admin request is
//! read, logged, offered to the fault rules, and then answered by its endpoint.
//!
//! Below it, lowest first: `checks` (what every endpoint checks),
//! `client_auth` (which client is calling), `issue` (minting tokens), and
//! the endpoints: `discovery`, `authorize`, `device`, `token` with its
//! `grants`.

pub mod assertion_trust;
pub mod authorize;
pub mod checks;
pub mod client_auth;
pub mod device;
pub mod discovery;
pub mod grants;
pub mod issue;
pub mod managed_identity;
pub mod token;

use crate::faults::apply::{apply, strip_members, Applied};
use crate::model::log::RequestRecord;
use crate::model::state::App;
use crate::wire::aad_error::AadError;
use crate::wire::reply::html;
use crate::wire::request::{Endpoint, Req};
use axum::extract::State;
use axum::response::Response;
use std::sync::Arc;

/// The handler for every path outside `/_admin/`.
pub async fn handle(State(app): State<Arc<App>>, request: axum::extract::Request) -> Response {
    let req = Req::read(request, &app.base_url, app.clock.now()).await;
    let mut record = RequestRecord::of(&req);
    // Logged before answering, so that a dropped connection still shows up.
    let (fault, seq, token_lifetime) = {
        let mut state = app.lock();
        let fault = state.faults.take(&req);
        if let Some(f) = &fault {
            record.fault_id = Some(f.id);
            record.fault = Some(f.label.clone().unwrap_or_else(|| effect_name(&f.effect)));
        }
        let token_lifetime = state.settings.access_token_lifetime_secs;
        (fault, state.log.push(record), token_lifetime)
    };
    let response = match &fault {
        Some(rule) => match apply(&rule.effect, &req, &app.clock, token_lifetime).await {
            Applied::Respond(r) => r,
            Applied::PassThrough => answer(&app, &req),
            Applied::StripMembers(members) => strip_members(answer(&app, &req), members).await,
            // The connection task closes the socket and drops this future.
            Applied::Dropped => return std::future::pending().await,
        },
        None => answer(&app, &req),
    };
    app.lock().log.set_outcome(seq, response.status().as_u16());
    response
}

fn effect_name(effect: &crate::faults::rules::Effect) -> String {
    serde_json::to_value(effect)
        .ok()
        .and_then(|v| v.get("kind").and_then(|k| k.as_str()).map(str::to_owned))
        .unwrap_or_default()
}

/// The platform's normal answer.
fn answer(app: &App, req: &Req) -> Response {
    if let Some(t) = &req.tenant {
        if !valid_tenant(t) && req.endpoint != Endpoint::Unknown {
            return AadError::bad(
                "invalid_request",
                90002,
                format!(
                    "Tenant '{}' not found: the tenant name or id is not valid.",
                    t.chars().take(64).collect::<String>()
                ),
            )
            .into_response(&req.ctx);
        }
    }
    match req.endpoint {
        Endpoint::OpenidConfiguration => discovery::openid_configuration(app, req),
        Endpoint::InstanceDiscovery => discovery::instance_discovery(app, req),
        Endpoint::Jwks => discovery::jwks(app, req),
        Endpoint::UserRealm => discovery::user_realm(app, req),
        Endpoint::ErrorInfo => discovery::error_page(req),
        Endpoint::Authorize => authorize::handle(app, req),
        Endpoint::Logout => authorize::logout(app, req),
        Endpoint::Token => token::handle(app, req),
        Endpoint::Devicecode => device::start(app, req),
        Endpoint::DeviceLogin => device::login_page(app, req),
        Endpoint::ManagedIdentityImds
        | Endpoint::ManagedIdentityAppService
        | Endpoint::ManagedIdentityServiceFabric
        | Endpoint::ManagedIdentityAzureArc
        | Endpoint::ManagedIdentityCloudShell
        | Endpoint::ManagedIdentityMachineLearning => managed_identity::handle(app, req),
        Endpoint::Unknown => html(
            404,
            &req.ctx,
            "<!DOCTYPE html><html><body><h1>404 Not Found</h1><p>The identity platform has no such endpoint.</p></body></html>".into(),
        ),
    }
}

/// Tenant names are domain names, GUIDs or the three audiences.
fn valid_tenant(t: &str) -> bool {
    !t.is_empty()
        && t.len() <= 256
        && t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_')
}
