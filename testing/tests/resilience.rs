//! Retry, client-side throttling and claims challenges over real sockets
//! against the emulator: what reached the server (its request log) is the
//! evidence. Time is the app's `ManualTime`: the retry delay and every
//! throttle window pass without waiting.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failed assertion in a test should panic

use idflow::secret::{Password, RefreshToken};
use idflow::RetryPolicy;
use idflow::{
    Action, AppOptions, AuthCodeOptions, CancelHandle, ErrorKind, PublicClientApplication,
};
use idflow_emulator::{
    Effect, Endpoint, Matcher, PresetArm, RequestRecord, DEFAULT_PASSWORD, DEFAULT_USERNAME,
    PUBLIC_CLIENT_ID,
};
use idflow_testing::emulator::{location, on, param, EmulatorEnv as Env};
use serde_json::{json, Value};
use std::time::Duration;

const GRAPH_DEFAULT: &str = "https://graph.microsoft.com/.default";
const REDIRECT: &str = "http://localhost:53117/callback";
const MFA_CLAIMS: &str = r#"{"access_token":{"acrs":{"essential":true,"value":"c1"}}}"#;

/// What these tests add to the shared fixture.
trait EnvExt {
    fn public_with(&self, f: impl FnOnce(&mut AppOptions)) -> PublicClientApplication;
}

impl EnvExt for Env {
    fn public_with(&self, f: impl FnOnce(&mut AppOptions)) -> PublicClientApplication {
        let mut o = self.options();
        f(&mut o);
        self.public_app(PUBLIC_CLIENT_ID, o)
    }
}

fn token_endpoint() -> Matcher {
    on(Endpoint::Token)
}

fn status(status: u16) -> Effect {
    Effect::Status {
        status,
        retry_after: None,
        body: Default::default(),
    }
}

fn claims_sent(rec: &RequestRecord) -> Option<Value> {
    param(rec, "claims").map(|c| serde_json::from_str(c).unwrap())
}

// ---------------------------------------------------------------- retry

#[tokio::test]
async fn a_single_5xx_is_retried_once_and_succeeds() {
    let env = Env::start().await;
    env.fault(token_endpoint(), Some(1), status(500));
    let r = env
        .confidential()
        .acquire_token_for_client(&[GRAPH_DEFAULT], None)
        .await
        .unwrap();
    let sent = env.token_requests();
    assert_eq!(sent.len(), 2, "the 500, then the retry");
    assert_eq!(sent[0].status, 500);
    assert_eq!(sent[1].status, 200);
    assert_eq!(sent[0].correlation_id, sent[1].correlation_id);
    assert_eq!(sent[1].correlation_id, r.correlation_id);
    assert_eq!(env.time.sleeps(), vec![Duration::from_secs(1)]);
}

