//! One round trip to the first token on a well-known Microsoft cloud: the
//! endpoints follow from the authority, so no OpenID discovery request goes
//! out before the token request, and the signing keys are fetched only when
//! an id token has to be checked. The emulator stands in for the cloud
//! through the test-only `AppOptions::loopback_as_known_cloud`; the
//! assertions read the emulator's request log (counts and order, no timing).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failed assertion in a test should panic

use idflow::{AppOptions, AuthCodeOptions, CancelHandle};
use idflow_emulator::{Endpoint, PUBLIC_CLIENT_ID};
use idflow_testing::emulator::EmulatorEnv as Env;

const GRAPH_DEFAULT: &str = "https://graph.microsoft.com/.default";

fn known_cloud(env: &Env) -> AppOptions {
    AppOptions {
        loopback_as_known_cloud: true,
        ..env.options()
    }
}

fn endpoints(env: &Env) -> Vec<Endpoint> {
    env.requests().into_iter().map(|r| r.endpoint).collect()
}

#[tokio::test]
async fn client_credentials_cost_one_request() {
    let env = Env::start().await;
    let app = env.confidential_app(Env::secret(), known_cloud(&env));
    let first = app
        .acquire_token_for_client(&[GRAPH_DEFAULT], None)
        .await
        .unwrap();
    assert!(!first.access_token.expose().is_empty());
    assert_eq!(
        endpoints(&env),
        [Endpoint::Token],
        "the token request is the only request: no discovery, no keys"
    );
}

/// A user sign-in brings an id token: its keys are fetched after the token
/// answer, to check it, and never the OpenID configuration.
#[tokio::test]
async fn a_sign_in_fetches_the_keys_only_to_check_the_id_token() {
    let env = Env::start().await;
    let app = env.public_app(PUBLIC_CLIENT_ID, known_cloud(&env));
    let result = env.sign_in(&app).await;
    assert!(result.id_token_claims.is_some(), "the id token was checked");
    assert_eq!(endpoints(&env), [Endpoint::Token, Endpoint::Jwks]);
    // The keys are cached with the authority: a refresh needs the token
    // request alone.
    env.clear_log();
    let account = app.get_accounts(None).unwrap().remove(0);
    env.advance(2 * 3600);
    app.acquire_token_silent(&["User.Read"], Some(&account), None, false)
        .await
        .unwrap();
    assert_eq!(endpoints(&env), [Endpoint::Token]);
}

#[tokio::test]
async fn device_code_and_auth_code_start_without_discovery() {
    let env = Env::start().await;
    let app = env.public_app(PUBLIC_CLIENT_ID, known_cloud(&env));
    let flow = app
        .initiate_device_flow(&["User.Read"], None)
        .await
        .unwrap();
    assert_eq!(endpoints(&env), [Endpoint::Devicecode]);
    env.approve_device(&flow.user_code);
    app.acquire_token_by_device_flow(&flow, &CancelHandle::new())
        .await
        .unwrap();
    assert_eq!(
        endpoints(&env),
        [Endpoint::Devicecode, Endpoint::Token, Endpoint::Jwks]
    );

    env.clear_log();
    let fresh = env.public_app(PUBLIC_CLIENT_ID, known_cloud(&env));
    let flow = fresh
        .initiate_auth_code_flow(
            &["User.Read"],
            "http://localhost:53117/callback",
            &AuthCodeOptions::default(),
        )
        .await
        .unwrap();
    assert!(flow
        .auth_uri
        .as_str()
        .starts_with(&env.emu.authority(idflow_emulator::DEFAULT_TENANT)));
    assert!(
        endpoints(&env).is_empty(),
        "the authorize URL is built offline"
    );
}

/// Without the switch a loopback authority is not a known cloud: instance
/// discovery validates it and the OpenID configuration is read before the
/// token request, as for any host that is not a well-known cloud.
#[tokio::test]
async fn other_hosts_keep_discovery_before_the_first_token() {
    let env = Env::start().await;
    let app = env.confidential();
    app.acquire_token_for_client(&[GRAPH_DEFAULT], None)
        .await
        .unwrap();
    assert_eq!(
        endpoints(&env),
        [
            Endpoint::InstanceDiscovery,
            Endpoint::OpenidConfiguration,
            Endpoint::Token
        ]
    );
}
