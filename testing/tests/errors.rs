//! The provider's real error responses (status, headers, body bytes), fed to
//! `idflow::classify`: what a certified server sends, not what we imagine.
//! The stock bodies are the ones listed in testing.md ("Captured stock error
//! bodies"); the Microsoft-decorated ones come from `--microsoft-errors` and
//! the `ms_error` test control.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failed assertion in a test should panic

mod common;

use common::*;
use idflow::{Classification, Classified, ErrorKind, Flow, IdFlowError};
use idflow_testing::{Browser, Captured, OidcOptions, Pkce};
use serde_json::json;

/// Asserts the stock body exactly (`error`, `error_description`) and returns
/// the core's decision.
fn stock(c: &Captured, status: u16, error: &str, description: &str, flow: Flow) -> IdFlowError {
    assert_eq!(c.status, status, "{}", c.text());
    assert!(c
        .header("content-type")
        .unwrap()
        .starts_with("application/json"));
    let body = c.json().unwrap();
    assert_eq!(body["error"], error, "{body}");
    assert_eq!(body["error_description"], description, "{body}");
    let decided: Classified = classify_captured(c, flow);
    let e = decided.error.expect("an error");
    assert_eq!(e.code, error);
    assert_eq!(e.service.as_ref().unwrap().http_status, status);
    e
}

#[tokio::test]
async fn client_authentication_failures_are_service_errors() {
    let p = start();
    let post = p.secret_post();
    let wrong = token(
        &p,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &post.client_id),
            ("client_secret", "wrong"),
        ],
    )
    .await;
    let e = stock(
        &wrong,
        401,
        "invalid_client",
        "client authentication failed",
        Flow::Token,
    );
    assert_eq!((e.kind, e.classification), (ErrorKind::Service, None));

    let basic = p.secret_basic();
    let wrong = token_basic(
        &p,
        &basic.client_id,
        "wrong",
        &[("grant_type", "client_credentials")],
    )
    .await;
    let e = stock(
        &wrong,
        401,
        "invalid_client",
        "client authentication failed",
        Flow::Token,
    );
    assert_eq!(e.kind, ErrorKind::Service);
    let challenge = wrong.header("www-authenticate").unwrap();
    assert!(challenge.starts_with("Basic realm="), "{challenge}");
    assert!(
        challenge.contains("error=\"invalid_client\""),
        "{challenge}"
    );

    // No client authentication at all (not even a client_id).
    let none = token(&p, &[("grant_type", "client_credentials")]).await;
    let e = stock(
        &none,
        400,
        "invalid_request",
        "no client authentication mechanism provided",
        Flow::Token,
    );
    assert_eq!(e.kind, ErrorKind::Service);

    // A confidential client_id without its secret is a failed authentication.
    let missing = token(
        &p,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &post.client_id),
        ],
    )
    .await;
    let e = stock(
        &missing,
        401,
        "invalid_client",
        "client authentication failed",
        Flow::Token,
    );
    assert_eq!(e.kind, ErrorKind::Service);
}

#[tokio::test]
async fn grants_a_client_may_not_use_are_service_errors() {
    let p = start();
    let native = &p.native().client_id;
    let cc = token(
        &p,
        &[("grant_type", "client_credentials"), ("client_id", native)],
    )
    .await;
    let e = stock(
        &cc,
        400,
        "invalid_request",
        "requested grant type is not allowed for this client",
        Flow::Token,
    );
    assert_eq!(e.kind, ErrorKind::Service);

    for grant in ["password", "urn:ietf:params:oauth:grant-type:jwt-bearer"] {
        let c = token(&p, &[("grant_type", grant), ("client_id", native)]).await;
        let e = stock(
            &c,
            400,
            "unsupported_grant_type",
            "unsupported grant_type requested",
            Flow::Token,
        );
        assert_eq!(e.kind, ErrorKind::Service);
    }
}

#[tokio::test]
async fn a_bad_refresh_token_requires_interaction() {
    let p = start();
    let c = token(
        &p,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &p.native().client_id),
            ("refresh_token", "not-a-token"),
        ],
    )
    .await;
    let e = stock(
        &c,
        400,
        "invalid_grant",
        "grant request is invalid",
        Flow::Silent,
    );
    assert_eq!(e.kind, ErrorKind::InteractionRequired);
    assert_eq!(e.classification, Some(Classification::None));
}

