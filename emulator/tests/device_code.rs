//! The device-code flow: pending → approved, declined, expired (by moving
//! the emulator's clock, never by sleeping), auto-approval, the hand-approval
//! page, and MSAL.NET's short grant type.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use idflow::{classify, ErrorKind, Flow, Polling};
use idflow_emulator::{
    DeviceStatus, Settings, CONFIDENTIAL_CLIENT_ID, DEFAULT_PASSWORD, DEFAULT_USERNAME,
    PUBLIC_CLIENT_ID,
};
use serde_json::Value;

async fn begin(env: &Env, client_id: &str) -> (u16, Value) {
    let r = env
        .http
        .post(env.url(&format!("/{TENANT}/oauth2/v2.0/devicecode")))
        .form(&[("client_id", client_id), ("scope", USER_SCOPE)])
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap())
}

async fn poll(env: &Env, device_code: &str, grant: &str) -> reqwest::Response {
    env.post_token(
        TENANT,
        &[
            ("client_id", PUBLIC_CLIENT_ID),
            ("grant_type", grant),
            ("device_code", device_code),
            ("client_info", "1"),
        ],
    )
    .await
}

const URN: &str = "urn:ietf:params:oauth:grant-type:device_code";

#[tokio::test]
async fn pending_then_approved_then_redeemed_once() {
    let env = start().await;
    let (status, flow) = begin(&env, PUBLIC_CLIENT_ID).await;
    assert_eq!(status, 200, "{flow}");
    assert_eq!(flow["verification_uri"], env.url("/devicelogin"));
    assert_eq!(
        (flow["expires_in"].as_u64(), flow["interval"].as_u64()),
        (Some(900), Some(0))
    );
    let user_code = flow["user_code"].as_str().unwrap();
    assert!(flow["message"].as_str().unwrap().contains(user_code));
    let device_code = flow["device_code"].as_str().unwrap();

    for _ in 0..3 {
        let c = classify(
            &http_response(poll(&env, device_code, URN).await).await,
            Flow::DeviceCode,
        );
        assert_eq!(c.polling, Some(Polling::Continue));
        assert_eq!(c.error.unwrap().aadsts(), &[70016]);
    }
    let listed = env.emu.admin().device_codes();
    assert_eq!(
        (listed[0].polls, &listed[0].status),
        (3, &DeviceStatus::Pending)
    );
    env.emu
        .admin()
        .approve_device_code(&user_code.to_lowercase(), None)
        .unwrap();
    let r = poll(&env, device_code, "device_code").await; // MSAL.NET's spelling
    let c = classify(&http_response(r).await, Flow::DeviceCode);
    assert_eq!(c.polling, Some(Polling::Stop));
    let tokens = c.result.expect("tokens");
    assert!(tokens["refresh_token"].is_string() && tokens["client_info"].is_string());
    assert_eq!(
        claims(tokens["id_token"].as_str().unwrap())["preferred_username"],
        DEFAULT_USERNAME
    );
    let (status, body) = env
        .token(
            TENANT,
            &[
                ("client_id", PUBLIC_CLIENT_ID),
                ("grant_type", URN),
                ("device_code", device_code),
            ],
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    // Deciding twice is a conflict.
    let err = env
        .emu
        .admin()
        .approve_device_code(user_code, None)
        .unwrap_err();
    assert!(matches!(err, idflow_emulator::AdminError::Conflict(_)));
}

#[tokio::test]
async fn declined_and_expired() {
    let env = start().await;
    let (_, flow) = begin(&env, PUBLIC_CLIENT_ID).await;
    let r = env
        .http
        .post(env.url("/_admin/device_codes/decline"))
        .json(&serde_json::json!({"user_code": flow["user_code"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let e = classify(
        &http_response(poll(&env, flow["device_code"].as_str().unwrap(), URN).await).await,
        Flow::DeviceCode,
    )
    .error
    .unwrap();
    assert_eq!(
        (e.kind, e.code.as_str()),
        (ErrorKind::Cancelled, "authorization_declined")
    );

    let (_, flow) = begin(&env, PUBLIC_CLIENT_ID).await;
    env.emu.admin().advance_clock(901);
    let c = classify(
        &http_response(poll(&env, flow["device_code"].as_str().unwrap(), URN).await).await,
        Flow::DeviceCode,
    );
    assert_eq!(c.polling, Some(Polling::Stop));
    let e = c.error.unwrap();
    assert_eq!(
        (e.code.as_str(), e.aadsts()),
        ("expired_token", &[70019][..])
    );
    let r = env
        .http
        .post(env.url("/_admin/device_codes/approve"))
        .json(&serde_json::json!({"user_code": flow["user_code"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 409);
    let (status, body) = env
        .token(
            TENANT,
            &[
                ("client_id", PUBLIC_CLIENT_ID),
                ("grant_type", URN),
                ("device_code", "unknown"),
            ],
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("bad_verification_code"))
    );
}

#[tokio::test]
async fn short_expiry_and_auto_approval_from_settings() {
    let env = start_with(Settings {
        device_code_interval_secs: 1,
        device_code_expires_in_secs: 30,
        device_code_auto_approve_after_polls: Some(2),
        ..Settings::default()
    })
    .await;
    let (_, flow) = begin(&env, PUBLIC_CLIENT_ID).await;
    assert_eq!(
        (flow["expires_in"].as_u64(), flow["interval"].as_u64()),
        (Some(30), Some(1))
    );
    let code = flow["device_code"].as_str().unwrap();
    assert_eq!(poll(&env, code, URN).await.status().as_u16(), 400);
    assert_eq!(poll(&env, code, URN).await.status().as_u16(), 400);
    assert_eq!(poll(&env, code, URN).await.status().as_u16(), 200);
}

#[tokio::test]
async fn confidential_clients_need_allow_public_client() {
    let env = start().await;
    let (status, body) = begin(&env, CONFIDENTIAL_CLIENT_ID).await;
    assert_eq!((status, first_code(&body)), (401, 7000218));
    let (status, body) = begin(&env, "not-registered").await;
    assert_eq!((status, first_code(&body)), (400, 700016));
    let r = env
        .http
        .post(env.url("/organizations/oauth2/v2.0/devicecode"))
        .form(&[("client_id", PUBLIC_CLIENT_ID)])
        .send()
        .await
        .unwrap();
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        (body["error"].as_str(), first_code(&body)),
        (Some("invalid_request"), 900144)
    );
}

#[tokio::test]
async fn the_devicelogin_page_approves_with_a_password() {
    let env = start().await;
    let (_, flow) = begin(&env, PUBLIC_CLIENT_ID).await;
    let page = env
        .http
        .get(env.url("/devicelogin"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("<form"));
    let post = |password: &'static str| {
        let env = &env;
        let code = flow["user_code"].as_str().unwrap().to_owned();
        async move {
            env.http
                .post(env.url("/devicelogin"))
                .form(&[
                    ("otc", code.as_str()),
                    ("username", DEFAULT_USERNAME),
                    ("password", password),
                    ("action", "approve"),
                ])
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    assert!(post("wrong").await.contains("Wrong username or password"));
    assert!(post(DEFAULT_PASSWORD).await.contains("You are signed in"));
    assert_eq!(
        poll(&env, flow["device_code"].as_str().unwrap(), URN)
            .await
            .status()
            .as_u16(),
        200
    );
}
