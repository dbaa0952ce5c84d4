//! A user's token whose answer names no account (no `client_info`, no id
//! token: OpenID Connect lets a refresh answer leave the id token out, and an
//! on-behalf-of answer may have neither) stays the user's: a silent refresh
//! keeps the rotated refresh token under the account it was redeemed for, and
//! `acquire_token_for_client` never hands such a token out as the app's own.
//! Against the emulator (its `strip_account_info` fault) and against
//! node-oidc-provider (its real answers, the id token taken out on the way
//! back by a wrapping HTTP client).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failed assertion in a test should panic

use idflow::secret::{Password, UserAssertion};
use idflow::{
    AppOptions, AuthCodeOptions, Authority, BoxFuture, HttpClient, HttpConfig, HttpRequest,
    HttpResponse, ManualTime, Prompt, PublicClientApplication, ReqwestHttpClient, TokenCache,
    TokenSource, TransportError,
};
use idflow_emulator::{
    Effect, Endpoint, Settings, CONFIDENTIAL_CLIENT_ID, DEFAULT_PASSWORD, DEFAULT_USERNAME,
    PUBLIC_CLIENT_ID,
};
use idflow_testing::emulator::EmulatorEnv as Env;
use idflow_testing::{Browser, OidcOptions, OidcProvider};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

const GRAPH_DEFAULT: &str = "https://graph.microsoft.com/.default";
const SCOPES: [&str; 1] = ["User.Read"];

/// Refresh tokens are single-use, as on a provider with reuse detection:
/// redeeming a rotated-away token fails.
async fn single_use_env() -> Env {
    Env::start_with(Settings {
        single_use_refresh_tokens: true,
        ..Settings::default()
    })
    .await
}

// ---------------------------------------------------------------- emulator

#[tokio::test]
async fn emulator_silent_refresh_without_account_info_keeps_the_rotated_token() {
    let env = single_use_env().await;
    let cache = TokenCache::new();
    let app = env.public_app(
        PUBLIC_CLIENT_ID,
        env.options().with_token_cache(cache.clone()),
    );
    let first = env.sign_in(&app).await;
    let account = first.account.clone().unwrap();

    env.fault_on(Endpoint::Token, Effect::StripAccountInfo, 1);
    let second = app
        .acquire_token_silent(&SCOPES, Some(&account), None, true)
        .await
        .unwrap();
    assert!(second.id_token.is_none() && second.client_info.is_none());
    let rotated = second.refresh_token.clone().unwrap();
    assert_ne!(rotated.expose(), first.refresh_token.unwrap().expose());

    // The next refresh redeems the rotated token (the old one is spent).
    let third = app
        .acquire_token_silent(&SCOPES, Some(&account), None, true)
        .await
        .expect("the rotated refresh token is the account's");
    assert_eq!(third.token_source, TokenSource::IdentityProvider);
    assert_eq!(
        env.last(Endpoint::Token).grant_type.as_deref(),
        Some("refresh_token")
    );
    assert_eq!(
        second.account.as_ref().map(|a| &a.home_account_id),
        Some(&account.home_account_id),
        "the tokens belong to the account the refresh was for"
    );
    // And a cache hit is the account's token too.
    let hit = app
        .acquire_token_silent(&SCOPES, Some(&account), None, false)
        .await
        .unwrap();
    assert_eq!(hit.token_source, TokenSource::Cache);
    assert_eq!(hit.access_token.expose(), third.access_token.expose());
    let accounts = app.get_accounts(None).unwrap();
    assert_eq!(accounts.len(), 1, "{accounts:?}");
}

/// A user token for the confidential client's API (the assertion of an
/// on-behalf-of request).
async fn assertion_for_the_api(env: &Env) -> UserAssertion {
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
    UserAssertion::new(user.access_token.expose())
}

#[tokio::test]
async fn emulator_obo_answer_without_account_info_is_not_an_app_token() {
    let env = Env::start().await;
    let assertion = assertion_for_the_api(&env).await;
    let api = env.confidential();

    env.fault_on(Endpoint::Token, Effect::StripAccountInfo, 1);
    let obo = api
        .acquire_token_on_behalf_of(&assertion, &[GRAPH_DEFAULT], None)
        .await
        .unwrap();
    assert!(obo.account.is_none() && obo.id_token.is_none());

    assert!(
        api.cached_token_for_client(&[GRAPH_DEFAULT])
            .unwrap()
            .is_none(),
        "the user's token is not the app's"
    );
    let app_token = api
        .acquire_token_for_client(&[GRAPH_DEFAULT], None)
        .await
        .unwrap();
    assert_eq!(app_token.token_source, TokenSource::IdentityProvider);
    assert_ne!(app_token.access_token.expose(), obo.access_token.expose());
    assert_eq!(
        env.last(Endpoint::Token).grant_type.as_deref(),
        Some("client_credentials")
    );
}

