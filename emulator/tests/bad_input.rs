//! Bad input gets a proper OAuth error in the platform's shape, never a
//! panic, a hang or a bare status: garbage bodies, unknown grants, missing
//! parameters, huge and duplicated parameters, wrong methods, odd paths.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use idflow::error::parse_error_body;
use idflow_emulator::{CONFIDENTIAL_CLIENT_ID, CONFIDENTIAL_CLIENT_SECRET, PUBLIC_CLIENT_ID};

/// Asserts an OAuth error body with the expected error and AADSTS number.
async fn expect_error(r: reqwest::Response, status: u16, error: &str, code: i64) {
    assert_eq!(r.status().as_u16(), status);
    let body = r.bytes().await.unwrap();
    let e = parse_error_body(&body)
        .unwrap_or_else(|| panic!("not an OAuth error: {}", String::from_utf8_lossy(&body)));
    assert_eq!(
        (e.error.as_str(), e.error_codes.first().copied()),
        (error, Some(code)),
        "{}",
        e.error_description.unwrap_or_default()
    );
    assert!(e.trace_id.is_some() && e.correlation_id.is_some() && e.timestamp.is_some());
}

#[tokio::test]
async fn garbage_and_missing_parameters() {
    let env = start().await;
    let post_raw = |body: Vec<u8>, ctype: &'static str| {
        let env = &env;
        async move {
            env.http
                .post(env.token_url(TENANT))
                .header("content-type", ctype)
                .body(body)
                .send()
                .await
                .unwrap()
        }
    };
    expect_error(
        post_raw(
            vec![0xff, 0x00, 0xfe, b'=', b'&', b'%'],
            "application/x-www-form-urlencoded",
        )
        .await,
        400,
        "invalid_request",
        900144,
    )
    .await;
    expect_error(
        post_raw(br#"{"grant_type":"password"}"#.to_vec(), "application/json").await,
        400,
        "invalid_request",
        900144,
    )
    .await;
    expect_error(
        post_raw(b"grant_type=magic".to_vec(), "text/plain").await,
        400,
        "unsupported_grant_type",
        70003,
    )
    .await;
    expect_error(
        post_raw(
            b"grant_type=password&grant_type=password".to_vec(),
            "application/x-www-form-urlencoded",
        )
        .await,
        400,
        "invalid_request",
        9002313,
    )
    .await;
    let missing = [
        (vec![("grant_type", "password")], "client_id"),
        (
            vec![
                ("grant_type", "authorization_code"),
                ("client_id", PUBLIC_CLIENT_ID),
            ],
            "code",
        ),
        (
            vec![
                ("grant_type", "authorization_code"),
                ("client_id", PUBLIC_CLIENT_ID),
                ("code", "c"),
            ],
            "redirect_uri",
        ),
        (
            vec![
                ("grant_type", "refresh_token"),
                ("client_id", PUBLIC_CLIENT_ID),
            ],
            "refresh_token",
        ),
        (
            vec![("grant_type", "password"), ("client_id", PUBLIC_CLIENT_ID)],
            "username",
        ),
        (
            vec![
                ("grant_type", "password"),
                ("client_id", PUBLIC_CLIENT_ID),
                ("username", "u"),
            ],
            "password",
        ),
        (
            vec![
                ("grant_type", "password"),
                ("client_id", PUBLIC_CLIENT_ID),
                ("username", "u"),
                ("password", "p"),
            ],
            "scope",
        ),
        (
            vec![
                ("grant_type", "device_code"),
                ("client_id", PUBLIC_CLIENT_ID),
            ],
            "device_code",
        ),
        (
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", CONFIDENTIAL_CLIENT_ID),
                ("client_secret", CONFIDENTIAL_CLIENT_SECRET),
            ],
            "scope",
        ),
        (
            vec![
                ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                ("client_id", CONFIDENTIAL_CLIENT_ID),
                ("client_secret", CONFIDENTIAL_CLIENT_SECRET),
            ],
            "requested_token_use",
        ),
        (
            vec![
                ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                ("client_id", CONFIDENTIAL_CLIENT_ID),
                ("client_secret", CONFIDENTIAL_CLIENT_SECRET),
                ("requested_token_use", "on_behalf_of"),
            ],
            "assertion",
        ),
    ];
    for (form, param) in missing {
        let r = env.post_token(idflow_emulator::DEFAULT_TENANT, &form).await;
        assert_eq!(r.status().as_u16(), 400, "{form:?}");
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(first_code(&body), 900144, "{form:?}");
        assert!(
            body["error_description"].as_str().unwrap().contains(param),
            "{param}: {body}"
        );
    }
    // Empty values count as missing; whitespace-only scopes too.
    let r = env
        .post_token(
            TENANT,
            &[
                ("grant_type", "password"),
                ("client_id", PUBLIC_CLIENT_ID),
                ("username", "u"),
                ("password", "p"),
                ("scope", "   "),
            ],
        )
        .await;
    expect_error(r, 400, "invalid_request", 900144).await;
}

