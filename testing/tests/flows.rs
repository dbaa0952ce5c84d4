//! Whole flows against the provider, driven through its pages: auth code +
//! PKCE then refresh, the device flow (pending, slow_down, approval,
//! decline), and prompt=none with and without a session.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failed assertion in a test should panic

mod common;

use common::*;
use idflow::{Classification, ErrorKind, Flow, Outcome, Polling};
use idflow_testing::jwt_claims;
use idflow_testing::{Browser, OidcOptions, Pkce};
use serde_json::json;

#[tokio::test]
async fn auth_code_with_pkce_then_refresh() {
    let p = start();
    let pkce = Pkce::new();
    let browser = Browser::new(&p).unwrap().with_login("bob");
    let back = browser
        .authorize(&native_authorize_url(
            &p,
            &pkce,
            &format!("openid profile offline_access {READ}"),
            &[],
        ))
        .await
        .unwrap();
    assert_eq!(
        back.as_str().split('?').next(),
        Some(NATIVE_REDIRECT),
        "any loopback port is accepted"
    );
    assert_eq!(query_param(&back, "state").as_deref(), Some("state-123"));
    assert_eq!(query_param(&back, "iss").as_deref(), Some(p.issuer()));
    assert_eq!(
        classify_redirect(&back, Flow::Authorize).outcome,
        Outcome::Success
    );
    let code = query_param(&back, "code").unwrap();

    let resp = redeem(&p, &code, &pkce.verifier).await;
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_eq!(
        classify_captured(&resp, Flow::Token).outcome,
        Outcome::Success
    );
    let tokens = resp.json().unwrap();
    let id = jwt_claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(id["sub"], "bob");
    assert_eq!(id["preferred_username"], "bob");
    assert_eq!(id["aud"], p.native().client_id);
    let access = jwt_claims(tokens["access_token"].as_str().unwrap());
    assert_eq!(
        access["aud"],
        p.api_resource(),
        "the granted API, not userinfo"
    );
    assert_eq!(access["scope"], READ);
    let refresh = tokens["refresh_token"]
        .as_str()
        .expect("a refresh token without prompt=consent");

    let resp = token(
        &p,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &p.native().client_id),
            ("refresh_token", refresh),
            ("scope", READ),
        ],
    )
    .await;
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_eq!(
        classify_captured(&resp, Flow::Silent).outcome,
        Outcome::Success
    );
    let refreshed = resp.json().unwrap();
    assert_eq!(
        jwt_claims(refreshed["access_token"].as_str().unwrap())["sub"],
        "bob"
    );
    // Public clients get a rotated refresh token each time.
    let rotated = refreshed["refresh_token"].as_str().unwrap();
    assert_ne!(rotated, refresh);

    // Replaying the spent one is invalid_grant and revokes the whole grant,
    // so the rotated token dies too: a client must store the newest one.
    let refresh_with = |rt: String| {
        let p = &p;
        async move {
            let native = p.native().client_id.clone();
            token(
                p,
                &[
                    ("grant_type", "refresh_token"),
                    ("client_id", &native),
                    ("refresh_token", &rt),
                ],
            )
            .await
        }
    };
    let replay = refresh_with(refresh.to_owned()).await;
    assert_eq!(error_of(&replay), "invalid_grant");
    let after = refresh_with(rotated.to_owned()).await;
    assert_eq!(error_of(&after), "invalid_grant");
    assert_eq!(
        classify_captured(&after, Flow::Silent).error.unwrap().kind,
        ErrorKind::InteractionRequired
    );
}

#[tokio::test]
async fn localhost_redirect_on_any_port_is_accepted_for_the_native_client() {
    let p = start();
    let pkce = Pkce::new();
    let url = p
        .authorize_url(&[
            ("client_id", p.native().client_id.as_str()),
            ("redirect_uri", "http://localhost:60999/callback"),
            ("scope", "openid"),
            ("state", "s"),
            ("code_challenge", pkce.challenge.as_str()),
            ("code_challenge_method", "S256"),
        ])
        .unwrap();
    let back = Browser::new(&p).unwrap().authorize(&url).await.unwrap();
    assert!(
        back.as_str()
            .starts_with("http://localhost:60999/callback?code="),
        "{back}"
    );
}

#[tokio::test]
async fn device_flow_pending_then_approved_through_the_pages() {
    let p = start_with(OidcOptions {
        device_interval: Some(1),
        ..OidcOptions::default()
    });
    let start = device_start(&p, &format!("openid offline_access {READ}")).await;
    assert_eq!(start["interval"], 1);
    assert_eq!(start["verification_uri"], p.device_url());
    let device_code = start["device_code"].as_str().unwrap();
    let user_code = start["user_code"].as_str().unwrap();

    let pending = device_poll(&p, device_code).await;
    assert_eq!(
        (pending.status, error_of(&pending).as_str()),
        (400, "authorization_pending")
    );
    let decided = classify_captured(&pending, Flow::DeviceCode);
    assert_eq!(decided.outcome, Outcome::Pending);
    assert_eq!(decided.polling, Some(Polling::Continue));

    let page = Browser::new(&p)
        .unwrap()
        .approve_device(user_code)
        .await
        .unwrap();
    assert_eq!(page.title(), Some("Sign-in Success"), "{}", page.html);

    let done = device_poll(&p, device_code).await;
    assert_eq!(done.status, 200, "{}", done.text());
    let decided = classify_captured(&done, Flow::DeviceCode);
    assert_eq!(decided.outcome, Outcome::Success);
    assert_eq!(decided.polling, Some(Polling::Stop));
    let tokens = done.json().unwrap();
    assert!(tokens["refresh_token"].is_string());
    assert_eq!(
        jwt_claims(tokens["access_token"].as_str().unwrap())["sub"],
        "alice"
    );

    // The code is spent: polling again is invalid_grant, which stops polling.
    let again = device_poll(&p, device_code).await;
    assert_eq!(error_of(&again), "invalid_grant");
    assert_eq!(
        classify_captured(&again, Flow::DeviceCode).polling,
        Some(Polling::Stop)
    );
}

