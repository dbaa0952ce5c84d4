//! The admin API over HTTP (`/_admin/...`, JSON in and out), documented in
//! the crate's README. It is not subject to fault rules and not logged.
//! Errors are `{"error": "bad_request" | "not_found" | "conflict", "message": ...}`.
//!
//! Every admin request first passes [`local_only`]: web pages must not reach
//! this API, neither by DNS rebinding (a foreign `Host`), nor cross-origin
//! (`Origin`, `Sec-Fetch-Site`), nor with a form or `text/plain` body that a
//! page may send without a CORS preflight. Refusals are 403 `forbidden` and
//! 415 `unsupported_media_type`.

use crate::admin::{Admin, AdminError, PresetArm};
use crate::faults::rules::FaultSpec;
use crate::model::directory::{
    ClientSpec, ResourceSpec, UserSpec, CONFIDENTIAL_CLIENT_ID, DEFAULT_TENANT, DEFAULT_USERNAME,
    FAMILY_CLIENT_IDS, PUBLIC_CLIENT_ID,
};
use crate::model::state::{App, AuthorizeScript};
use axum::body::Bytes;
use axum::extract::{FromRef, Path, Query, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, delete, get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;

type Reply = Result<Response, AdminError>;

/// The platform's handlers take the emulator's state out of the router's.
impl FromRef<Admin> for Arc<App> {
    fn from_ref(admin: &Admin) -> Arc<App> {
        Arc::clone(&admin.app)
    }
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        let (status, kind) = match &self {
            AdminError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            AdminError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            AdminError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
        };
        (
            status,
            Json(json!({"error": kind, "message": self.to_string()})),
        )
            .into_response()
    }
}

fn ok(v: impl serde::Serialize) -> Reply {
    Ok(Json(v).into_response())
}

/// `{"removed": what}` when `done`, else not found (`no {noun} {what}`).
fn removed<T: serde::Serialize + std::fmt::Display>(done: bool, noun: &str, what: T) -> Reply {
    if done {
        ok(json!({ "removed": what }))
    } else {
        Err(AdminError::NotFound(format!("no {noun} {what}")))
    }
}

/// Parses a JSON body; an empty body is `{}`.
fn body<T: DeserializeOwned>(bytes: &Bytes) -> Result<T, AdminError> {
    let text: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        bytes
    };
    serde_json::from_slice(text)
        .map_err(|e| AdminError::BadRequest(format!("invalid JSON body: {e}")))
}

/// The admin routes.
pub fn routes() -> Router<Admin> {
    Router::new()
        .route("/_admin", get(index))
        .route("/_admin/config", get(index))
        .route(
            "/_admin/settings",
            get(settings).patch(update_settings).put(update_settings),
        )
        .route("/_admin/clients", get(clients).post(add_client))
        .route("/_admin/clients/{id}", get(client).delete(remove_client))
        .route("/_admin/clients/{id}/certificate", post(certificate))
        .route("/_admin/federated-token", post(federated_token))
        .route("/_admin/users", get(users).post(add_user))
        .route("/_admin/users/{username}", delete(remove_user))
        .route("/_admin/resources", get(resources).post(add_resource))
        .route(
            "/_admin/authorize/script",
            get(scripts).post(add_script).delete(clear_scripts),
        )
        .route("/_admin/device_codes", get(device_codes))
        .route("/_admin/device_codes/approve", post(approve))
        .route("/_admin/device_codes/decline", post(decline))
        .route(
            "/_admin/sessions",
            get(sessions).post(start_session).delete(clear_sessions),
        )
        .route("/_admin/refresh_tokens/revoke", post(revoke_refresh_tokens))
        .route("/_admin/consents/revoke", post(revoke_consents))
        .route("/_admin/requests", get(requests).delete(clear_requests))
        .route(
            "/_admin/faults",
            get(faults).post(add_fault).delete(clear_faults),
        )
        .route("/_admin/faults/{id}", delete(remove_fault))
        .route("/_admin/presets", get(presets))
        .route("/_admin/presets/{name}", post(arm_preset))
        .route("/_admin/clock", get(clock).post(move_clock))
        .route("/_admin/managed_identity", get(managed_identity))
        .route("/_admin/reset", post(reset))
        .route("/_admin/{*rest}", any(unknown))
        .route_layer(middleware::from_fn(local_only))
}

