//! The flows as data: redeemed by another application object, the checks on
//! the way back (state, replay, nonce, `max_age`), and the older pattern.

use super::*;
use crate::app::PublicClientApplication;
use crate::flows::auth_code::ResponseMode;
use crate::net::clock::ManualTime;
use crate::net::http::Method;
use crate::net::scripted::ScriptedHttp;
use crate::protocol::pkce::s256_challenge;
use crate::testkit::*;
use serde_json::{json, Value};
use std::collections::HashMap;

const REDIRECT: &str = "https://app.example/callback";

fn query(url: &str) -> HashMap<String, String> {
    Url::parse(url)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

async fn flow_data(options: AuthCodeOptions) -> (ScriptedHttp, ManualTime, String) {
    let (http, t) = (ms_http(), ManualTime::new(start()));
    let app = public_app(&http, &t);
    let flow = app
        .initiate_auth_code_flow(&["User.Read"], REDIRECT, &options)
        .await
        .unwrap();
    (http, t, flow.to_json())
}

fn answer_with_nonce(http: &ScriptedHttp, data: &Value, extra: &[(&str, Value)]) {
    let mut claims = vec![("nonce", data["nonce"].clone())];
    claims.extend(extra.iter().cloned());
    http.json(Method::Post, MS_TOKEN, 200, token_body(start(), &claims));
}

#[tokio::test]
async fn the_flow_is_msal_s_dict_and_another_app_redeems_it() {
    let (http, t, json_text) = flow_data(AuthCodeOptions::default()).await;
    let data: Value = serde_json::from_str(&json_text).unwrap();
    let keys: Vec<&str> = data
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for k in [
        "state",
        "redirect_uri",
        "scope",
        "auth_uri",
        "code_verifier",
        "nonce",
        "claims_challenge",
    ] {
        assert!(keys.contains(&k), "{k} in {keys:?}");
    }
    assert_eq!(
        data["scope"],
        json!(["User.Read", "openid", "profile", "offline_access"])
    );
    let q = query(data["auth_uri"].as_str().unwrap());
    assert_eq!(q["state"], data["state"].as_str().unwrap());
    assert_eq!(
        q["code_challenge"],
        s256_challenge(data["code_verifier"].as_str().unwrap())
    );

    // A second application object (another worker) with only the JSON.
    let other = public_app(&http, &t);
    let flow = AuthCodeFlow::from_json(&json_text).unwrap();
    answer_with_nonce(&http, &data, &[]);
    let redirect = format!("code=the-code&state={}", data["state"].as_str().unwrap());
    let r = other
        .acquire_token_by_auth_code_flow(&flow, &redirect)
        .await
        .unwrap();
    assert_eq!(r.access_token.expose(), "AT-SECRET-VALUE");
    let req = http.requests_to(MS_TOKEN).pop().unwrap();
    assert_eq!(
        req.form_value("code_verifier"),
        data["code_verifier"].as_str()
    );
    assert_eq!(req.form_value("redirect_uri"), Some(REDIRECT));
    assert_eq!(
        req.form_value("scope"),
        Some("User.Read openid profile offline_access")
    );
    assert_eq!(
        flow.correlation_id, q["client-request-id"],
        "the restored flow keeps the request's correlation id"
    );

    // The same redirect again, to the same app: a replay.
    let e = other
        .acquire_token_by_auth_code_flow(&flow, &redirect)
        .await
        .unwrap_err();
    assert_eq!(e.code, "state_mismatch");
    assert!(e.message.contains("already completed"), "{}", e.message);
    assert_eq!(
        http.requests_to(MS_TOKEN).len(),
        1,
        "a replay sends nothing"
    );
}

#[tokio::test]
async fn a_foreign_state_is_refused_before_any_request() {
    let (http, t, json_text) = flow_data(AuthCodeOptions::default()).await;
    let other = public_app(&http, &t);
    let flow = AuthCodeFlow::from_json(&json_text).unwrap();
    let e = other
        .acquire_token_by_auth_code_flow(&flow, "code=c&state=someone-elses")
        .await
        .unwrap_err();
    assert_eq!(e.code, "state_mismatch");
    assert!(!e.message.contains("someone-elses"));
    assert!(http.requests_to(MS_TOKEN).is_empty());
}

#[tokio::test]
async fn caller_given_parameters_reach_the_authorize_url() {
    let options = AuthCodeOptions {
        state: Some("my-own-state-123".into()),
        response_mode: Some(ResponseMode::FormPost),
        max_age: Some(600),
        prompt: Some(Prompt::Login),
        login_hint: Some("user@contoso.com".into()),
        domain_hint: Some("contoso.com".into()),
        extra_scopes_to_consent: vec!["https://graph.microsoft.com/Mail.Read".into()],
        claims: Some(r#"{"id_token":{"acr":null}}"#.into()),
        ..AuthCodeOptions::default()
    };
    let (_, _, json_text) = flow_data(options).await;
    let data: Value = serde_json::from_str(&json_text).unwrap();
    assert_eq!(data["state"], "my-own-state-123");
    assert_eq!(data["max_age"], 600);
    assert_eq!(data["claims_challenge"], r#"{"id_token":{"acr":null}}"#);
    assert_eq!(
        data["scope"],
        json!(["User.Read", "openid", "profile", "offline_access"]),
        "extra scopes are consented to, not redeemed"
    );
    let q = query(data["auth_uri"].as_str().unwrap());
    for (k, v) in [
        ("state", "my-own-state-123"),
        ("response_mode", "form_post"),
        ("max_age", "600"),
        ("prompt", "login"),
        ("login_hint", "user@contoso.com"),
        ("domain_hint", "contoso.com"),
        (
            "scope",
            "User.Read openid profile offline_access https://graph.microsoft.com/Mail.Read",
        ),
    ] {
        assert_eq!(q.get(k).map(String::as_str), Some(v), "{k}");
    }
    for mode in [ResponseMode::Query, ResponseMode::Fragment] {
        let options = AuthCodeOptions {
            response_mode: Some(mode),
            ..AuthCodeOptions::default()
        };
        let (_, _, json_text) = flow_data(options).await;
        let data: Value = serde_json::from_str(&json_text).unwrap();
        assert_eq!(
            query(data["auth_uri"].as_str().unwrap())["response_mode"],
            mode.as_str()
        );
    }
    assert_eq!(
        ResponseMode::parse("form_post"),
        Some(ResponseMode::FormPost)
    );
    assert_eq!(ResponseMode::parse("web_message"), None);
}

#[tokio::test]
async fn an_empty_caller_state_is_refused() {
    let (http, t) = (ms_http(), ManualTime::new(start()));
    let options = AuthCodeOptions {
        state: Some(String::new()),
        ..AuthCodeOptions::default()
    };
    let e = public_app(&http, &t)
        .initiate_auth_code_flow(&["User.Read"], REDIRECT, &options)
        .await
        .unwrap_err();
    assert_eq!(e.code, "invalid_parameter");
}

async fn redeem_with_max_age(extra: &[(&str, Value)]) -> Result<(), IdFlowError> {
    let options = AuthCodeOptions {
        max_age: Some(600),
        ..AuthCodeOptions::default()
    };
    let (http, t, json_text) = flow_data(options).await;
    let data: Value = serde_json::from_str(&json_text).unwrap();
    answer_with_nonce(&http, &data, extra);
    let flow = AuthCodeFlow::from_json(&json_text).unwrap();
    let redirect = format!("code=c&state={}", data["state"].as_str().unwrap());
    public_app(&http, &t)
        .acquire_token_by_auth_code_flow(&flow, &redirect)
        .await
        .map(|_| ())
}

#[tokio::test]
async fn max_age_checks_auth_time() {
    let now = secs(start());
    redeem_with_max_age(&[("auth_time", json!(now - 30))])
        .await
        .unwrap();
    // 600 s of max_age and 120 s of skew: 719 s ago is still fine.
    redeem_with_max_age(&[("auth_time", json!(now - 719))])
        .await
        .unwrap();
    let e = redeem_with_max_age(&[("auth_time", json!(now - 721))])
        .await
        .unwrap_err();
    assert_eq!(e.code, "invalid_jwt");
    assert!(e.message.contains("max_age"), "{}", e.message);
    let e = redeem_with_max_age(&[]).await.unwrap_err();
    assert_eq!(e.code, "invalid_jwt");
    assert!(e.message.contains("auth_time"), "{}", e.message);
}

#[test]
fn malformed_flow_data_is_an_invalid_parameter_without_secrets() {
    let good = json!({
        "state": "s", "redirect_uri": REDIRECT, "scope": ["User.Read", "openid"],
        "auth_uri": "https://login.microsoftonline.com/common/oauth2/v2.0/authorize?prompt=none",
        "code_verifier": "V".repeat(43), "nonce": "n", "claims_challenge": null,
        "some_future_key": 1,
    });
    let flow = AuthCodeFlow::from_json(&good.to_string()).unwrap();
    assert_eq!(flow.scopes, vec!["User.Read".to_owned()]);
    assert!(flow.prompt_none);
    for (key, value) in [
        ("state", json!("")),
        ("code_verifier", json!("short-SECRETVERIFIER")),
        ("code_verifier", json!(null)),
        ("auth_uri", json!("not a url")),
        ("redirect_uri", json!("/relative")),
        ("nonce", json!("")),
        ("scope", json!("not a list")),
        ("max_age", json!("SECRETVERIFIER")),
    ] {
        let mut bad = good.clone();
        bad[key] = value;
        let e = AuthCodeFlow::from_json(&bad.to_string()).unwrap_err();
        assert_eq!(e.code, "invalid_parameter", "{key}");
        assert!(!e.message.contains("SECRETVERIFIER"), "{}", e.message);
    }
    assert_eq!(
        AuthCodeFlow::from_json("[]").unwrap_err().code,
        "invalid_parameter"
    );
    let data: AuthCodeFlowState = serde_json::from_value(good).unwrap();
    let shown = format!("{data:?}");
    assert!(
        !shown.contains("VVVV") && !shown.contains("nonce"),
        "{shown}"
    );
}

async fn device_flow(http: &ScriptedHttp, app: &PublicClientApplication) -> DeviceFlow {
    http.json(
        Method::Post,
        MS_DEVICE,
        200,
        json!({
            "device_code": "DEVICE-CODE-SECRET", "user_code": "ABCD-EFGH",
            "verification_uri": "https://microsoft.com/devicelogin",
            "expires_in": 900, "interval": 5, "message": "Go and type ABCD-EFGH",
        }),
    );
    app.initiate_device_flow(&["User.Read"], Some(r#"{"access_token":{"acr":null}}"#))
        .await
        .unwrap()
}

#[tokio::test]
async fn the_device_flow_is_msal_s_dict_and_another_app_polls_it() {
    let (http, t) = (ms_http(), ManualTime::new(start()));
    let app = public_app(&http, &t);
    let flow = device_flow(&http, &app).await;
    let json_text = flow.to_json(start());
    let data: Value = serde_json::from_str(&json_text).unwrap();
    for k in [
        "device_code",
        "user_code",
        "verification_uri",
        "expires_in",
        "interval",
        "message",
        "expires_at",
        "_correlation_id",
    ] {
        assert!(data.get(k).is_some(), "{k}");
    }
    assert_eq!(data["device_code"], "DEVICE-CODE-SECRET");
    assert_eq!(data["expires_in"], 900);
    assert_eq!(data["expires_at"], json!((secs(start()) + 900) as f64));
    assert!(!format!(
        "{:?}",
        DeviceFlowState::clone(&serde_json::from_value(data.clone()).unwrap())
    )
    .contains("DEVICE-CODE-SECRET"));

    let restored = DeviceFlow::from_json(&json_text).unwrap();
    assert_eq!(restored.expires_at, flow.expires_at);
    assert_eq!(restored.scopes, flow.scopes);
    http.json(Method::Post, MS_TOKEN, 200, token_body(start(), &[]));
    let other = public_app(&http, &t);
    other
        .acquire_token_by_device_flow(&restored, &crate::flows::cancel::CancelHandle::new())
        .await
        .unwrap();
    let poll = http.requests_to(MS_TOKEN).pop().unwrap();
    assert_eq!(poll.form_value("device_code"), Some("DEVICE-CODE-SECRET"));
    assert_eq!(
        poll.form_value("claims"),
        Some(r#"{"access_token":{"acr":null}}"#),
        "the claims challenge travels with the data"
    );

    let mut bad = data.clone();
    bad["device_code"] = json!("");
    assert_eq!(
        DeviceFlow::from_json(&bad.to_string()).unwrap_err().code,
        "invalid_parameter"
    );
}

#[tokio::test]
async fn the_older_pattern_builds_the_url_and_redeems_the_code() {
    let (http, t) = (ms_http(), ManualTime::new(start()));
    let app = public_app(&http, &t);
    let options = AuthCodeOptions {
        state: Some("st".into()),
        login_hint: Some("user@contoso.com".into()),
        ..AuthCodeOptions::default()
    };
    let url = app
        .get_authorization_request_url(&["User.Read"], REDIRECT, &options, Some("n-1"), None)
        .await
        .unwrap();
    let q = query(url.as_str());
    assert_eq!(q["state"], "st");
    assert_eq!(q["nonce"], "n-1");
    assert_eq!(q["login_hint"], "user@contoso.com");
    assert!(!q.contains_key("code_challenge"));
    let url = app
        .get_authorization_request_url(
            &["User.Read"],
            REDIRECT,
            &AuthCodeOptions::default(),
            None,
            Some("ch"),
        )
        .await
        .unwrap();
    let q = query(url.as_str());
    assert!(!q.contains_key("state") && !q.contains_key("nonce"));
    assert_eq!(
        (
            q["code_challenge"].as_str(),
            q["code_challenge_method"].as_str()
        ),
        ("ch", "S256")
    );

    http.json(
        Method::Post,
        MS_TOKEN,
        200,
        token_body(start(), &[("nonce", json!("n-1"))]),
    );
    let verifier = PkceVerifier::new("v".repeat(43));
    app.acquire_token_by_authorization_code(
        &AuthorizationCode::new("the-code"),
        &["User.Read"],
        Some(REDIRECT),
        Some("n-1"),
        Some(&verifier),
        None,
    )
    .await
    .unwrap();
    let req = http.requests_to(MS_TOKEN).pop().unwrap();
    assert_eq!(req.form_value("code"), Some("the-code"));
    assert_eq!(
        req.form_value("code_verifier"),
        Some("v".repeat(43).as_str())
    );
    assert_eq!(req.form_value("redirect_uri"), Some(REDIRECT));

    http.json(
        Method::Post,
        MS_TOKEN,
        200,
        token_body(start(), &[("nonce", json!("other"))]),
    );
    let e = app
        .acquire_token_by_authorization_code(
            &AuthorizationCode::new("the-code"),
            &["User.Read"],
            Some(REDIRECT),
            Some("n-1"),
            None,
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, "nonce_mismatch");
}
