//! End to end against the emulator: idflow's real flows (its default reqwest
//! client, real HTTP on 127.0.0.1) against Microsoft-shaped answers, every
//! preset through the grant it matches, and broken transports and bodies.
//! Time is the app's `ManualTime` and the emulator's clock: nothing waits
//! for real except where a server forces it (one 1 s delay preset).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failed assertion in a test should panic

use idflow::secret::{ClientSecret, Password, RefreshToken, UserAssertion};
use idflow::{
    Action, AppOptions, AuthCodeFlow, AuthCodeOptions, AuthenticationResult, Authority,
    CancelHandle, Classification, ClientCertificate, ClientCredential,
    ConfidentialClientApplication, ErrorKind, Flow, IdFlowError, NetworkKind, Prompt,
    PublicClientApplication,
};
use idflow_emulator::{
    Effect, Endpoint, StatusBody, UserSpec, CONFIDENTIAL_CLIENT_ID, CONFIDENTIAL_CLIENT_SECRET,
    DEFAULT_PASSWORD, DEFAULT_TENANT, DEFAULT_USERNAME, PUBLIC_CLIENT_ID,
};
use idflow_testing::emulator::{header, location, param, EmulatorEnv as Env, RETRIED_PRESETS};
use idflow_testing::jwt_claims;
use serde_json::Value;
use std::time::{Duration, Instant};

const REDIRECT: &str = "http://localhost:53117/callback";
const GRAPH_DEFAULT: &str = "https://graph.microsoft.com/.default";

/// What these tests add to the shared fixture.
trait EnvExt {
    fn confidential_with(&self, credential: ClientCredential) -> ConfidentialClientApplication;
    fn assert_correlated(&self, e: &IdFlowError, endpoint: Endpoint);
    async fn ropc(&self) -> AuthenticationResult;
    async fn authorize(&self, options: &AuthCodeOptions) -> (AuthCodeFlow, String);
}

impl EnvExt for Env {
    fn confidential_with(&self, credential: ClientCredential) -> ConfidentialClientApplication {
        self.confidential_app(credential, self.options())
    }

    /// The error's correlation id is set and is the `client-request-id` the
    /// emulator logged for the last request to `endpoint`.
    fn assert_correlated(&self, e: &IdFlowError, endpoint: Endpoint) {
        let rec = self.last(endpoint);
        let sent = header(&rec, "client-request-id")
            .map(str::to_owned)
            .unwrap_or_else(|| rec.correlation_id.clone());
        assert_eq!(
            e.correlation_id.as_deref(),
            Some(sent.as_str()),
            "{}: correlation id vs the logged client-request-id",
            e.code
        );
        assert!(!sent.is_empty());
    }

    async fn ropc(&self) -> AuthenticationResult {
        self.sign_in(&self.public()).await
    }

    /// Starts an auth code flow and lets the emulator's browser answer it:
    /// the `Location` of the authorize response (never followed).
    async fn authorize(&self, options: &AuthCodeOptions) -> (AuthCodeFlow, String) {
        let flow = self
            .public()
            .initiate_auth_code_flow(&["User.Read"], REDIRECT, options)
            .await
            .unwrap();
        let location = location(flow.auth_uri.as_str()).await;
        (flow, location)
    }
}

fn assert_interaction(e: &IdFlowError, code: &str, classification: Classification) {
    assert_eq!(e.kind, ErrorKind::InteractionRequired, "{e:?}");
    assert_eq!(e.code, code, "{e:?}");
    assert_eq!(e.classification, Some(classification), "{e:?}");
    assert_eq!(e.action, Action::AcquireInteractively, "{e:?}");
    assert!(!e.retryable);
}

// ---------------------------------------------------------------- client credentials

#[tokio::test]
async fn client_credentials_with_a_secret() {
    let env = Env::start().await;
    let r = env
        .confidential()
        .acquire_token_for_client(&[GRAPH_DEFAULT], None)
        .await
        .unwrap();
    assert!(r.account.is_none(), "app-only");
    assert!(r.refresh_token.is_none());
    let at = jwt_claims(r.access_token.expose());
    assert_eq!(at["azp"], CONFIDENTIAL_CLIENT_ID);
    assert_eq!(at["idtyp"], "app");
    let rec = env.last(Endpoint::Token);
    assert_eq!(rec.grant_type.as_deref(), Some("client_credentials"));
    assert_eq!(param(&rec, "client_info"), None, "not a user flow");
    assert!(rec.param_names.iter().any(|n| n == "client_secret"));
    assert_eq!(r.correlation_id, header(&rec, "client-request-id").unwrap());
    assert_eq!(
        header(&rec, "x-ms-lib-capability"),
        Some("retry-after, h429")
    );
}

