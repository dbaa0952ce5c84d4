//! The provider itself: start-up, discovery, the confidential clients' token
//! requests (secret post, secret basic, private_key_jwt), and the https
//! instance msal Python needs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failed assertion in a test should panic

mod common;

use common::*;
use idflow::{classify, ErrorKind, Flow, Outcome};
use idflow_testing::jwt_claims;
use idflow_testing::{Captured, OidcOptions, OidcProvider, TlsCert};

#[tokio::test]
async fn discovery_describes_the_configured_provider() {
    let p = start();
    assert!(p.issuer().starts_with("http://127.0.0.1:"));
    assert!(p.issuer().ends_with("/tenant"));
    let resp = p
        .http_client()
        .unwrap()
        .get(p.discovery_url())
        .send()
        .await
        .unwrap();
    let doc = Captured::read(resp).await.unwrap();
    assert_eq!(doc.status, 200);
    let doc = doc.json().unwrap();
    assert_eq!(doc["issuer"], p.issuer());
    assert_eq!(doc["token_endpoint"], p.token_url());
    assert_eq!(
        doc["device_authorization_endpoint"],
        p.device_authorization_url()
    );
    for endpoint in ["introspection_endpoint", "revocation_endpoint", "jwks_uri"] {
        assert!(
            doc[endpoint].as_str().unwrap().starts_with(p.issuer()),
            "{endpoint}"
        );
    }
    let grants: Vec<&str> = doc["grant_types_supported"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g.as_str().unwrap())
        .collect();
    for g in [
        "authorization_code",
        "refresh_token",
        "client_credentials",
        idflow_testing::DEVICE_CODE_GRANT,
    ] {
        assert!(grants.contains(&g), "{g} missing from {grants:?}");
    }
    assert_eq!(
        doc["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
}

#[tokio::test]
async fn client_credentials_with_client_secret_post_gives_a_jwt_for_the_api() {
    let p = start();
    let resp = client_credentials_post(&p, "api://idflow-test/.default").await;
    assert_eq!(resp.status, 200, "{}", resp.text());
    let decided = classify_captured(&resp, Flow::Token);
    assert_eq!(decided.outcome, Outcome::Success);
    let body = resp.json().unwrap();
    assert_eq!(body["token_type"], "Bearer");
    let claims = jwt_claims(body["access_token"].as_str().unwrap());
    assert_eq!(claims["aud"], p.api_resource());
    assert_eq!(claims["client_id"], p.secret_post().client_id);
    assert_eq!(claims["iss"], p.issuer());
    assert!(
        body.get("refresh_token").is_none(),
        "client credentials never get a refresh token"
    );
}

#[tokio::test]
async fn client_credentials_with_client_secret_basic() {
    let p = start();
    let c = p.secret_basic();
    let resp = token_basic(
        &p,
        &c.client_id,
        c.client_secret.as_deref().unwrap(),
        &[("grant_type", "client_credentials"), ("scope", READ)],
    )
    .await;
    assert_eq!(resp.status, 200, "{}", resp.text());
    let body = resp.json().unwrap();
    assert_eq!(body["scope"], READ);
    assert_eq!(
        jwt_claims(body["access_token"].as_str().unwrap())["scope"],
        READ
    );
}

#[tokio::test]
async fn private_key_jwt_client_authenticates_with_a_signed_assertion() {
    let p = start();
    let c = p.private_key_jwt();
    assert_eq!(c.auth_method, "private_key_jwt");
    let assertion = p
        .client_key()
        .client_assertion(&c.client_id, &p.token_url())
        .unwrap();
    let fields = [
        ("grant_type", "client_credentials"),
        ("client_id", c.client_id.as_str()),
        (
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        ),
        ("client_assertion", assertion.as_str()),
        ("scope", READ),
    ];
    let resp = token(&p, &fields).await;
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_eq!(
        classify_captured(&resp, Flow::Token).outcome,
        Outcome::Success
    );

    // The same assertion again is a replay: the provider remembers its jti.
    let replay = token(&p, &fields).await;
    assert_eq!(replay.status, 401, "{}", replay.text());
    let e = classify_captured(&replay, Flow::Token).error.unwrap();
    assert_eq!(
        (e.kind, e.code.as_str()),
        (ErrorKind::Service, "invalid_client")
    );

    // An assertion signed by another key is refused the same way.
    let stranger = idflow_testing::ClientKey::generate().unwrap();
    let forged = stranger
        .client_assertion(&c.client_id, &p.token_url())
        .unwrap();
    let resp = token(
        &p,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", c.client_id.as_str()),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", forged.as_str()),
        ],
    )
    .await;
    assert_eq!(resp.status, 401, "{}", resp.text());
    assert_eq!(error_of(&resp), "invalid_client");
}

