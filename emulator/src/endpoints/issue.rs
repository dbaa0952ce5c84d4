//! Minting tokens: the signed access token and id token, `client_info`, the
//! rotating refresh token, and the token response that carries them.

use crate::endpoints::checks::{consent_required, tenant};
use crate::endpoints::client_auth::ClientAuth;
use crate::model::directory::{is_multi_tenant_alias, tenant_id, Client, UserSpec};
use crate::model::scopes::ScopeSet;
use crate::model::state::{random_token, App, RefreshGrant, State};
use crate::wire::aad_error::AadError;
use crate::wire::request::Req;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Map, Value};

/// What to mint.
#[derive(Debug)]
pub struct Issue<'a> {
    pub client: &'a Client,
    pub auth: ClientAuth,
    /// The signed-in user; `None` for app-only (client credentials) tokens.
    pub user: Option<&'a UserSpec>,
    /// The tenant segment of the authority the request used.
    pub tenant: &'a str,
    pub scopes: &'a ScopeSet,
    pub nonce: Option<&'a str>,
    /// When the user signed in (OIDC `auth_time`), for a code redemption.
    pub auth_time: Option<i64>,
    /// The request had `client_info=1`.
    pub client_info: bool,
}

/// The tenant id tokens are issued in: the authority's, or for `common` /
/// `organizations` the user's home tenant.
pub fn issuing_tenant(tenant: &str, user: Option<&UserSpec>) -> String {
    match user {
        Some(u) if is_multi_tenant_alias(tenant) && !tenant.eq_ignore_ascii_case("consumers") => {
            u.tenant_id()
        }
        _ => tenant_id(tenant),
    }
}

/// The issuer for a tenant id.
pub fn issuer(app: &App, tid: &str) -> String {
    format!("{}/{tid}/v2.0", app.base_url)
}

/// The id token's `sub`: pairwise, stable per user and app.
fn pairwise_sub(oid: &str, client_id: &str) -> String {
    let d = aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        format!("{oid}|{}", client_id.to_ascii_lowercase()).as_bytes(),
    );
    URL_SAFE_NO_PAD.encode(d.as_ref())
}

fn header(app: &App) -> Map<String, Value> {
    let mut h = Map::new();
    h.insert("kid".into(), json!(app.kid));
    h
}

/// Mints the token response. Stores the refresh token when one is issued.
pub fn token_response(app: &App, state: &mut State, issue: Issue<'_>) -> Result<Value, String> {
    let now = app.clock.unix();
    let lifetime = state
        .settings
        .access_token_lifetime_secs
        .min(10 * 365 * 86_400);
    let exp = now + i64::try_from(lifetime).unwrap_or(3600);
    let tid = issuing_tenant(issue.tenant, issue.user);
    let iss = issuer(app, &tid);
    let client_id = issue.client.id();

    let mut at = json!({
        "aud": issue.scopes.resource.audience(),
        "iss": iss,
        "iat": now,
        "nbf": now,
        "exp": exp,
        "azp": client_id,
        "azpacr": issue.auth.azpacr(),
        "tid": tid,
        "uti": random_token(16),
        "ver": "2.0",
    });
    match issue.user {
        Some(u) => {
            let oid = u.oid();
            at["oid"] = json!(oid);
            at["sub"] = json!(pairwise_sub(&oid, &issue.scopes.resource.app_id));
            at["scp"] = json!(issue.scopes.scp());
            at["name"] = json!(u.display_name());
            at["preferred_username"] = json!(u.username);
            at["idtyp"] = json!("user");
        }
        None => {
            let oid = issue.client.principal_oid();
            at["oid"] = json!(oid);
            at["sub"] = json!(oid);
            at["idtyp"] = json!("app");
            if !issue.client.spec.roles.is_empty() {
                at["roles"] = json!(issue.client.spec.roles);
            }
        }
    }
    let access_token = app.signer.sign_jwt(header(app), &at)?;

    let mut resp = json!({
        "token_type": "Bearer",
        "expires_in": lifetime,
        "ext_expires_in": lifetime,
        "access_token": access_token,
    });
    let Some(user) = issue.user else {
        return Ok(resp);
    };
    resp["scope"] = json!(issue.scopes.granted());
    if issue.scopes.wants_id_token() {
        let oid = user.oid();
        let mut id = json!({
            "aud": client_id,
            "iss": issuer(app, &tid),
            "iat": now,
            "nbf": now,
            "exp": exp,
            "oid": oid,
            "sub": pairwise_sub(&oid, client_id),
            "tid": tid,
            "name": user.display_name(),
            "preferred_username": user.username,
            "ver": "2.0",
        });
        if let Some(nonce) = issue.nonce {
            id["nonce"] = json!(nonce);
        }
        if let Some(t) = issue.auth_time {
            id["auth_time"] = json!(t);
        }
        if issue.scopes.oidc.iter().any(|s| s == "email") {
            id["email"] = json!(user.username);
        }
        resp["id_token"] = json!(app.signer.sign_jwt(header(app), &id)?);
    }
    if issue.client_info {
        resp["client_info"] = json!(client_info_for(user));
    }
    if issue.scopes.wants_refresh_token() {
        let rt = format!("1.{}", random_token(48));
        let rt_lifetime =
            i64::try_from(state.settings.refresh_token_lifetime_secs).unwrap_or(i64::MAX);
        state.refresh_tokens.insert(
            rt.clone(),
            RefreshGrant {
                client_id: client_id.to_owned(),
                username: user.username.clone(),
                scope: issue.scopes.request_string(),
                family: issue.client.spec.foci.clone(),
                expires_at: now.saturating_add(rt_lifetime),
                revoked: false,
                used: false,
            },
        );
        resp["refresh_token"] = json!(rt);
    }
    if let Some(f) = &issue.client.spec.foci {
        resp["foci"] = json!(f);
    }
    if let Some(r) = issue.client.spec.refresh_in {
        resp["refresh_in"] = json!(r);
    }
    Ok(resp)
}

