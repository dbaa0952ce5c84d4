//! Silent acquisition and the token cache against the emulator over real
//! HTTP: cache hits that send nothing, the five-minute expiry buffer,
//! proactive refresh and its fallback, refresh-token redemption and removal,
//! FOCI, force_refresh and claims, single-flight under concurrency, and hits
//! with the network gone. Time is the app's `ManualTime`, moved together
//! with the emulator's clock so the tokens it issues agree with the app.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failed assertion in a test should panic

use idflow::secret::ClientSecret;
use idflow::Clock;
use idflow::{
    Account, AppOptions, AuthenticationResult, Authority, Classification, ClientCredential,
    ConfidentialClientApplication, ErrorKind, Flow, PublicClientApplication, TokenCache,
    TokenSource,
};
use idflow_emulator::{
    ClientSpec, Effect, Endpoint, FaultSpec, Matcher, PresetArm, CONFIDENTIAL_CLIENT_ID,
    CONFIDENTIAL_CLIENT_SECRET, DEFAULT_TENANT, DEFAULT_USERNAME, FAMILY_CLIENT_IDS,
    PUBLIC_CLIENT_ID,
};
use idflow_testing::emulator::EmulatorEnv as Env;
use std::sync::Arc;
use std::time::SystemTime;

const GRAPH_DEFAULT: &str = "https://graph.microsoft.com/.default";
const SCOPES: [&str; 1] = ["User.Read"];

/// What these tests add to the shared fixture: apps sharing a given cache.
trait EnvExt {
    fn options_in(&self, cache: &TokenCache) -> AppOptions;
    fn public_for(&self, client_id: &str, cache: &TokenCache) -> PublicClientApplication;
    fn public_in(&self, cache: &TokenCache) -> PublicClientApplication;
    fn confidential_in(&self, cache: &TokenCache) -> ConfidentialClientApplication;
    fn outwait_throttle(&self);
    fn secs_until(&self, t: SystemTime) -> u64;
}

impl EnvExt for Env {
    fn options_in(&self, cache: &TokenCache) -> AppOptions {
        self.options().with_token_cache(cache.clone())
    }

    fn public_for(&self, client_id: &str, cache: &TokenCache) -> PublicClientApplication {
        self.public_app(client_id, self.options_in(cache))
    }

    fn public_in(&self, cache: &TokenCache) -> PublicClientApplication {
        self.public_for(PUBLIC_CLIENT_ID, cache)
    }

    fn confidential_in(&self, cache: &TokenCache) -> ConfidentialClientApplication {
        self.confidential_app(Env::secret(), self.options_in(cache))
    }

    /// Lets the client-side throttle's longest default block pass (a public
    /// client's silent interaction-required answer blocks silent calls for
    /// 120 s, a bare 5xx for 60 s).
    fn outwait_throttle(&self) {
        self.advance(idflow::UI_REQUIRED_THROTTLE.as_secs() + 1);
    }

    /// Seconds from the app's now until `t`.
    fn secs_until(&self, t: SystemTime) -> u64 {
        t.duration_since(self.time.now()).unwrap().as_secs()
    }
}

fn secs(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs()
}

fn homes(accounts: &[Account]) -> Vec<&str> {
    accounts
        .iter()
        .map(|a| a.home_account_id.as_str())
        .collect()
}

fn account_of(r: &AuthenticationResult) -> Account {
    r.account.clone().expect("a user flow names its account")
}

#[tokio::test]
async fn a_valid_cached_token_is_returned_without_any_request() {
    let env = Env::start().await;
    let cache = TokenCache::new();
    let app = env.public_in(&cache);
    let first = env.sign_in(&app).await;
    env.clear_log();

    let hit = app
        .acquire_token_silent(&SCOPES, Some(&account_of(&first)), None, false)
        .await
        .unwrap();
    assert_eq!(hit.token_source, TokenSource::Cache);
    assert_eq!(hit.access_token.expose(), first.access_token.expose());
    // The cache keeps whole seconds, as msal's schema does.
    assert_eq!(secs(hit.expires_on), secs(first.expires_on));
    assert_eq!(hit.account, first.account);
    assert!(env.emu.admin().requests(0).is_empty(), "no request at all");
    // Scope matching ignores case and order; a narrower request hits too.
    let again = app
        .acquire_token_silent(&["user.read"], Some(&account_of(&first)), None, false)
        .await
        .unwrap();
    assert_eq!(again.token_source, TokenSource::Cache);
    assert!(env.emu.admin().requests(0).is_empty());
}

