//! Retry, throttle and claims at the engine level, against a scripted token
//! endpoint and manual time (the emulator tests in testing/tests cover the
//! same over real sockets).

use crate::app::AppOptions;
use crate::error::{Action, ErrorKind, Flow, HttpResponse, NetworkKind};
use crate::net::clock::ManualTime;
use crate::net::http::{Method, TransportError};
use crate::net::retry::RetryPolicy;
use crate::net::scripted::ScriptedHttp;
use crate::protocol::authority::Authority;
use crate::secret::RefreshToken;
use crate::testkit::*;
use crate::{AuthCodeOptions, CancelHandle, ClientCredential, PublicClientApplication};
use serde_json::{json, Value};
use std::time::Duration;

const GRAPH: &str = "https://graph.microsoft.com/.default";

fn app_with(
    http: &ScriptedHttp,
    t: &ManualTime,
    f: impl FnOnce(&mut AppOptions),
) -> PublicClientApplication {
    let mut o = options(http, t);
    f(&mut o);
    PublicClientApplication::new(CLIENT_ID, Authority::parse(MS_AUTHORITY).unwrap(), o).unwrap()
}

fn status(code: u16, headers: &[(&str, &str)]) -> Result<HttpResponse, TransportError> {
    Ok(HttpResponse::new(
        code,
        headers
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect(),
        Vec::new(),
    ))
}

fn ok_token() -> Value {
    json!({"access_token": "a", "token_type": "Bearer", "expires_in": 3600})
}

#[tokio::test]
async fn one_5xx_is_retried_once_after_the_delay_with_the_same_correlation_id() {
    let (http, t) = (ms_http(), ManualTime::new(start()));
    http.on(Method::Post, MS_TOKEN, status(502, &[]));
    http.json(Method::Post, MS_TOKEN, 200, ok_token());
    let app = confidential_app(&http, &t, ClientCredential::Secret("s".into()));
    let r = app.acquire_token_for_client(&[GRAPH], None).await.unwrap();
    let sent = http.requests_to(MS_TOKEN);
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].correlation_id(), sent[1].correlation_id());
    assert_eq!(sent[1].correlation_id(), Some(r.correlation_id.as_str()));
    assert_eq!(t.sleeps(), vec![Duration::from_secs(1)]);
}

#[tokio::test]
async fn two_5xx_fail_after_one_retry() {
    let (http, t) = (ms_http(), ManualTime::new(start()));
    http.on(Method::Post, MS_TOKEN, status(500, &[]));
    let app = confidential_app(&http, &t, ClientCredential::Secret("s".into()));
    let e = app
        .acquire_token_for_client(&[GRAPH], None)
        .await
        .unwrap_err();
    assert_eq!(e.code, "service_not_available");
    assert_eq!(http.requests_to(MS_TOKEN).len(), 2);
}

#[tokio::test]
async fn retry_after_4xx_and_a_disabled_policy_are_not_retried() {
    for (answer, policy) in [
        (status(503, &[("Retry-After", "5")]), RetryPolicy::default()),
        (status(429, &[]), RetryPolicy::default()),
        (status(400, &[]), RetryPolicy::default()),
        (status(500, &[]), RetryPolicy::OFF),
    ] {
        let (http, t) = (ms_http(), ManualTime::new(start()));
        http.on(Method::Post, MS_TOKEN, answer);
        http.json(Method::Post, MS_TOKEN, 200, ok_token());
        let app = app_with(&http, &t, |o| o.retry = policy);
        let e = app
            .acquire_token_by_refresh_token(&RefreshToken::new("rt"), &["User.Read"], None)
            .await
            .unwrap_err();
        assert_eq!(http.requests_to(MS_TOKEN).len(), 1, "{e:?}");
        assert!(t.sleeps().is_empty());
    }
}

