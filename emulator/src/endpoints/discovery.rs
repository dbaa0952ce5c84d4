//! Discovery: OpenID Connect metadata per tenant, instance (authority alias)
//! discovery, the signing keys, user-realm discovery, and the page behind
//! `error_uri`.

use crate::model::directory::{is_multi_tenant_alias, tenant_id};
use crate::model::state::App;
use crate::wire::aad_error::AadError;
use crate::wire::reply::{escape, html, json};
use crate::wire::request::Req;
use axum::response::Response;
use serde_json::json;

/// `GET /{tenant}/v2.0/.well-known/openid-configuration`.
pub fn openid_configuration(app: &App, req: &Req) -> Response {
    let base = &app.base_url;
    let tenant = req.tenant.as_deref().unwrap_or("common");
    let issuer = if is_multi_tenant_alias(tenant) && !tenant.eq_ignore_ascii_case("consumers") {
        // As the platform does: a template the app fills in with the token's `tid`.
        format!("{base}/{{tenantid}}/v2.0")
    } else {
        format!("{base}/{}/v2.0", tenant_id(tenant))
    };
    let endpoint = |path: &str| format!("{base}/{tenant}/{path}");
    let body = json!({
        "issuer": issuer,
        "authorization_endpoint": endpoint("oauth2/v2.0/authorize"),
        "token_endpoint": endpoint("oauth2/v2.0/token"),
        "device_authorization_endpoint": endpoint("oauth2/v2.0/devicecode"),
        "end_session_endpoint": endpoint("oauth2/v2.0/logout"),
        "jwks_uri": endpoint("discovery/v2.0/keys"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "response_modes_supported": ["query", "fragment", "form_post"],
        "response_types_supported": ["code"],
        "grant_types_supported": [
            "authorization_code",
            "refresh_token",
            "client_credentials",
            "password",
            crate::grant_types::DEVICE_CODE_GRANT,
            crate::grant_types::JWT_BEARER_GRANT,
        ],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "code_challenge_methods_supported": ["S256", "plain"],
        "claims_supported": [
            "sub", "iss", "aud", "exp", "iat", "nbf", "nonce", "name",
            "preferred_username", "oid", "tid", "ver", "email"
        ],
        "request_uri_parameter_supported": false,
        "http_logout_supported": true,
        "frontchannel_logout_supported": true,
        "tenant_region_scope": null,
        "cloud_instance_name": "idflow.emulator",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
    });
    json(200, &req.ctx, &body)
}

/// The host names (with port) that are aliases of this emulator.
fn aliases(app: &App) -> Vec<String> {
    let host = app
        .base_url
        .trim_start_matches("http://")
        .trim_start_matches("https://")
        .to_owned();
    let port = host
        .rsplit_once(':')
        .map(|(_, p)| p.to_owned())
        .unwrap_or_default();
    let mut v = vec![host];
    if !port.is_empty() {
        v.push(format!("localhost:{port}"));
    }
    v
}

/// `GET /common/discovery/instance?api-version=1.1&authorization_endpoint=...`.
pub fn instance_discovery(app: &App, req: &Req) -> Response {
    let ctx = &req.ctx;
    let Some(endpoint) = req.query.get("authorization_endpoint") else {
        return AadError::missing("authorization_endpoint").into_response(ctx);
    };
    if req.query.get("api-version").is_none() {
        return AadError::missing("api-version").into_response(ctx);
    }
    let parsed = url::Url::parse(endpoint).ok();
    let host = parsed.as_ref().and_then(|u| {
        let h = u.host_str()?;
        Some(match u.port() {
            Some(p) => format!("{h}:{p}"),
            None => h.to_owned(),
        })
    });
    let known = aliases(app);
    let Some(host) = host.filter(|h| known.iter().any(|k| k.eq_ignore_ascii_case(h))) else {
        return AadError::bad(
            "invalid_instance",
            50049,
            "Unknown or invalid instance: the authority host is not a known alias of this identity platform.",
        )
        .into_response(ctx);
    };
    let tenant = parsed
        .as_ref()
        .and_then(|u| {
            u.path_segments()?
                .find(|s| !s.is_empty())
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "common".into());
    let scheme = parsed.as_ref().map_or("http", |u| u.scheme());
    let body = json!({
        "tenant_discovery_endpoint": format!("{scheme}://{host}/{tenant}/v2.0/.well-known/openid-configuration"),
        "api-version": "1.1",
        "metadata": [{
            "preferred_network": known[0],
            "preferred_cache": known[0],
            "aliases": known,
        }],
    });
    json(200, ctx, &body)
}

/// `GET /{tenant}/discovery/v2.0/keys`.
pub fn jwks(app: &App, req: &Req) -> Response {
    let (n, e) = app.signer.public().jwk_members();
    let issuer = format!(
        "{}/{}/v2.0",
        app.base_url,
        tenant_id(req.tenant.as_deref().unwrap_or("common"))
    );
    let body = json!({
        "keys": [{
            "kty": "RSA",
            "use": "sig",
            "alg": "RS256",
            "kid": app.kid,
            "n": n,
            "e": e,
            "issuer": issuer,
        }]
    });
    json(200, &req.ctx, &body)
}

/// `GET /common/userrealm/{username}?api-version=1.0`: every emulator user is
/// a managed (cloud-only) user, so integrated Windows auth does not apply.
pub fn user_realm(app: &App, req: &Req) -> Response {
    let username = req.segments.get(2).cloned().unwrap_or_default();
    let domain = username
        .rsplit_once('@')
        .map(|(_, d)| d.to_owned())
        .unwrap_or_default();
    let known = app.lock().user(&username).is_some();
    let body = json!({
        "ver": "1.0",
        "account_type": if known { "Managed" } else { "Unknown" },
        "domain_name": domain,
        "cloud_instance_name": "idflow.emulator",
        "cloud_audience_urn": "urn:federation:idflow-emulator",
    });
    json(200, &req.ctx, &body)
}

/// `GET /error?code=N`: what `error_uri` points at.
pub fn error_page(req: &Req) -> Response {
    let code = req.query.get("code").unwrap_or("");
    let text = code
        .parse::<i64>()
        .ok()
        .and_then(idflow::error::aadsts::lookup)
        .map_or_else(
            || "idflow does not describe this code.".to_owned(),
            |r| format!("{} ({}): {}", r.name, r.error, r.mitigation),
        );
    html(
        200,
        &req.ctx,
        format!(
            "<!DOCTYPE html><html><body><h1>AADSTS{}</h1><p>{}</p></body></html>",
            escape(code),
            escape(&text)
        ),
    )
}