#[tokio::test]
async fn tokens_within_five_minutes_of_expiry_are_refreshed() {
    let env = Env::start().await;
    let cache = TokenCache::new();
    let app = env.public_in(&cache);
    let first = env.sign_in(&app).await;
    let account = account_of(&first);
    let left = env.secs_until(first.expires_on);

    // 301 s left: still usable.
    env.advance(left - 301);
    env.clear_log();
    let hit = app
        .acquire_token_silent(&SCOPES, Some(&account), None, false)
        .await
        .unwrap();
    assert_eq!(hit.token_source, TokenSource::Cache);
    assert!(env.token_requests().is_empty());

    // 299 s left: inside the buffer, so the refresh token is redeemed.
    env.advance(2);
    let fresh = app
        .acquire_token_silent(&SCOPES, Some(&account), None, false)
        .await
        .unwrap();
    assert_eq!(fresh.token_source, TokenSource::IdentityProvider);
    assert_ne!(fresh.access_token.expose(), first.access_token.expose());
    let sent = env.token_requests();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].grant_type.as_deref(), Some("refresh_token"));
    assert_eq!(sent[0].client_id.as_deref(), Some(PUBLIC_CLIENT_ID));

    // The new token is cached: the next call sends nothing.
    env.clear_log();
    let hit = app
        .acquire_token_silent(&SCOPES, Some(&account), None, false)
        .await
        .unwrap();
    assert_eq!(hit.token_source, TokenSource::Cache);
    assert_eq!(hit.access_token.expose(), fresh.access_token.expose());
    assert!(env.token_requests().is_empty());
}

async fn app_with_refresh_in(env: &Env, cache: &TokenCache) -> PublicClientApplication {
    let id = "proactive-client";
    env.emu
        .admin()
        .register_client(ClientSpec {
            client_id: id.into(),
            redirect_uris: vec!["http://localhost".into()],
            refresh_in: Some(1800),
            ..ClientSpec::default()
        })
        .unwrap();
    env.public_for(id, cache)
}

#[tokio::test]
async fn past_refresh_on_a_valid_token_is_refreshed_proactively() {
    let env = Env::start().await;
    let cache = TokenCache::new();
    let app = app_with_refresh_in(&env, &cache).await;
    let first = env.sign_in(&app).await;
    let refresh_on = first.refresh_on.expect("the server sent refresh_in");
    let account = account_of(&first);

    env.advance(env.secs_until(refresh_on) - 1);
    env.clear_log();
    let before = app
        .acquire_token_silent(&SCOPES, Some(&account), None, false)
        .await
        .unwrap();
    assert_eq!(before.token_source, TokenSource::Cache);
    assert_eq!(before.refresh_on.map(secs), Some(secs(refresh_on)));

    env.advance(2);
    let refreshed = app
        .acquire_token_silent(&SCOPES, Some(&account), None, false)
        .await
        .unwrap();
    assert_eq!(refreshed.token_source, TokenSource::IdentityProvider);
    assert_ne!(refreshed.access_token.expose(), first.access_token.expose());
    assert_eq!(env.token_requests().len(), 1);
}

