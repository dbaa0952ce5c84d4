//! Confidential-client grants: client credentials (secret, HTTP Basic,
//! certificate and JWK assertions, and every client-authentication failure)
//! and on-behalf-of.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use idflow::{classify, ErrorKind, Flow};
use idflow_emulator::{
    ClientSpec, KeySpec, TestCredential, CONFIDENTIAL_CLIENT_ID, CONFIDENTIAL_CLIENT_SECRET,
    PUBLIC_CLIENT_ID,
};
use serde_json::{json, Map, Value};

#[tokio::test]
async fn client_credentials_with_a_secret() {
    let env = start().await;
    let tenant = idflow_emulator::DEFAULT_TENANT;
    let (status, body) = env.client_credentials(tenant).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["refresh_token"].is_null() && body["id_token"].is_null());
    let at = claims(body["access_token"].as_str().unwrap());
    assert_eq!(at["aud"], "https://graph.microsoft.com");
    assert_eq!(at["idtyp"], "app");
    assert_eq!(at["azp"], CONFIDENTIAL_CLIENT_ID);
    assert_eq!(at["roles"], json!(["Data.Read.All"]));
    assert_eq!(at["tid"], idflow_emulator::tenant_id(tenant));
    // HTTP Basic.
    let r = env
        .http
        .post(env.token_url(tenant))
        .basic_auth(CONFIDENTIAL_CLIENT_ID, Some(CONFIDENTIAL_CLIENT_SECRET))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let cc = |id: &'static str, secret: Option<&'static str>, scope: &'static str| {
        let mut f = vec![
            ("client_id", id),
            ("grant_type", "client_credentials"),
            ("scope", scope),
        ];
        f.extend(secret.map(|s| ("client_secret", s)));
        f
    };
    let graph = "https://graph.microsoft.com/.default";
    for (form, t, status, error, code) in [
        (
            cc(CONFIDENTIAL_CLIENT_ID, Some("wrong"), graph),
            tenant,
            401,
            "invalid_client",
            7000215,
        ),
        (
            cc(CONFIDENTIAL_CLIENT_ID, None, graph),
            tenant,
            401,
            "invalid_client",
            7000218,
        ),
        (
            cc(PUBLIC_CLIENT_ID, Some("x"), graph),
            tenant,
            401,
            "invalid_client",
            700025,
        ),
        (
            cc(PUBLIC_CLIENT_ID, None, graph),
            tenant,
            401,
            "invalid_client",
            7000218,
        ),
        (
            cc("no-such-client", Some("x"), graph),
            tenant,
            400,
            "unauthorized_client",
            700016,
        ),
        (
            cc(
                CONFIDENTIAL_CLIENT_ID,
                Some(CONFIDENTIAL_CLIENT_SECRET),
                "User.Read",
            ),
            tenant,
            400,
            "invalid_scope",
            1002012,
        ),
        (
            cc(
                CONFIDENTIAL_CLIENT_ID,
                Some(CONFIDENTIAL_CLIENT_SECRET),
                "https://nope.example/.default",
            ),
            tenant,
            400,
            "invalid_resource",
            500011,
        ),
        (
            cc(
                CONFIDENTIAL_CLIENT_ID,
                Some(CONFIDENTIAL_CLIENT_SECRET),
                graph,
            ),
            "common",
            400,
            "invalid_request",
            9001023,
        ),
    ] {
        let (s, body) = env.token(t, &form).await;
        assert_eq!(
            (s, body["error"].as_str(), first_code(&body)),
            (status, Some(error), code),
            "{form:?}"
        );
        assert_eq!(
            body["correlation_id"],
            "3f1c2d4e-0000-4000-8000-00000000beef"
        );
        for k in ["error_description", "timestamp", "trace_id", "error_uri"] {
            assert!(body[k].is_string(), "{k}");
        }
        assert!(body["error_description"]
            .as_str()
            .unwrap()
            .starts_with(&format!("AADSTS{code}: ")));
    }
}

fn header(pairs: &[(&str, &str)]) -> Map<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), json!(v)))
        .collect()
}