#[tokio::test]
async fn slow_down_is_answered_when_armed_and_does_not_spend_the_code() {
    let p = start();
    let start = device_start(&p, "openid").await;
    let device_code = start["device_code"].as_str().unwrap();
    Browser::new(&p)
        .unwrap()
        .approve_device(start["user_code"].as_str().unwrap())
        .await
        .unwrap();

    let state = p.control(json!({ "slow_down": 2 })).await.unwrap();
    assert_eq!(state["slow_down"], 2);
    // Other grants pass through untouched (their body is read, then handed on).
    let other = client_credentials_post(&p, READ).await;
    assert_eq!(other.status, 200, "{}", other.text());
    for _ in 0..2 {
        let slow = device_poll(&p, device_code).await;
        assert_eq!(slow.status, 400);
        assert_eq!(error_of(&slow), "slow_down");
        let decided = classify_captured(&slow, Flow::DeviceCode);
        assert_eq!(decided.outcome, Outcome::Pending);
        assert_eq!(decided.polling, Some(Polling::SlowDown));
    }
    // Armed count used up: the approved code still redeems.
    let done = device_poll(&p, device_code).await;
    assert_eq!(done.status, 200, "{}", done.text());
}

#[tokio::test]
async fn device_code_declined_on_the_page_is_access_denied_and_cancelled() {
    let p = start();
    let start = device_start(&p, "openid").await;
    let page = Browser::new(&p)
        .unwrap()
        .decline_device(start["user_code"].as_str().unwrap())
        .await
        .unwrap();
    assert!(page.html.contains("interrupted"), "{}", page.html);
    let denied = device_poll(&p, start["device_code"].as_str().unwrap()).await;
    assert_eq!(
        (denied.status, error_of(&denied).as_str()),
        (400, "access_denied")
    );
    let decided = classify_captured(&denied, Flow::DeviceCode);
    assert_eq!(decided.polling, Some(Polling::Stop));
    assert_eq!(decided.error.unwrap().kind, ErrorKind::Cancelled);
}

#[tokio::test]
async fn prompt_none_without_a_session_is_login_required_prompt_never_failed() {
    let p = start();
    let pkce = Pkce::new();
    let url = native_authorize_url(&p, &pkce, "openid", &[("prompt", "none")]);
    let back = Browser::new(&p).unwrap().authorize(&url).await.unwrap();
    assert_eq!(
        query_param(&back, "error").as_deref(),
        Some("login_required")
    );
    assert_eq!(query_param(&back, "state").as_deref(), Some("state-123"));
    let e = classify_redirect(&back, Flow::AuthorizePromptNone)
        .error
        .unwrap();
    assert_eq!(e.kind, ErrorKind::InteractionRequired);
    assert_eq!(e.code, "login_required");
    assert_eq!(e.classification, Some(Classification::PromptNeverFailed));
}

#[tokio::test]
async fn prompt_none_with_a_session_for_the_native_client_is_interaction_required() {
    let p = start();
    let browser = Browser::new(&p).unwrap();
    let pkce = Pkce::new();
    browser
        .authorize(&native_authorize_url(&p, &pkce, "openid", &[]))
        .await
        .unwrap();
    // Same browser, so the session cookie is sent; native clients must
    // consent every time, so a silent authorize cannot succeed.
    let url = native_authorize_url(&p, &Pkce::new(), "openid", &[("prompt", "none")]);
    let back = browser.authorize(&url).await.unwrap();
    assert_eq!(
        query_param(&back, "error").as_deref(),
        Some("interaction_required"),
        "{back}"
    );
    let e = classify_redirect(&back, Flow::AuthorizePromptNone)
        .error
        .unwrap();
    assert_eq!(e.kind, ErrorKind::InteractionRequired);
    assert_eq!(e.classification, Some(Classification::PromptNeverFailed));
}

#[tokio::test]
async fn consent_cancelled_on_the_interaction_page_is_access_denied() {
    let p = start();
    let pkce = Pkce::new();
    // The abort link every interaction page carries: GET /interaction/:uid/abort.
    let client = p
        .client_builder()
        .unwrap()
        .cookie_store(true)
        .build()
        .unwrap();
    let first = client
        .get(native_authorize_url(&p, &pkce, "openid", &[]))
        .send()
        .await
        .unwrap();
    let interaction = first.headers()["location"].to_str().unwrap().to_owned();
    let page = first.url().join(&interaction).unwrap();
    client.get(page.clone()).send().await.unwrap();
    let aborted = client.get(format!("{page}/abort")).send().await.unwrap();
    let resume = aborted
        .url()
        .join(aborted.headers()["location"].to_str().unwrap())
        .unwrap();
    let back = client.get(resume).send().await.unwrap();
    let back = url::Url::parse(back.headers()["location"].to_str().unwrap()).unwrap();
    assert_eq!(
        query_param(&back, "error").as_deref(),
        Some("access_denied"),
        "{back}"
    );
    let e = classify_redirect(&back, Flow::Authorize).error.unwrap();
    assert_eq!(e.kind, ErrorKind::Cancelled);
}