/// JWT access tokens are self-contained (oidc-provider refuses to introspect
/// them), so this uses the opaque tokens of an OpenID-only login.
#[tokio::test]
async fn introspection_and_revocation_of_opaque_tokens() {
    let p = start();
    let tokens = native_login(&p, "openid offline_access").await;
    let (at, rt) = (
        tokens["access_token"].as_str().unwrap(),
        tokens["refresh_token"].as_str().unwrap(),
    );
    assert_eq!(
        at.split('.').count(),
        1,
        "an OpenID-only login gets an opaque access token"
    );
    let http = p.http_client().unwrap();
    let native = p.native().client_id.as_str();
    let introspect = |token: &str| {
        let req = http
            .post(p.endpoint("/token/introspection"))
            .form(&[("client_id", native), ("token", token)]);
        async move {
            Captured::read(req.send().await.unwrap())
                .await
                .unwrap()
                .json()
                .unwrap()
        }
    };
    let active = introspect(at).await;
    assert_eq!(active["active"], true, "{active}");
    assert_eq!(active["sub"], "alice");
    assert_eq!(introspect(rt).await["active"], true);

    let resp = http
        .post(p.endpoint("/token/revocation"))
        .form(&[("client_id", native), ("token", rt)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(introspect(rt).await["active"], false);
    let refresh = token(
        &p,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", native),
            ("refresh_token", rt),
        ],
    )
    .await;
    assert_eq!(error_of(&refresh), "invalid_grant");
}

#[tokio::test]
async fn tls_instance_is_reached_with_its_certificate_as_the_only_root() {
    let cert = TlsCert::self_signed_loopback().unwrap();
    let cert_path = cert.cert_path().to_owned();
    let p = start_with(OidcOptions {
        tls: Some(cert),
        ..OidcOptions::default()
    });
    assert!(
        p.issuer().starts_with("https://127.0.0.1:"),
        "{}",
        p.issuer()
    );
    assert!(p.issuer().ends_with("/tenant"));
    assert!(
        cert_path.is_file(),
        "the CA bundle for REQUESTS_CA_BUNDLE exists"
    );

    let resp = p
        .http_client()
        .unwrap()
        .get(p.discovery_url())
        .send()
        .await
        .unwrap();
    let doc = Captured::read(resp).await.unwrap().json().unwrap();
    assert_eq!(
        doc["issuer"],
        p.issuer(),
        "msal Python requires issuer == authority"
    );

    let resp = client_credentials_post(&p, READ).await;
    assert_eq!(resp.status, 200, "{}", resp.text());

    // A client that does not trust the certificate cannot connect at all.
    let stranger = reqwest::Client::builder()
        .no_proxy()
        .tls_certs_only([reqwest::Certificate::from_pem(
            TlsCert::self_signed_loopback()
                .unwrap()
                .cert_pem()
                .as_bytes(),
        )
        .unwrap()])
        .build()
        .unwrap();
    assert!(stranger.get(p.discovery_url()).send().await.is_err());
}

#[tokio::test]
async fn microsoft_mode_decorates_stock_errors() {
    let p = start_with(OidcOptions {
        microsoft_errors: true,
        ..OidcOptions::default()
    });
    let resp = p
        .http_client()
        .unwrap()
        .post(p.token_url())
        .header("client-request-id", "0b5b4d5c-0000-4000-8000-000000000001")
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", p.native().client_id.as_str()),
            ("refresh_token", "not-a-refresh-token"),
        ])
        .send()
        .await
        .unwrap();
    let c = Captured::read(resp).await.unwrap();
    assert_eq!(c.status, 400);
    let body = c.json().unwrap();
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(body["error_codes"], serde_json::json!([70000]));
    assert_eq!(
        body["correlation_id"],
        "0b5b4d5c-0000-4000-8000-000000000001"
    );
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .starts_with("AADSTS70000: grant request is invalid\r\nTrace ID: "));
    assert!(body["trace_id"].is_string() && body["timestamp"].is_string());
    let e = classify(&to_http(&c), Flow::Silent).error.unwrap();
    assert_eq!(e.kind, ErrorKind::InteractionRequired);
    assert_eq!(
        e.correlation_id.as_deref(),
        Some("0b5b4d5c-0000-4000-8000-000000000001")
    );
    let s = e.service.unwrap();
    assert_eq!(s.error_codes, vec![70000]);
    assert_eq!(s.trace_id.as_deref(), body["trace_id"].as_str());
}

#[test]
fn dropping_the_handle_stops_the_process() {
    let p = start();
    let pid = p.pid();
    let port = p.port();
    assert!(std::path::Path::new(&format!("/proc/{pid}")).exists());
    drop(p);
    // Killed and reaped in Drop: the pid is gone and the port refuses.
    assert!(!std::path::Path::new(&format!("/proc/{pid}/status")).exists());
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
}

#[test]
fn a_server_that_cannot_start_is_reported_at_once() {
    // A bad issuer path makes the server exit at once: start() must say so,
    // with the server's stderr, instead of waiting out the timeout.
    let started = std::time::Instant::now();
    let err = OidcProvider::start(OidcOptions {
        issuer_path: "no-leading-slash".to_owned(),
        ..OidcOptions::default()
    })
    .unwrap_err();
    assert!(err.to_string().contains("--issuer-path"), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}
