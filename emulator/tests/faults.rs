//! Every fault kind over real HTTP, what the classifier makes of it, and how
//! rules match and count down.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use idflow::{classify, Action, ErrorKind, Flow};
use idflow_emulator::{
    Effect, Endpoint, FaultSpec, Matcher, RetryAfter, StatusBody, PUBLIC_CLIENT_ID,
};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

fn rule(effect: Effect) -> FaultSpec {
    FaultSpec {
        matcher: Matcher {
            endpoint: Some(Endpoint::Token),
            ..Matcher::default()
        },
        count: Some(1),
        effect,
        label: None,
    }
}

async fn ropc_response(env: &Env) -> reqwest::Response {
    env.post_token(
        TENANT,
        &[
            ("client_id", PUBLIC_CLIENT_ID),
            ("grant_type", "password"),
            ("username", idflow_emulator::DEFAULT_USERNAME),
            ("password", idflow_emulator::DEFAULT_PASSWORD),
            ("scope", USER_SCOPE),
        ],
    )
    .await
}

async fn classified(env: &Env) -> idflow::IdFlowError {
    classify(&http_response(ropc_response(env).await).await, Flow::Token)
        .error
        .expect("an error")
}

#[tokio::test]
async fn oauth_errors_count_down_then_pass_through() {
    let env = start().await;
    let mut spec = rule(Effect::OauthError {
        error: "interaction_required".into(),
        error_description: None,
        error_codes: vec![53000],
        suberror: Some("additional_action".into()),
        claims: Some(r#"{"access_token":{"capolids":{"essential":true,"values":["p1"]}}}"#.into()),
        status: 400,
        retry_after: None,
    });
    spec.count = Some(2);
    spec.matcher.grant_type = Some("password".into());
    spec.matcher.client_id = Some(PUBLIC_CLIENT_ID.into());
    let id = env.emu.admin().add_fault(spec).unwrap();
    for _ in 0..2 {
        let e = classified(&env).await;
        assert_eq!(
            (e.kind, e.aadsts()),
            (ErrorKind::InteractionRequired, &[53000][..])
        );
        assert!(e.claims().unwrap().contains("capolids"));
        assert!(e
            .service
            .as_ref()
            .unwrap()
            .error_description
            .as_deref()
            .unwrap()
            .starts_with("AADSTS53000: DeviceNotCompliant"));
    }
    assert_eq!(ropc_response(&env).await.status().as_u16(), 200);
    assert!(!env.emu.admin().remove_fault(id), "used up and gone");
    let log = env.emu.admin().requests(0);
    assert_eq!(log.iter().filter(|r| r.fault_id == Some(id)).count(), 2);
    assert_eq!(log.last().unwrap().status, 200);
}

#[tokio::test]
async fn throttling_with_retry_after_in_both_forms() {
    let env = start().await;
    let admin = env.emu.admin();
    admin
        .add_fault(rule(Effect::Status {
            status: 429,
            retry_after: Some(RetryAfter {
                seconds: 30,
                http_date: false,
            }),
            body: StatusBody::Empty,
        }))
        .unwrap();
    let r = ropc_response(&env).await;
    assert_eq!(r.headers()["retry-after"], "30");
    let e = classify(&http_response(r).await, Flow::Token)
        .error
        .unwrap();
    assert_eq!(
        (e.code.as_str(), e.retry_after, e.action),
        (
            "request_throttled",
            Some(Duration::from_secs(30)),
            Action::RetryAfter
        )
    );

    admin
        .add_fault(rule(Effect::Status {
            status: 503,
            retry_after: Some(RetryAfter {
                seconds: 120,
                http_date: true,
            }),
            body: StatusBody::Html,
        }))
        .unwrap();
    let r = ropc_response(&env).await;
    assert!(r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .ends_with("GMT"));
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let e = classify(&http_response(r).await, Flow::Token)
        .error
        .unwrap();
    assert_eq!(
        (e.code.as_str(), e.retryable),
        ("service_not_available", true)
    );
    assert_eq!(e.retry_after, Some(Duration::from_secs(120)));
}

#[tokio::test]
async fn delays_pass_through_and_trip_client_timeouts() {
    let env = start().await;
    env.emu
        .admin()
        .add_fault(rule(Effect::Delay { ms: 300 }))
        .unwrap();
    let started = Instant::now();
    assert_eq!(ropc_response(&env).await.status().as_u16(), 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
    env.emu
        .admin()
        .add_fault(rule(Effect::Delay { ms: 2000 }))
        .unwrap();
    let err = env
        .http
        .post(env.token_url(TENANT))
        .timeout(Duration::from_millis(100))
        .form(&[("grant_type", "password")])
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err}");
    let too_long = rule(Effect::Delay {
        ms: idflow_emulator::MAX_DELAY_MS + 1,
    });
    assert!(env.emu.admin().add_fault(too_long).is_err());
}

#[tokio::test]
async fn unreadable_bodies() {
    let env = start().await;
    let admin = env.emu.admin();
    admin
        .add_fault(rule(Effect::MalformedJson { status: 400 }))
        .unwrap();
    assert_eq!(classified(&env).await.code, "non_parsable_oauth_error");

    admin
        .add_fault(rule(Effect::HtmlPage { status: 502 }))
        .unwrap();
    let r = ropc_response(&env).await;
    assert_eq!(r.status().as_u16(), 502);
    let resp = http_response(r).await;
    assert!(String::from_utf8_lossy(&resp.body).contains("<html>"));
    assert_eq!(
        classify(&resp, Flow::Token).error.unwrap().code,
        "service_not_available"
    );

    admin
        .add_fault(rule(Effect::EmptyBody { status: 400 }))
        .unwrap();
    let resp = http_response(ropc_response(&env).await).await;
    assert!(resp.body.is_empty());
    assert_eq!(
        classify(&resp, Flow::Token).error.unwrap().code,
        "http_status_not_200"
    );

    admin
        .add_fault(rule(Effect::OversizedBody {
            bytes: 300 * 1024,
            status: 400,
        }))
        .unwrap();
    let resp = http_response(ropc_response(&env).await).await;
    assert_eq!(resp.body.len(), 300 * 1024);
    assert!(resp.body.starts_with(br#"{"error":"server_error""#));
    assert_eq!(
        classify(&resp, Flow::Token).error.unwrap().code,
        "non_parsable_oauth_error"
    );
}

#[tokio::test]
async fn dropped_and_reset_connections_are_transport_errors() {
    let env = start().await;
    let admin = env.emu.admin();
    admin.add_fault(rule(Effect::DropConnection)).unwrap();
    let err = env
        .http
        .post(env.token_url(TENANT))
        .form(&[("grant_type", "password")])
        .send()
        .await
        .unwrap_err();
    assert!(!err.is_timeout() && err.status().is_none(), "{err}");

    admin
        .add_fault(rule(Effect::ResetMidBody { status: 200 }))
        .unwrap();
    let r = env
        .http
        .post(env.token_url(TENANT))
        .form(&[("grant_type", "password")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.content_length(), Some(4096));
    let err = r.bytes().await.unwrap_err();
    assert!(
        err.is_body() || err.is_decode() || err.is_request(),
        "{err}"
    );

    // The server carries on, and the log shows the dropped request unanswered.
    assert_eq!(ropc_response(&env).await.status().as_u16(), 200);
    let log = admin.requests(0);
    assert_eq!(
        (log[0].status, log[0].fault.as_deref()),
        (0, Some("drop_connection"))
    );
}

#[tokio::test]
async fn error_bodies_on_200_and_token_responses_without_a_token() {
    let env = start().await;
    let admin = env.emu.admin();
    admin
        .add_fault(rule(Effect::OauthError {
            error: "invalid_grant".into(),
            error_description: Some("AADSTS70000: bad".into()),
            error_codes: vec![],
            suberror: None,
            claims: None,
            status: 200,
            retry_after: None,
        }))
        .unwrap();
    let r = ropc_response(&env).await;
    assert_eq!(r.status().as_u16(), 200);
    let e = classify(&http_response(r).await, Flow::Token)
        .error
        .unwrap();
    assert_eq!(
        (e.code.as_str(), e.aadsts()),
        ("invalid_grant", &[70000][..])
    );

    admin.add_fault(rule(Effect::MissingAccessToken)).unwrap();
    let r = ropc_response(&env).await;
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(
        classify(&http_response(r).await, Flow::Token)
            .error
            .unwrap()
            .code,
        "invalid_token_response"
    );

    admin
        .add_fault(rule(Effect::Raw {
            status: 418,
            headers: vec![("x-test".into(), "1".into())],
            body: "teapot".into(),
        }))
        .unwrap();
    let r = ropc_response(&env).await;
    assert_eq!(
        (r.status().as_u16(), r.headers()["x-test"].to_str().unwrap()),
        (418, "1")
    );
}

#[tokio::test]
async fn matchers_select_requests() {
    let env = start().await;
    let admin = env.emu.admin();
    let only = |m: Value| FaultSpec {
        matcher: serde_json::from_value(m).unwrap(),
        count: None,
        effect: Effect::Status {
            status: 500,
            retry_after: None,
            body: StatusBody::Text,
        },
        label: Some("test".into()),
    };
    let id = admin
        .add_fault(only(
            json!({"scope": "Mail.Read", "tenant": "organizations", "method": "POST"}),
        ))
        .unwrap();
    assert_eq!(
        ropc_response(&env).await.status().as_u16(),
        200,
        "scope differs"
    );
    let r = env
        .post_token(
            TENANT,
            &[
                ("client_id", PUBLIC_CLIENT_ID),
                ("grant_type", "password"),
                ("scope", "mail.read"),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 500);
    assert!(admin.remove_fault(id));
    admin
        .add_fault(only(json!({"path": "/common/v2.0/*"})))
        .unwrap();
    let (status, _) = env
        .get_json("/organizations/v2.0/.well-known/openid-configuration")
        .await;
    assert_eq!(status, 200);
    let r = env
        .http
        .get(env.url("/common/v2.0/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 500, "unlimited rule, path prefix");
    assert_eq!(admin.faults().len(), 1);
    admin.clear_faults();
    // On the authorize endpoint an OAuth error comes back on the redirect.
    let mut spec = rule(Effect::OauthError {
        error: "access_denied".into(),
        error_description: None,
        error_codes: vec![65004],
        suberror: None,
        claims: None,
        status: 400,
        retry_after: None,
    });
    spec.matcher.endpoint = Some(Endpoint::Authorize);
    admin.add_fault(spec).unwrap();
    let (status, loc) = env
        .authorize(
            TENANT,
            &[
                ("client_id", PUBLIC_CLIENT_ID),
                ("redirect_uri", REDIRECT),
                ("state", "z"),
            ],
        )
        .await;
    let loc = loc.unwrap();
    assert_eq!(
        (
            status,
            query_param(&loc, "error").as_deref(),
            query_param(&loc, "state").as_deref()
        ),
        (302, Some("access_denied"), Some("z"))
    );
}

#[tokio::test]
async fn bad_rules_are_refused_over_http() {
    let env = start().await;
    for body in [
        json!({"effect": {"kind": "nope"}}),
        json!({"effect": {"kind": "status", "status": 99}}),
        json!({"effect": {"kind": "drop_connection"}, "count": 0}),
        json!({"effect": {"kind": "oversized_body", "bytes": 1_000_000_000}}),
        json!({"effect": {"kind": "oauth_error", "error": ""}}),
        json!({"effect": {"kind": "oauth_error", "error_codes": [1]}}),
        json!({"match": {"endpoint": "nowhere"}, "effect": {"kind": "drop_connection"}}),
    ] {
        let r = env
            .http
            .post(env.url("/_admin/faults"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 400, "{body}");
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["error"], "bad_request");
    }
    let r = env
        .http
        .post(env.url("/_admin/faults"))
        .json(&json!({"effect": {"kind": "delay", "ms": 1}, "count": null}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let listed: Value = env.get_json("/_admin/faults").await.1;
    assert_eq!(listed[0]["remaining"], Value::Null);
    let r = env
        .http
        .delete(env.url("/_admin/faults"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
}

#[tokio::test]
async fn an_oauth_error_with_just_a_number_takes_the_rest_from_the_table() {
    let env = start().await;
    let r = env
        .http
        .post(env.url("/_admin/faults"))
        .json(&json!({"match": {"endpoint": "token"},
                      "effect": {"kind": "oauth_error", "error_codes": [700027]}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let resp = ropc_response(&env).await;
    assert_eq!(resp.status().as_u16(), 400);
    let body: Value = resp.json().await.unwrap();
    let row = idflow::error::aadsts::lookup(700027).unwrap();
    assert_eq!(body["error"], row.error);
    assert_eq!(body["error_codes"], json!([700027]));
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .starts_with(&format!("AADSTS700027: {}.", row.name)));
    // The usual suberror comes along, and the classifier decides as `explain` does.
    let mut spec = rule(Effect::OauthError {
        error: String::new(),
        error_description: None,
        error_codes: vec![65001],
        suberror: None,
        claims: None,
        status: 400,
        retry_after: None,
    });
    spec.matcher.grant_type = Some("password".into());
    env.emu.admin().add_fault(spec).unwrap();
    let e = classified(&env).await;
    let x = idflow::explain::explain("AADSTS65001").unwrap();
    assert_eq!(
        (e.kind, e.classification, e.action),
        (x.kind, x.classification, x.action)
    );
    assert_eq!(e.suberror(), Some("consent_required"));
}
