//! Discovery endpoints over real HTTP: OpenID configuration, instance
//! discovery, JWKS (and that tokens verify against it), user realm.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use idflow_emulator::{tenant_id, Jwt, RsaPublic, DEFAULT_TENANT};
use serde_json::Value;

#[tokio::test]
async fn openid_configuration_for_a_named_tenant() {
    let env = start().await;
    let base = env.emu.base_url().to_owned();
    let (status, c) = env
        .get_json(&format!(
            "/{DEFAULT_TENANT}/v2.0/.well-known/openid-configuration"
        ))
        .await;
    assert_eq!(status, 200);
    let tid = tenant_id(DEFAULT_TENANT);
    assert_eq!(c["issuer"], format!("{base}/{tid}/v2.0"));
    assert_eq!(
        c["authorization_endpoint"],
        format!("{base}/{DEFAULT_TENANT}/oauth2/v2.0/authorize")
    );
    assert_eq!(
        c["token_endpoint"],
        format!("{base}/{DEFAULT_TENANT}/oauth2/v2.0/token")
    );
    assert_eq!(
        c["device_authorization_endpoint"],
        format!("{base}/{DEFAULT_TENANT}/oauth2/v2.0/devicecode")
    );
    assert_eq!(
        c["jwks_uri"],
        format!("{base}/{DEFAULT_TENANT}/discovery/v2.0/keys")
    );
    assert_eq!(
        c["end_session_endpoint"],
        format!("{base}/{DEFAULT_TENANT}/oauth2/v2.0/logout")
    );
    assert!(c["scopes_supported"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s == "offline_access"));
    assert!(c["response_types_supported"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s == "code"));
    // A GUID tenant is its own id, so the issuer equals the authority + /v2.0.
    let (_, c) = env
        .get_json(&format!("/{tid}/v2.0/.well-known/openid-configuration"))
        .await;
    assert_eq!(c["issuer"], format!("{base}/{tid}/v2.0"));
}

#[tokio::test]
async fn common_has_the_issuer_template() {
    let env = start().await;
    let base = env.emu.base_url().to_owned();
    for t in ["common", "organizations"] {
        let (_, c) = env
            .get_json(&format!("/{t}/v2.0/.well-known/openid-configuration"))
            .await;
        assert_eq!(c["issuer"], format!("{base}/{{tenantid}}/v2.0"));
    }
    let (_, c) = env
        .get_json("/consumers/v2.0/.well-known/openid-configuration")
        .await;
    assert_eq!(
        c["issuer"],
        format!("{base}/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0")
    );
}

#[tokio::test]
async fn instance_discovery_knows_its_own_host_only() {
    let env = start().await;
    let port = env.emu.port();
    let ask = |host: String| {
        let env = &env;
        async move {
            let r = env
                .http
                .get(env.url("/common/discovery/instance"))
                .query(&[
                    ("api-version", "1.1"),
                    (
                        "authorization_endpoint",
                        &format!("http://{host}/contoso.example/oauth2/v2.0/authorize"),
                    ),
                ])
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let (status, body) = ask(format!("127.0.0.1:{port}")).await;
    assert_eq!(status, 200);
    assert_eq!(
        body["tenant_discovery_endpoint"],
        format!("http://127.0.0.1:{port}/contoso.example/v2.0/.well-known/openid-configuration")
    );
    let meta = &body["metadata"][0];
    assert_eq!(meta["preferred_network"], format!("127.0.0.1:{port}"));
    assert_eq!(meta["preferred_cache"], format!("127.0.0.1:{port}"));
    let aliases: Vec<&str> = meta["aliases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(
        aliases,
        vec![format!("127.0.0.1:{port}"), format!("localhost:{port}")]
    );
    let (status, _) = ask(format!("localhost:{port}")).await;
    assert_eq!(status, 200);

    let (status, body) = ask("login.example.net".into()).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_instance");
    assert_eq!(first_code(&body), 50049);

    let (status, body) = env
        .get_json("/common/discovery/instance?api-version=1.1")
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request"))
    );
}

#[tokio::test]
async fn tokens_verify_against_the_jwks() {
    let env = start().await;
    let (status, jwks) = env.get_json("/common/discovery/v2.0/keys").await;
    assert_eq!(status, 200);
    let key = &jwks["keys"][0];
    assert_eq!(
        (
            key["kty"].as_str(),
            key["alg"].as_str(),
            key["use"].as_str()
        ),
        (Some("RSA"), Some("RS256"), Some("sig"))
    );
    let decode = |k: &str| {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(key[k].as_str().unwrap())
            .unwrap()
    };
    let public = RsaPublic {
        n: decode("n"),
        e: decode("e"),
    };
    let tokens = env.sign_in(USER_SCOPE).await;
    for t in ["access_token", "id_token"] {
        let jwt = Jwt::parse(tokens[t].as_str().unwrap()).unwrap();
        assert_eq!(jwt.alg(), "RS256");
        assert_eq!(jwt.header_str("kid"), key["kid"].as_str());
        assert!(jwt.verified_by(&public), "{t} verifies");
    }
    // The v1 path serves the same keys.
    let (_, again) = env
        .get_json(&format!("/{DEFAULT_TENANT}/discovery/keys"))
        .await;
    assert_eq!(again["keys"][0]["kid"], key["kid"]);
}

#[tokio::test]
async fn user_realm_says_managed() {
    let env = start().await;
    let (status, body) = env
        .get_json("/common/userrealm/ada@emulator.idflow.test?api-version=1.0")
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["account_type"], "Managed");
    let (_, body) = env
        .get_json("/common/userrealm/nobody@example.net?api-version=1.0")
        .await;
    assert_eq!(body["account_type"], "Unknown");
}

#[tokio::test]
async fn unknown_paths_and_bad_tenants() {
    let env = start().await;
    let r = env.http.get(env.url("/nothing/here")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 404);
    let r = env
        .http
        .get(env.url("/bad%20tenant/v2.0/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(first_code(&body), 90002);
    let r = env
        .http
        .get(env.url("/error?code=50079"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("UserStrongAuthEnrollmentRequired"));
}
