//! The managed identity endpoints of every source, each with its platform's
//! checks and error shapes, so a client's request must be exactly what the
//! platform expects:
//!
//! | source | request | error shape |
//! |---|---|---|
//! | IMDS | GET, `Metadata: true`, api-version 2018-02-01, `client_id` / `msi_res_id` / `object_id` | OAuth `{"error", "error_description"}` |
//! | App Service | GET, `X-IDENTITY-HEADER`, api-version 2019-08-01, `client_id` / `mi_res_id` / `object_id` | `{"statusCode", "message"}` |
//! | Service Fabric | GET, `Secret`, api-version 2019-07-01-preview | `{"error": {"code", "message"}}` |
//! | Azure Arc | GET, `Metadata: true`, api-version 2020-06-01, `client_id` / `msi_res_id` / `object_id` (echoed back); 401 challenge naming a key file, then `Authorization: Basic <key>` | OAuth |
//! | Cloud Shell | POST form `resource`, `Metadata: true` | OAuth |
//! | Azure Machine Learning | GET, `secret`, api-version 2017-09-01, `clientid` | `{"statusCode", "message"}` |
//!
//! Faults are armed on these endpoints like on any other (match on
//! `endpoint: managed_identity_imds`, ...): the front door applies them
//! before these handlers run.

use crate::model::managed_identity::{
    user_assigned, Identity, MI_IDENTITY_HEADER, MI_MSI_SECRET, MI_TOKEN_LIFETIME_SECS,
    MI_USER_RESOURCE_ID,
};
use crate::model::state::{random_token, App};
use crate::wire::reply::{json, respond};
use crate::wire::request::{Endpoint, Req};
use axum::http::Method;
use axum::response::Response;
use serde_json::{json, Map, Value};
use std::path::PathBuf;

/// How the source reports an error.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    OAuth,
    StatusMessage,
    ServiceFabric,
}

struct Failure {
    status: u16,
    /// OAuth `error`, or Service Fabric's `code`.
    code: &'static str,
    message: String,
}

fn fail(status: u16, code: &'static str, message: impl Into<String>) -> Failure {
    Failure {
        status,
        code,
        message: message.into(),
    }
}

fn render(shape: Shape, f: &Failure, req: &Req) -> Response {
    let body = match shape {
        Shape::OAuth => json!({"error": f.code, "error_description": f.message}),
        Shape::StatusMessage => json!({"statusCode": f.status, "message": f.message}),
        Shape::ServiceFabric => json!({"error": {"code": f.code, "message": f.message}}),
    };
    json(f.status, &req.ctx, &body)
}

/// Answers a managed identity endpoint.
pub fn handle(app: &App, req: &Req) -> Response {
    let shape = match req.endpoint {
        Endpoint::ManagedIdentityAppService | Endpoint::ManagedIdentityMachineLearning => {
            Shape::StatusMessage
        }
        Endpoint::ManagedIdentityServiceFabric => Shape::ServiceFabric,
        _ => Shape::OAuth,
    };
    let outcome = match req.endpoint {
        Endpoint::ManagedIdentityImds => imds(app, req),
        Endpoint::ManagedIdentityAppService => app_service(app, req),
        Endpoint::ManagedIdentityServiceFabric => service_fabric(app, req),
        Endpoint::ManagedIdentityAzureArc => return azure_arc(app, req),
        Endpoint::ManagedIdentityCloudShell => cloud_shell(app, req),
        _ => machine_learning(app, req),
    };
    match outcome {
        Ok(body) => json(200, &req.ctx, &body),
        Err(f) => render(shape, &f, req),
    }
}

fn method(req: &Req, want: Method) -> Result<(), Failure> {
    if req.method == want {
        Ok(())
    } else {
        Err(fail(
            405,
            "invalid_request",
            format!("The request method must be {want}."),
        ))
    }
}

fn api_version(req: &Req, want: &str) -> Result<(), Failure> {
    match req.query.get("api-version") {
        None | Some("") => Err(fail(
            400,
            "invalid_request",
            "Required query variable 'api-version' is missing",
        )),
        Some(v) if v == want => Ok(()),
        Some(v) => Err(fail(
            400,
            "invalid_request",
            format!(
                "Invalid api-version '{}'; use {want}",
                v.chars().take(40).collect::<String>()
            ),
        )),
    }
}

fn metadata(req: &Req) -> Result<(), Failure> {
    if req
        .header("metadata")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    {
        Ok(())
    } else {
        Err(fail(
            400,
            "invalid_request",
            "Required metadata header not specified",
        ))
    }
}