/// Mints the response for a user, after the consent check.
#[allow(clippy::too_many_arguments)]
pub fn issue_for_user(
    app: &App,
    state: &mut State,
    req: &Req,
    client: &Client,
    auth: ClientAuth,
    user: &UserSpec,
    scopes: &ScopeSet,
    nonce: Option<&str>,
) -> Result<Value, AadError> {
    let sign_in = SignIn {
        nonce,
        auth_time: None,
    };
    issue_for_sign_in(app, state, req, client, auth, user, scopes, sign_in)
}

/// What an authorize request adds to the id token of its code's redemption.
#[derive(Clone, Copy, Debug)]
pub struct SignIn<'a> {
    pub nonce: Option<&'a str>,
    pub auth_time: Option<i64>,
}

/// [`issue_for_user`] for a code redemption: the sign-in's `nonce` and `auth_time`.
#[allow(clippy::too_many_arguments)]
pub fn issue_for_sign_in(
    app: &App,
    state: &mut State,
    req: &Req,
    client: &Client,
    auth: ClientAuth,
    user: &UserSpec,
    scopes: &ScopeSet,
    sign_in: SignIn<'_>,
) -> Result<Value, AadError> {
    let SignIn { nonce, auth_time } = sign_in;
    if !state.consented(&user.username, client, scopes) {
        return Err(consent_required(client));
    }
    let issue = Issue {
        client,
        auth,
        user: Some(user),
        tenant: tenant(req),
        scopes,
        nonce,
        auth_time,
        client_info: wants_client_info(req),
    };
    token_response(app, state, issue).map_err(server_error)
}

/// `client_info=1` (or 2, as MSAL.NET sends for some flows).
pub fn wants_client_info(req: &Req) -> bool {
    matches!(req.params().get("client_info"), Some("1" | "2"))
}

/// A failure on the emulator's side (signing failed).
pub fn server_error(why: String) -> AadError {
    AadError::new(
        500,
        "server_error",
        50000,
        format!("There was an error issuing a token: {why}."),
    )
}

/// `client_info` for a user, as the authorize redirect and token responses carry it.
pub fn client_info_for(user: &UserSpec) -> String {
    let info = serde_json::json!({"uid": user.oid(), "utid": user.tenant_id()}).to_string();
    URL_SAFE_NO_PAD.encode(info)
}