#[tokio::test]
async fn a_503_with_retry_after_is_not_retried_and_a_disabled_retry_sends_once() {
    let env = Env::start().await;
    env.emu
        .admin()
        .arm_preset("service_unavailable_503", PresetArm::default())
        .unwrap();
    let e = env
        .confidential()
        .acquire_token_for_client(&[GRAPH_DEFAULT], None)
        .await
        .unwrap_err();
    assert_eq!(e.code, "service_not_available");
    assert_eq!(e.retry_after, Some(Duration::from_secs(5)));
    assert_eq!(env.token_requests().len(), 1);
    assert!(env.time.sleeps().is_empty());

    env.emu.admin().clear_requests();
    env.fault(token_endpoint(), Some(1), status(502));
    let app = env.public_with(|o| o.retry = RetryPolicy::OFF);
    let e = app
        .acquire_token_by_username_password(
            DEFAULT_USERNAME,
            &Password::new(DEFAULT_PASSWORD),
            &["User.Read"],
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(e.http_status(), Some(502));
    assert_eq!(env.token_requests().len(), 1);
}

// ---------------------------------------------------------------- throttling

#[tokio::test]
async fn retry_after_blocks_the_same_request_without_sending_it() {
    let env = Env::start().await;
    env.emu
        .admin()
        .arm_preset("throttled_429", PresetArm::default())
        .unwrap();
    let app = env.confidential();
    let first = app
        .acquire_token_for_client(&[GRAPH_DEFAULT], None)
        .await
        .unwrap_err();
    assert_eq!(
        (first.kind, first.code.as_str()),
        (ErrorKind::Service, "temporarily_unavailable")
    );
    env.time.advance(Duration::from_secs(10));
    let blocked = app
        .acquire_token_for_client(&[GRAPH_DEFAULT], None)
        .await
        .unwrap_err();
    assert_eq!(env.token_requests().len(), 1, "blocked locally");
    assert_eq!(blocked.kind, ErrorKind::Throttled);
    assert_eq!(blocked.code, "temporarily_unavailable");
    assert_eq!(blocked.retry_after, Some(Duration::from_secs(20)));
    assert_eq!(blocked.http_status(), Some(429));
    assert_eq!(blocked.correlation_id, first.correlation_id);
    assert_eq!(blocked.action, Action::RetryAfter);
    let headers = &blocked.service.as_ref().unwrap().headers;
    assert!(headers.iter().any(|(n, v)| n == "retry-after" && v == "30"));
    // Another app instance has its own throttle.
    env.confidential()
        .acquire_token_for_client(&[GRAPH_DEFAULT], None)
        .await
        .unwrap();
    env.time.advance(Duration::from_secs(20));
    app.acquire_token_for_client(&[GRAPH_DEFAULT], None)
        .await
        .unwrap();
    assert_eq!(env.token_requests().len(), 3);
}

#[tokio::test]
async fn public_clients_wait_60s_after_a_bare_5xx_and_sign_in_lifts_a_block() {
    let env = Env::start().await;
    let app = env.public();
    let password = Password::new(DEFAULT_PASSWORD);
    let rt = app
        .acquire_token_by_username_password(DEFAULT_USERNAME, &password, &["User.Read"], None)
        .await
        .unwrap()
        .refresh_token
        .unwrap();
    env.emu.admin().clear_requests();
    // Both the request and its retry fail.
    env.fault(token_endpoint(), Some(2), status(503));
    let refresh = || app.acquire_token_by_refresh_token(&rt, &["User.Read"], None);
    assert_eq!(refresh().await.unwrap_err().kind, ErrorKind::Service);
    let e = refresh().await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Throttled);
    assert_eq!(e.code, "service_not_available");
    assert_eq!(e.retry_after, Some(Duration::from_secs(60)));
    assert_eq!(env.token_requests().len(), 2);

    // An interactive sign-in (auth code) for the same scopes lifts it.
    env.emu.admin().start_session(DEFAULT_USERNAME).unwrap();
    let flow = app
        .initiate_auth_code_flow(&["User.Read"], REDIRECT, &AuthCodeOptions::default())
        .await
        .unwrap();
    let redirect = location(flow.auth_uri.as_str()).await;
    app.acquire_token_by_auth_code_flow(&flow, &redirect)
        .await
        .unwrap();
    refresh().await.unwrap();
    assert_eq!(env.token_requests().len(), 4);
}

// ---------------------------------------------------------------- claims