#[tokio::test]
async fn a_failed_proactive_refresh_returns_the_still_valid_cached_token() {
    let env = Env::start().await;
    let cache = TokenCache::new();
    let app = app_with_refresh_in(&env, &cache).await;
    let first = env.sign_in(&app).await;
    let account = account_of(&first);
    env.advance(env.secs_until(first.refresh_on.unwrap()) + 1);

    for preset in ["basic_action", "server_error_500"] {
        // Past the client-side throttle of the previous refusal (120 s after
        // an interaction-required answer, 60 s after a 5xx).
        env.advance(121);
        env.clear_log();
        // Twice: a 5xx is retried once.
        env.emu
            .admin()
            .arm_preset(
                preset,
                PresetArm {
                    count: Some(serde_json::json!(2)),
                    ..PresetArm::default()
                },
            )
            .unwrap();
        let r = app
            .acquire_token_silent(&SCOPES, Some(&account), None, false)
            .await
            .unwrap_or_else(|e| panic!("{preset}: {e}"));
        assert_eq!(r.token_source, TokenSource::Cache, "{preset}");
        assert_eq!(r.access_token.expose(), first.access_token.expose());
        assert!(!env.token_requests().is_empty(), "{preset}: it did try");
        env.outwait_throttle();
    }
    // The refresh token was kept (neither answer proves it dead): the next
    // call, once the throttle is over, refreshes successfully.
    env.emu.admin().clear_faults();
    env.advance(121);
    let r = app
        .acquire_token_silent(&SCOPES, Some(&account), None, false)
        .await
        .unwrap();
    assert_eq!(r.token_source, TokenSource::IdentityProvider);
}

#[tokio::test]
async fn nothing_usable_is_interaction_required_without_a_request() {
    let env = Env::start().await;
    let cache = TokenCache::new();
    let app = env.public_in(&cache);

    let e = app
        .acquire_token_silent(&SCOPES, None, None, false)
        .await
        .unwrap_err();
    assert_eq!(e.code, "no_account");
    assert_eq!(e.kind, ErrorKind::InteractionRequired);
    assert_eq!(
        e.classification,
        Some(Classification::AcquireTokenSilentFailed)
    );
    assert_eq!(e.flow, Flow::Silent);

    // An account the cache knows nothing about.
    let stranger = Account {
        home_account_id: "uid.utid".into(),
        environment: "127.0.0.1".into(),
        realm: "utid".into(),
        username: "someone@example.com".into(),
        local_account_id: "uid".into(),
    };
    let e = app
        .acquire_token_silent(&SCOPES, Some(&stranger), None, false)
        .await
        .unwrap_err();
    assert_eq!(e.code, "no_tokens_found");
    assert_eq!(e.kind, ErrorKind::InteractionRequired);
    assert_eq!(
        e.classification,
        Some(Classification::AcquireTokenSilentFailed)
    );
    assert!(
        env.emu.admin().requests(0).is_empty(),
        "decided locally, no discovery either"
    );
}

#[tokio::test]
async fn bad_token_removes_the_refresh_token_other_refusals_keep_it() {
    let env = Env::start().await;
    let cache = TokenCache::new();
    let app = env.public_in(&cache);
    let first = env.sign_in(&app).await;
    let account = account_of(&first);
    env.advance(3600);

    env.arm("basic_action");
    let e = app
        .acquire_token_silent(&SCOPES, Some(&account), None, false)
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::InteractionRequired);
    assert_eq!(e.classification, Some(Classification::BasicAction));
    assert_eq!(e.flow, Flow::Silent);
    assert_eq!(cache.counts().refresh_tokens, 1, "basic_action keeps it");

    // The same request is blocked locally for 120 s after that answer.
    let e = app
        .acquire_token_silent(&SCOPES, Some(&account), None, false)
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Throttled);
    env.advance(121);
    env.arm("bad_token");
    let e = app
        .acquire_token_silent(&SCOPES, Some(&account), None, false)
        .await
        .unwrap_err();
    assert_eq!(
        (e.code.as_str(), e.suberror()),
        ("invalid_grant", Some("bad_token"))
    );
    assert_eq!(e.kind, ErrorKind::InteractionRequired);
    assert_eq!(cache.counts().refresh_tokens, 0, "bad_token removes it");

    env.clear_log();
    let e = app
        .acquire_token_silent(&SCOPES, Some(&account), None, false)
        .await
        .unwrap_err();
    assert_eq!(e.code, "no_tokens_found");
    assert!(env.token_requests().is_empty());
}