fn secret(req: &Req, header: &str, want: &str, code: &'static str) -> Result<(), Failure> {
    match req.header(header) {
        Some(v) if v == want => Ok(()),
        Some(_) => Err(fail(
            401,
            code,
            format!("The {header} header is not valid."),
        )),
        None => Err(fail(
            401,
            code,
            format!("The {header} header was not found."),
        )),
    }
}

/// The resource: present, and an absolute URI or an app id.
fn resource<'r>(req: &'r Req, missing_code: &'static str) -> Result<&'r str, Failure> {
    let r = req.param("resource").unwrap_or("");
    if r.is_empty() {
        return Err(fail(
            400,
            missing_code,
            "Required query variable 'resource' is missing",
        ));
    }
    let uri = url::Url::parse(r).is_ok_and(|u| u.has_host());
    let guid = uuid::Uuid::parse_str(r).is_ok();
    if uri || guid {
        Ok(r)
    } else {
        Err(fail(
            400,
            "invalid_resource",
            format!(
                "AADSTS500011: The resource principal named {} was not found in the tenant.",
                r.chars().take(100).collect::<String>()
            ),
        ))
    }
}

/// The identity the request names, through `names` (the source's
/// parameter names for client id, resource id, object id).
fn identity(req: &Req, names: [&str; 3]) -> Result<Identity, Failure> {
    let given: Vec<(usize, &str)> = names
        .iter()
        .enumerate()
        .filter_map(|(i, n)| req.query.get(n).map(|v| (i, v)))
        .collect();
    match given.as_slice() {
        [] => Ok(Identity::System),
        [(i, v)] => {
            let kind = ["client_id", "resource_id", "object_id"][*i];
            user_assigned(kind, v).ok_or_else(|| fail(400, "invalid_request", "Identity not found"))
        }
        _ => Err(fail(
            400,
            "invalid_request",
            "Only one of client_id, resource id and object_id may be given",
        )),
    }
}

fn access_token(app: &App, identity: Identity, resource: &str) -> Result<(String, i64), Failure> {
    let now = app.clock.unix();
    let exp = now + MI_TOKEN_LIFETIME_SECS;
    let mut claims = json!({
        "aud": resource,
        "iss": format!("{}/{}/", app.base_url, crate::model::directory::tenant_id(crate::model::directory::DEFAULT_TENANT)),
        "iat": now,
        "nbf": now,
        "exp": exp,
        "appid": identity.client_id(),
        "oid": identity.object_id(),
        "sub": identity.object_id(),
        "idtyp": "app",
        "uti": random_token(16),
    });
    if identity == Identity::User {
        claims["xms_mirid"] = json!(MI_USER_RESOURCE_ID);
    }
    let mut header = Map::new();
    header.insert("kid".into(), json!(app.kid));
    let token = app
        .signer
        .sign_jwt(header, &claims)
        .map_err(|e| fail(500, "server_error", format!("signing failed: {e}")))?;
    Ok((token, exp))
}

fn imds(app: &App, req: &Req) -> Result<Value, Failure> {
    method(req, Method::GET)?;
    metadata(req)?;
    api_version(req, "2018-02-01")?;
    let resource = resource(req, "invalid_request")?;
    let who = identity(req, ["client_id", "msi_res_id", "object_id"])?;
    let (token, exp) = access_token(app, who, resource)?;
    Ok(json!({
        "access_token": token,
        "client_id": who.client_id(),
        "expires_in": MI_TOKEN_LIFETIME_SECS.to_string(),
        "expires_on": exp.to_string(),
        "ext_expires_in": MI_TOKEN_LIFETIME_SECS.to_string(),
        "not_before": app.clock.unix().to_string(),
        "resource": resource,
        "token_type": "Bearer",
    }))
}

fn app_service(app: &App, req: &Req) -> Result<Value, Failure> {
    method(req, Method::GET)?;
    secret(
        req,
        "x-identity-header",
        MI_IDENTITY_HEADER,
        "unauthorized_client",
    )?;
    api_version(req, "2019-08-01")?;
    let resource = resource(req, "invalid_request")?;
    let who = identity(req, ["client_id", "mi_res_id", "object_id"])?;
    let (token, exp) = access_token(app, who, resource)?;
    Ok(json!({
        "access_token": token,
        "expires_on": exp.to_string(),
        "resource": resource,
        "token_type": "Bearer",
        "client_id": who.client_id(),
    }))
}

fn machine_learning(app: &App, req: &Req) -> Result<Value, Failure> {
    method(req, Method::GET)?;
    secret(req, "secret", MI_MSI_SECRET, "unauthorized_client")?;
    api_version(req, "2017-09-01")?;
    let resource = resource(req, "invalid_request")?;
    let who = identity(req, ["clientid", "msi_res_id", "object_id"])?;
    let (token, exp) = access_token(app, who, resource)?;
    Ok(json!({
        "access_token": token,
        "expires_on": exp.to_string(),
        "resource": resource,
        "token_type": "Bearer",
    }))
}