#[tokio::test]
async fn the_delay_is_configurable_and_timeouts_are_retried_but_not_refusals() {
    let (http, t) = (ms_http(), ManualTime::new(start()));
    http.on(
        Method::Post,
        MS_TOKEN,
        Err(TransportError::new(NetworkKind::Timeout, "slow")),
    );
    http.json(Method::Post, MS_TOKEN, 200, ok_token());
    let app = app_with(&http, &t, |o| {
        o.retry = RetryPolicy {
            enabled: true,
            delay: Duration::from_millis(250),
        }
    });
    app.acquire_token_by_refresh_token(&RefreshToken::new("rt"), &["User.Read"], None)
        .await
        .unwrap();
    assert_eq!(t.sleeps(), vec![Duration::from_millis(250)]);

    let (http, t) = (ms_http(), ManualTime::new(start()));
    http.on(
        Method::Post,
        MS_TOKEN,
        Err(TransportError::new(NetworkKind::ConnectionRefused, "no")),
    );
    let e = public_app(&http, &t)
        .acquire_token_by_refresh_token(&RefreshToken::new("rt"), &["User.Read"], None)
        .await
        .unwrap_err();
    assert_eq!(e.network, Some(NetworkKind::ConnectionRefused));
    assert_eq!(http.requests_to(MS_TOKEN).len(), 1);
}

#[tokio::test]
async fn retry_after_blocks_the_same_request_until_it_passes() {
    let (http, t) = (ms_http(), ManualTime::new(start()));
    http.on(
        Method::Post,
        MS_TOKEN,
        Ok(json_response_with(
            429,
            &[("Retry-After", "30")],
            &json!({"error": "temporarily_unavailable", "error_codes": [90033]}),
        )),
    );
    http.json(Method::Post, MS_TOKEN, 200, ok_token());
    let app = confidential_app(&http, &t, ClientCredential::Secret("s".into()));
    let first = app
        .acquire_token_for_client(&[GRAPH], None)
        .await
        .unwrap_err();
    assert_eq!(first.kind, ErrorKind::Service);
    t.advance(Duration::from_secs(12));
    let blocked = app
        .acquire_token_for_client(&[GRAPH], None)
        .await
        .unwrap_err();
    assert_eq!(
        http.requests_to(MS_TOKEN).len(),
        1,
        "no request while blocked"
    );
    assert_eq!(blocked.kind, ErrorKind::Throttled);
    assert_eq!(blocked.code, "temporarily_unavailable");
    assert_eq!(blocked.retry_after, Some(Duration::from_secs(18)));
    assert_eq!(blocked.http_status(), Some(429));
    assert_eq!(blocked.aadsts(), &[90033]);
    assert_eq!(blocked.correlation_id, first.correlation_id);
    assert_eq!(blocked.action, Action::RetryAfter);
    // A clone of the app shares the block; another scope does not.
    let clone = app.clone();
    assert_eq!(
        clone
            .acquire_token_for_client(&[GRAPH], None)
            .await
            .unwrap_err()
            .kind,
        ErrorKind::Throttled
    );
    t.advance(Duration::from_secs(18));
    app.acquire_token_for_client(&[GRAPH], None).await.unwrap();
    assert_eq!(http.requests_to(MS_TOKEN).len(), 2);
}

#[tokio::test]
async fn public_clients_are_blocked_60s_after_a_bare_429_confidential_ones_not() {
    let (http, t) = (ms_http(), ManualTime::new(start()));
    http.on(Method::Post, MS_TOKEN, status(429, &[]));
    let rt = RefreshToken::new("rt");
    let app = public_app(&http, &t);
    app.acquire_token_by_refresh_token(&rt, &["User.Read"], None)
        .await
        .unwrap_err();
    let e = app
        .acquire_token_by_refresh_token(&rt, &["User.Read"], None)
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Throttled);
    assert_eq!(e.code, "request_throttled");
    assert_eq!(e.retry_after, Some(Duration::from_secs(60)));
    // Another refresh token (another user) is not blocked.
    app.acquire_token_by_refresh_token(&RefreshToken::new("rt2"), &["User.Read"], None)
        .await
        .unwrap_err();
    assert_eq!(http.requests_to(MS_TOKEN).len(), 2);

    let (http, t) = (ms_http(), ManualTime::new(start()));
    http.on(Method::Post, MS_TOKEN, status(429, &[]));
    let app = confidential_app(&http, &t, ClientCredential::Secret("s".into()));
    for _ in 0..2 {
        let e = app
            .acquire_token_for_client(&[GRAPH], None)
            .await
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Service);
    }
    assert_eq!(http.requests_to(MS_TOKEN).len(), 2);
}