/// Refuses an admin request a web page could have sent (see the module
/// documentation); everything else goes on to the handler.
async fn local_only(request: Request, next: Next) -> Response {
    let authority = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| request.uri().authority().map(|a| a.as_str()))
        .map(str::to_owned);
    let tls = request
        .extensions()
        .get::<std::sync::Arc<crate::wire::server::ConnControl>>()
        .is_some_and(|c| c.is_tls());
    match refusal(request.headers(), authority.as_deref(), tls) {
        None => next.run(request).await,
        Some((status, kind, message)) => {
            (status, Json(json!({"error": kind, "message": message}))).into_response()
        }
    }
}

/// Splits `host[:port]` (`[v6]:port` too) into a lowercase host, without
/// brackets, and its port; `None` when it is not of that form.
fn split_authority(authority: &str) -> Option<(String, Option<u16>)> {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        (host, after)
    } else {
        match authority.rsplit_once(':') {
            Some((host, _)) => (host, &authority[host.len()..]),
            None => (authority, ""),
        }
    };
    let port = match port {
        "" => None,
        p => Some(p.strip_prefix(':')?.parse().ok()?),
    };
    Some((host.to_ascii_lowercase(), port))
}

fn is_loopback_name(host: &str) -> bool {
    matches!(host, "127.0.0.1" | "localhost" | "::1")
}

type Refusal = (StatusCode, &'static str, String);

fn forbidden(message: impl Into<String>) -> Option<Refusal> {
    Some((StatusCode::FORBIDDEN, "forbidden", message.into()))
}

fn refusal(headers: &HeaderMap, authority: Option<&str>, tls: bool) -> Option<Refusal> {
    let own_scheme = if tls { "https://" } else { "http://" };
    let Some((host, port)) = authority.and_then(split_authority) else {
        return forbidden("the admin API needs a Host header");
    };
    if !is_loopback_name(&host) {
        return forbidden("the admin API answers only to Host 127.0.0.1, localhost or [::1]");
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let own = origin
            .to_str()
            .ok()
            // `https://` when the emulator serves TLS.
            .and_then(|o| o.strip_prefix(own_scheme))
            .and_then(split_authority)
            .is_some_and(|(h, p)| is_loopback_name(&h) && p.or(Some(80)) == port.or(Some(80)));
        if !own {
            return forbidden("the admin API refuses cross-origin requests");
        }
    }
    if let Some(site) = headers.get("sec-fetch-site") {
        if !matches!(site.as_bytes(), b"same-origin" | b"none") {
            return forbidden("the admin API refuses requests from other sites");
        }
    }
    let has_body = headers.contains_key(header::TRANSFER_ENCODING)
        || headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim() != "0");
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"));
    if has_body && !json {
        return Some((
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "admin request bodies must be Content-Type: application/json".into(),
        ));
    }
    None
}

async fn unknown() -> AdminError {
    AdminError::NotFound("no such admin endpoint; GET /_admin lists them".into())
}

async fn index(State(a): State<Admin>) -> Reply {
    ok(json!({
        "base_url": a.app.base_url,
        "default_tenant": DEFAULT_TENANT,
        "default_tenant_id": crate::model::directory::tenant_id(DEFAULT_TENANT),
        "public_client_id": PUBLIC_CLIENT_ID,
        "family_client_ids": FAMILY_CLIENT_IDS,
        "confidential_client_id": CONFIDENTIAL_CLIENT_ID,
        "default_username": DEFAULT_USERNAME,
        "settings": a.settings(),
        "endpoints": [
            "GET|PATCH /_admin/settings", "GET|POST /_admin/clients", "GET|DELETE /_admin/clients/{client_id}",
            "POST /_admin/clients/{client_id}/certificate", "POST /_admin/federated-token", "GET|POST /_admin/users", "DELETE /_admin/users/{username}",
            "GET|POST /_admin/resources", "GET|POST|DELETE /_admin/authorize/script", "GET /_admin/device_codes",
            "POST /_admin/device_codes/approve", "POST /_admin/device_codes/decline", "GET|POST|DELETE /_admin/sessions",
            "POST /_admin/refresh_tokens/revoke", "POST /_admin/consents/revoke", "GET|DELETE /_admin/requests",
            "GET|POST|DELETE /_admin/faults", "DELETE /_admin/faults/{id}", "GET /_admin/presets",
            "POST /_admin/presets/{name}", "GET|POST /_admin/clock", "POST /_admin/reset"
        ],
    }))
}