fn service_fabric(app: &App, req: &Req) -> Result<Value, Failure> {
    method(req, Method::GET)?;
    secret(req, "secret", MI_IDENTITY_HEADER, "SecretHeaderNotFound")?;
    api_version(req, "2019-07-01-preview")?;
    let resource = resource(req, "ArgumentNullOrEmpty")?;
    // The cluster fixes the identity: the system-assigned one.
    let (token, exp) = access_token(app, Identity::System, resource)?;
    Ok(json!({
        "access_token": token,
        "expires_on": exp,
        "resource": resource,
        "token_type": "Bearer",
    }))
}

fn cloud_shell(app: &App, req: &Req) -> Result<Value, Failure> {
    method(req, Method::POST)?;
    metadata(req)?;
    let resource = resource(req, "invalid_request")?;
    let (token, exp) = access_token(app, Identity::System, resource)?;
    Ok(json!({
        "access_token": token,
        "expires_in": MI_TOKEN_LIFETIME_SECS.to_string(),
        "expires_on": exp.to_string(),
        "resource": resource,
        "token_type": "Bearer",
    }))
}

/// The Azure Arc agent: without `Authorization` it writes a key file and
/// challenges with its path; with it, the key must be one it wrote.
fn azure_arc(app: &App, req: &Req) -> Response {
    let checked = method(req, Method::GET)
        .and_then(|_| metadata(req))
        .and_then(|_| api_version(req, "2020-06-01"))
        .and_then(|_| resource(req, "invalid_request").map(str::to_owned))
        .and_then(|r| Ok((r, identity(req, ["client_id", "msi_res_id", "object_id"])?)));
    let (resource, who) = match checked {
        Ok(r) => r,
        Err(f) => return render(Shape::OAuth, &f, req),
    };
    let key = req
        .header("authorization")
        .and_then(|v| v.strip_prefix("Basic "))
        .map(str::to_owned);
    match key {
        Some(k) if app.lock().managed_identity.knows_arc_secret(&k) => {
            match access_token(app, who, &resource) {
                Ok((token, exp)) => {
                    let mut body = json!({
                        "access_token": token,
                        "expires_in": MI_TOKEN_LIFETIME_SECS.to_string(),
                        "expires_on": exp.to_string(),
                        "resource": resource,
                        "token_type": "Bearer",
                    });
                    // An agent that serves user-assigned identities echoes the one used.
                    if who == Identity::User {
                        body["client_id"] = json!(who.client_id());
                        body["object_id"] = json!(who.object_id());
                        body["msi_res_id"] = json!(MI_USER_RESOURCE_ID);
                    }
                    json(200, &req.ctx, &body)
                }
                Err(f) => render(Shape::OAuth, &f, req),
            }
        }
        Some(_) => render(
            Shape::OAuth,
            &fail(
                401,
                "invalid_client",
                "The key in the Authorization header is not valid.",
            ),
            req,
        ),
        None => match write_key_file(app) {
            Ok(path) => {
                let mut h = req.ctx.platform_headers();
                h.push((
                    "www-authenticate".into(),
                    format!("Basic realm={}", path.display()),
                ));
                h.push((
                    "content-type".into(),
                    "application/json; charset=utf-8".into(),
                ));
                respond(
                    401,
                    h,
                    json!({"error": "unauthorized", "error_description": "Use the key in the file named by WWW-Authenticate"})
                        .to_string(),
                )
            }
            Err(e) => render(Shape::OAuth, &fail(500, "server_error", e), req),
        },
    }
}

/// The Arc key directory: the configured one, else one under the temp dir.
pub fn arc_key_directory(app: &App) -> PathBuf {
    let mut state = app.lock();
    state
        .managed_identity
        .arc_key_directory
        .get_or_insert_with(|| {
            std::env::temp_dir().join(format!(
                "idflow-emulator-arc-{}-{}",
                std::process::id(),
                app.base_url.rsplit(':').next().unwrap_or("0")
            ))
        })
        .clone()
}

fn write_key_file(app: &App) -> Result<PathBuf, String> {
    let dir = arc_key_directory(app);
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create the key directory: {e}"))?;
    let secret = random_token(32);
    let path = dir.join(format!("{}.key", uuid::Uuid::new_v4()));
    std::fs::write(&path, &secret).map_err(|e| format!("cannot write the key file: {e}"))?;
    app.lock().managed_identity.remember_arc_secret(secret);
    Ok(path)
}
