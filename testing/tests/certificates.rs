//! Every certificate form and federated assertions, end to end against the
//! emulator: the credential loads, the emulator accepts (or refuses) the
//! assertion, and the assertion's header is what msal Python would send for
//! the same form (PS256 + `x5t#S256` with the certificate, RS256 + `x5t`
//! with only a SHA-1 thumbprint, `x5c` for subject name / issuer auth).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failed assertion in a test should panic

use idflow::secret::Passphrase;
use idflow::{
    ClientCertificate, ClientCredential, ConfidentialClientApplication, ErrorKind,
    FederatedTokenFile,
};
use idflow_emulator::{
    ClientSpec, Endpoint, FederatedCredentialSpec, FederatedTokenRequest, KeySpec, TestCredential,
};
use idflow_testing::emulator::EmulatorEnv as Env;
use serde_json::{Map, Value};
use std::sync::Arc;

const CLIENT: &str = "7c0d1e2f-0000-4000-8000-00000000c3a7";
const GRAPH_DEFAULT: &str = "https://graph.microsoft.com/.default";
const PASSWORD: &str = "pfx-password-for-tests";

fn register(env: &Env, spec: ClientSpec) {
    env.emu
        .admin()
        .register_client(ClientSpec {
            client_id: CLIENT.into(),
            confidential: true,
            roles: vec!["Data.Read.All".into()],
            ..spec
        })
        .unwrap();
}

fn app(env: &Env, credential: ClientCredential) -> ConfidentialClientApplication {
    ConfidentialClientApplication::new(CLIENT, env.authority(), credential, env.options()).unwrap()
}

fn credential(subject: &str) -> TestCredential {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    TestCredential::generate(subject, now - 3600).unwrap()
}

fn der(pem: &str) -> Vec<u8> {
    use base64::Engine as _;
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap()
}

fn pfx(cred: &TestCredential, password: &str) -> Vec<u8> {
    use p12_keystore::{Certificate, KeyStore, KeyStoreEntry, PrivateKey, PrivateKeyChain};
    let chain = PrivateKeyChain::new(
        b"1".to_vec(),
        PrivateKey::from_der(&der(&cred.private_key_pem)).unwrap(),
        [Certificate::from_der(&der(&cred.certificate_pem)).unwrap()],
    );
    let mut store = KeyStore::new();
    store.add_entry("client", KeyStoreEntry::PrivateKeyChain(chain));
    store.writer(password).write().unwrap()
}

/// The JOSE header of the last client assertion the emulator received.
fn last_header(env: &Env) -> Map<String, Value> {
    env.last(Endpoint::Token)
        .client_assertion_header
        .expect("a client assertion was sent")
}

async fn token(env: &Env, credential: ClientCredential) -> Result<(), idflow::IdFlowError> {
    app(env, credential)
        .acquire_token_for_client(&[GRAPH_DEFAULT], None)
        .await
        .map(|_| ())
}

#[tokio::test]
async fn pfx_with_password_signs_ps256_with_the_sha256_thumbprint() {
    let env = Env::start().await;
    let cred = credential("pfx.example");
    register(
        &env,
        ClientSpec {
            keys: vec![KeySpec::Pem(cred.certificate_pem.clone())],
            ..Default::default()
        },
    );
    let file = pfx(&cred, PASSWORD);
    let cert = ClientCertificate::from_pkcs12(&file, Some(&Passphrase::new(PASSWORD)))
        .unwrap()
        .without_kid();
    token(&env, ClientCredential::Certificate(cert))
        .await
        .unwrap();
    let h = last_header(&env);
    assert_eq!(h["alg"], "PS256");
    assert_eq!(h["x5t#S256"], cred.x5t_s256.as_str());
    assert!(!h.contains_key("x5t") && !h.contains_key("kid") && !h.contains_key("x5c"));

    let e = ClientCertificate::from_pkcs12(&file, Some(&Passphrase::new("nope"))).unwrap_err();
    assert_eq!(
        (e.kind, e.code.as_str()),
        (ErrorKind::Client, "certificate_password_incorrect")
    );
}