#[tokio::test]
async fn huge_input() {
    let env = start().await;
    let huge = "a".repeat(idflow_emulator::MAX_REQUEST_BODY + 10);
    let r = env
        .post_token(TENANT, &[("grant_type", "password"), ("client_id", &huge)])
        .await;
    expect_error(r, 413, "invalid_request", 90015).await;
    // Large but allowed values are handled normally.
    let big = "b".repeat(100_000);
    let r = env
        .post_token(
            TENANT,
            &[
                ("grant_type", "refresh_token"),
                ("client_id", PUBLIC_CLIENT_ID),
                ("refresh_token", &big),
            ],
        )
        .await;
    expect_error(r, 400, "invalid_grant", 9002313).await;
    let r = env
        .post_token(
            TENANT,
            &[
                ("grant_type", big.as_str()),
                ("client_id", PUBLIC_CLIENT_ID),
            ],
        )
        .await;
    expect_error(r, 400, "unsupported_grant_type", 70003).await;
    let long_path = env.url(&format!("/{}/oauth2/v2.0/token", "t".repeat(5000)));
    let r = env
        .http
        .post(long_path)
        .form(&[("grant_type", "password")])
        .send()
        .await
        .unwrap();
    expect_error(r, 400, "invalid_request", 90002).await;
    let r = env
        .post_token(
            TENANT,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", CONFIDENTIAL_CLIENT_ID),
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ),
                ("client_assertion", &big),
            ],
        )
        .await;
    expect_error(r, 401, "invalid_client", 50027).await;
}

#[tokio::test]
async fn wrong_methods_headers_and_endpoints() {
    let env = start().await;
    let r = env.http.get(env.token_url(TENANT)).send().await.unwrap();
    expect_error(r, 400, "invalid_request", 900561).await;
    let r = env
        .http
        .get(env.url("/organizations/oauth2/v2.0/devicecode"))
        .send()
        .await
        .unwrap();
    expect_error(r, 400, "invalid_request", 900561).await;
    let r = env
        .http
        .post(env.token_url(TENANT))
        .header("authorization", "Basic !!!notbase64")
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    expect_error(r, 401, "invalid_client", 7000215).await;
    // A client-request-id that is too long is not echoed; a fresh correlation id is used.
    let r = env
        .http
        .post(env.token_url(TENANT))
        .header("client-request-id", "x".repeat(500))
        .form(&[("grant_type", "x")])
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["correlation_id"].as_str().unwrap().len(), 36);
    // return-client-request-id echoes it in a header.
    let r = env
        .http
        .post(env.token_url(TENANT))
        .header("client-request-id", "abc")
        .header("return-client-request-id", "true")
        .form(&[("grant_type", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["client-request-id"], "abc");
    assert!(r.headers().contains_key("x-ms-request-id"));
    // Authorize with nothing at all shows an error page.
    let r = env
        .http
        .get(env.url("/organizations/oauth2/v2.0/authorize"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert!(r.text().await.unwrap().contains("AADSTS900144"));
    let r = env
        .http
        .get(env.url("/organizations/oauth2/v2.0/authorize"))
        .query(&[
            ("client_id", PUBLIC_CLIENT_ID),
            ("redirect_uri", REDIRECT),
            ("response_type", "code"),
            ("scope", "User.Read"),
            ("claims", "{not json"),
            ("prompt", "sometimes"),
        ])
        .send()
        .await
        .unwrap();
    let loc = r.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(
        query_param(&loc, "error").as_deref(),
        Some("invalid_request")
    );
    // After all of it, the emulator still serves.
    assert_eq!(env.ropc(USER_SCOPE).await.0, 200);
}
