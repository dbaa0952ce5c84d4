//! End to end against node-oidc-provider (independent, certified): idflow's
//! real flows with its default HTTP client, an OIDC authority (discovery
//! from the issuer), the provider's own pages driven by `Browser`, and its
//! errors classified by the flows. The app's time is a `ManualTime`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failed assertion in a test should panic

use idflow::secret::{ClientAssertion, ClientSecret, RefreshToken};
use idflow::ManualTime;
use idflow::{
    Action, AppOptions, AuthCodeOptions, Authority, CancelHandle, Classification, ClientCredential,
    ConfidentialClientApplication, ErrorKind, IdFlowError, Prompt, PublicClientApplication,
};
use idflow_testing::{jwt_claims, Browser, OidcOptions, OidcProvider};
use serde_json::{json, Value};
use std::time::Duration;

const READ: &str = "api://idflow-test/read";
const REDIRECT: &str = "http://127.0.0.1:51234/callback";

fn start() -> OidcProvider {
    OidcProvider::start(OidcOptions {
        device_interval: Some(1),
        ..OidcOptions::default()
    })
    .expect("the test provider starts (run scripts/setup-node.sh)")
}

fn authority(p: &OidcProvider) -> Authority {
    Authority::oidc(p.issuer()).unwrap()
}

fn public(p: &OidcProvider, time: &ManualTime) -> PublicClientApplication {
    PublicClientApplication::new(
        &p.native().client_id,
        authority(p),
        AppOptions::default().with_manual_time(time.clone()),
    )
    .unwrap()
}

fn confidential(
    p: &OidcProvider,
    client_id: &str,
    cred: ClientCredential,
) -> ConfidentialClientApplication {
    ConfidentialClientApplication::new(client_id, authority(p), cred, AppOptions::default())
        .unwrap()
}

fn secret(p: &OidcProvider, which: &str) -> ClientSecret {
    ClientSecret::new(p.clients()[which].client_secret.clone().unwrap())
}

fn assert_interaction(e: &IdFlowError, code: &str, classification: Classification) {
    assert_eq!(e.kind, ErrorKind::InteractionRequired, "{e:?}");
    assert_eq!(e.code, code, "{e:?}");
    assert_eq!(e.classification, Some(classification), "{e:?}");
    assert_eq!(e.action, Action::AcquireInteractively);
    assert!(e.correlation_id.is_some());
}

#[tokio::test]
async fn client_credentials_post_basic_and_private_key_jwt() {
    let p = start();
    let post = confidential(
        &p,
        &p.secret_post().client_id,
        ClientCredential::Secret(secret(&p, "secret_post")),
    );
    let r = post.acquire_token_for_client(&[READ], None).await.unwrap();
    assert!(r.account.is_none());
    assert_eq!(jwt_claims(r.access_token.expose())["aud"], p.api_resource());
    assert!(!r.correlation_id.is_empty());

    let basic = confidential(
        &p,
        &p.secret_basic().client_id,
        ClientCredential::SecretBasic(secret(&p, "secret_basic")),
    );
    let r = basic.acquire_token_for_client(&[READ], None).await.unwrap();
    assert_eq!(
        jwt_claims(r.access_token.expose())["client_id"],
        p.secret_basic().client_id
    );

    // private_key_jwt: the harness's key signs the assertion (the core's
    // `ClientCertificate` needs an X.509 certificate, which this client's
    // JWKS registration does not have, so a pre-signed `Assertion` is used).
    let id = p.private_key_jwt().client_id.clone();
    let assertion = p
        .client_key()
        .client_assertion(&id, &p.token_url())
        .unwrap();
    let jwt = confidential(
        &p,
        &id,
        ClientCredential::Assertion(ClientAssertion::new(assertion)),
    );
    let r = jwt.acquire_token_for_client(&[READ], None).await.unwrap();
    assert_eq!(jwt_claims(r.access_token.expose())["client_id"], id);
}

