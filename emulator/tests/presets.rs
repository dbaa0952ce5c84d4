//! Every preset, armed and fetched over real HTTP: the classifier must decide
//! exactly what the preset is named for.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use idflow::{classify, ErrorKind, Flow, HttpResponse};
use idflow_emulator::{Effect, Endpoint, Preset, PresetArm, PUBLIC_CLIENT_ID};
use serde_json::{json, Value};
use std::collections::HashSet;

/// Sends the request a preset's matcher waits for.
async fn trigger(env: &Env, p: &Preset) -> Result<HttpResponse, reqwest::Error> {
    trigger_with(env, &env.http, p).await
}

/// [`trigger`] through `http` (a client with a short timeout for `no_answer`).
async fn trigger_with(
    env: &Env,
    http: &reqwest::Client,
    p: &Preset,
) -> Result<HttpResponse, reqwest::Error> {
    let m = &p.rule.matcher;
    let r = match m.endpoint {
        Some(Endpoint::Authorize) => {
            http.get(env.url("/organizations/oauth2/v2.0/authorize"))
                .query(&[
                    ("client_id", PUBLIC_CLIENT_ID),
                    ("response_type", "code"),
                    ("redirect_uri", REDIRECT),
                    ("scope", USER_SCOPE),
                    ("prompt", "none"),
                    ("state", "s"),
                ])
                .send()
                .await?
        }
        Some(Endpoint::UserRealm) => {
            http.get(env.url("/common/userrealm/ada@emulator.idflow.test?api-version=1.0"))
                .send()
                .await?
        }
        Some(Endpoint::Token) => {
            let grant = match m.grant_type.as_deref() {
                Some("device_code") => "urn:ietf:params:oauth:grant-type:device_code",
                Some(g) => g,
                None => "password",
            };
            http.post(env.token_url(TENANT))
                .form(&[
                    ("client_id", PUBLIC_CLIENT_ID),
                    ("grant_type", grant),
                    ("scope", USER_SCOPE),
                    ("refresh_token", "rt"),
                    ("device_code", "dc"),
                    ("username", idflow_emulator::DEFAULT_USERNAME),
                    ("password", idflow_emulator::DEFAULT_PASSWORD),
                ])
                .send()
                .await?
        }
        other => panic!("{}: no trigger for {other:?}", p.name),
    };
    let status = r.status().as_u16();
    let headers: Vec<(String, String)> = r
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    let location = r
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned());
    let body = r.bytes().await?.to_vec();
    // An authorize answer is classified from its redirect URL.
    let body = location.map_or(body, String::into_bytes);
    Ok(HttpResponse::new(status, headers, body))
}

