//! The admin API over HTTP: registration, the request log (and that it never
//! holds a secret), settings, clock, sessions, revocation, reset, errors.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use idflow_emulator::{
    CONFIDENTIAL_CLIENT_ID, CONFIDENTIAL_CLIENT_SECRET, DEFAULT_PASSWORD, PUBLIC_CLIENT_ID,
};
use serde_json::{json, Value};

async fn admin_post(env: &Env, path: &str, body: Value) -> (u16, Value) {
    let r = env
        .http
        .post(env.url(path))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap())
}

#[tokio::test]
async fn index_lists_the_defaults() {
    let env = start().await;
    let (status, body) = env.get_json("/_admin").await;
    assert_eq!(status, 200);
    assert_eq!(body["public_client_id"], PUBLIC_CLIENT_ID);
    assert_eq!(body["confidential_client_id"], CONFIDENTIAL_CLIENT_ID);
    assert_eq!(body["base_url"], env.emu.base_url());
    assert!(body["endpoints"].as_array().unwrap().len() > 10);
    let (status, body) = env.get_json("/_admin/nope").await;
    assert_eq!((status, body["error"].as_str()), (404, Some("not_found")));
    let r = env
        .http
        .post(env.url("/_admin/clients"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
}

#[tokio::test]
async fn the_request_log_never_holds_secrets() {
    let env = start().await;
    let (status, cred) = admin_post(
        &env,
        &format!("/_admin/clients/{CONFIDENTIAL_CLIENT_ID}/certificate"),
        json!({}),
    )
    .await;
    assert_eq!(status, 201);
    assert!(cred["private_key_pem"]
        .as_str()
        .unwrap()
        .contains("PRIVATE KEY"));
    let signer = idflow_emulator::TestCredential::generate("x", 0)
        .unwrap()
        .signer()
        .unwrap();
    let tokens = env.sign_in(USER_SCOPE).await;
    let rt = tokens["refresh_token"].as_str().unwrap().to_owned();
    let at = tokens["access_token"].as_str().unwrap().to_owned();
    let (_, refreshed) = env
        .token(
            TENANT,
            &[
                ("client_id", PUBLIC_CLIENT_ID),
                ("grant_type", "refresh_token"),
                ("refresh_token", &rt),
            ],
        )
        .await;
    env.ropc(USER_SCOPE).await;
    env.client_credentials(idflow_emulator::DEFAULT_TENANT)
        .await;
    let a = assertion(
        &signer,
        CONFIDENTIAL_CLIENT_ID,
        &env.token_url(TENANT),
        Default::default(),
        600,
    );
    env.token(
        TENANT,
        &[
            ("client_id", CONFIDENTIAL_CLIENT_ID),
            ("grant_type", "client_credentials"),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", &a),
            ("scope", "x/.default"),
        ],
    )
    .await;
    env.token(
        TENANT,
        &[
            ("client_id", CONFIDENTIAL_CLIENT_ID),
            ("client_secret", CONFIDENTIAL_CLIENT_SECRET),
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
            ("requested_token_use", "on_behalf_of"),
            ("assertion", &at),
            ("scope", "User.Read"),
        ],
    )
    .await;
    let r = env
        .http
        .post(env.token_url(TENANT))
        .basic_auth(CONFIDENTIAL_CLIENT_ID, Some("basic-secret-value"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let (_, flow) = env.token_device_flow().await;
    let (verifier, _) = pkce();

    let (status, log) = env.get_json("/_admin/requests").await;
    assert_eq!(status, 200);
    let text = log.to_string();
    let secrets = [
        CONFIDENTIAL_CLIENT_SECRET,
        DEFAULT_PASSWORD,
        "basic-secret-value",
        &rt,
        &at,
        &a,
        &verifier,
        refreshed["refresh_token"].as_str().unwrap(),
        tokens["id_token"].as_str().unwrap(),
        flow["device_code"].as_str().unwrap(),
    ];
    for s in secrets {
        assert!(
            !text.contains(s),
            "the log holds a secret ({}...)",
            &s[..8.min(s.len())]
        );
    }
    // What it does hold: the grant, the client, the scope, parameter names and the identifying headers.
    let entries = log.as_array().unwrap();
    let refresh = entries
        .iter()
        .find(|e| e["grant_type"] == "refresh_token")
        .unwrap();
    assert_eq!(refresh["client_id"], PUBLIC_CLIENT_ID);
    assert!(refresh["param_names"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n == "refresh_token"));
    let headers: Vec<(String, String)> =
        serde_json::from_value(refresh["headers"].clone()).unwrap();
    for h in ["client-request-id", "x-ms-lib-capability", "x-client-sku"] {
        assert!(headers.iter().any(|(k, _)| k == h), "{h} recorded");
    }
    let code_redeem = entries
        .iter()
        .find(|e| e["grant_type"] == "authorization_code")
        .unwrap();
    assert!(code_redeem["params"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p == &json!(["client_info", "1"])));
    assert!(entries.iter().any(|e| e["basic_auth"] == true));
    let last = entries.last().unwrap()["seq"].as_u64().unwrap();
    let (_, later) = env
        .get_json(&format!("/_admin/requests?since={last}"))
        .await;
    assert_eq!(later, json!([]));
}

impl Env {
    async fn token_device_flow(&self) -> (u16, Value) {
        let r = self
            .http
            .post(self.url("/organizations/oauth2/v2.0/devicecode"))
            .form(&[("client_id", PUBLIC_CLIENT_ID), ("scope", USER_SCOPE)])
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let flow: Value = r.json().await.unwrap();
        self.token(
            TENANT,
            &[
                ("client_id", PUBLIC_CLIENT_ID),
                ("grant_type", "device_code"),
                ("device_code", flow["device_code"].as_str().unwrap()),
            ],
        )
        .await;
        (status, flow)
    }
}

#[tokio::test]
async fn clients_users_and_resources_over_http() {
    let env = start().await;
    let (status, c) = admin_post(&env, "/_admin/clients", json!({"client_id": "web-app", "confidential": true, "secret": "s3cr3t-value", "scopes": ["read"]})).await;
    assert_eq!(status, 201);
    assert_eq!(c["secret_count"], 1);
    assert!(!c.to_string().contains("s3cr3t-value"));
    let (status, _) = admin_post(
        &env,
        "/_admin/clients",
        json!({"client_id": "x", "secret": "s"}),
    )
    .await;
    assert_eq!(status, 400, "a public client with a secret");
    let (status, _) = admin_post(
        &env,
        "/_admin/clients",
        json!({"client_id": "x", "unknown_field": 1}),
    )
    .await;
    assert_eq!(status, 400);
    let (status, u) = admin_post(&env, "/_admin/users", json!({"username": "bob@contoso.example", "password": "pw-value", "tenant": "contoso.example"})).await;
    assert_eq!(status, 201);
    assert_eq!(
        u["tenant_id"],
        idflow_emulator::tenant_id("contoso.example")
    );
    let (_, users) = env.get_json("/_admin/users").await;
    assert!(!users.to_string().contains("pw-value"));
    let (status, _) = env
        .token(
            "contoso.example",
            &[
                ("client_id", PUBLIC_CLIENT_ID),
                ("grant_type", "password"),
                ("username", "bob@contoso.example"),
                ("password", "pw-value"),
                ("scope", "api://web-app/read"),
            ],
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = admin_post(
        &env,
        "/_admin/resources",
        json!({"uri": "https://vault.azure.net", "scopes": ["user_impersonation"]}),
    )
    .await;
    assert_eq!(status, 201);
    let (status, body) = env
        .ropc("https://vault.azure.net/user_impersonation offline_access")
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "https://vault.azure.net/user_impersonation");
    let r = env
        .http
        .delete(env.url("/_admin/clients/web-app"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let r = env
        .http
        .delete(env.url("/_admin/clients/web-app"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    let r = env
        .http
        .delete(env.url("/_admin/users/bob@contoso.example"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
}

#[tokio::test]
async fn settings_clock_sessions_and_revocation() {
    let env = start().await;
    let r = env
        .http
        .patch(env.url("/_admin/settings"))
        .json(&json!({"access_token_lifetime_secs": 60}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(env.ropc("User.Read").await.1["expires_in"], 60);
    let r = env
        .http
        .patch(env.url("/_admin/settings"))
        .json(&json!({"no_such_setting": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);

    let (_, clock) = admin_post(&env, "/_admin/clock", json!({"advance_secs": 3600})).await;
    assert_eq!(clock["offset_secs"], 3600);
    let (status, _) = admin_post(
        &env,
        "/_admin/clock",
        json!({"advance_secs": 1, "offset_secs": 1}),
    )
    .await;
    assert_eq!(status, 400);
    let at = env.ropc("User.Read").await.1["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!(
        claims(&at)["iat"].as_i64().unwrap() >= now + 3590,
        "tokens use the emulator's clock"
    );

    let (status, sessions) = admin_post(
        &env,
        "/_admin/sessions",
        json!({"username": idflow_emulator::DEFAULT_USERNAME}),
    )
    .await;
    assert_eq!((status, sessions.as_array().unwrap().len()), (200, 1));
    let (status, _) = admin_post(&env, "/_admin/sessions", json!({"username": "ghost@x"})).await;
    assert_eq!(status, 404);
    env.http
        .delete(env.url("/_admin/sessions"))
        .send()
        .await
        .unwrap();
    assert!(env.emu.admin().sessions().is_empty());

    let rt = env.ropc(USER_SCOPE).await.1["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, revoked) = admin_post(
        &env,
        "/_admin/refresh_tokens/revoke",
        json!({"client_id": PUBLIC_CLIENT_ID}),
    )
    .await;
    assert_eq!(revoked["revoked"], 1);
    let (_, body) = env
        .token(
            TENANT,
            &[
                ("client_id", PUBLIC_CLIENT_ID),
                ("grant_type", "refresh_token"),
                ("refresh_token", &rt),
            ],
        )
        .await;
    assert_eq!(body["error"], "invalid_grant");
    let (_, none) = admin_post(&env, "/_admin/consents/revoke", json!({})).await;
    assert_eq!(none["revoked"], 0);
}

#[tokio::test]
async fn reset_restores_the_start() {
    let env = start().await;
    admin_post(&env, "/_admin/clients", json!({"client_id": "temp"})).await;
    admin_post(
        &env,
        "/_admin/faults",
        json!({"effect": {"kind": "drop_connection"}, "match": {"endpoint": "jwks"}}),
    )
    .await;
    admin_post(&env, "/_admin/clock", json!({"advance_secs": 99})).await;
    env.ropc("User.Read").await;
    let (status, _) = admin_post(&env, "/_admin/reset", json!({})).await;
    assert_eq!(status, 200);
    let admin = env.emu.admin();
    assert!(admin.client("temp").is_none() && admin.client(PUBLIC_CLIENT_ID).is_some());
    assert!(admin.faults().is_empty() && admin.requests(0).is_empty());
    assert_eq!(admin.clock().offset_secs, 0);
    assert_eq!(
        admin.settings(),
        idflow_emulator::Settings {
            device_code_interval_secs: 0,
            ..Default::default()
        }
    );
    let (status, _) = env.get_json("/common/discovery/v2.0/keys").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn start_up_registrations_survive_a_reset() {
    let emu = idflow_emulator::Emulator::builder()
        .client(idflow_emulator::ClientSpec {
            client_id: "from-builder".into(),
            ..Default::default()
        })
        .user(idflow_emulator::UserSpec {
            username: "built@emulator.idflow.test".into(),
            password: "pw".into(),
            ..Default::default()
        })
        .start()
        .await
        .unwrap();
    let admin = emu.admin();
    admin.remove_client("from-builder");
    admin.reset().unwrap();
    assert!(admin.client("from-builder").is_some());
    assert!(admin
        .users()
        .iter()
        .any(|u| u.username == "built@emulator.idflow.test"));
    let bad = idflow_emulator::Emulator::builder()
        .client(idflow_emulator::ClientSpec::default())
        .start()
        .await;
    assert!(matches!(bad, Err(idflow_emulator::EmulatorError::Setup(_))));
    emu.shutdown().await;
}

/// Sends `method path` to the admin API with `headers` (and `body`, if any)
/// and returns the status.
async fn admin_raw(
    env: &Env,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> u16 {
    let mut r = env.http.request(method.parse().unwrap(), env.url(path));
    for (k, v) in headers {
        r = r.header(*k, *v);
    }
    if let Some(b) = body {
        r = r.body(b.to_owned());
    }
    r.send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn a_body_must_be_declared_json() {
    // A web page can post `text/plain` (a "simple" request, no preflight).
    let env = start().await;
    for ct in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ] {
        let status = admin_raw(
            &env,
            "POST",
            "/_admin/reset",
            &[("content-type", ct)],
            Some("{}"),
        )
        .await;
        assert_eq!(status, 415, "{ct}");
    }
    let status = admin_raw(&env, "POST", "/_admin/reset", &[], Some("{}")).await;
    assert_eq!(status, 415, "no content type");
    let ok = [
        "application/json",
        "application/json; charset=utf-8",
        "Application/JSON",
    ];
    for ct in ok {
        let status = admin_raw(
            &env,
            "POST",
            "/_admin/reset",
            &[("content-type", ct)],
            Some("{}"),
        )
        .await;
        assert_eq!(status, 200, "{ct}");
    }
    // No body needs no content type.
    assert_eq!(
        admin_raw(&env, "POST", "/_admin/reset", &[], None).await,
        200
    );
}

#[tokio::test]
async fn only_a_loopback_host_reaches_the_admin_api() {
    // DNS rebinding: a page on evil.example whose name now resolves to
    // 127.0.0.1 sends `Host: evil.example:<port>`.
    let env = start().await;
    let port = env.emu.port();
    for host in [
        format!("evil.example:{port}"),
        "evil.example".to_owned(),
        format!("127.0.0.1.evil.example:{port}"),
        format!("localhost.evil.example:{port}"),
        format!("10.0.0.1:{port}"),
    ] {
        assert_eq!(
            admin_raw(&env, "GET", "/_admin", &[("host", &host)], None).await,
            403,
            "{host}"
        );
        let status = admin_raw(
            &env,
            "POST",
            "/_admin/reset",
            &[("host", &host), ("content-type", "application/json")],
            Some("{}"),
        )
        .await;
        assert_eq!(status, 403, "{host}");
    }
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("LocalHost:{port}"),
        format!("[::1]:{port}"),
        "localhost".to_owned(),
    ] {
        assert_eq!(
            admin_raw(&env, "GET", "/_admin", &[("host", &host)], None).await,
            200,
            "{host}"
        );
    }
    // The platform's own endpoints are not the admin API.
    let discovery = format!("/{TENANT}/v2.0/.well-known/openid-configuration");
    let host = format!("evil.example:{port}");
    assert_eq!(
        admin_raw(&env, "GET", &discovery, &[("host", &host)], None).await,
        200
    );
}

#[tokio::test]
async fn cross_origin_requests_are_refused() {
    let env = start().await;
    let port = env.emu.port();
    let json = ("content-type", "application/json");
    for origin in [
        "http://evil.example".to_owned(),
        "null".to_owned(),
        format!("http://localhost:{}", port.wrapping_add(1)),
        format!("https://127.0.0.1:{port}"),
    ] {
        let status = admin_raw(
            &env,
            "POST",
            "/_admin/reset",
            &[("origin", &origin), json],
            Some("{}"),
        )
        .await;
        assert_eq!(status, 403, "{origin}");
        assert_eq!(
            admin_raw(
                &env,
                "GET",
                "/_admin/requests",
                &[("origin", &origin)],
                None
            )
            .await,
            403,
            "{origin}"
        );
    }
    for site in ["cross-site", "same-site"] {
        let status = admin_raw(
            &env,
            "POST",
            "/_admin/reset",
            &[("sec-fetch-site", site), json],
            Some("{}"),
        )
        .await;
        assert_eq!(status, 403, "{site}");
    }
    // The emulator's own pages, and tools that send no Origin, are served.
    let own = env.emu.base_url().trim_end_matches('/').to_owned();
    let status = admin_raw(
        &env,
        "POST",
        "/_admin/reset",
        &[("origin", &own), ("sec-fetch-site", "same-origin"), json],
        Some("{}"),
    )
    .await;
    assert_eq!(status, 200, "{own}");
    let status = admin_raw(&env, "GET", "/_admin", &[("sec-fetch-site", "none")], None).await;
    assert_eq!(status, 200);
    // The platform's endpoints stay open to other origins (SPAs read them).
    let discovery = format!("/{TENANT}/v2.0/.well-known/openid-configuration");
    let status = admin_raw(
        &env,
        "GET",
        &discovery,
        &[("origin", "http://evil.example")],
        None,
    )
    .await;
    assert_eq!(status, 200);
}