#[tokio::test]
async fn client_credentials_with_certificate_and_jwk_assertions() {
    let env = start().await;
    let admin = env.emu.admin();
    let id = "cert-client";
    admin
        .register_client(ClientSpec {
            client_id: id.into(),
            confidential: true,
            ..Default::default()
        })
        .unwrap();
    let cred = admin.generate_certificate(id).unwrap();
    assert!(
        cred.private_key_pem.contains("BEGIN PRIVATE KEY")
            && cred.certificate_pem.contains("BEGIN CERTIFICATE")
    );
    let signer = cred.signer().unwrap();
    let t = idflow_emulator::DEFAULT_TENANT;
    let aud = env.token_url(t);
    let post = |assertion: String| {
        let env = &env;
        async move {
            env.token(
                t,
                &[
                    ("client_id", id),
                    ("grant_type", "client_credentials"),
                    ("scope", "https://graph.microsoft.com/.default"),
                    (
                        "client_assertion_type",
                        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                    ),
                    ("client_assertion", &assertion),
                ],
            )
            .await
        }
    };
    let good = assertion(&signer, id, &aud, header(&[("x5t", &cred.x5t)]), 600);
    let (status, body) = post(good).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        claims(body["access_token"].as_str().unwrap())["azpacr"],
        "2"
    );
    let s256 = assertion(
        &signer,
        id,
        &aud,
        header(&[("x5t#S256", &cred.x5t_s256)]),
        600,
    );
    assert_eq!(post(s256).await.0, 200);
    let by_kid = assertion(
        &signer,
        id,
        &aud,
        header(&[("kid", &cred.thumbprint_hex)]),
        600,
    );
    assert_eq!(post(by_kid).await.0, 200);

    let stranger = TestCredential::generate("other", 0).unwrap();
    let cases = [
        (
            assertion(&stranger.signer().unwrap(), id, &aud, header(&[]), 600),
            700027,
        ),
        (
            assertion(
                &stranger.signer().unwrap(),
                id,
                &aud,
                header(&[("x5t", &stranger.x5t)]),
                600,
            ),
            700027,
        ),
        (
            assertion(
                &signer,
                id,
                "https://elsewhere.example/token",
                header(&[]),
                600,
            ),
            50027,
        ),
        (assertion(&signer, id, &aud, header(&[]), -3600), 700024),
        (
            assertion(&signer, "someone-else", &aud, header(&[]), 600),
            700021,
        ),
        ("not.a.jwt".to_owned(), 50027),
    ];
    for (a, code) in cases {
        let (status, body) = post(a).await;
        assert_eq!(
            (status, body["error"].as_str(), first_code(&body)),
            (401, Some("invalid_client"), code),
            "{body}"
        );
    }

    // A bare public key registered as a JWK.
    let key = idflow_emulator::RsaSigner::generate().unwrap();
    let (n, e) = key.public().jwk_members();
    let jwk = json!({"kty": "RSA", "n": n, "e": e, "kid": "k1"});
    admin
        .register_client(ClientSpec {
            client_id: "jwk-client".into(),
            confidential: true,
            keys: vec![KeySpec::Jwk(jwk.as_object().unwrap().clone())],
            ..Default::default()
        })
        .unwrap();
    let a = assertion(&key, "jwk-client", &aud, header(&[("kid", "k1")]), 600);
    let (status, _) = env
        .token(
            t,
            &[
                ("client_id", "jwk-client"),
                ("grant_type", "client_credentials"),
                ("scope", "https://graph.microsoft.com/.default"),
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ),
                ("client_assertion", &a),
            ],
        )
        .await;
    assert_eq!(status, 200);
    // The admin view shows thumbprints, never keys or secrets.
    let summary = admin.client(id).unwrap();
    assert_eq!(summary["keys"][0]["x5t"], json!(cred.x5t));
    let conf = admin.client(CONFIDENTIAL_CLIENT_ID).unwrap().to_string();
    assert!(!conf.contains(CONFIDENTIAL_CLIENT_SECRET));
}

#[tokio::test]
async fn on_behalf_of_exchanges_a_token_for_the_api() {
    let env = start().await;
    let api_scope = format!("api://{CONFIDENTIAL_CLIENT_ID}/access_as_user openid offline_access");
    let user = env.sign_in(&api_scope).await;
    let incoming = user["access_token"].as_str().unwrap();
    assert_eq!(claims(incoming)["aud"], CONFIDENTIAL_CLIENT_ID);
    let obo = |assertion: String, scope: &'static str| {
        let env = &env;
        async move {
            env.token(
                TENANT,
                &[
                    ("client_id", CONFIDENTIAL_CLIENT_ID),
                    ("client_secret", CONFIDENTIAL_CLIENT_SECRET),
                    ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                    ("requested_token_use", "on_behalf_of"),
                    ("assertion", &assertion),
                    ("scope", scope),
                ],
            )
            .await
        }
    };
    let (status, body) = obo(
        incoming.to_owned(),
        "https://graph.microsoft.com/User.Read offline_access",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let at = claims(body["access_token"].as_str().unwrap());
    assert_eq!(
        (at["aud"].as_str(), at["scp"].as_str(), at["azp"].as_str()),
        (
            Some("https://graph.microsoft.com"),
            Some("User.Read"),
            Some(CONFIDENTIAL_CLIENT_ID)
        )
    );
    assert_eq!(at["oid"], claims(incoming)["oid"]);
    assert!(body["refresh_token"].is_string());
    // A Graph token is not for this API; an app token is not a user's; a forged one is refused.
    let graph_token = env.sign_in(USER_SCOPE).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(first_code(&obo(graph_token, "User.Read").await.1), 500131);
    let app_token = env
        .client_credentials(idflow_emulator::DEFAULT_TENANT)
        .await
        .1["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(first_code(&obo(app_token, "User.Read").await.1), 500131);
    let forged = assertion(
        &idflow_emulator::RsaSigner::generate().unwrap(),
        "x",
        "y",
        header(&[]),
        600,
    );
    assert_eq!(first_code(&obo(forged, "User.Read").await.1), 50013);
    env.emu.admin().advance_clock(7200);
    let (status, body) = obo(incoming.to_owned(), "User.Read").await;
    assert_eq!((status, first_code(&body)), (400, 500133));
    let e = classify(
        &idflow::HttpResponse::new(400, vec![], body.to_string().into_bytes()),
        Flow::Token,
    )
    .error
    .unwrap();
    assert_eq!(e.kind, ErrorKind::InteractionRequired);
}