#[tokio::test]
async fn client_authentication_failures_are_service_errors() {
    let p = start();
    for (which, cred) in [
        (
            "secret_post",
            ClientCredential::Secret(ClientSecret::new("wrong")),
        ),
        (
            "secret_basic",
            ClientCredential::SecretBasic(ClientSecret::new("wrong")),
        ),
    ] {
        let app = confidential(&p, &p.clients()[which].client_id, cred);
        let e = app
            .acquire_token_for_client(&[READ], None)
            .await
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Service, "{which}: {e:?}");
        assert_eq!(e.code, "invalid_client", "{which}");
        assert_eq!(e.http_status(), Some(401));
        assert!(e.correlation_id.is_some());
    }
    // The public client cannot use client credentials. idflow's API only
    // offers them on a confidential app, which always authenticates, so the
    // provider refuses the (unexpected) client authentication first:
    // invalid_client. (Its `invalid_request` for an unauthenticated
    // client_credentials request is unreachable through idflow's flows.)
    let id = p.native().client_id.clone();
    let assertion = p
        .client_key()
        .client_assertion(&id, &p.token_url())
        .unwrap();
    let app = confidential(
        &p,
        &id,
        ClientCredential::Assertion(ClientAssertion::new(assertion)),
    );
    let e = app
        .acquire_token_for_client(&[READ], None)
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Service, "{e:?}");
    assert_eq!(e.code, "invalid_client", "{e:?}");
    assert_eq!(e.action, Action::FixConfiguration);
}

#[tokio::test]
async fn auth_code_with_pkce_then_refresh() {
    let p = start();
    let time = ManualTime::starting_now();
    let app = public(&p, &time);
    // prompt=consent: stock oidc-provider drops offline_access at /auth
    // otherwise, and then refuses idflow's refresh (which asks for
    // offline_access again) with invalid_scope.
    let consent = AuthCodeOptions {
        prompt: Some(Prompt::Consent),
        ..AuthCodeOptions::default()
    };
    let flow = app
        .initiate_auth_code_flow(&[READ], REDIRECT, &consent)
        .await
        .unwrap();
    assert!(!flow.auth_uri.query_pairs().any(|(k, _)| k == "client_info"));
    let back = Browser::new(&p)
        .unwrap()
        .with_login("bob")
        .authorize(flow.auth_uri.as_str())
        .await
        .unwrap();
    let r = app
        .acquire_token_by_auth_code_flow(&flow, back.as_str())
        .await
        .unwrap();
    let account = r.account.clone().unwrap();
    assert_eq!(
        account.home_account_id, "bob",
        "sub, for a non-Microsoft authority"
    );
    assert_eq!(account.username, "bob");
    assert!(r.client_info.is_none());
    let claims = r.id_token_claims.as_ref().unwrap();
    assert_eq!(
        claims.all.get("nonce").and_then(Value::as_str),
        Some(flow.nonce().expose())
    );
    let rt1 = r.refresh_token.clone().unwrap();

    let r2 = app
        .acquire_token_by_refresh_token(&rt1, &[READ], None)
        .await
        .unwrap();
    let rt2 = r2.refresh_token.clone().unwrap();
    assert_ne!(rt1.expose(), rt2.expose(), "public clients' tokens rotate");
    assert_eq!(r2.account.unwrap().home_account_id, "bob");

    // Replaying the rotated token is invalid_grant: interaction required (None).
    let e = app
        .acquire_token_by_refresh_token(&rt1, &[READ], None)
        .await
        .unwrap_err();
    assert_interaction(&e, "invalid_grant", Classification::None);
    let e = app
        .acquire_token_by_refresh_token(&RefreshToken::new("garbage"), &[READ], None)
        .await
        .unwrap_err();
    assert_interaction(&e, "invalid_grant", Classification::None);
}

