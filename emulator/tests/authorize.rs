//! The authorize endpoint and code redemption: PKCE, replay, redirect URI
//! checks, prompt=none, scripted outcomes, id token contents.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use idflow::{classify, Classification, ErrorKind, Flow, HttpResponse};
use idflow_emulator::{
    AuthorizeOutcome, AuthorizeScript, UserSpec, DEFAULT_USERNAME, PUBLIC_CLIENT_ID,
};

fn params<'a>(challenge: &'a str, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut p = vec![
        ("client_id", PUBLIC_CLIENT_ID),
        ("response_type", "code"),
        ("redirect_uri", REDIRECT),
        ("scope", USER_SCOPE),
        ("state", "s-123"),
        ("nonce", "n-456"),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ];
    for (k, v) in extra {
        match p.iter_mut().find(|(name, _)| name == k) {
            Some(slot) => slot.1 = v,
            None => p.push((k, v)),
        }
    }
    p
}

async fn redeem(
    env: &Env,
    code: &str,
    verifier: Option<&str>,
    redirect: &str,
) -> (u16, serde_json::Value) {
    let mut form = vec![
        ("client_id", PUBLIC_CLIENT_ID),
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect),
        ("client_info", "1"),
    ];
    if let Some(v) = verifier {
        form.push(("code_verifier", v));
    }
    env.token(TENANT, &form).await
}

/// The redirect as the classifier takes it.
fn redirect_response(location: &str) -> HttpResponse {
    HttpResponse::new(
        302,
        vec![("location".into(), location.into())],
        location.as_bytes().to_vec(),
    )
}

#[tokio::test]
async fn code_flow_with_pkce_issues_tokens_once() {
    let env = start().await;
    let (verifier, challenge) = pkce();
    let (status, loc) = env
        .authorize(
            TENANT,
            &params(&challenge, &[("login_hint", DEFAULT_USERNAME)]),
        )
        .await;
    assert_eq!(status, 302);
    let loc = loc.unwrap();
    assert!(loc.starts_with(REDIRECT));
    assert_eq!(query_param(&loc, "state").as_deref(), Some("s-123"));
    let code = query_param(&loc, "code").unwrap();

    let (status, body) = redeem(&env, &code, Some(&verifier), REDIRECT).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["expires_in"].as_u64().unwrap() > 0);
    assert!(body["ext_expires_in"].is_u64());
    assert_eq!(body["scope"], "User.Read openid profile");
    assert!(body["refresh_token"].as_str().unwrap().len() > 20);
    let id = claims(body["id_token"].as_str().unwrap());
    assert_eq!(id["aud"], PUBLIC_CLIENT_ID);
    assert_eq!(id["nonce"], "n-456");
    assert_eq!(id["ver"], "2.0");
    assert_eq!(id["preferred_username"], DEFAULT_USERNAME);
    for k in ["iss", "exp", "iat", "nbf", "oid", "tid", "sub", "name"] {
        assert!(!id[k].is_null(), "id_token has {k}");
    }
    let at = claims(body["access_token"].as_str().unwrap());
    assert_eq!(at["scp"], "User.Read");
    assert_eq!(at["oid"], id["oid"]);
    assert_eq!(at["tid"], id["tid"]);
    let info: serde_json::Value = serde_json::from_slice(
        &base64::Engine::decode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            body["client_info"].as_str().unwrap(),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(info["uid"], id["oid"]);
    assert_eq!(info["utid"], id["tid"]);

    // Replay: AADSTS54005, interaction required for the app.
    let r = env
        .post_token(
            TENANT,
            &[
                ("client_id", PUBLIC_CLIENT_ID),
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", &verifier),
            ],
        )
        .await;
    let e = classify(&http_response(r).await, Flow::Token)
        .error
        .unwrap();
    assert_eq!(
        (e.code.as_str(), e.aadsts()),
        ("invalid_grant", &[54005][..])
    );
}