#[tokio::test]
async fn code_redemption_failures_are_invalid_grant() {
    let p = start();
    let browser = Browser::new(&p).unwrap();
    let login = |pkce: Pkce| {
        let url = native_authorize_url(&p, &pkce, "openid", &[]);
        let browser = &browser;
        async move { query_param(&browser.authorize(&url).await.unwrap(), "code").unwrap() }
    };

    // Wrong PKCE verifier.
    let code = login(Pkce::new()).await;
    let bad = redeem(&p, &code, &Pkce::new().verifier).await;
    let e = stock(
        &bad,
        400,
        "invalid_grant",
        "grant request is invalid",
        Flow::Token,
    );
    assert_eq!(
        (e.kind, e.classification),
        (ErrorKind::InteractionRequired, Some(Classification::None))
    );

    // Replayed code.
    let pkce = Pkce::new();
    let code = login(pkce.clone()).await;
    assert_eq!(redeem(&p, &code, &pkce.verifier).await.status, 200);
    let replay = redeem(&p, &code, &pkce.verifier).await;
    let e = stock(
        &replay,
        400,
        "invalid_grant",
        "grant request is invalid",
        Flow::Token,
    );
    assert_eq!(e.kind, ErrorKind::InteractionRequired);

    // Redirect URI differing from the one the code was issued for.
    let pkce = Pkce::new();
    let code = login(pkce.clone()).await;
    let mismatch = token(
        &p,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", &p.native().client_id),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1:1/other"),
            ("code_verifier", &pkce.verifier),
        ],
    )
    .await;
    let e = stock(
        &mismatch,
        400,
        "invalid_grant",
        "grant request is invalid",
        Flow::Token,
    );
    assert_eq!(e.kind, ErrorKind::InteractionRequired);

    // A device code nobody issued.
    let unknown = device_poll(&p, "no-such-device-code").await;
    let e = stock(
        &unknown,
        400,
        "invalid_grant",
        "grant request is invalid",
        Flow::DeviceCode,
    );
    assert_eq!(e.kind, ErrorKind::InteractionRequired);
}

#[tokio::test]
async fn refresh_asking_for_more_scope_is_invalid_scope() {
    let p = start();
    let tokens = native_login(&p, &format!("openid offline_access {READ}")).await;
    let c = token(
        &p,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &p.native().client_id),
            ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
            ("scope", &format!("{READ} {WRITE}")),
        ],
    )
    .await;
    let e = stock(
        &c,
        400,
        "invalid_scope",
        "refresh token missing requested scope",
        Flow::Silent,
    );
    assert_eq!(
        c.json().unwrap()["scope"],
        WRITE,
        "the missing scope is named"
    );
    assert_eq!((e.kind, e.classification), (ErrorKind::Service, None));
}

#[tokio::test]
async fn an_unknown_resource_is_invalid_target() {
    let p = start();
    let post = p.secret_post();
    let c = token(
        &p,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &post.client_id),
            ("client_secret", post.client_secret.as_deref().unwrap()),
            ("resource", "api://somebody-else"),
        ],
    )
    .await;
    let e = stock(
        &c,
        400,
        "invalid_target",
        "resource indicator is missing, or unknown",
        Flow::Token,
    );
    assert_eq!(e.kind, ErrorKind::Service);
}

#[tokio::test]
async fn a_device_poll_before_approval_is_pending() {
    let p = start();
    let start = device_start(&p, "openid").await;
    let c = device_poll(&p, start["device_code"].as_str().unwrap()).await;
    assert_eq!(c.status, 400);
    assert_eq!(
        c.json().unwrap(),
        json!({
            "error": "authorization_pending",
            "error_description": "authorization request is still pending as the end-user hasn't yet completed the user interaction steps"
        })
    );
    let decided = classify_captured(&c, Flow::DeviceCode);
    assert_eq!(decided.outcome, idflow::Outcome::Pending);
    assert_eq!(decided.polling, Some(idflow::Polling::Continue));
}

