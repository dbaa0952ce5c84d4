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

/// What a source checks, in this order (no source checks both `Metadata`
/// and a secret header), and the members of its answer.
struct Source {
    shape: Shape,
    method: Method,
    /// `Metadata: true` is required.
    metadata: bool,
    /// The secret header, its expected value, the error code when it is wrong.
    secret: Option<(&'static str, &'static str, &'static str)>,
    api_version: Option<&'static str>,
    /// The error code for a missing `resource`.
    no_resource: &'static str,
    /// The parameter names for a client id, resource id and object id;
    /// `None`: the platform fixes the identity (the system-assigned one).
    user_assigned: Option<[&'static str; 3]>,
    /// Members beyond `access_token`, `expires_on`, `resource`, `token_type`.
    extras: &'static [Extra],
}

/// An optional member of a source's answer.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Extra {
    /// `expires_in` (seconds, as a string).
    ExpiresIn,
    /// The identity's `client_id`.
    ClientId,
    /// IMDS's `ext_expires_in` and `not_before`.
    ImdsTimes,
    /// `expires_on` as a number (Service Fabric) instead of a string.
    ExpiresOnNumber,
}

static IMDS: Source = Source {
    shape: Shape::OAuth,
    method: Method::GET,
    metadata: true,
    secret: None,
    api_version: Some("2018-02-01"),
    no_resource: "invalid_request",
    user_assigned: Some(["client_id", "msi_res_id", "object_id"]),
    extras: &[Extra::ClientId, Extra::ExpiresIn, Extra::ImdsTimes],
};

static APP_SERVICE: Source = Source {
    shape: Shape::StatusMessage,
    method: Method::GET,
    metadata: false,
    secret: Some((
        "x-identity-header",
        MI_IDENTITY_HEADER,
        "unauthorized_client",
    )),
    api_version: Some("2019-08-01"),
    no_resource: "invalid_request",
    user_assigned: Some(["client_id", "mi_res_id", "object_id"]),
    extras: &[Extra::ClientId],
};

static MACHINE_LEARNING: Source = Source {
    shape: Shape::StatusMessage,
    method: Method::GET,
    metadata: false,
    secret: Some(("secret", MI_MSI_SECRET, "unauthorized_client")),
    api_version: Some("2017-09-01"),
    no_resource: "invalid_request",
    user_assigned: Some(["clientid", "msi_res_id", "object_id"]),
    extras: &[],
};

static SERVICE_FABRIC: Source = Source {
    shape: Shape::ServiceFabric,
    method: Method::GET,
    metadata: false,
    secret: Some(("secret", MI_IDENTITY_HEADER, "SecretHeaderNotFound")),
    api_version: Some("2019-07-01-preview"),
    no_resource: "ArgumentNullOrEmpty",
    // The cluster fixes the identity.
    user_assigned: None,
    extras: &[Extra::ExpiresOnNumber],
};

static CLOUD_SHELL: Source = Source {
    shape: Shape::OAuth,
    method: Method::POST,
    metadata: true,
    secret: None,
    api_version: None,
    no_resource: "invalid_request",
    user_assigned: None,
    extras: &[Extra::ExpiresIn],
};

static AZURE_ARC: Source = Source {
    shape: Shape::OAuth,
    method: Method::GET,
    metadata: true,
    secret: None,
    api_version: Some("2020-06-01"),
    no_resource: "invalid_request",
    user_assigned: Some(["client_id", "msi_res_id", "object_id"]),
    extras: &[Extra::ExpiresIn],
};

impl Source {
    /// The request's resource and identity, once every check passed.
    fn check<'r>(&self, req: &'r Req) -> Result<(&'r str, Identity), Failure> {
        method(req, &self.method)?;
        if self.metadata {
            metadata(req)?;
        }
        if let Some((header, want, code)) = self.secret {
            secret(req, header, want, code)?;
        }
        if let Some(want) = self.api_version {
            api_version(req, want)?;
        }
        let resource = resource(req, self.no_resource)?;
        let who = match self.user_assigned {
            Some(names) => identity(req, names)?,
            None => Identity::System,
        };
        Ok((resource, who))
    }

    /// The token answer, with this source's members.
    fn answer(&self, app: &App, who: Identity, resource: &str) -> Result<Value, Failure> {
        let (token, exp) = access_token(app, who, resource)?;
        let lifetime = MI_TOKEN_LIFETIME_SECS.to_string();
        let mut body = json!({
            "access_token": token,
            "expires_on": exp.to_string(),
            "resource": resource,
            "token_type": "Bearer",
        });
        for extra in self.extras {
            match extra {
                Extra::ExpiresIn => body["expires_in"] = json!(lifetime),
                Extra::ClientId => body["client_id"] = json!(who.client_id()),
                Extra::ImdsTimes => {
                    body["ext_expires_in"] = json!(lifetime);
                    body["not_before"] = json!(app.clock.unix().to_string());
                }
                Extra::ExpiresOnNumber => body["expires_on"] = json!(exp),
            }
        }
        Ok(body)
    }
}

/// Answers a managed identity endpoint.
pub fn handle(app: &App, req: &Req) -> Response {
    let source = match req.endpoint {
        Endpoint::ManagedIdentityImds => &IMDS,
        Endpoint::ManagedIdentityAppService => &APP_SERVICE,
        Endpoint::ManagedIdentityServiceFabric => &SERVICE_FABRIC,
        Endpoint::ManagedIdentityAzureArc => return azure_arc(app, req),
        Endpoint::ManagedIdentityCloudShell => &CLOUD_SHELL,
        _ => &MACHINE_LEARNING,
    };
    let answer = source
        .check(req)
        .and_then(|(resource, who)| source.answer(app, who, resource));
    match answer {
        Ok(body) => json(200, &req.ctx, &body),
        Err(f) => render(source.shape, &f, req),
    }
}

fn method(req: &Req, want: &Method) -> Result<(), Failure> {
    if req.method == *want {
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

/// The Azure Arc agent: without `Authorization` it writes a key file and
/// challenges with its path; with it, the key must be one it wrote.
fn azure_arc(app: &App, req: &Req) -> Response {
    let (resource, who) = match AZURE_ARC.check(req) {
        Ok(r) => r,
        Err(f) => return render(AZURE_ARC.shape, &f, req),
    };
    let key = req
        .header("authorization")
        .and_then(|v| v.strip_prefix("Basic "))
        .map(str::to_owned);
    match key {
        Some(k) if app.lock().managed_identity.knows_arc_secret(&k) => {
            match AZURE_ARC.answer(app, who, resource) {
                Ok(mut body) => {
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
