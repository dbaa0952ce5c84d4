//! The emulator over HTTPS: what the MSAL libraries need before they talk to
//! an authority at all (an `https://` authority, discovery and issuers that
//! say so, a certificate a client can be told to trust).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use idflow_emulator::{
    Emulator, EmulatorHandle, TlsSetup, CONFIDENTIAL_CLIENT_ID, CONFIDENTIAL_CLIENT_SECRET,
};
use serde_json::Value;

async fn start(setup: TlsSetup) -> EmulatorHandle {
    Emulator::builder().tls(setup).start().await.unwrap()
}

fn trusting(pem: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .tls_certs_only(reqwest::Certificate::from_pem_bundle(pem.as_bytes()).unwrap())
        .build()
        .unwrap()
}

async fn client_credentials(http: &reqwest::Client, emu: &EmulatorHandle) -> (u16, Value) {
    let r = http
        .post(emu.token_endpoint("emulator.idflow.test"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", CONFIDENTIAL_CLIENT_ID),
            ("client_secret", CONFIDENTIAL_CLIENT_SECRET),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test]
async fn generated_ca_serves_https_with_https_metadata() {
    let emu = start(TlsSetup::Generate).await;
    assert!(emu.base_url().starts_with("https://127.0.0.1:"));
    let http = trusting(emu.ca_pem().unwrap());

    let doc: Value = http
        .get(format!(
            "{}/emulator.idflow.test/v2.0/.well-known/openid-configuration",
            emu.base_url()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let base = emu.base_url();
    assert!(doc["issuer"].as_str().unwrap().starts_with(base), "{doc}");
    assert!(doc["token_endpoint"].as_str().unwrap().starts_with(base));

    // Instance discovery for its own host, as msal asks it.
    let authorize = format!("{base}/organizations/oauth2/v2.0/authorize");
    let inst: Value = http
        .get(format!("{base}/common/discovery/instance"))
        .query(&[
            ("api-version", "1.1"),
            ("authorization_endpoint", &authorize),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        inst["tenant_discovery_endpoint"]
            .as_str()
            .unwrap()
            .starts_with(base),
        "{inst}"
    );

    let (status, body) = client_credentials(&http, &emu).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["access_token"].is_string());

    // The same name through localhost (the leaf names both).
    let localhost = base.replace("127.0.0.1", "localhost");
    let r = http
        .get(format!("{localhost}/_admin"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let admin: Value = r.json().await.unwrap();
    assert_eq!(admin["base_url"], base);
    emu.shutdown().await;
}

#[tokio::test]
async fn admin_accepts_its_own_https_origin() {
    let emu = start(TlsSetup::Generate).await;
    let http = trusting(emu.ca_pem().unwrap());
    let r = http
        .post(format!("{}/_admin/presets/throttled_429", emu.base_url()))
        .header("origin", emu.base_url())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let (status, _) = client_credentials(&http, &emu).await;
    assert_eq!(status, 429);
    // The same host and port under the other scheme is another origin.
    let other = emu.base_url().replace("https://", "http://");
    let r = http
        .post(format!("{}/_admin/reset", emu.base_url()))
        .header("origin", other)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}

#[tokio::test]
async fn an_untrusting_client_fails_the_handshake_and_the_server_lives_on() {
    let emu = start(TlsSetup::Generate).await;
    let strict = reqwest::Client::builder()
        .tls_certs_only(Vec::new())
        .build()
        .unwrap();
    let err = strict
        .get(format!("{}/_admin", emu.base_url()))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_connect() || err.is_request(), "{err:?}");
    // Plain HTTP to the TLS port gets no HTTP answer either.
    let plain = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{}/_admin", emu.port()))
        .send()
        .await;
    assert!(plain.is_err() || plain.unwrap().status() != 200);

    let http = trusting(emu.ca_pem().unwrap());
    let (status, _) = client_credentials(&http, &emu).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_callers_certificate_and_key() {
    let cert =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .unwrap();
    let emu = start(TlsSetup::Pem {
        chain: cert.cert.pem(),
        key: cert.signing_key.serialize_pem(),
    })
    .await;
    assert_eq!(emu.ca_pem().unwrap().trim(), cert.cert.pem().trim());
    let http = trusting(&cert.cert.pem());
    let (status, body) = client_credentials(&http, &emu).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn a_key_that_is_not_the_certificates_is_refused_at_start() {
    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
    let other = rcgen::KeyPair::generate().unwrap();
    let err = Emulator::builder()
        .tls(TlsSetup::Pem {
            chain: cert.cert.pem(),
            key: other.serialize_pem(),
        })
        .start()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("do not fit"), "{err}");
}
