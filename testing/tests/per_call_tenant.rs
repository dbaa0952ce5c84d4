//! A per-call tenant (`for_tenant`, MSAL for Java's `tenant(...)` on a
//! request's parameters) against the emulator over real HTTP: each tenant's
//! requests name it in the URL, its tokens are cached under its realm and
//! served from there, a silent call for a tenant refreshes the account's
//! refresh token against that tenant, and an authority with no tenant to
//! replace is refused before any request.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failed assertion in a test should panic

use idflow::secret::{Password, UserAssertion};
use idflow::{Authority, ErrorKind, TokenSource};
use idflow_emulator::{
    tenant_id, Endpoint, CONFIDENTIAL_CLIENT_ID, DEFAULT_PASSWORD, DEFAULT_TENANT, DEFAULT_USERNAME,
};
use idflow_testing::emulator::{EmulatorEnv as Env, SIGN_IN_SCOPES};
use idflow_testing::jwt_claims;

const GRAPH_DEFAULT: &str = "https://graph.microsoft.com/.default";
const TENANT_A: &str = "tenant-a.example";
const TENANT_B: &str = "tenant-b.example";

/// The tenants the token requests logged since the last `clear_log` named.
fn token_tenants(env: &Env) -> Vec<String> {
    env.token_requests()
        .into_iter()
        .map(|r| {
            assert!(
                r.path.contains(r.tenant.as_deref().unwrap_or("?")),
                "{}",
                r.path
            );
            r.tenant.unwrap_or_default()
        })
        .collect()
}

#[tokio::test]
async fn client_credentials_go_to_each_tenant_and_hit_its_cache() {
    let env = Env::start().await;
    let app = env.confidential();
    env.clear_log();
    for tenant in [TENANT_A, TENANT_B] {
        let r = app
            .for_tenant(tenant)
            .unwrap()
            .acquire_token_for_client(&[GRAPH_DEFAULT], None)
            .await
            .unwrap();
        assert_eq!(r.token_source, TokenSource::IdentityProvider);
        assert_eq!(
            jwt_claims(r.access_token.expose())["tid"],
            tenant_id(tenant),
            "issued in {tenant}"
        );
    }
    assert_eq!(token_tenants(&env), [TENANT_A, TENANT_B]);

    // Each tenant answers from its own token, with no request.
    env.clear_log();
    for tenant in [TENANT_A, TENANT_B] {
        let view = app.for_tenant(tenant).unwrap();
        let hit = view
            .acquire_token_for_client(&[GRAPH_DEFAULT], None)
            .await
            .unwrap();
        assert_eq!(hit.token_source, TokenSource::Cache, "{tenant}");
        assert_eq!(
            jwt_claims(hit.access_token.expose())["tid"],
            tenant_id(tenant)
        );
        assert!(view
            .cached_token_for_client(&[GRAPH_DEFAULT])
            .unwrap()
            .is_some());
    }
    assert!(env.token_requests().is_empty());

    // The app's own tenant and a third one have no token yet.
    assert!(app
        .cached_token_for_client(&[GRAPH_DEFAULT])
        .unwrap()
        .is_none());
    assert!(app
        .for_tenant("tenant-c.example")
        .unwrap()
        .cached_token_for_client(&[GRAPH_DEFAULT])
        .unwrap()
        .is_none());
    let own = app
        .acquire_token_for_client(&[GRAPH_DEFAULT], None)
        .await
        .unwrap();
    assert_eq!(own.token_source, TokenSource::IdentityProvider);
    assert_eq!(token_tenants(&env), [DEFAULT_TENANT]);

    // Naming the app's own tenant is the app itself: a cache hit.
    let same = app
        .for_tenant(DEFAULT_TENANT)
        .unwrap()
        .acquire_token_for_client(&[GRAPH_DEFAULT], None)
        .await
        .unwrap();
    assert_eq!(same.token_source, TokenSource::Cache);
}