async fn settings(State(a): State<Admin>) -> Reply {
    ok(a.settings())
}

async fn update_settings(State(a): State<Admin>, b: Bytes) -> Reply {
    ok(a.update_settings(&body::<Value>(&b)?)?)
}

async fn clients(State(a): State<Admin>) -> Reply {
    ok(a.clients())
}

async fn client(State(a): State<Admin>, Path(id): Path<String>) -> Reply {
    a.client(&id)
        .map_or_else(|| Err(AdminError::NotFound(format!("no client {id}"))), ok)
}

async fn add_client(State(a): State<Admin>, b: Bytes) -> Reply {
    let spec: ClientSpec = body(&b)?;
    let id = spec.client_id.clone();
    a.register_client(spec)?;
    Ok((StatusCode::CREATED, Json(a.client(&id))).into_response())
}

async fn remove_client(State(a): State<Admin>, Path(id): Path<String>) -> Reply {
    removed(a.remove_client(&id), "client", id)
}

async fn certificate(State(a): State<Admin>, Path(id): Path<String>) -> Reply {
    Ok((StatusCode::CREATED, Json(a.generate_certificate(&id)?)).into_response())
}

async fn federated_token(State(a): State<Admin>, b: Bytes) -> Reply {
    let r: super::federation::FederatedTokenRequest = body(&b)?;
    Ok((StatusCode::CREATED, Json(a.federated_token(r)?)).into_response())
}

async fn users(State(a): State<Admin>) -> Reply {
    ok(a.users())
}

async fn add_user(State(a): State<Admin>, b: Bytes) -> Reply {
    let spec: UserSpec = body(&b)?;
    let summary =
        json!({"username": spec.username, "oid": spec.oid(), "tenant_id": spec.tenant_id()});
    a.register_user(spec)?;
    Ok((StatusCode::CREATED, Json(summary)).into_response())
}

async fn remove_user(State(a): State<Admin>, Path(username): Path<String>) -> Reply {
    removed(a.remove_user(&username), "user", username)
}

async fn resources(State(a): State<Admin>) -> Reply {
    ok(a.resources())
}

async fn add_resource(State(a): State<Admin>, b: Bytes) -> Reply {
    let spec: ResourceSpec = body(&b)?;
    a.register_resource(spec.clone())?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"uri": spec.uri, "app_id": spec.app_id()})),
    )
        .into_response())
}

async fn scripts(State(a): State<Admin>) -> Reply {
    ok(a.authorize_scripts())
}

async fn add_script(State(a): State<Admin>, b: Bytes) -> Reply {
    let script: AuthorizeScript = body(&b)?;
    a.script_authorize(script)?;
    ok(json!({"queued": a.authorize_scripts().len()}))
}

async fn clear_scripts(State(a): State<Admin>) -> Reply {
    a.clear_authorize_scripts();
    ok(json!({"queued": 0}))
}