fn ui_required() -> Value {
    json!({"error": "invalid_grant", "suberror": "basic_action", "error_codes": [50076],
           "claims": "{\"access_token\":{\"capolids\":{\"essential\":true}}}"})
}

#[tokio::test]
async fn silent_interaction_required_blocks_120s_until_an_interactive_sign_in() {
    let (http, t) = (ms_http(), ManualTime::new(start()));
    http.json(Method::Post, MS_TOKEN, 400, ui_required());
    let app = public_app(&http, &t);
    let engine = app.engine_for_tests();
    let rt = RefreshToken::new("rt");
    let silent = || engine.refresh_token(&rt, &["User.Read"], None, Flow::Silent);
    let first = silent().await.unwrap_err();
    assert_eq!(first.kind, ErrorKind::InteractionRequired);
    let blocked = silent().await.unwrap_err();
    assert_eq!(http.requests_to(MS_TOKEN).len(), 1);
    assert_eq!(blocked.kind, ErrorKind::Throttled);
    assert_eq!(blocked.flow, Flow::Silent);
    assert_eq!(blocked.classification, first.classification);
    assert_eq!(blocked.claims(), first.claims());
    assert_eq!(blocked.suberror(), Some("basic_action"));
    assert_eq!(blocked.action, Action::AcquireInteractively);
    assert_eq!(blocked.retry_after, Some(Duration::from_secs(120)));
    // Not for an app-initiated refresh (Flow::Token).
    engine
        .refresh_token(&rt, &["User.Read"], None, Flow::Token)
        .await
        .unwrap_err();
    assert_eq!(http.requests_to(MS_TOKEN).len(), 2);

    // A device-code sign-in for the same scopes lifts the block.
    http.json(
        Method::Post,
        MS_DEVICE,
        200,
        json!({
        "device_code": "D", "user_code": "U", "verification_uri": "https://x", "interval": 1}),
    );
    http.json(Method::Post, MS_TOKEN, 200, token_body(start(), &[]));
    let flow = app
        .initiate_device_flow(&["User.Read"], None)
        .await
        .unwrap();
    app.acquire_token_by_device_flow(&flow, &CancelHandle::new())
        .await
        .unwrap();
    let before = http.requests_to(MS_TOKEN).len();
    silent().await.unwrap();
    assert_eq!(http.requests_to(MS_TOKEN).len(), before + 1);
}

#[tokio::test]
async fn the_block_expires_by_the_injected_clock() {
    let (http, t) = (ms_http(), ManualTime::new(start()));
    http.json(Method::Post, MS_TOKEN, 400, ui_required());
    let app = public_app(&http, &t);
    let engine = app.engine_for_tests();
    let rt = RefreshToken::new("rt");
    engine
        .refresh_token(&rt, &["User.Read"], None, Flow::Silent)
        .await
        .unwrap_err();
    t.advance(Duration::from_secs(119));
    let e = engine
        .refresh_token(&rt, &["User.Read"], None, Flow::Silent)
        .await
        .unwrap_err();
    assert_eq!(
        (e.kind, e.retry_after),
        (ErrorKind::Throttled, Some(Duration::from_secs(1)))
    );
    t.advance(Duration::from_secs(1));
    let e = engine
        .refresh_token(&rt, &["User.Read"], None, Flow::Silent)
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::InteractionRequired);
    assert_eq!(http.requests_to(MS_TOKEN).len(), 2);
    // A request with the claims the error asked for is another request.
    t.advance(Duration::from_secs(1));
    engine
        .refresh_token(&rt, &["User.Read"], e.claims(), Flow::Silent)
        .await
        .unwrap_err();
    assert_eq!(http.requests_to(MS_TOKEN).len(), 3);
}

fn form_claims(req: &crate::net::http::HttpRequest) -> Option<Value> {
    req.form_value("claims")
        .map(|c| serde_json::from_str(c).unwrap())
}