/// RFC 9207 against a provider that implements it: node-oidc-provider
/// advertises `authorization_response_iss_parameter_supported` and puts
/// `iss` in its redirect. A redirect without it, or naming another issuer
/// (a mix-up), is refused before its code is redeemed; the real one works.
#[tokio::test]
async fn rfc9207_iss_in_the_redirect_is_checked() {
    let p = start();
    let time = ManualTime::starting_now();
    let app = public(&p, &time);
    let flow = app
        .initiate_auth_code_flow(&[READ], REDIRECT, &AuthCodeOptions::default())
        .await
        .unwrap();
    let back = Browser::new(&p)
        .unwrap()
        .with_login("bob")
        .authorize(flow.auth_uri.as_str())
        .await
        .unwrap();
    let iss: Vec<String> = back
        .query_pairs()
        .filter(|(k, _)| k == "iss")
        .map(|(_, v)| v.into_owned())
        .collect();
    assert_eq!(iss, vec![p.issuer().to_owned()], "the provider sends iss");
    let with_iss = |value: Option<&str>| {
        let mut u = back.clone();
        let pairs: Vec<(String, String)> = back
            .query_pairs()
            .filter(|(k, _)| k != "iss")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let mut q = u.query_pairs_mut();
        q.clear();
        for (k, v) in &pairs {
            q.append_pair(k, v);
        }
        if let Some(v) = value {
            q.append_pair("iss", v);
        }
        drop(q);
        u
    };
    for forged in [
        None,
        Some("https://attacker.example/"),
        Some("http://127.0.0.1:1/"),
    ] {
        let e = app
            .acquire_token_by_auth_code_flow(&flow, with_iss(forged).as_str())
            .await
            .unwrap_err();
        assert_eq!(
            (e.kind, e.code.as_str()),
            (ErrorKind::Client, "state_mismatch"),
            "{forged:?}: {e:?}"
        );
        assert!(e.message.contains("RFC 9207"), "{}", e.message);
    }
    let r = app
        .acquire_token_by_auth_code_flow(&flow, back.as_str())
        .await
        .unwrap();
    assert_eq!(r.account.unwrap().home_account_id, "bob");
}

#[tokio::test]
async fn microsoft_style_decoration_gives_basic_action() {
    let p = start();
    let time = ManualTime::starting_now();
    let app = public(&p, &time);
    p.control(json!({"ms_error": {
        "error": "invalid_grant", "suberror": "basic_action", "error_codes": [50076]
    }}))
    .await
    .unwrap();
    let e = app
        .acquire_token_by_refresh_token(&RefreshToken::new("garbage"), &[READ], None)
        .await
        .unwrap_err();
    assert_interaction(&e, "invalid_grant", Classification::BasicAction);
    assert_eq!(e.aadsts(), &[50076]);
    assert_eq!(e.suberror(), Some("basic_action"));
}

#[tokio::test]
async fn prompt_none_without_a_session() {
    let p = start();
    let time = ManualTime::starting_now();
    let app = public(&p, &time);
    let options = AuthCodeOptions {
        prompt: Some(Prompt::None),
        ..AuthCodeOptions::default()
    };
    let flow = app
        .initiate_auth_code_flow(&[READ], REDIRECT, &options)
        .await
        .unwrap();
    let back = Browser::new(&p)
        .unwrap()
        .authorize(flow.auth_uri.as_str())
        .await
        .unwrap();
    let e = app
        .acquire_token_by_auth_code_flow(&flow, back.as_str())
        .await
        .unwrap_err();
    assert_interaction(&e, "login_required", Classification::PromptNeverFailed);
    assert_eq!(
        e.correlation_id.as_deref(),
        Some(flow.correlation_id.as_str())
    );
}

#[tokio::test]
async fn device_code_approved_in_the_browser() {
    let p = start();
    let time = ManualTime::starting_now();
    let app = public(&p, &time);
    let flow = app.initiate_device_flow(&[READ], None).await.unwrap();
    assert_eq!(flow.interval, Duration::from_secs(1));
    assert!(flow.verification_uri_complete.is_some());
    let page = Browser::new(&p)
        .unwrap()
        .with_login("carol")
        .approve_device(&flow.user_code)
        .await
        .unwrap();
    assert_eq!(page.status, 200, "{}", page.html);
    // slow_down on the next poll: the wait grows by five seconds.
    p.control(json!({"slow_down": 1})).await.unwrap();
    let r = app
        .acquire_token_by_device_flow(&flow, &CancelHandle::new())
        .await
        .unwrap();
    assert_eq!(r.account.unwrap().home_account_id, "carol");
    assert_eq!(time.sleeps(), vec![Duration::from_secs(6)]);
}

#[tokio::test]
async fn device_code_declined_in_the_browser() {
    let p = start();
    let time = ManualTime::starting_now();
    let app = public(&p, &time);
    let flow = app.initiate_device_flow(&[READ], None).await.unwrap();
    Browser::new(&p)
        .unwrap()
        .decline_device(&flow.user_code)
        .await
        .unwrap();
    let e = app
        .acquire_token_by_device_flow(&flow, &CancelHandle::new())
        .await
        .unwrap_err();
    assert_eq!(e.code, "access_denied", "{e:?}");
    assert_eq!(e.kind, ErrorKind::Cancelled, "{e:?}");
}