#[tokio::test]
async fn pkce_and_redirect_are_checked() {
    let env = start().await;
    let (verifier, challenge) = pkce();
    let code = |loc: Option<String>| query_param(&loc.unwrap(), "code").unwrap();
    let c = code(env.authorize(TENANT, &params(&challenge, &[])).await.1);
    let (status, body) = redeem(
        &env,
        &c,
        Some("wrong-verifier-wrong-verifier-wrong-verifier-x"),
        REDIRECT,
    )
    .await;
    assert_eq!((status, first_code(&body)), (400, 501481));
    let (status, body) = redeem(&env, &c, None, REDIRECT).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, body) = redeem(&env, &c, Some(&verifier), "http://localhost:9999/other").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    // Failed attempts do not consume the code.
    let (status, _) = redeem(&env, &c, Some(&verifier), REDIRECT).await;
    assert_eq!(status, 200);
    // Expired codes.
    let c = code(env.authorize(TENANT, &params(&challenge, &[])).await.1);
    env.emu.admin().advance_clock(601);
    let (status, body) = redeem(&env, &c, Some(&verifier), REDIRECT).await;
    assert_eq!((status, first_code(&body)), (400, 70008));
    // A plain challenge works too; a malformed one is refused on the redirect.
    env.emu.admin().set_clock_offset(0);
    let plain = "p".repeat(43);
    let c = code(
        env.authorize(
            TENANT,
            &params(&plain, &[("code_challenge_method", "plain")]),
        )
        .await
        .1,
    );
    let (status, _) = redeem(&env, &c, Some(&plain), REDIRECT).await;
    assert_eq!(status, 200);
    let (status, loc) = env.authorize(TENANT, &params("short", &[])).await;
    assert_eq!(status, 302);
    assert_eq!(
        query_param(&loc.unwrap(), "error").as_deref(),
        Some("invalid_request")
    );
    // Parameters sent twice are refused.
    let mut twice = params(&challenge, &[]);
    twice.push(("scope", "Mail.Read"));
    let (_, loc) = env.authorize(TENANT, &twice).await;
    assert_eq!(
        query_param(&loc.unwrap(), "error").as_deref(),
        Some("invalid_request")
    );
}

#[tokio::test]
async fn untrusted_requests_get_an_error_page_not_a_redirect() {
    let env = start().await;
    let (_, challenge) = pkce();
    let mut p = params(&challenge, &[]);
    p[2] = ("redirect_uri", "https://attacker.example/cb");
    let (status, loc) = env.authorize(TENANT, &p).await;
    assert_eq!((status, loc), (400, None));
    let mut p = params(&challenge, &[]);
    p[0] = ("client_id", "00000000-0000-0000-0000-00000000dead");
    let r = env
        .http
        .get(env.url("/organizations/oauth2/v2.0/authorize"))
        .query(&p)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert!(r.text().await.unwrap().contains("AADSTS700016"));
    // Wrong response_type comes back on the (trusted) redirect.
    let (_, loc) = env
        .authorize(TENANT, &params(&challenge, &[("response_type", "token")]))
        .await;
    assert_eq!(
        query_param(&loc.unwrap(), "error").as_deref(),
        Some("unsupported_response_type")
    );
}