#[tokio::test]
async fn emulator_refresh_answer_without_account_info_is_not_an_app_token() {
    let env = Env::start().await;
    let assertion = assertion_for_the_api(&env).await;
    let api = env.confidential();
    let obo = api
        .acquire_token_on_behalf_of(&assertion, &[GRAPH_DEFAULT], None)
        .await
        .unwrap();
    let rt = obo
        .refresh_token
        .clone()
        .expect("on-behalf-of answers carry a refresh token");

    env.fault_on(Endpoint::Token, Effect::StripAccountInfo, 1);
    let refreshed = api
        .acquire_token_by_refresh_token(&rt, &[GRAPH_DEFAULT], None)
        .await
        .unwrap();
    assert!(refreshed.account.is_none() && refreshed.id_token.is_none());

    let app_token = api
        .acquire_token_for_client(&[GRAPH_DEFAULT], None)
        .await
        .unwrap();
    assert_eq!(app_token.token_source, TokenSource::IdentityProvider);
    assert_ne!(
        app_token.access_token.expose(),
        refreshed.access_token.expose()
    );
    assert_eq!(
        env.last(Endpoint::Token).grant_type.as_deref(),
        Some("client_credentials")
    );
}

// ------------------------------------------------------ node-oidc-provider

/// The real HTTP client, which takes `id_token` out of refresh-token
/// answers while `strip` is on (an OpenID provider may leave it out).
#[derive(Debug)]
struct StripIdToken {
    inner: ReqwestHttpClient,
    strip: AtomicBool,
}

impl HttpClient for StripIdToken {
    fn send(&self, request: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, TransportError>> {
        let refresh = request
            .form
            .iter()
            .any(|(k, v)| k == "grant_type" && v == "refresh_token");
        Box::pin(async move {
            let mut response = self.inner.send(request).await?;
            if refresh && self.strip.load(Ordering::SeqCst) && response.status == 200 {
                let mut body: serde_json::Map<String, serde_json::Value> =
                    serde_json::from_slice(&response.body).unwrap();
                assert!(body.remove("id_token").is_some(), "the provider sent one");
                response.body = serde_json::to_vec(&body).unwrap();
            }
            Ok(response)
        })
    }
}

#[tokio::test]
async fn provider_silent_refresh_without_id_token_keeps_the_rotated_token() {
    let p = OidcProvider::start(OidcOptions::default())
        .expect("the test provider starts (run scripts/setup-node.sh)");
    let http = Arc::new(StripIdToken {
        inner: ReqwestHttpClient::new(&HttpConfig::default()).unwrap(),
        strip: AtomicBool::new(false),
    });
    let app = PublicClientApplication::new(
        &p.native().client_id,
        Authority::oidc(p.issuer()).unwrap(),
        AppOptions::default()
            .with_manual_time(ManualTime::starting_now())
            .with_http_client(http.clone()),
    )
    .unwrap();
    const READ: &str = "api://idflow-test/read";
    // prompt=consent: the provider keeps offline_access only then.
    let consent = AuthCodeOptions {
        prompt: Some(Prompt::Consent),
        ..AuthCodeOptions::default()
    };
    let flow = app
        .initiate_auth_code_flow(&[READ], "http://127.0.0.1:51234/callback", &consent)
        .await
        .unwrap();
    let back = Browser::new(&p)
        .unwrap()
        .with_login("bob")
        .authorize(flow.auth_uri.as_str())
        .await
        .unwrap();
    let first = app
        .acquire_token_by_auth_code_flow(&flow, back.as_str())
        .await
        .unwrap();
    let account = first.account.clone().unwrap();

    http.strip.store(true, Ordering::SeqCst);
    let second = app
        .acquire_token_silent(&[READ], Some(&account), None, true)
        .await
        .unwrap();
    assert!(second.id_token.is_none());
    assert_ne!(
        second.refresh_token.as_ref().unwrap().expose(),
        first.refresh_token.as_ref().unwrap().expose(),
        "public clients' refresh tokens rotate"
    );

    // The provider detects reuse of a rotated-away token: the next refresh
    // works only with the rotated one.
    http.strip.store(false, Ordering::SeqCst);
    let third = app
        .acquire_token_silent(&[READ], Some(&account), None, true)
        .await
        .expect("the rotated refresh token is the account's");
    assert_eq!(third.token_source, TokenSource::IdentityProvider);
    assert_eq!(
        second.account.as_ref().map(|a| &a.home_account_id),
        Some(&account.home_account_id),
        "the tokens belong to the account the refresh was for"
    );
    assert_eq!(
        third.account.map(|a| a.home_account_id),
        Some(account.home_account_id)
    );
}