#[tokio::test]
async fn every_preset_is_classified_as_named() {
    let env = start().await;
    let admin = env.emu.admin();
    let presets = admin.presets();
    let mut names = HashSet::new();
    for p in &presets {
        assert!(names.insert(p.name.clone()), "duplicate preset {}", p.name);
        assert!(!p.description.is_empty(), "{}", p.name);
        admin.clear_faults();
        admin.arm_preset(&p.name, PresetArm::default()).unwrap();
        let outcome = if matches!(p.rule.effect, Effect::NoAnswer { .. }) {
            let short = reqwest::Client::builder()
                .timeout(std::time::Duration::from_millis(500))
                .build()
                .unwrap();
            let started = std::time::Instant::now();
            let r = trigger_with(&env, &short, p).await;
            assert!(
                r.as_ref().is_err_and(reqwest::Error::is_timeout),
                "{}",
                p.name
            );
            assert!(started.elapsed() < std::time::Duration::from_secs(5));
            r
        } else {
            trigger(&env, p).await
        };
        let Some(expect) = &p.expect else {
            let resp = outcome.unwrap_or_else(|e| panic!("{}: {e}", p.name));
            assert_eq!(resp.status, 200, "{}", p.name);
            continue;
        };
        if expect.kind == ErrorKind::Network {
            assert!(outcome.is_err(), "{}: a transport error", p.name);
            continue;
        }
        let resp = outcome.unwrap_or_else(|e| panic!("{}: {e}", p.name));
        let c = classify(&resp, expect.flow);
        // A success the flows cannot use (members of the wrong types) fails
        // when the token response is read, as every flow reads it.
        let unusable = c.result.as_ref().and_then(|map| {
            idflow::TokenResponse::from_map(map.clone())
                .err()
                .map(|why| idflow::IdFlowError::local(idflow::LocalCode::InvalidTokenResponse, why))
        });
        let e = c
            .error
            .or(unusable)
            .unwrap_or_else(|| panic!("{}: not an error", p.name));
        assert_eq!(
            (e.kind, e.code.as_str(), e.classification),
            (expect.kind, expect.code.as_str(), expect.classification),
            "{}",
            p.name
        );
    }
    // The seed's rows, the classifications and the retry cases are all there.
    for n in [
        "consent_required_65001",
        "mfa_required_50079",
        "grant_on_common_90010",
        "public_client_70002",
        "device_not_compliant_53000",
        "basic_action",
        "additional_action",
        "message_only",
        "consent_required",
        "user_password_expired",
        "bad_token",
        "client_mismatch",
        "protection_policy_required",
        "password_reset_50142",
        "prompt_never_failed",
        "throttled_429",
        "service_unavailable_503",
        "temporarily_unavailable",
        "slow_down",
        "authorization_pending",
        "authorization_declined",
        "expired_token",
        "dropped_connection",
        "reset_mid_body",
        "malformed_json",
        "html_error_page",
        "empty_body",
        "oversized_body",
        "error_on_200",
        "missing_access_token",
        "invalid_utf8",
        "wrong_json_types",
        "no_answer",
    ] {
        assert!(names.contains(n), "missing preset {n}");
    }
    // The README documents every preset.
    let readme = include_str!("../README.md");
    for p in &presets {
        let documented = match p.name.strip_prefix("aadsts_") {
            Some(n) => readme.contains(n),
            None => readme.contains(&format!("`{}`", p.name)),
        };
        assert!(documented, "README lacks preset {}", p.name);
    }
    for row in idflow::error::AADSTS.iter().filter(|r| r.preset) {
        assert!(names.contains(&format!("aadsts_{}", row.number)));
    }
}

#[tokio::test]
async fn seed_presets_carry_their_codes_and_claims() {
    let env = start().await;
    let admin = env.emu.admin();
    admin
        .arm_preset("device_not_compliant_53000", PresetArm::default())
        .unwrap();
    let (status, body) = env.ropc(USER_SCOPE).await;
    assert_eq!(
        (status, body["error"].as_str(), body["suberror"].as_str()),
        (400, Some("interaction_required"), Some("additional_action"))
    );
    assert_eq!(first_code(&body), 53000);
    assert!(body["claims"].as_str().unwrap().contains("capolids"));
    let e = classify(
        &HttpResponse::new(400, vec![], body.to_string().into_bytes()),
        Flow::Silent,
    )
    .error
    .unwrap();
    assert_eq!(e.action, idflow::Action::AcquireInteractively);
}

#[tokio::test]
async fn presets_over_http_with_overrides() {
    let env = start().await;
    let (status, list) = env.get_json("/_admin/presets").await;
    assert_eq!(status, 200);
    let mfa = list
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "mfa_required_50079")
        .unwrap();
    assert_eq!(mfa["expect"]["kind"], "interaction_required");
    assert!(mfa["description"].as_str().unwrap().contains("50079"));
    // Armed for two requests of any endpoint kind, here the device-code start.
    let r = env
        .http
        .post(env.url("/_admin/presets/throttled_429"))
        .json(&json!({"match": {"endpoint": "devicecode"}, "count": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    for expected in [429, 429, 200] {
        let r = env
            .http
            .post(env.url("/organizations/oauth2/v2.0/devicecode"))
            .form(&[("client_id", PUBLIC_CLIENT_ID), ("scope", USER_SCOPE)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), expected);
    }
    let r = env
        .http
        .post(env.url("/_admin/presets/no_such_preset"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    let r = env
        .http
        .post(env.url("/_admin/presets/bad_token"))
        .json(&json!({"count": "many"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "bad_request");
}