#[tokio::test]
async fn capabilities_are_merged_into_every_request_that_carries_claims() {
    let (http, t) = (ms_http(), ManualTime::new(start()));
    http.json(Method::Post, MS_TOKEN, 200, token_body(start(), &[]));
    http.json(
        Method::Post,
        MS_DEVICE,
        200,
        json!({
        "device_code": "D", "user_code": "U", "verification_uri": "https://x", "interval": 1}),
    );
    let app = app_with(&http, &t, |o| o.client_capabilities = vec!["cp1".into()]);
    let cp1 = json!({"access_token": {"xms_cc": {"values": ["cp1"]}}});
    let challenge = r#"{"access_token":{"acrs":{"essential":true,"value":"c1"}}}"#;
    let merged = json!({"access_token": {"acrs": {"essential": true, "value": "c1"},
                                         "xms_cc": {"values": ["cp1"]}}});

    // Refresh: capabilities alone, then merged with a challenge.
    app.acquire_token_by_refresh_token(&RefreshToken::new("rt"), &["User.Read"], None)
        .await
        .unwrap();
    assert_eq!(
        form_claims(&http.requests_to(MS_TOKEN)[0]),
        Some(cp1.clone())
    );
    app.acquire_token_by_refresh_token(&RefreshToken::new("rt"), &["User.Read"], Some(challenge))
        .await
        .unwrap();
    assert_eq!(
        form_claims(&http.requests_to(MS_TOKEN)[1]),
        Some(merged.clone())
    );

    // Device code: the devicecode request and every poll.
    let flow = app
        .initiate_device_flow(&["User.Read"], Some(challenge))
        .await
        .unwrap();
    assert_eq!(
        form_claims(&http.requests_to(MS_DEVICE)[0]),
        Some(merged.clone())
    );
    app.acquire_token_by_device_flow(&flow, &CancelHandle::new())
        .await
        .unwrap();
    assert_eq!(
        form_claims(&http.requests_to(MS_TOKEN)[2]),
        Some(merged.clone())
    );

    // Authorize: the URL, and the code redemption.
    let flow = app
        .initiate_auth_code_flow(
            &["User.Read"],
            "http://localhost/cb",
            &AuthCodeOptions::default(),
        )
        .await
        .unwrap();
    let in_url: Value = flow
        .auth_uri
        .query_pairs()
        .find(|(k, _)| k == "claims")
        .map(|(_, v)| serde_json::from_str(&v).unwrap())
        .unwrap();
    assert_eq!(in_url, cp1);

    // Invalid claims fail before any request.
    let before = http.requests().len();
    for bad in ["nope", "[1]"] {
        let e = app
            .acquire_token_by_refresh_token(&RefreshToken::new("rt"), &["User.Read"], Some(bad))
            .await
            .unwrap_err();
        assert_eq!(e.code, "invalid_json_claims_format");
        let e = app
            .initiate_device_flow(&["User.Read"], Some(bad))
            .await
            .unwrap_err();
        assert_eq!(e.code, "invalid_json_claims_format");
    }
    assert_eq!(http.requests().len(), before);
}

#[tokio::test]
async fn without_capabilities_claims_go_out_as_given() {
    let (http, t) = (ms_http(), ManualTime::new(start()));
    http.json(Method::Post, MS_TOKEN, 200, ok_token());
    let app = confidential_app(&http, &t, ClientCredential::Secret("s".into()));
    let c = r#"{"access_token": {"xms_cc": {"values": ["mine"]}}}"#;
    app.acquire_token_for_client(&[GRAPH], Some(c))
        .await
        .unwrap();
    // Another app (its own cache) without claims sends none.
    confidential_app(&http, &t, ClientCredential::Secret("s".into()))
        .acquire_token_for_client(&[GRAPH], None)
        .await
        .unwrap();
    let sent = http.requests_to(MS_TOKEN);
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].form_value("claims"), Some(c));
    assert_eq!(sent[1].form_value("claims"), None);
}

fn json_response_with(status: u16, headers: &[(&str, &str)], body: &Value) -> HttpResponse {
    let mut r = crate::net::scripted::json_response(status, body);
    for (n, v) in headers {
        r.headers.push(((*n).to_owned(), (*v).to_owned()));
    }
    r
}