#[tokio::test]
async fn unknown_scopes_are_dropped_by_default_and_refused_when_strict() {
    let p = start();
    let lenient = client_credentials_post(&p, &format!("bogus {READ}")).await;
    assert_eq!(
        lenient.status, 200,
        "stock oidc-provider drops unknown scopes"
    );
    assert_eq!(lenient.json().unwrap()["scope"], READ);

    p.control(json!({ "strict_scopes": true })).await.unwrap();
    let strict = client_credentials_post(&p, &format!("bogus {READ}")).await;
    let e = stock(
        &strict,
        400,
        "invalid_scope",
        "requested scope is not allowed",
        Flow::Token,
    );
    assert_eq!(strict.json().unwrap()["scope"], "bogus");
    assert_eq!(e.kind, ErrorKind::Service);

    // At /auth the provider itself renders it as a redirect, with state.
    let url = native_authorize_url(&p, &Pkce::new(), "openid api://idflow-test/unknown", &[]);
    let back = Browser::new(&p).unwrap().authorize(&url).await.unwrap();
    assert_eq!(
        query_param(&back, "error").as_deref(),
        Some("invalid_scope")
    );
    assert_eq!(query_param(&back, "state").as_deref(), Some("state-123"));
    assert_eq!(
        classify_redirect(&back, Flow::Authorize)
            .error
            .unwrap()
            .kind,
        ErrorKind::Service
    );

    // And at /device/auth as JSON.
    let c = device_authorization(&p, "openid bogus").await;
    stock(
        &c,
        400,
        "invalid_scope",
        "requested scope is not allowed",
        Flow::DeviceCode,
    );
}

#[tokio::test]
async fn decorated_invalid_grant_with_basic_action_is_basic_action() {
    let p = start_with(OidcOptions {
        microsoft_errors: true,
        ..OidcOptions::default()
    });
    let claims = r#"{"access_token":{"capolids":{"essential":true,"values":["c1"]}}}"#;
    p.control(json!({ "ms_error": { "suberror": "basic_action", "error_codes": [50076], "claims": claims } }))
        .await
        .unwrap();
    let refresh = [
        ("grant_type", "refresh_token"),
        ("client_id", p.native().client_id.as_str()),
        ("refresh_token", "x"),
    ];
    let c = token(&p, &refresh).await;
    assert_eq!(c.status, 400);
    let body = c.json().unwrap();
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(body["suberror"], "basic_action");
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .starts_with("AADSTS50076: "));
    let e = classify_captured(&c, Flow::Silent).error.unwrap();
    assert_eq!(e.kind, ErrorKind::InteractionRequired);
    assert_eq!(e.classification, Some(Classification::BasicAction));
    assert_eq!(e.claims(), Some(claims));
    assert_eq!(e.aadsts(), &[50076]);

    // The override was for one response; the next is decorated with defaults only.
    let next = token(&p, &refresh).await;
    let body = next.json().unwrap();
    assert!(body.get("suberror").is_none(), "{body}");
    assert_eq!(body["error_codes"], json!([70000]));
    let e = classify_captured(&next, Flow::Silent).error.unwrap();
    assert_eq!(e.classification, Some(Classification::None));
}

#[tokio::test]
async fn decorated_errors_can_change_error_and_status() {
    let p = start_with(OidcOptions {
        microsoft_errors: true,
        ..OidcOptions::default()
    });
    p.control(json!({ "ms_error": {
        "error": "invalid_grant", "suberror": "consent_required", "error_codes": [65001], "count": 2
    } }))
    .await
    .unwrap();
    let refresh = [
        ("grant_type", "refresh_token"),
        ("client_id", p.native().client_id.as_str()),
        ("refresh_token", "x"),
    ];
    for _ in 0..2 {
        let e = classify_captured(&token(&p, &refresh).await, Flow::Silent)
            .error
            .unwrap();
        assert_eq!(e.classification, Some(Classification::ConsentRequired));
    }

    // A stock invalid_client turned into a server error keeps its AADSTS text.
    p.control(json!({ "ms_error": { "error": "temporarily_unavailable", "error_codes": [90033], "status": 503 } }))
        .await
        .unwrap();
    let c = token(
        &p,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &p.secret_post().client_id),
            ("client_secret", "wrong"),
        ],
    )
    .await;
    assert_eq!(c.status, 503);
    let e = classify_captured(&c, Flow::Token).error.unwrap();
    assert_eq!(e.code, "temporarily_unavailable");
    assert!(e.retryable);
}
