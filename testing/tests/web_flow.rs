//! Stateless flows against the emulator over real HTTP: a flow started by one
//! application object travels as JSON and is redeemed by another (as a web
//! app's second worker would), once; the device flow likewise.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failed assertion in a test should panic

use idflow::{AuthCodeFlow, AuthCodeOptions, CancelHandle, DeviceFlow, ResponseMode};
use idflow_emulator::{Endpoint, DEFAULT_USERNAME};
use idflow_testing::emulator::{location, param, EmulatorEnv as Env};

const REDIRECT: &str = "http://localhost:53117/callback";

#[tokio::test]
async fn an_auth_code_flow_is_redeemed_from_its_json_by_another_app_once() {
    let env = Env::start().await;
    let options = AuthCodeOptions {
        state: Some("return-to-/inbox-7f3a9c".into()),
        login_hint: Some(DEFAULT_USERNAME.into()),
        ..AuthCodeOptions::default()
    };
    let json = env
        .public()
        .initiate_auth_code_flow(&["User.Read"], REDIRECT, &options)
        .await
        .unwrap()
        .to_json();
    let flow = AuthCodeFlow::from_json(&json).unwrap();
    let redirect = location(flow.auth_uri.as_str()).await;
    assert!(
        redirect.contains("state=return-to-%2Finbox-7f3a9c"),
        "{redirect}"
    );

    let worker = env.public();
    let r = worker
        .acquire_token_by_auth_code_flow(&flow, &redirect)
        .await
        .unwrap();
    assert_eq!(r.account.unwrap().username, DEFAULT_USERNAME);
    let token = env.last(Endpoint::Token);
    assert!(token.param_names.iter().any(|k| k == "code_verifier"));

    // The same redirect again: refused by this worker without a request, and
    // by the provider for another worker (the code is spent).
    let before = env.token_requests().len();
    let e = worker
        .acquire_token_by_auth_code_flow(&flow, &redirect)
        .await
        .unwrap_err();
    assert_eq!(e.code, "state_mismatch");
    assert_eq!(env.token_requests().len(), before);
    let e = env
        .public()
        .acquire_token_by_auth_code_flow(&flow, &redirect)
        .await
        .unwrap_err();
    assert_eq!(e.code, "invalid_grant", "{e:?}");
}

#[tokio::test]
async fn every_response_mode_reaches_the_emulator() {
    let env = Env::start().await;
    for mode in [ResponseMode::Fragment, ResponseMode::Query] {
        let options = AuthCodeOptions {
            response_mode: Some(mode),
            ..AuthCodeOptions::default()
        };
        let flow = env
            .public()
            .initiate_auth_code_flow(&["User.Read"], REDIRECT, &options)
            .await
            .unwrap();
        let redirect = location(flow.auth_uri.as_str()).await;
        assert_eq!(
            redirect.contains('#'),
            mode == ResponseMode::Fragment,
            "{redirect}"
        );
        let flow = AuthCodeFlow::from_json(&flow.to_json()).unwrap();
        env.public()
            .acquire_token_by_auth_code_flow(&flow, &redirect)
            .await
            .unwrap();
        assert_eq!(
            param(&env.last(Endpoint::Authorize), "response_mode"),
            Some(mode.as_str())
        );
    }
}

/// The fields of the emulator's `form_post` page, as the browser would POST
/// them to the redirect URI (the values are URL-safe tokens).
async fn form_post_fields(url: &str) -> String {
    let page = reqwest::get(url).await.unwrap().text().await.unwrap();
    assert!(page.contains("method=\"POST\""), "{page}");
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    for input in page.split("<input ").skip(1) {
        let attr = |name: &str| {
            let start = input.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
            input[start..].split('"').next().unwrap().to_owned()
        };
        form.append_pair(&attr("name"), &attr("value"));
    }
    form.finish()
}

#[tokio::test]
async fn a_form_post_answer_is_redeemed() {
    let env = Env::start().await;
    let options = AuthCodeOptions {
        response_mode: Some(ResponseMode::FormPost),
        ..AuthCodeOptions::default()
    };
    let json = env
        .public()
        .initiate_auth_code_flow(&["User.Read"], REDIRECT, &options)
        .await
        .unwrap()
        .to_json();
    let flow = AuthCodeFlow::from_json(&json).unwrap();
    let fields = form_post_fields(flow.auth_uri.as_str()).await;
    assert!(fields.contains("code="), "{fields}");
    let r = env
        .public()
        .acquire_token_by_auth_code_flow(&flow, &fields)
        .await
        .unwrap();
    assert_eq!(r.account.unwrap().username, DEFAULT_USERNAME);
}

#[tokio::test]
async fn a_device_flow_is_polled_from_its_json_by_another_app() {
    let env = Env::start().await;
    let flow = env
        .public()
        .initiate_device_flow(&["User.Read"], None)
        .await
        .unwrap();
    let json = flow.to_json(std::time::SystemTime::now());
    env.approve_device(&flow.user_code);
    let restored = DeviceFlow::from_json(&json).unwrap();
    let r = env
        .public()
        .acquire_token_by_device_flow(&restored, &CancelHandle::new())
        .await
        .unwrap();
    assert_eq!(r.account.unwrap().username, DEFAULT_USERNAME);
}

#[tokio::test]
async fn max_age_is_checked_against_the_sign_in_time() {
    let env = Env::start().await;
    let options = AuthCodeOptions {
        max_age: Some(60),
        ..AuthCodeOptions::default()
    };
    let sign_in = |options: AuthCodeOptions| {
        let app = env.public();
        async move {
            let flow = app
                .initiate_auth_code_flow(&["User.Read"], REDIRECT, &options)
                .await
                .unwrap();
            let redirect = location(flow.auth_uri.as_str()).await;
            (flow, redirect)
        }
    };
    let (flow, redirect) = sign_in(options.clone()).await;
    assert!(env
        .last(Endpoint::Authorize)
        .param_names
        .iter()
        .any(|k| k == "max_age"));
    let r = env
        .public()
        .acquire_token_by_auth_code_flow(&flow, &redirect)
        .await
        .unwrap();
    assert!(r.id_token_claims.unwrap().all.contains_key("auth_time"));

    // Redeemed 200 s after the sign-in: past max_age and the 120 s of skew.
    let (flow, redirect) = sign_in(options).await;
    env.advance(200);
    let e = env
        .public()
        .acquire_token_by_auth_code_flow(&flow, &redirect)
        .await
        .unwrap_err();
    assert_eq!(e.code, "invalid_jwt", "{e:?}");
    assert!(e.message.contains("max_age"), "{}", e.message);
}