#[tokio::test]
async fn client_credentials_with_a_certificate_from_the_admin_api() {
    let env = Env::start().await;
    let cred: Value = reqwest::Client::new()
        .post(format!(
            "{}/_admin/clients/{CONFIDENTIAL_CLIENT_ID}/certificate",
            env.emu.base_url()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let cert = ClientCertificate::from_pem(
        cred["certificate_pem"].as_str().unwrap(),
        cred["private_key_pem"].as_str().unwrap(),
    )
    .unwrap();
    let app = env.confidential_with(ClientCredential::Certificate(cert));
    let r = app
        .acquire_token_for_client(&[GRAPH_DEFAULT], None)
        .await
        .unwrap();
    assert_eq!(
        jwt_claims(r.access_token.expose())["azp"],
        CONFIDENTIAL_CLIENT_ID
    );
    let rec = env.last(Endpoint::Token);
    assert_eq!(
        param(&rec, "client_assertion_type"),
        Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
    );
    assert!(!rec.param_names.iter().any(|n| n == "client_secret"));

    // A certificate the emulator does not know: invalid_client, service.
    let other: Value = reqwest::Client::new()
        .post(format!(
            "{}/_admin/clients/{CONFIDENTIAL_CLIENT_ID}/certificate",
            env.emu.base_url()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    env.emu.admin().reset().unwrap(); // forgets both registered certificates
    let cert = ClientCertificate::from_pem(
        other["certificate_pem"].as_str().unwrap(),
        other["private_key_pem"].as_str().unwrap(),
    )
    .unwrap();
    let e = env
        .confidential_with(ClientCredential::Certificate(cert))
        .acquire_token_for_client(&[GRAPH_DEFAULT], None)
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Service, "{e:?}");
    assert_eq!(e.code, "invalid_client");
    env.assert_correlated(&e, Endpoint::Token);
}

#[tokio::test]
async fn client_credentials_with_a_wrong_secret() {
    let env = Env::start().await;
    let e = env
        .confidential_with(ClientCredential::Secret(ClientSecret::new("wrong")))
        .acquire_token_for_client(&[GRAPH_DEFAULT], None)
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Service);
    assert_eq!(e.code, "invalid_client");
    assert_eq!(e.aadsts(), &[7000215]);
    assert_eq!(e.http_status(), Some(401));
    assert_eq!(e.action, Action::FixConfiguration);
    env.assert_correlated(&e, Endpoint::Token);
}

// ---------------------------------------------------------------- device code

#[tokio::test]
async fn device_code_pending_then_approved() {
    let env = Env::start().await;
    let app = env.public();
    let flow = app
        .initiate_device_flow(&["User.Read"], None)
        .await
        .unwrap();
    assert!(flow.message.contains(&flow.user_code), "{}", flow.message);
    assert_eq!(flow.interval, Duration::from_secs(5));
    assert!(flow.verification_uri.ends_with("/devicelogin"));
    // Approve once the app has seen one pending answer.
    let admin = env.emu.admin().clone();
    let code = flow.user_code.clone();
    let approver = tokio::spawn(async move {
        for _ in 0..500 {
            if admin
                .device_codes()
                .iter()
                .any(|d| d.user_code == code && d.polls >= 1)
            {
                admin.approve_device_code(&code, None).unwrap();
                return;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        panic!("the app never polled");
    });
    let r = app
        .acquire_token_by_device_flow(&flow, &CancelHandle::new())
        .await
        .unwrap();
    approver.await.unwrap();
    let account = r.account.clone().unwrap();
    assert_eq!(account.username, DEFAULT_USERNAME);
    let ci = r.id_token_claims.as_ref().unwrap();
    assert_eq!(
        account.home_account_id,
        format!(
            "{}.{}",
            ci.oid.as_deref().unwrap(),
            ci.tid.as_deref().unwrap()
        ),
        "uid.utid"
    );
    let sleeps = env.time.sleeps();
    assert!(!sleeps.is_empty());
    assert!(
        sleeps.iter().all(|d| *d == Duration::from_secs(5)),
        "{sleeps:?}"
    );
    let polls: Vec<_> = env
        .requests()
        .into_iter()
        .filter(|r| r.endpoint == Endpoint::Token)
        .collect();
    assert_eq!(polls.len(), sleeps.len() + 1, "one wait between polls");
    for p in &polls {
        assert_eq!(param(p, "client_info"), Some("1"));
        assert_eq!(header(p, "x-ms-lib-capability"), Some("retry-after, h429"));
    }
    let dc = env.last(Endpoint::Devicecode);
    assert_eq!(
        header(&dc, "client-request-id"),
        Some(flow.correlation_id.as_str())
    );
}

#[tokio::test]
async fn device_code_declined_is_cancelled() {
    let env = Env::start().await;
    let app = env.public();
    let flow = app
        .initiate_device_flow(&["User.Read"], None)
        .await
        .unwrap();
    env.emu
        .admin()
        .decline_device_code(&flow.user_code)
        .unwrap();
    let e = app
        .acquire_token_by_device_flow(&flow, &CancelHandle::new())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Cancelled, "{e:?}");
    assert_eq!(e.code, "authorization_declined");
    env.assert_correlated(&e, Endpoint::Token);
}

#[tokio::test]
async fn device_code_expired_on_the_server_clock() {
    let env = Env::start().await;
    let app = env.public();
    let flow = app
        .initiate_device_flow(&["User.Read"], None)
        .await
        .unwrap();
    env.emu.admin().advance_clock(901);
    let e = app
        .acquire_token_by_device_flow(&flow, &CancelHandle::new())
        .await
        .unwrap_err();
    assert_eq!(e.code, "expired_token", "{e:?}");
    assert_eq!(e.kind, ErrorKind::Service);
    assert_eq!(e.aadsts(), &[70019]);
    env.assert_correlated(&e, Endpoint::Token);
}

#[tokio::test]
async fn device_code_expired_on_the_app_clock() {
    let env = Env::start().await;
    let app = env.public();
    let flow = app
        .initiate_device_flow(&["User.Read"], None)
        .await
        .unwrap();
    env.time.advance(Duration::from_secs(901));
    let before = env.requests().len();
    let e = app
        .acquire_token_by_device_flow(&flow, &CancelHandle::new())
        .await
        .unwrap_err();
    assert_eq!(e.code, "code_expired", "{e:?}");
    assert_eq!(
        e.correlation_id.as_deref(),
        Some(flow.correlation_id.as_str())
    );
    assert_eq!(
        env.requests().len(),
        before,
        "no poll after the local expiry"
    );
}

#[tokio::test]
async fn device_code_pending_until_the_app_clock_expires() {
    // Never approved: polls every 5 s (the app's clock) until expires_in.
    let env = Env::start().await;
    env.emu
        .admin()
        .update_settings(&serde_json::json!({"device_code_expires_in_secs": 20}))
        .unwrap();
    let app = env.public();
    let flow = app
        .initiate_device_flow(&["User.Read"], None)
        .await
        .unwrap();
    let e = app
        .acquire_token_by_device_flow(&flow, &CancelHandle::new())
        .await
        .unwrap_err();
    assert_eq!(e.code, "code_expired", "{e:?}");
    assert_eq!(env.time.sleeps(), vec![Duration::from_secs(5); 4]);
}

#[tokio::test]
async fn device_code_slow_down_adds_five_seconds() {
    let env = Env::start().await;
    let app = env.public();
    let flow = app
        .initiate_device_flow(&["User.Read"], None)
        .await
        .unwrap();
    env.approve_device(&flow.user_code);
    env.arm("slow_down");
    let r = app
        .acquire_token_by_device_flow(&flow, &CancelHandle::new())
        .await
        .unwrap();
    assert!(r.account.is_some());
    assert_eq!(
        env.time.sleeps(),
        vec![flow.interval + Duration::from_secs(5)]
    );
}

#[tokio::test]
async fn device_code_cancel_handle_stops_polling() {
    let env = Env::start().await;
    let app = env.public();
    let flow = app
        .initiate_device_flow(&["User.Read"], None)
        .await
        .unwrap();
    let cancel = CancelHandle::new();
    let (admin, c, code) = (
        env.emu.admin().clone(),
        cancel.clone(),
        flow.user_code.clone(),
    );
    tokio::spawn(async move {
        for _ in 0..500 {
            if admin
                .device_codes()
                .iter()
                .any(|d| d.user_code == code && d.polls >= 2)
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        c.cancel();
    });
    let e = tokio::time::timeout(
        Duration::from_secs(10),
        app.acquire_token_by_device_flow(&flow, &cancel),
    )
    .await
    .expect("cancel ends polling")
    .unwrap_err();
    assert_eq!(e.code, "user_cancelled");
    assert_eq!(e.kind, ErrorKind::Cancelled);
}

// ---------------------------------------------------------------- auth code + PKCE

#[tokio::test]
async fn auth_code_with_pkce() {
    let env = Env::start().await;
    let (flow, location) = env.authorize(&AuthCodeOptions::default()).await;
    assert!(location.starts_with(REDIRECT), "{location}");
    let r = env
        .public()
        .acquire_token_by_auth_code_flow(&flow, &location)
        .await
        .unwrap();
    let claims = r.id_token_claims.as_ref().unwrap();
    assert_eq!(
        claims.all.get("nonce").and_then(Value::as_str),
        Some(flow.nonce().expose()),
        "the id token's nonce was checked against the request's"
    );
    let account = r.account.as_ref().unwrap();
    assert_eq!(
        account.home_account_id,
        format!(
            "{}.{}",
            claims.oid.as_deref().unwrap(),
            claims.tid.as_deref().unwrap()
        )
    );
    assert!(r.client_info.is_some());
    assert!(r.refresh_token.is_some());
    let authz = env.last(Endpoint::Authorize);
    assert_eq!(param(&authz, "code_challenge_method"), Some("S256"));
    assert_eq!(param(&authz, "client_info"), Some("1"));
    let tok = env.last(Endpoint::Token);
    assert_eq!(tok.grant_type.as_deref(), Some("authorization_code"));
    assert_eq!(param(&tok, "client_info"), Some("1"));
    assert!(tok.param_names.iter().any(|n| n == "code_verifier"));
    assert_eq!(
        header(&tok, "x-ms-lib-capability"),
        Some("retry-after, h429")
    );

    // The code is single-use: a replay is invalid_grant (AADSTS54005).
    let e = env
        .public()
        .acquire_token_by_auth_code_flow(&flow, &location)
        .await
        .unwrap_err();
    assert_eq!(e.code, "invalid_grant");
    assert_eq!(e.aadsts(), &[54005]);
    env.assert_correlated(&e, Endpoint::Token);
}

#[tokio::test]
async fn auth_code_state_mismatch() {
    let env = Env::start().await;
    let (flow, _) = env.authorize(&AuthCodeOptions::default()).await;
    let (_, other) = env.authorize(&AuthCodeOptions::default()).await;
    let before = env.requests().len();
    let e = env
        .public()
        .acquire_token_by_auth_code_flow(&flow, &other)
        .await
        .unwrap_err();
    assert_eq!(e.code, "state_mismatch");
    assert_eq!(e.kind, ErrorKind::Client);
    assert_eq!(
        e.correlation_id.as_deref(),
        Some(flow.correlation_id.as_str())
    );
    assert_eq!(env.requests().len(), before, "the code is not redeemed");
}

#[tokio::test]
async fn auth_code_nonce_mismatch() {
    let env = Env::start().await;
    let flow = env
        .public()
        .initiate_auth_code_flow(&["User.Read"], REDIRECT, &AuthCodeOptions::default())
        .await
        .unwrap();
    // The same request (state, PKCE) but another nonce, as a forged sign-in would carry.
    let mut forged = flow.auth_uri.clone();
    let pairs: Vec<(String, String)> = forged
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "nonce" {
                "forged".into()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    forged.query_pairs_mut().clear().extend_pairs(pairs);
    let location = location(forged.as_str()).await;
    let e = env
        .public()
        .acquire_token_by_auth_code_flow(&flow, &location)
        .await
        .unwrap_err();
    assert_eq!(e.code, "nonce_mismatch", "{e:?}");
    env.assert_correlated(&e, Endpoint::Token);
}

#[tokio::test]
async fn auth_code_prompt_none_without_a_session() {
    let env = Env::start().await;
    env.emu.admin().clear_sessions();
    let options = AuthCodeOptions {
        prompt: Some(Prompt::None),
        ..AuthCodeOptions::default()
    };
    let (flow, location) = env.authorize(&options).await;
    let e = env
        .public()
        .acquire_token_by_auth_code_flow(&flow, &location)
        .await
        .unwrap_err();
    assert_interaction(&e, "login_required", Classification::PromptNeverFailed);
    assert_eq!(e.aadsts(), &[50058]);
    assert_eq!(e.flow, Flow::AuthorizePromptNone);
    assert_eq!(
        e.correlation_id.as_deref(),
        Some(flow.correlation_id.as_str())
    );
    assert_eq!(
        param(&env.last(Endpoint::Authorize), "prompt"),
        Some("none")
    );

    // With a session, prompt=none signs in silently.
    env.emu.admin().start_session(DEFAULT_USERNAME).unwrap();
    let (flow, location) = env.authorize(&options).await;
    let r = env
        .public()
        .acquire_token_by_auth_code_flow(&flow, &location)
        .await
        .unwrap();
    assert_eq!(r.account.unwrap().username, DEFAULT_USERNAME);
}

// ---------------------------------------------------------------- refresh, ROPC, OBO

#[tokio::test]
async fn refresh_token_rotates_and_revocation_needs_interaction() {
    let env = Env::start().await;
    let first = env.ropc().await;
    let rt1 = first.refresh_token.clone().unwrap();
    let second = env
        .public()
        .acquire_token_by_refresh_token(&rt1, &["User.Read"], None)
        .await
        .unwrap();
    let rt2 = second.refresh_token.clone().unwrap();
    assert_ne!(rt1.expose(), rt2.expose(), "a new refresh token every time");
    assert_eq!(
        second.account.as_ref().unwrap().home_account_id,
        first.account.as_ref().unwrap().home_account_id
    );
    let rec = env.last(Endpoint::Token);
    assert_eq!(rec.grant_type.as_deref(), Some("refresh_token"));
    assert_eq!(param(&rec, "client_info"), Some("1"));

    assert!(env.emu.admin().revoke_refresh_tokens(None, None) >= 2);
    let e = env
        .public()
        .acquire_token_by_refresh_token(&rt2, &["User.Read"], None)
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::InteractionRequired, "{e:?}");
    assert_eq!(e.code, "invalid_grant");
    assert_eq!(e.aadsts(), &[50173]);
    env.assert_correlated(&e, Endpoint::Token);

    // An unknown refresh token is invalid_grant too.
    let e = env
        .public()
        .acquire_token_by_refresh_token(&RefreshToken::new("nonsense"), &["User.Read"], None)
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::InteractionRequired, "{e:?}");
}

#[tokio::test]
async fn ropc_success_wrong_password_and_mfa() {
    let env = Env::start().await;
    let r = env.ropc().await;
    let account = r.account.as_ref().unwrap();
    assert_eq!(account.username, DEFAULT_USERNAME);
    let claims = r.id_token_claims.as_ref().unwrap();
    assert_eq!(
        account.home_account_id,
        format!(
            "{}.{}",
            claims.oid.as_deref().unwrap(),
            claims.tid.as_deref().unwrap()
        )
    );
    let rec = env.last(Endpoint::Token);
    assert_eq!(rec.grant_type.as_deref(), Some("password"));
    assert_eq!(param(&rec, "client_info"), Some("1"));

    let e = env
        .public()
        .acquire_token_by_username_password(
            DEFAULT_USERNAME,
            &Password::new("wrong"),
            &["User.Read"],
            None,
        )
        .await
        .unwrap_err();
    // invalid_grant (AADSTS50126) is interaction-required in every MSAL.
    assert_interaction(&e, "invalid_grant", Classification::None);
    assert_eq!(e.aadsts(), &[50126]);
    env.assert_correlated(&e, Endpoint::Token);

    env.emu
        .admin()
        .register_user(UserSpec {
            username: "mfa@emulator.idflow.test".into(),
            password: "pw".into(),
            mfa_required: true,
            ..UserSpec::default()
        })
        .unwrap();
    let e = env
        .public()
        .acquire_token_by_username_password(
            "mfa@emulator.idflow.test",
            &Password::new("pw"),
            &["User.Read"],
            None,
        )
        .await
        .unwrap_err();
    assert_interaction(&e, "invalid_grant", Classification::BasicAction);
    assert_eq!(e.aadsts(), &[50076]);
    assert_eq!(e.suberror(), Some("basic_action"));
    env.assert_correlated(&e, Endpoint::Token);
}

#[tokio::test]
async fn on_behalf_of_with_a_user_token() {
    let env = Env::start().await;
    let api_scope = format!("api://{CONFIDENTIAL_CLIENT_ID}/access_as_user");
    let user = env
        .public()
        .acquire_token_by_username_password(
            DEFAULT_USERNAME,
            &Password::new(DEFAULT_PASSWORD),
            &[api_scope.as_str()],
            None,
        )
        .await
        .unwrap();
    let assertion = UserAssertion::new(user.access_token.expose());
    let r = env
        .confidential()
        .acquire_token_on_behalf_of(&assertion, &["User.Read"], None)
        .await
        .unwrap();
    let at = jwt_claims(r.access_token.expose());
    assert_eq!(at["azp"], CONFIDENTIAL_CLIENT_ID);
    assert_eq!(
        at["oid"],
        jwt_claims(user.access_token.expose())["oid"],
        "the same user"
    );
    let rec = env.last(Endpoint::Token);
    assert_eq!(param(&rec, "requested_token_use"), Some("on_behalf_of"));

    // A Graph token is not for this API: AADSTS500131 (or 50013), service.
    let e = env
        .confidential()
        .acquire_token_on_behalf_of(
            &UserAssertion::new(r.access_token.expose()),
            &["User.Read"],
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, "invalid_grant", "{e:?}");
    env.assert_correlated(&e, Endpoint::Token);
}

// ---------------------------------------------------------------- every preset

/// Runs the real flow each preset's rule matches and returns its outcome.
async fn run_preset(
    env: &Env,
    name: &str,
) -> (
    Result<AuthenticationResult, IdFlowError>,
    Endpoint,
    Option<String>,
) {
    let preset = env
        .emu
        .admin()
        .presets()
        .into_iter()
        .find(|p| p.name == name)
        .unwrap();
    let m = &preset.rule.matcher;
    let prompt_none = preset
        .expect
        .as_ref()
        .is_some_and(|e| e.flow == Flow::AuthorizePromptNone);
    match (m.endpoint, m.grant_type.as_deref()) {
        (Some(Endpoint::Authorize), _) => {
            let options = AuthCodeOptions {
                prompt: prompt_none.then_some(Prompt::None),
                ..AuthCodeOptions::default()
            };
            env.emu.admin().start_session(DEFAULT_USERNAME).unwrap();
            env.arm(name);
            let (flow, location) = env.authorize(&options).await;
            let r = env
                .public()
                .acquire_token_by_auth_code_flow(&flow, &location)
                .await;
            (r, Endpoint::Authorize, Some(flow.correlation_id.clone()))
        }
        (Some(Endpoint::Token), Some("refresh_token")) => {
            let rt = env.ropc().await.refresh_token.unwrap();
            env.arm(name);
            let r = env
                .public()
                .acquire_token_by_refresh_token(&rt, &["User.Read"], None)
                .await;
            (r, Endpoint::Token, None)
        }
        (Some(Endpoint::Token), Some(g)) if g.contains("device_code") => {
            let app = env.public();
            let flow = app
                .initiate_device_flow(&["User.Read"], None)
                .await
                .unwrap();
            env.approve_device(&flow.user_code);
            env.arm(name);
            let r = app
                .acquire_token_by_device_flow(&flow, &CancelHandle::new())
                .await;
            (r, Endpoint::Token, None)
        }
        (Some(Endpoint::Token), None) => {
            // A server that never answers is ended by the app's own timeout:
            // a short one, so the test stays fast.
            let mut options = env.options();
            if matches!(preset.rule.effect, Effect::NoAnswer { .. }) {
                options.http_config.timeout = NO_ANSWER_TIMEOUT;
            }
            let app = ConfidentialClientApplication::new(
                CONFIDENTIAL_CLIENT_ID,
                env.authority(),
                ClientCredential::Secret(ClientSecret::new(CONFIDENTIAL_CLIENT_SECRET)),
                options,
            )
            .unwrap();
            // Discovery first, so the timeout covers the token request only.
            app.resolve_authority().await.unwrap();
            env.arm(name);
            let r = app.acquire_token_for_client(&[GRAPH_DEFAULT], None).await;
            (r, Endpoint::Token, None)
        }
        (Some(Endpoint::Devicecode), _) => {
            env.arm(name);
            let r = env
                .public()
                .initiate_device_flow(&["User.Read"], None)
                .await
                .map(|_| panic!("{name}: the device code request succeeded"));
            (r, Endpoint::Devicecode, None)
        }
        other => panic!("{name}: no flow for {other:?}"),
    }
}

/// The request timeout of the app that meets `no_answer`.
const NO_ANSWER_TIMEOUT: Duration = Duration::from_millis(700);

/// What the tests hold the transport-level and throttling presets to,
/// beyond kind/code/classification: (retryable, retry_after secs, action).
fn extra(name: &str) -> Option<(bool, Option<u64>, Action)> {
    Some(match name {
        "throttled_429" => (true, Some(30), Action::RetryAfter),
        "service_unavailable_503" => (true, Some(5), Action::RetryAfter),
        "server_error_500" | "temporarily_unavailable" | "html_error_page" => {
            (true, None, Action::Retry)
        }
        "malformed_json"
        | "empty_body"
        | "oversized_body"
        | "missing_access_token"
        | "invalid_utf8"
        | "wrong_json_types" => (false, None, Action::None),
        "dropped_connection" | "reset_mid_body" => (false, None, Action::CheckNetwork),
        "no_answer" => (true, None, Action::Retry),
        _ => return None,
    })
}

#[tokio::test]
async fn every_preset_through_a_real_flow() {
    let env = Env::start().await;
    let presets = env.emu.admin().presets();
    assert!(presets.len() > 60, "{}", presets.len());
    let mut checked = 0;
    let mut report = Vec::new();
    for preset in &presets {
        let name = preset.name.as_str();
        env.emu.admin().clear_faults();
        if name == "iwa_managed_user" {
            // No idflow flow reads the user realm: checked over plain HTTP.
            env.arm(name);
            let v: Value = reqwest::get(format!(
                "{}/common/userrealm/{DEFAULT_USERNAME}?api-version=1.0",
                env.emu.base_url()
            ))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
            assert_eq!(v["account_type"], "Managed");
            continue;
        }
        let started = Instant::now();
        let (outcome, endpoint, authorize_id) = run_preset(&env, name).await;
        let Some(expect) = &preset.expect else {
            // slow_response: answers normally, after the server's own delay.
            let r = outcome.unwrap_or_else(|e| panic!("{name}: {e:?}"));
            assert!(!r.access_token.expose().is_empty());
            assert!(started.elapsed() >= Duration::from_millis(900), "{name}");
            continue;
        };
        match (name, outcome) {
            // Pending answers are not terminal: polling goes on to the
            // (already approved) token, after one wait.
            ("authorization_pending" | "aadsts_70016", Ok(_)) => {
                assert_eq!(env.time.sleeps().last(), Some(&Duration::from_secs(5)));
            }
            ("slow_down", Ok(_)) => {
                assert_eq!(env.time.sleeps().last(), Some(&Duration::from_secs(10)));
            }
            (_, Ok(r)) => panic!("{name}: succeeded: {r:?}"),
            (_, Err(e)) => {
                report.push(format!(
                    "{name}: {:?} {} {:?} retryable={} retry_after={:?} action={:?}",
                    e.kind, e.code, e.classification, e.retryable, e.retry_after, e.action
                ));
                assert_eq!(e.kind, expect.kind, "{name}: {e:?}");
                assert_eq!(e.code, expect.code, "{name}: {e:?}");
                if e.kind == ErrorKind::InteractionRequired {
                    assert_eq!(e.classification, expect.classification, "{name}: {e:?}");
                    assert_eq!(e.action, Action::AcquireInteractively, "{name}");
                    assert!(!e.retryable, "{name}");
                }
                if name == "no_answer" {
                    assert_eq!(e.network, Some(NetworkKind::Timeout), "{name}");
                    let took = started.elapsed();
                    // The attempt and the one retry after a timeout (its
                    // delay waited on the manual clock) both time out. The
                    // upper bound is far above the 1.4 s (a loaded machine
                    // stretches every step) and far below the preset's 120 s
                    // hold: only the app's timeout can have ended the call.
                    assert!(
                        took >= NO_ANSWER_TIMEOUT * 2 && took < Duration::from_secs(30),
                        "{name}: ended after {took:?}, not at twice the {NO_ANSWER_TIMEOUT:?} timeout"
                    );
                } else if e.kind == ErrorKind::Network {
                    assert_eq!(e.network, Some(NetworkKind::ConnectionLost), "{name}");
                }
                if let Some((retryable, after, action)) = extra(name) {
                    assert_eq!(e.retryable, retryable, "{name}: {e:?}");
                    assert_eq!(e.retry_after.map(|d| d.as_secs()), after, "{name}");
                    assert_eq!(e.action, action, "{name}: {e:?}");
                }
                if name == "throttled_429_http_date" {
                    let secs = e.retry_after.expect("an HTTP-date Retry-After").as_secs();
                    assert!((115..=121).contains(&secs), "{name}: {secs}");
                    assert_eq!(e.action, Action::RetryAfter);
                }
                if RETRIED_PRESETS.contains(&name) {
                    // Both attempts reached the server, with one correlation id.
                    let sent: Vec<_> = env
                        .requests()
                        .into_iter()
                        .filter(|r| r.fault.as_deref() == Some(name))
                        .collect();
                    assert_eq!(sent.len(), 2, "{name}: {sent:?}");
                    assert_eq!(sent[0].correlation_id, sent[1].correlation_id, "{name}");
                }
                match authorize_id {
                    Some(sent) => {
                        // The browser request carries the id as the
                        // `client-request-id` query parameter.
                        assert_eq!(e.correlation_id.as_deref(), Some(sent.as_str()), "{name}");
                        let rec = env.last(Endpoint::Authorize);
                        assert!(rec.param_names.iter().any(|n| n == "client-request-id"));
                        // ... and the emulator logged (and answered with) that id.
                        assert_eq!(rec.correlation_id, sent, "{name}");
                    }
                    None => env.assert_correlated(&e, endpoint),
                }
                checked += 1;
            }
        }
    }
    eprintln!("{}", report.join("\n"));
    assert!(checked > 55, "{checked}");
}

// ---------------------------------------------------------------- bad bodies and transports

#[tokio::test]
async fn unreadable_answers_are_classified() {
    let env = Env::start().await;
    let cases: Vec<(Effect, ErrorKind, &str)> = vec![
        (
            Effect::HtmlPage { status: 500 },
            ErrorKind::Service,
            "service_not_available",
        ),
        (
            Effect::EmptyBody { status: 400 },
            ErrorKind::Service,
            "http_status_not_200",
        ),
        (
            Effect::OversizedBody {
                bytes: 2 * 1024 * 1024,
                status: 400,
            },
            ErrorKind::Service,
            "non_parsable_oauth_error",
        ),
        (
            Effect::MalformedJson { status: 400 },
            ErrorKind::Service,
            "non_parsable_oauth_error",
        ),
        (
            Effect::OauthError {
                error: "invalid_grant".into(),
                error_description: Some("AADSTS70000: error on 200.".into()),
                error_codes: vec![70000],
                suberror: None,
                claims: None,
                status: 200,
                retry_after: None,
            },
            ErrorKind::InteractionRequired,
            "invalid_grant",
        ),
        (
            Effect::MissingAccessToken,
            ErrorKind::Service,
            "invalid_token_response",
        ),
        (
            Effect::DropConnection,
            ErrorKind::Network,
            "network_connection_lost",
        ),
        (
            Effect::ResetMidBody { status: 200 },
            ErrorKind::Network,
            "network_connection_lost",
        ),
        (
            Effect::Status {
                status: 502,
                retry_after: None,
                body: StatusBody::Text,
            },
            ErrorKind::Service,
            "service_not_available",
        ),
    ];
    for (effect, kind, code) in cases {
        let what = format!("{effect:?}");
        // A 5xx is sent once more (the transport's one retry): arm both.
        let retried = code == "service_not_available";
        env.fault_on(Endpoint::Token, effect, if retried { 2 } else { 1 });
        let e = env
            .confidential()
            .acquire_token_for_client(&[GRAPH_DEFAULT], None)
            .await
            .unwrap_err();
        assert_eq!((e.kind, e.code.as_str()), (kind, code), "{what}: {e:?}");
        env.assert_correlated(&e, Endpoint::Token);
    }
    // Discovery failing is reported too (a fresh app resolves again); the
    // GET is retried once like any request.
    env.fault_on(
        Endpoint::OpenidConfiguration,
        Effect::HtmlPage { status: 503 },
        2,
    );
    let e = env
        .confidential()
        .acquire_token_for_client(&[GRAPH_DEFAULT], None)
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Service, "{e:?}");
    assert!(e.correlation_id.is_some());
}

#[tokio::test]
async fn a_delay_beyond_the_timeout_is_a_network_timeout() {
    let env = Env::start().await;
    let app = || {
        let mut options = env.options();
        options.http_config.timeout = Duration::from_millis(300);
        ConfidentialClientApplication::new(
            CONFIDENTIAL_CLIENT_ID,
            env.authority(),
            ClientCredential::Secret(ClientSecret::new(CONFIDENTIAL_CLIENT_SECRET)),
            options,
        )
        .unwrap()
    };
    let first = app();
    first.resolve_authority().await.unwrap();
    // One timeout is retried (after the app's 1 s, on its manual clock) and
    // the retry is answered.
    env.fault_on(Endpoint::Token, Effect::Delay { ms: 5_000 }, 1);
    first
        .acquire_token_for_client(&[GRAPH_DEFAULT], None)
        .await
        .unwrap();
    assert_eq!(env.time.sleeps(), vec![Duration::from_secs(1)]);
    // Two are reported (a new app: the first one has the token cached).
    let app = app();
    app.resolve_authority().await.unwrap();
    env.fault_on(Endpoint::Token, Effect::Delay { ms: 5_000 }, 2);
    let started = Instant::now();
    let e = app
        .acquire_token_for_client(&[GRAPH_DEFAULT], None)
        .await
        .unwrap_err();
    let took = started.elapsed();
    assert_eq!(e.kind, ErrorKind::Network, "{e:?}");
    assert_eq!(e.network, Some(NetworkKind::Timeout));
    assert_eq!(e.code, "request_timeout");
    assert!(e.retryable);
    // Both attempts were cut before the server's 5 s delay (≈ 0.6 s here;
    // the bound leaves a loaded machine room without proving less).
    assert!(took < Duration::from_millis(5_000), "{took:?}");
    assert!(e.correlation_id.is_some());
}

#[tokio::test]
async fn nothing_listening_is_connection_refused() {
    let env = Env::start().await;
    let base = env.emu.authority(DEFAULT_TENANT);
    env.emu.shutdown().await;
    let app = PublicClientApplication::new(
        PUBLIC_CLIENT_ID,
        Authority::parse(&base).unwrap(),
        AppOptions::default(),
    )
    .unwrap();
    let e = app
        .initiate_device_flow(&["User.Read"], None)
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Network, "{e:?}");
    assert_eq!(e.network, Some(NetworkKind::ConnectionRefused));
}