#[tokio::test]
async fn silent_calls_per_tenant_refresh_against_that_tenant() {
    let env = Env::start().await;
    let app = env.public();
    let signed_in = env.sign_in(&app).await;
    let account = signed_in.account.clone().unwrap();
    env.clear_log();

    for tenant in [TENANT_A, TENANT_B] {
        let view = app.for_tenant(tenant).unwrap();
        let r = view
            .acquire_token_silent(&SIGN_IN_SCOPES, Some(&account), None, false)
            .await
            .unwrap();
        assert_eq!(r.token_source, TokenSource::IdentityProvider, "{tenant}");
        assert_eq!(
            jwt_claims(r.access_token.expose())["tid"],
            tenant_id(tenant)
        );
        let rec = env.last(Endpoint::Token);
        assert_eq!(rec.grant_type.as_deref(), Some("refresh_token"));
        assert_eq!(rec.tenant.as_deref(), Some(tenant));
        assert_eq!(
            r.account.as_ref().unwrap().home_account_id,
            account.home_account_id,
            "the same user"
        );
    }
    assert_eq!(token_tenants(&env), [TENANT_A, TENANT_B]);

    // Each tenant now answers from its own token; the home tenant from the
    // sign-in's.
    env.clear_log();
    for tenant in [TENANT_A, TENANT_B] {
        let hit = app
            .for_tenant(tenant)
            .unwrap()
            .acquire_token_silent(&SIGN_IN_SCOPES, Some(&account), None, false)
            .await
            .unwrap();
        assert_eq!(hit.token_source, TokenSource::Cache, "{tenant}");
        assert_eq!(
            jwt_claims(hit.access_token.expose())["tid"],
            tenant_id(tenant)
        );
    }
    let home = app
        .acquire_token_silent(&SIGN_IN_SCOPES, Some(&account), None, false)
        .await
        .unwrap();
    assert_eq!(home.token_source, TokenSource::Cache);
    assert_eq!(
        home.access_token.expose(),
        signed_in.access_token.expose(),
        "the home tenant's token is the sign-in's, not a tenant's"
    );
    assert!(env.token_requests().is_empty());
}

#[tokio::test]
async fn on_behalf_of_per_tenant_is_cached_per_tenant() {
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
    let app = env.confidential();
    env.clear_log();
    let mut first = Vec::new();
    for tenant in [TENANT_A, TENANT_B] {
        let r = app
            .for_tenant(tenant)
            .unwrap()
            .acquire_token_on_behalf_of(&assertion, &["User.Read"], None)
            .await
            .unwrap();
        assert_eq!(r.token_source, TokenSource::IdentityProvider, "{tenant}");
        assert_eq!(
            jwt_claims(r.access_token.expose())["tid"],
            tenant_id(tenant)
        );
        first.push(r.access_token.expose().to_owned());
    }
    assert_eq!(token_tenants(&env), [TENANT_A, TENANT_B]);
    env.clear_log();
    for (tenant, token) in [TENANT_A, TENANT_B].into_iter().zip(&first) {
        let hit = app
            .for_tenant(tenant)
            .unwrap()
            .acquire_token_on_behalf_of(&assertion, &["User.Read"], None)
            .await
            .unwrap();
        assert_eq!(hit.token_source, TokenSource::Cache, "{tenant}");
        assert_eq!(hit.access_token.expose(), token, "{tenant}'s own token");
    }
    assert!(env.token_requests().is_empty());
}

#[tokio::test]
async fn a_tenant_on_an_authority_without_one_is_refused_before_any_request() {
    let env = Env::start().await;
    let issuer = env.emu.authority(DEFAULT_TENANT);
    for authority in [
        Authority::oidc(&issuer).unwrap(),
        Authority::parse("https://contoso.b2clogin.com/contoso.onmicrosoft.com/B2C_1_signin")
            .unwrap(),
        Authority::parse("https://adfs.contoso.example/adfs").unwrap(),
    ] {
        let app = idflow::PublicClientApplication::new(
            idflow_emulator::PUBLIC_CLIENT_ID,
            authority.clone(),
            env.options(),
        )
        .unwrap();
        let e = app.for_tenant(TENANT_A).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Client, "{authority:?}: {e:?}");
        assert_eq!(e.code, "invalid_parameter");
        assert!(e.message.contains("tenant"), "{}", e.message);
    }
    // A malformed tenant is refused on an Entra authority too.
    let e = env.confidential().for_tenant("a/b").unwrap_err();
    assert_eq!(e.code, "invalid_parameter");
    assert!(env.requests().is_empty(), "nothing was sent");
}