#[tokio::test]
async fn key_and_sha1_thumbprint_sign_rs256_with_x5t() {
    let env = Env::start().await;
    let cred = credential("thumbprint.example");
    register(
        &env,
        ClientSpec {
            keys: vec![KeySpec::Pem(cred.certificate_pem.clone())],
            ..Default::default()
        },
    );
    let cert = ClientCertificate::from_key_and_thumbprint(
        &cred.private_key_pem,
        None,
        &cred.thumbprint_hex,
    )
    .unwrap()
    .without_kid();
    token(&env, ClientCredential::Certificate(cert))
        .await
        .unwrap();
    let h = last_header(&env);
    assert_eq!(h["alg"], "RS256");
    assert_eq!(h["x5t"], cred.x5t.as_str());
    assert!(!h.contains_key("x5t#S256"));
}

#[tokio::test]
async fn subject_name_issuer_auth_needs_x5c_and_a_trusted_subject() {
    let env = Env::start().await;
    register(
        &env,
        ClientSpec {
            trusted_subjects: vec!["sni.example".into()],
            ..Default::default()
        },
    );
    let trusted = credential("sni.example");
    let load = |c: &TestCredential| {
        ClientCertificate::from_pem(&c.certificate_pem, &c.private_key_pem).unwrap()
    };
    token(
        &env,
        ClientCredential::Certificate(load(&trusted).with_x5c(true)),
    )
    .await
    .unwrap();
    let h = last_header(&env);
    assert_eq!(h["x5c"].as_array().map(Vec::len), Some(1));

    // Without x5c the emulator cannot see the certificate: refused.
    let e = token(&env, ClientCredential::Certificate(load(&trusted)))
        .await
        .unwrap_err();
    assert_eq!(
        (e.kind, e.code.as_str()),
        (ErrorKind::Service, "invalid_client")
    );
    // A certificate with another subject: refused, even with x5c.
    let other = credential("someone-else.example");
    let e = token(
        &env,
        ClientCredential::Certificate(load(&other).with_x5c(true)),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code, "invalid_client");
    assert!(e.message.contains("subject"), "{}", e.message);
}

#[tokio::test]
async fn federated_token_file_is_read_before_each_request() {
    let env = Env::start().await;
    let admin = env.emu.admin();
    let subject = "system:serviceaccount:default:workload";
    register(
        &env,
        ClientSpec {
            federated_credentials: vec![FederatedCredentialSpec {
                issuer: admin.federation_issuer(),
                subject: subject.into(),
                ..Default::default()
            }],
            ..Default::default()
        },
    );
    let mint = |sub: &str, expires_in: i64| {
        admin
            .federated_token(FederatedTokenRequest {
                subject: sub.into(),
                expires_in: Some(expires_in),
                ..Default::default()
            })
            .unwrap()
            .token
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("azure-identity-token");
    let app = app(
        &env,
        ClientCredential::Provider(Arc::new(FederatedTokenFile::new(&path))),
    );
    let e = app
        .acquire_token_for_client(&[GRAPH_DEFAULT], None)
        .await
        .unwrap_err();
    assert_eq!(e.code, "client_assertion_unavailable");

    std::fs::write(&path, mint(subject, 3600)).unwrap();
    app.acquire_token_for_client(&[GRAPH_DEFAULT], None)
        .await
        .unwrap();
    assert_eq!(last_header(&env)["alg"], "RS256");

    // The platform rotates the file: the next request sends the new token,
    // and an expired or foreign one is refused by the emulator.
    let scope = format!("api://{CLIENT}/.default");
    std::fs::write(&path, mint(subject, -3600)).unwrap();
    let e = app
        .acquire_token_for_client(&[&scope], None)
        .await
        .unwrap_err();
    assert_eq!(e.code, "invalid_client");
    assert!(e.message.contains("700024"), "{}", e.message);
    std::fs::write(&path, mint("system:serviceaccount:other:pod", 3600)).unwrap();
    let e = app
        .acquire_token_for_client(&[&scope], None)
        .await
        .unwrap_err();
    assert!(e.message.contains("700213"), "{}", e.message);
    std::fs::write(&path, mint(subject, 3600)).unwrap();
    app.acquire_token_for_client(&[&scope], None).await.unwrap();
}