async fn device_codes(State(a): State<Admin>) -> Reply {
    ok(a.device_codes())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Decide {
    user_code: String,
    #[serde(default)]
    username: Option<String>,
}

async fn approve(State(a): State<Admin>, b: Bytes) -> Reply {
    let d: Decide = body(&b)?;
    a.approve_device_code(&d.user_code, d.username.as_deref())?;
    ok(json!({"approved": d.user_code}))
}

async fn decline(State(a): State<Admin>, b: Bytes) -> Reply {
    let d: Decide = body(&b)?;
    a.decline_device_code(&d.user_code)?;
    ok(json!({"declined": d.user_code}))
}

async fn sessions(State(a): State<Admin>) -> Reply {
    ok(a.sessions())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SessionReq {
    username: String,
}

async fn start_session(State(a): State<Admin>, b: Bytes) -> Reply {
    let s: SessionReq = body(&b)?;
    a.start_session(&s.username)?;
    ok(a.sessions())
}

async fn clear_sessions(State(a): State<Admin>) -> Reply {
    a.clear_sessions();
    ok(json!([]))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct Who {
    username: Option<String>,
    client_id: Option<String>,
}

async fn revoke_refresh_tokens(State(a): State<Admin>, b: Bytes) -> Reply {
    let w: Who = body(&b)?;
    ok(json!({"revoked": a.revoke_refresh_tokens(w.username.as_deref(), w.client_id.as_deref())}))
}

async fn revoke_consents(State(a): State<Admin>, b: Bytes) -> Reply {
    let w: Who = body(&b)?;
    ok(json!({"revoked": a.revoke_consents(w.username.as_deref(), w.client_id.as_deref())}))
}

#[derive(Deserialize)]
struct Since {
    #[serde(default)]
    since: u64,
}

async fn requests(State(a): State<Admin>, Query(q): Query<Since>) -> Reply {
    ok(a.requests(q.since))
}

async fn clear_requests(State(a): State<Admin>) -> Reply {
    a.clear_requests();
    ok(json!([]))
}

async fn faults(State(a): State<Admin>) -> Reply {
    ok(a.faults())
}

async fn add_fault(State(a): State<Admin>, b: Bytes) -> Reply {
    let spec: FaultSpec = body(&b)?;
    let id = a.add_fault(spec)?;
    Ok((StatusCode::CREATED, Json(json!({"id": id}))).into_response())
}

async fn clear_faults(State(a): State<Admin>) -> Reply {
    a.clear_faults();
    ok(json!([]))
}

async fn remove_fault(State(a): State<Admin>, Path(id): Path<String>) -> Reply {
    let id: u64 = id
        .parse()
        .map_err(|_| AdminError::BadRequest("fault ids are integers".into()))?;
    removed(a.remove_fault(id), "fault", id)
}

async fn presets(State(a): State<Admin>) -> Reply {
    let list: Vec<Value> = a
        .presets()
        .into_iter()
        .map(|p| json!({"name": p.name, "description": p.description, "expect": p.expect, "rule": p.rule}))
        .collect();
    ok(list)
}

async fn arm_preset(State(a): State<Admin>, Path(name): Path<String>, b: Bytes) -> Reply {
    let arm: PresetArm = body(&b)?;
    let id = a.arm_preset(&name, arm)?;
    Ok((StatusCode::CREATED, Json(json!({"id": id, "preset": name}))).into_response())
}

/// Each managed identity source's environment variables, the Arc key
/// directory and the identities the emulator knows.
async fn managed_identity(State(a): State<Admin>) -> Reply {
    use crate::model::managed_identity as mi;
    let sources: serde_json::Map<String, Value> = mi::SOURCES
        .iter()
        .map(|s| {
            let vars: serde_json::Map<String, Value> = a
                .managed_identity_environment(s)
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect();
            ((*s).to_owned(), Value::Object(vars))
        })
        .collect();
    ok(json!({
        "sources": sources,
        "arc_key_directory": a.arc_key_directory().display().to_string(),
        "system_assigned": {"client_id": mi::MI_SYSTEM_CLIENT_ID, "object_id": mi::MI_SYSTEM_OBJECT_ID},
        "user_assigned": {
            "client_id": mi::MI_USER_CLIENT_ID,
            "object_id": mi::MI_USER_OBJECT_ID,
            "resource_id": mi::MI_USER_RESOURCE_ID,
        },
    }))
}

async fn clock(State(a): State<Admin>) -> Reply {
    ok(a.clock())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct MoveClock {
    advance_secs: Option<i64>,
    offset_secs: Option<i64>,
}

async fn move_clock(State(a): State<Admin>, b: Bytes) -> Reply {
    let m: MoveClock = body(&b)?;
    match (m.advance_secs, m.offset_secs) {
        (Some(s), None) => ok(a.advance_clock(s)),
        (None, Some(s)) => ok(a.set_clock_offset(s)),
        _ => Err(AdminError::BadRequest(
            "send exactly one of advance_secs and offset_secs".into(),
        )),
    }
}

async fn reset(State(a): State<Admin>) -> Reply {
    a.reset()?;
    ok(json!({"reset": true}))
}