#[tokio::test]
async fn prompt_none_needs_a_session() {
    let env = start().await;
    let (_, challenge) = pkce();
    let (status, loc) = env
        .authorize(TENANT, &params(&challenge, &[("prompt", "none")]))
        .await;
    assert_eq!(status, 302);
    let loc = loc.unwrap();
    assert_eq!(query_param(&loc, "state").as_deref(), Some("s-123"));
    let e = classify(&redirect_response(&loc), Flow::AuthorizePromptNone)
        .error
        .unwrap();
    assert_eq!(e.kind, ErrorKind::InteractionRequired);
    assert_eq!(e.code, "login_required");
    assert_eq!(e.classification, Some(Classification::PromptNeverFailed));
    assert_eq!(e.aadsts(), &[50058]);
    // An interactive sign-in leaves a session; then prompt=none succeeds.
    let (_, loc) = env
        .authorize(
            TENANT,
            &params(
                &challenge,
                &[
                    ("prompt", "login"),
                    ("domain_hint", "emulator.idflow.test"),
                    (
                        "claims",
                        r#"{"access_token":{"xms_cc":{"values":["cp1"]}}}"#,
                    ),
                ],
            ),
        )
        .await;
    assert!(query_param(&loc.unwrap(), "code").is_some());
    let (_, loc) = env
        .authorize(TENANT, &params(&challenge, &[("prompt", "none")]))
        .await;
    assert!(query_param(&loc.unwrap(), "code").is_some());
    // Logging out ends it.
    let r = env
        .http
        .get(env.url("/organizations/oauth2/v2.0/logout"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(env.emu.admin().sessions().is_empty());
}

#[tokio::test]
async fn scripted_outcomes() {
    let env = start().await;
    let admin = env.emu.admin();
    admin
        .register_user(UserSpec {
            username: "grace@emulator.idflow.test".into(),
            password: "pw".into(),
            ..Default::default()
        })
        .unwrap();
    admin
        .script_authorize(AuthorizeScript {
            client_id: None,
            outcome: AuthorizeOutcome::User {
                username: "grace@emulator.idflow.test".into(),
            },
        })
        .unwrap();
    admin
        .script_authorize(AuthorizeScript {
            client_id: Some(PUBLIC_CLIENT_ID.into()),
            outcome: AuthorizeOutcome::Error {
                error: "interaction_required".into(),
                error_description: Some("AADSTS50079: MFA enrolment needed.".into()),
                error_codes: vec![50079],
                suberror: Some("basic_action".into()),
                claims: None,
            },
        })
        .unwrap();
    let (verifier, challenge) = pkce();
    let (_, loc) = env.authorize(TENANT, &params(&challenge, &[])).await;
    let code = query_param(&loc.unwrap(), "code").unwrap();
    let (_, body) = redeem(&env, &code, Some(&verifier), REDIRECT).await;
    assert_eq!(
        claims(body["id_token"].as_str().unwrap())["preferred_username"],
        "grace@emulator.idflow.test"
    );

    let (_, loc) = env
        .authorize(
            TENANT,
            &params(&challenge, &[("response_mode", "fragment")]),
        )
        .await;
    let loc = loc.unwrap();
    assert!(loc.contains('#'), "fragment mode: {loc}");
    assert_eq!(
        query_param(&loc, "suberror").as_deref(),
        Some("basic_action")
    );
    let e = classify(&redirect_response(&loc), Flow::Authorize)
        .error
        .unwrap();
    assert_eq!(
        (e.kind, e.classification),
        (
            ErrorKind::InteractionRequired,
            Some(Classification::BasicAction)
        )
    );
    // Scripts are used up; the default user signs in again.
    assert!(admin.authorize_scripts().is_empty());
    let (_, loc) = env.authorize(TENANT, &params(&challenge, &[])).await;
    assert!(query_param(&loc.unwrap(), "code").is_some());
}

#[tokio::test]
async fn scripts_over_http_and_form_post() {
    let env = start().await;
    let r = env
        .http
        .post(env.url("/_admin/authorize/script"))
        .json(&serde_json::json!({"error": "access_denied", "error_description": "AADSTS65004: declined", "error_codes": [65004]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let (_, challenge) = pkce();
    let r = env
        .http
        .get(env.url("/organizations/oauth2/v2.0/authorize"))
        .query(&params(&challenge, &[("response_mode", "form_post")]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("name=\"error\" value=\"access_denied\""),
        "{page}"
    );
    assert!(page.contains("name=\"state\" value=\"s-123\""));
}

#[tokio::test]
async fn consent_is_needed_for_apps_without_admin_consent() {
    let env = start().await;
    let admin = env.emu.admin();
    let mut spec: idflow_emulator::ClientSpec = serde_json::from_value(serde_json::json!({
        "client_id": "11111111-2222-4333-8444-555555555555",
        "redirect_uris": [REDIRECT],
        "admin_consented": false
    }))
    .unwrap();
    admin.register_client(spec.clone()).unwrap();
    let form = |id: &'static str| {
        vec![
            ("client_id", id),
            ("grant_type", "password"),
            ("username", DEFAULT_USERNAME),
            ("password", idflow_emulator::DEFAULT_PASSWORD),
            ("scope", USER_SCOPE),
        ]
    };
    let r = env
        .post_token(TENANT, &form("11111111-2222-4333-8444-555555555555"))
        .await;
    let e = classify(&http_response(r).await, Flow::Token)
        .error
        .unwrap();
    assert_eq!(
        (e.code.as_str(), e.classification),
        ("invalid_grant", Some(Classification::ConsentRequired))
    );
    assert_eq!(e.aadsts(), &[65001]);
    // Consenting interactively fixes it.
    let (_, challenge) = pkce();
    let mut p = params(&challenge, &[]);
    p[0] = ("client_id", "11111111-2222-4333-8444-555555555555");
    env.authorize(TENANT, &p).await;
    let (status, _) = env
        .token(TENANT, &form("11111111-2222-4333-8444-555555555555"))
        .await;
    assert_eq!(status, 200);
    spec.admin_consented = true;
    admin.register_client(spec).unwrap();
    assert_eq!(admin.revoke_consents(Some(DEFAULT_USERNAME), None), 1);
}
