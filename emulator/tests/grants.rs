//! Public-client grants besides the authorization code: refresh token
//! (rotation, revocation, expiry, FOCI) and ROPC.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use idflow::{classify, ErrorKind, Flow};
use idflow_emulator::{
    ClientSpec, Settings, UserSpec, DEFAULT_USERNAME, FAMILY_CLIENT_IDS, PUBLIC_CLIENT_ID,
};
use serde_json::{json, Value};

async fn refresh(env: &Env, client_id: &str, rt: &str) -> (u16, Value) {
    env.token(
        TENANT,
        &[
            ("client_id", client_id),
            ("grant_type", "refresh_token"),
            ("refresh_token", rt),
            ("scope", USER_SCOPE),
        ],
    )
    .await
}

#[tokio::test]
async fn refresh_tokens_rotate_and_can_be_revoked_or_expire() {
    let env = start().await;
    let first = env.sign_in(USER_SCOPE).await;
    let rt1 = first["refresh_token"].as_str().unwrap();
    let (status, second) = refresh(&env, PUBLIC_CLIENT_ID, rt1).await;
    assert_eq!(status, 200, "{second}");
    let rt2 = second["refresh_token"].as_str().unwrap();
    assert_ne!(rt1, rt2, "a new refresh token each time");
    assert!(second["id_token"].is_string());
    // As on the platform, the old one still works...
    assert_eq!(refresh(&env, PUBLIC_CLIENT_ID, rt1).await.0, 200);
    // ...unless single-use refresh tokens are switched on.
    env.emu
        .admin()
        .update_settings(&json!({"single_use_refresh_tokens": true}))
        .unwrap();
    assert_eq!(refresh(&env, PUBLIC_CLIENT_ID, rt2).await.0, 200);
    let (status, body) = refresh(&env, PUBLIC_CLIENT_ID, rt2).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    // Unknown and revoked tokens are interaction-required.
    let r = env
        .post_token(
            TENANT,
            &[
                ("client_id", PUBLIC_CLIENT_ID),
                ("grant_type", "refresh_token"),
                ("refresh_token", "garbage"),
                ("scope", USER_SCOPE),
            ],
        )
        .await;
    let e = classify(&http_response(r).await, Flow::Silent)
        .error
        .unwrap();
    assert_eq!(e.kind, ErrorKind::InteractionRequired);
    let fresh = env.sign_in(USER_SCOPE).await;
    let rt = fresh["refresh_token"].as_str().unwrap();
    assert_eq!(
        env.emu
            .admin()
            .revoke_refresh_tokens(Some(DEFAULT_USERNAME), None),
        5
    );
    let (_, body) = refresh(&env, PUBLIC_CLIENT_ID, rt).await;
    assert_eq!(first_code(&body), 50173);
    // Expiry follows the emulator's clock.
    let rt = env.sign_in(USER_SCOPE).await["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    env.emu.admin().advance_clock(91 * 86_400);
    let (_, body) = refresh(&env, PUBLIC_CLIENT_ID, &rt).await;
    assert_eq!(first_code(&body), 70008);
}

#[tokio::test]
async fn family_refresh_tokens_cross_family_clients_only() {
    let env = start().await;
    let (status, body) = env
        .token(
            TENANT,
            &[
                ("client_id", FAMILY_CLIENT_IDS[0]),
                ("grant_type", "password"),
                ("username", DEFAULT_USERNAME),
                ("password", idflow_emulator::DEFAULT_PASSWORD),
                ("scope", USER_SCOPE),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["foci"], "1");
    let rt = body["refresh_token"].as_str().unwrap();
    let (status, other) = refresh(&env, FAMILY_CLIENT_IDS[1], rt).await;
    assert_eq!(status, 200, "a family member redeems it");
    assert_eq!(
        claims(other["id_token"].as_str().unwrap())["aud"],
        FAMILY_CLIENT_IDS[1]
    );
    let r = env
        .post_token(
            TENANT,
            &[
                ("client_id", PUBLIC_CLIENT_ID),
                ("grant_type", "refresh_token"),
                ("refresh_token", rt),
                ("scope", USER_SCOPE),
            ],
        )
        .await;
    let e = classify(&http_response(r).await, Flow::Silent)
        .error
        .unwrap();
    assert_eq!(
        (e.kind, e.suberror()),
        (ErrorKind::Service, Some("client_mismatch"))
    );
}

#[tokio::test]
async fn refresh_in_and_token_lifetime_follow_configuration() {
    let env = start_with(Settings {
        access_token_lifetime_secs: 7200,
        ..Settings::default()
    })
    .await;
    let mut spec: ClientSpec =
        serde_json::from_value(json!({"client_id": "abc-public", "refresh_in": 3600})).unwrap();
    spec.redirect_uris = vec![REDIRECT.into()];
    env.emu.admin().register_client(spec).unwrap();
    let (status, body) = env
        .token(
            TENANT,
            &[
                ("client_id", "abc-public"),
                ("grant_type", "password"),
                ("username", DEFAULT_USERNAME),
                ("password", idflow_emulator::DEFAULT_PASSWORD),
                ("scope", "User.Read"),
            ],
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        (body["expires_in"].as_u64(), body["refresh_in"].as_u64()),
        (Some(7200), Some(3600))
    );
    assert!(
        body["refresh_token"].is_null() && body["id_token"].is_null(),
        "no offline_access, no openid"
    );
    assert!(body["client_info"].is_null(), "client_info only when asked");
}

#[tokio::test]
async fn ropc_answers_like_the_platform() {
    let env = start().await;
    let (status, body) = env.ropc(USER_SCOPE).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["client_info"].is_string());
    let admin = env.emu.admin();
    for (name, flags, code, sub) in [
        (
            "mfa@emulator.idflow.test",
            json!({"mfa_required": true}),
            50076,
            Some("basic_action"),
        ),
        (
            "old@emulator.idflow.test",
            json!({"password_expired": true}),
            50055,
            Some("user_password_expired"),
        ),
        (
            "off@emulator.idflow.test",
            json!({"disabled": true}),
            50057,
            None,
        ),
    ] {
        let mut spec = json!({"username": name, "password": "pw"});
        spec.as_object_mut()
            .unwrap()
            .extend(flags.as_object().unwrap().clone());
        admin
            .register_user(serde_json::from_value::<UserSpec>(spec).unwrap())
            .unwrap();
        let (status, body) = env
            .token(
                TENANT,
                &[
                    ("client_id", PUBLIC_CLIENT_ID),
                    ("grant_type", "password"),
                    ("username", name),
                    ("password", "pw"),
                    ("scope", USER_SCOPE),
                ],
            )
            .await;
        assert_eq!(
            (status, first_code(&body), body["suberror"].as_str()),
            (400, code, sub),
            "{name}"
        );
    }
    let wrong = [
        ("client_id", PUBLIC_CLIENT_ID),
        ("grant_type", "password"),
        ("username", DEFAULT_USERNAME),
        ("password", "nope"),
        ("scope", USER_SCOPE),
    ];
    assert_eq!(first_code(&env.token(TENANT, &wrong).await.1), 50126);
    let nobody = [
        ("client_id", PUBLIC_CLIENT_ID),
        ("grant_type", "password"),
        ("username", "x@y.z"),
        ("password", "nope"),
        ("scope", USER_SCOPE),
    ];
    assert_eq!(first_code(&env.token(TENANT, &nobody).await.1), 50034);
    let (status, body) = env.token("common", &wrong).await;
    assert_eq!((status, first_code(&body)), (400, 90010));
    assert_eq!(
        first_code(&env.token("other-tenant.example", &wrong).await.1),
        50034
    );
}