#[tokio::test]
async fn a_claims_challenge_round_trip_with_capabilities_on_the_wire() {
    let env = Env::start().await;
    env.fault(
        token_endpoint(),
        None,
        Effect::RequireClaims {
            claims: MFA_CLAIMS.into(),
            error: "interaction_required".into(),
            error_codes: vec![50079],
            status: 400,
        },
    );
    let app = env.public_with(|o| o.client_capabilities = vec!["cp1".into()]);
    let ropc = |claims: Option<&str>| {
        let app = app.clone();
        let claims = claims.map(str::to_owned);
        async move {
            app.acquire_token_by_username_password(
                DEFAULT_USERNAME,
                &Password::new(DEFAULT_PASSWORD),
                &["User.Read"],
                claims.as_deref(),
            )
            .await
        }
    };
    let e = ropc(None).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::InteractionRequired);
    assert_eq!(e.code, "interaction_required");
    assert_eq!(e.claims(), Some(MFA_CLAIMS));
    assert_eq!(e.action, Action::AcquireInteractively);
    let sent = env.token_requests();
    assert_eq!(
        claims_sent(&sent[0]),
        Some(json!({"access_token": {"xms_cc": {"values": ["cp1"]}}}))
    );

    // The error's claims, passed back, satisfy the resource.
    ropc(e.claims()).await.unwrap();
    let sent = env.token_requests();
    assert_eq!(
        claims_sent(&sent[1]),
        Some(
            json!({"access_token": {"acrs": {"essential": true, "value": "c1"},
                                     "xms_cc": {"values": ["cp1"]}}})
        )
    );

    // Device code: the devicecode request and the poll carry the merged claims.
    env.emu.admin().clear_faults();
    let flow = app
        .initiate_device_flow(&["User.Read"], Some(MFA_CLAIMS))
        .await
        .unwrap();
    env.approve_device(&flow.user_code);
    app.acquire_token_by_device_flow(&flow, &CancelHandle::new())
        .await
        .unwrap();
    let log = env.emu.admin().requests(0);
    let device = log
        .iter()
        .rfind(|r| r.endpoint == Endpoint::Devicecode)
        .unwrap();
    let poll = log.iter().rfind(|r| r.endpoint == Endpoint::Token).unwrap();
    for rec in [device, poll] {
        assert_eq!(
            claims_sent(rec),
            claims_sent(&sent[1]),
            "{:?}",
            rec.endpoint
        );
    }
}

#[tokio::test]
async fn refresh_token_without_claims_is_not_a_claims_request() {
    let env = Env::start().await;
    let app = env.public();
    let rt = app
        .acquire_token_by_username_password(
            DEFAULT_USERNAME,
            &Password::new(DEFAULT_PASSWORD),
            &["User.Read"],
            None,
        )
        .await
        .unwrap()
        .refresh_token
        .unwrap();
    app.acquire_token_by_refresh_token(&RefreshToken::new(rt.expose()), &["User.Read"], None)
        .await
        .unwrap();
    for rec in env.token_requests() {
        assert!(!rec.param_names.iter().any(|n| n == "claims"), "{rec:?}");
    }
}

#[tokio::test]
async fn silent_interaction_required_is_throttled_until_an_interactive_sign_in() {
    let env = Env::start().await;
    let app = env.public();
    let first = app
        .acquire_token_by_username_password(
            DEFAULT_USERNAME,
            &Password::new(DEFAULT_PASSWORD),
            &["User.Read"],
            None,
        )
        .await
        .unwrap();
    let account = first.account.clone().unwrap();
    // The cached access token expires: silent calls must refresh.
    env.time.advance(Duration::from_secs(3700));
    env.emu.admin().advance_clock(3700);
    env.emu.admin().clear_requests();
    env.emu
        .admin()
        .arm_preset("basic_action", PresetArm::default())
        .unwrap();
    let silent = || app.acquire_token_silent(&["User.Read"], Some(&account), None, false);
    let e = silent().await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::InteractionRequired);
    let blocked = silent().await.unwrap_err();
    assert_eq!(
        env.token_requests().len(),
        1,
        "the repeat is answered locally"
    );
    assert_eq!(blocked.kind, ErrorKind::Throttled);
    assert_eq!(blocked.code, "invalid_grant");
    assert_eq!(blocked.suberror(), Some("basic_action"));
    assert_eq!(blocked.classification, e.classification);
    assert_eq!(blocked.action, Action::AcquireInteractively);
    assert_eq!(blocked.retry_after, Some(Duration::from_secs(120)));

    // After the interactive sign-in the error asked for, silent acquisition
    // works again (the sign-in lifts the block on these scopes; the engine
    // test `silent_interaction_required_blocks_120s_until_an_interactive_sign_in`
    // shows the lift with the same refresh token).
    env.emu.admin().start_session(DEFAULT_USERNAME).unwrap();
    let flow = app
        .initiate_auth_code_flow(&["User.Read"], REDIRECT, &AuthCodeOptions::default())
        .await
        .unwrap();
    let redirect = location(flow.auth_uri.as_str()).await;
    app.acquire_token_by_auth_code_flow(&flow, &redirect)
        .await
        .unwrap();
    env.time.advance(Duration::from_secs(3700));
    env.emu.admin().advance_clock(3700);
    let r = silent().await.unwrap();
    assert_eq!(r.token_source, idflow::TokenSource::IdentityProvider);
}