#[tokio::test]
async fn family_refresh_tokens_serve_other_family_apps() {
    let env = Env::start().await;
    let cache = TokenCache::new();
    let [first_app, second_app] = FAMILY_CLIENT_IDS.map(|id| env.public_for(id, &cache));
    let signed_in = env.sign_in(&first_app).await;
    assert_eq!(signed_in.family_id.as_deref(), Some("1"));
    let account = account_of(&signed_in);
    env.clear_log();

    let r = second_app
        .acquire_token_silent(&SCOPES, Some(&account), None, false)
        .await
        .unwrap();
    assert_eq!(r.token_source, TokenSource::IdentityProvider);
    let sent = env.token_requests();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].client_id.as_deref(), Some(FAMILY_CLIENT_IDS[1]));
    assert_eq!(sent[0].grant_type.as_deref(), Some("refresh_token"));
    assert_eq!(
        homes(&second_app.get_accounts(None).unwrap()),
        vec![account.home_account_id.as_str()]
    );
}

#[tokio::test]
async fn client_mismatch_falls_back_to_the_apps_own_refresh_token() {
    let env = Env::start().await;
    let cache = TokenCache::new();
    let family_app = env.public_for(FAMILY_CLIENT_IDS[0], &cache);
    let outsider = env.public_in(&cache);
    let account = account_of(&env.sign_in(&family_app).await);
    env.sign_in(&outsider).await;
    // A cache written before the outsider's app metadata existed (older
    // libraries wrote none): its family is unknown, so the family token is
    // tried first, as msal does.
    let mut doc: serde_json::Value = serde_json::from_str(&cache.serialize()).unwrap();
    doc["AppMetadata"]
        .as_object_mut()
        .unwrap()
        .retain(|k, _| !k.contains(PUBLIC_CLIENT_ID));
    cache.deserialize(&doc.to_string()).unwrap();
    env.advance(3600);
    env.clear_log();

    let r = outsider
        .acquire_token_silent(&SCOPES, Some(&account), None, false)
        .await
        .unwrap();
    assert_eq!(r.token_source, TokenSource::IdentityProvider);
    let sent = env.token_requests();
    assert_eq!(sent.len(), 2, "family token refused, then the app's own");
    assert_eq!(sent[0].status, 400);
    assert_eq!(sent[1].status, 200);
    assert!(sent
        .iter()
        .all(|r| r.client_id.as_deref() == Some(PUBLIC_CLIENT_ID)));

    // Now known to be outside the family: straight to its own token.
    env.advance(3600);
    env.clear_log();
    outsider
        .acquire_token_silent(&SCOPES, Some(&account), None, false)
        .await
        .unwrap();
    assert_eq!(env.token_requests().len(), 1);
}

/// A `client_mismatch` answer that also carries a claims challenge is still a
/// service error, not an interaction-required one (claims do not decide the
/// kind), so the fallback to the app's own refresh token still happens.
#[tokio::test]
async fn client_mismatch_with_claims_still_falls_back() {
    let env = Env::start().await;
    let cache = TokenCache::new();
    let family_app = env.public_for(FAMILY_CLIENT_IDS[0], &cache);
    let outsider = env.public_in(&cache);
    let account = account_of(&env.sign_in(&family_app).await);
    env.sign_in(&outsider).await;
    let mut doc: serde_json::Value = serde_json::from_str(&cache.serialize()).unwrap();
    doc["AppMetadata"]
        .as_object_mut()
        .unwrap()
        .retain(|k, _| !k.contains(PUBLIC_CLIENT_ID));
    cache.deserialize(&doc.to_string()).unwrap();
    env.advance(3600);
    env.clear_log();
    env.emu
        .admin()
        .add_fault(FaultSpec {
            matcher: Matcher {
                endpoint: Some(Endpoint::Token),
                grant_type: Some("refresh_token".into()),
                client_id: Some(PUBLIC_CLIENT_ID.into()),
                ..Matcher::default()
            },
            count: Some(1),
            effect: Effect::OauthError {
                error: "invalid_grant".into(),
                error_description: Some(
                    "AADSTS70000: The refresh token was issued to a different client.".into(),
                ),
                error_codes: vec![70000],
                suberror: Some("client_mismatch".into()),
                claims: Some(r#"{"access_token":{"acrs":{"essential":true,"value":"c1"}}}"#.into()),
                status: 400,
                retry_after: None,
            },
            label: None,
        })
        .unwrap();

    let r = outsider
        .acquire_token_silent(&SCOPES, Some(&account), None, false)
        .await
        .unwrap();
    assert_eq!(r.token_source, TokenSource::IdentityProvider);
    let sent = env.token_requests();
    assert_eq!(sent.len(), 2, "family token refused, then the app's own");
    assert_eq!(sent[0].status, 400);
    assert_eq!(sent[1].status, 200);
}

#[tokio::test]
async fn force_refresh_and_claims_skip_the_access_token_cache() {
    let env = Env::start().await;
    let cache = TokenCache::new();
    let app = env.public_in(&cache);
    let first = env.sign_in(&app).await;
    let account = account_of(&first);
    env.clear_log();

    let forced = app
        .acquire_token_silent(&SCOPES, Some(&account), None, true)
        .await
        .unwrap();
    assert_eq!(forced.token_source, TokenSource::IdentityProvider);
    assert_ne!(forced.access_token.expose(), first.access_token.expose());

    let claims = r#"{"access_token":{"acrs":{"essential":true,"value":"c1"}}}"#;
    let challenged = app
        .acquire_token_silent(&SCOPES, Some(&account), Some(claims), false)
        .await
        .unwrap();
    assert_eq!(challenged.token_source, TokenSource::IdentityProvider);
    let sent = env.token_requests();
    assert_eq!(sent.len(), 2);
    assert!(!sent[0].param_names.iter().any(|p| p == "claims"));
    assert!(sent[1].param_names.iter().any(|p| p == "claims"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_concurrent_silent_calls_send_one_refresh() {
    let env = Env::start().await;
    let cache = TokenCache::new();
    let app = env.public_in(&cache);
    let first = env.sign_in(&app).await;
    let account = Arc::new(account_of(&first));
    env.advance(3600);
    env.clear_log();

    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..1000 {
        let (app, account) = (app.clone(), account.clone());
        tasks.spawn(async move {
            app.acquire_token_silent(&SCOPES, Some(&account), None, false)
                .await
        });
    }
    let mut tokens = std::collections::HashSet::new();
    while let Some(r) = tasks.join_next().await {
        tokens.insert(r.unwrap().unwrap().access_token.expose().to_owned());
    }
    let sent = env.token_requests();
    println!(
        "1000 concurrent silent calls -> {} token request(s)",
        sent.len()
    );
    assert_eq!(sent.len(), 1, "exactly one refresh");
    assert_eq!(tokens.len(), 1, "everyone got that refresh's token");
    assert!(!tokens.contains(first.access_token.expose()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_silent_calls_share_one_failure_too() {
    let env = Env::start().await;
    let cache = TokenCache::new();
    let app = env.public_in(&cache);
    let account = Arc::new(account_of(&env.sign_in(&app).await));
    env.advance(3600);
    env.arm("basic_action");
    env.clear_log();

    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..200 {
        let (app, account) = (app.clone(), account.clone());
        tasks.spawn(async move {
            app.acquire_token_silent(&SCOPES, Some(&account), None, false)
                .await
        });
    }
    let mut failures = 0;
    while let Some(r) = tasks.join_next().await {
        // A caller arriving after the failed flight ended starts its own
        // (the fault fired once), and may succeed.
        if let Err(e) = r.unwrap() {
            assert_eq!(e.classification, Some(Classification::BasicAction));
            failures += 1;
        }
    }
    assert!(failures >= 1);
    let sent = env.token_requests();
    assert!(sent.len() <= 2, "{} requests", sent.len());
    assert_eq!(sent[0].status, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn client_credentials_hit_the_cache_and_coalesce_misses() {
    let env = Env::start().await;
    let cache = TokenCache::new();
    let app = env.confidential_in(&cache);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..300 {
        let app = app.clone();
        tasks.spawn(async move { app.acquire_token_for_client(&[GRAPH_DEFAULT], None).await });
    }
    let mut tokens = std::collections::HashSet::new();
    while let Some(r) = tasks.join_next().await {
        tokens.insert(r.unwrap().unwrap().access_token.expose().to_owned());
    }
    assert_eq!(env.token_requests().len(), 1);
    assert_eq!(tokens.len(), 1);

    env.clear_log();
    let hit = app
        .acquire_token_for_client(&[GRAPH_DEFAULT], None)
        .await
        .unwrap();
    assert_eq!(hit.token_source, TokenSource::Cache);
    assert!(hit.account.is_none());
    assert!(env.emu.admin().requests(0).is_empty());

    // A claims request always goes out; an expired token is replaced.
    app.acquire_token_for_client(&[GRAPH_DEFAULT], Some(r#"{"access_token":{}}"#))
        .await
        .unwrap();
    assert_eq!(env.token_requests().len(), 1);
    env.advance(3600);
    let renewed = app
        .acquire_token_for_client(&[GRAPH_DEFAULT], None)
        .await
        .unwrap();
    assert_eq!(renewed.token_source, TokenSource::IdentityProvider);
    assert_eq!(env.token_requests().len(), 2);
}

/// An authority on the emulator's host and tenant but a port nothing
/// listens on: any request fails with a connection error.
fn unreachable_authority(env: &Env) -> Authority {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = env.emu.authority(DEFAULT_TENANT);
    let url = url.replacen(
        &env.emu.base_url().replace("http://", ""),
        &format!("127.0.0.1:{port}"),
        1,
    );
    Authority::parse(&url).unwrap()
}

#[tokio::test]
async fn cache_hits_need_no_network_at_all() {
    let env = Env::start().await;
    let online = TokenCache::new();
    let user = env.sign_in(&env.public_in(&online)).await;
    env.confidential_in(&online)
        .acquire_token_for_client(&[GRAPH_DEFAULT], None)
        .await
        .unwrap();

    // Another process: the cache from storage, the network gone.
    let offline = TokenCache::new();
    offline.deserialize(&online.serialize()).unwrap();
    let dead = unreachable_authority(&env);
    let public =
        PublicClientApplication::new(PUBLIC_CLIENT_ID, dead.clone(), env.options_in(&offline))
            .unwrap();
    let accounts = public.get_accounts(None).unwrap();
    assert_eq!(accounts.len(), 1);
    let hit = public
        .acquire_token_silent(&SCOPES, Some(&accounts[0]), None, false)
        .await
        .unwrap();
    assert_eq!(hit.access_token.expose(), user.access_token.expose());
    let daemon = ConfidentialClientApplication::new(
        CONFIDENTIAL_CLIENT_ID,
        dead,
        ClientCredential::Secret(ClientSecret::new(CONFIDENTIAL_CLIENT_SECRET)),
        env.options_in(&offline),
    )
    .unwrap();
    let app_hit = daemon
        .acquire_token_for_client(&[GRAPH_DEFAULT], None)
        .await
        .unwrap();
    assert_eq!(app_hit.token_source, TokenSource::Cache);

    // A miss must go out, and fails as a network error.
    env.advance(3600);
    let e = public
        .acquire_token_silent(&SCOPES, Some(&accounts[0]), None, false)
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Network, "{e}");
}

#[tokio::test]
async fn organizations_authority_hits_its_own_tokens() {
    let env = Env::start().await;
    let cache = TokenCache::new();
    let authority = Authority::parse(&env.emu.authority("organizations")).unwrap();
    let app =
        PublicClientApplication::new(PUBLIC_CLIENT_ID, authority, env.options_in(&cache)).unwrap();
    let first = env.sign_in(&app).await;
    env.clear_log();
    let hit = app
        .acquire_token_silent(&SCOPES, Some(&account_of(&first)), None, false)
        .await
        .unwrap();
    assert_eq!(hit.token_source, TokenSource::Cache);
    assert!(env.emu.admin().requests(0).is_empty());
}

#[tokio::test]
async fn accounts_are_listed_filtered_and_removed_with_their_tokens() {
    let env = Env::start().await;
    let cache = TokenCache::new();
    let app = env.public_in(&cache);
    let first = env.sign_in(&app).await;
    let account = account_of(&first);

    let listed = app.get_accounts(None).unwrap();
    assert_eq!(homes(&listed), vec![account.home_account_id.as_str()]);
    assert_eq!(listed[0].username, DEFAULT_USERNAME);
    assert_eq!(
        app.get_accounts(Some(&DEFAULT_USERNAME.to_uppercase()))
            .unwrap()
            .len(),
        1
    );
    assert!(app
        .get_accounts(Some("nobody@example.com"))
        .unwrap()
        .is_empty());
    // Another app (not in a family) sees none of them.
    let other = env.public_for(CONFIDENTIAL_CLIENT_ID, &cache);
    assert!(other.get_accounts(None).unwrap().is_empty());

    cache.set_state_changed(false);
    app.remove_account(&account).unwrap();
    assert!(cache.has_state_changed());
    assert!(app.get_accounts(None).unwrap().is_empty());
    let counts = cache.counts();
    assert_eq!((counts.access_tokens, counts.refresh_tokens), (0, 0));
    env.clear_log();
    let e = app
        .acquire_token_silent(&SCOPES, Some(&account), None, false)
        .await
        .unwrap_err();
    assert_eq!(e.code, "no_tokens_found");
    assert!(env.token_requests().is_empty());
}

#[tokio::test]
async fn every_flow_writes_through_and_marks_the_cache_changed() {
    let env = Env::start().await;
    let cache = TokenCache::new();
    assert!(!cache.has_state_changed());
    env.sign_in(&env.public_in(&cache)).await;
    assert!(cache.has_state_changed());
    let counts = cache.counts();
    assert_eq!(
        (
            counts.access_tokens,
            counts.refresh_tokens,
            counts.id_tokens,
            counts.accounts
        ),
        (1, 1, 1, 1)
    );
    let doc: serde_json::Value = serde_json::from_str(&cache.serialize()).unwrap();
    let account = doc["Account"].as_object().unwrap().values().next().unwrap();
    assert_eq!(account["account_source"], "password");
    assert_eq!(account["environment"], "127.0.0.1");
    assert_eq!(account["realm"], DEFAULT_TENANT);
    assert!(!cache.has_state_changed(), "serialize clears the flag");
}

#[tokio::test]
async fn caches_sharing_a_file_see_each_others_tokens_before_each_lookup() {
    let env = Env::start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache.json");
    let attached = || {
        let cache = TokenCache::new();
        cache
            .attach_storage(Arc::new(idflow::FileStorage::new(&path)))
            .unwrap();
        cache
    };
    // Both caches exist before anyone signs in: the second learns of the
    // token only by reloading the file before its lookup.
    let (writer, reader) = (attached(), attached());
    let offline = PublicClientApplication::new(
        PUBLIC_CLIENT_ID,
        unreachable_authority(&env),
        env.options_in(&reader),
    )
    .unwrap();
    assert!(offline.get_accounts(None).unwrap().is_empty());

    let first = env.sign_in(&env.public_in(&writer)).await;
    let accounts = offline.get_accounts(None).unwrap();
    assert_eq!(
        homes(&accounts),
        vec![account_of(&first).home_account_id.as_str()]
    );
    let hit = offline
        .acquire_token_silent(&SCOPES, Some(&accounts[0]), None, false)
        .await
        .unwrap();
    assert_eq!(hit.access_token.expose(), first.access_token.expose());

    // Removing the account through one cache removes it for the other.
    offline.remove_account(&accounts[0]).unwrap();
    assert!(env
        .public_in(&writer)
        .get_accounts(None)
        .unwrap()
        .is_empty());
}
