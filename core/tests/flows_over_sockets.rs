//! The apps with their default HTTP client against a small scripted identity
//! provider on 127.0.0.1: what an end-to-end test needs (an authority URL, a
//! client id, optionally a trusted root certificate) is enough, over http on
//! loopback and over self-signed https. The real emulator and
//! node-oidc-provider suites build on the same entry points.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failed assertion in a test should panic

use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::RsaKeyPair;
use idflow::error::ErrorKind;
use idflow::jwt::{self, RsaAlg};
use idflow::ManualTime;
use idflow::{AppOptions, Authority, CancelHandle, ClientCredential};
use idflow::{ConfidentialClientApplication, PublicClientApplication};
use serde_json::{json, Map, Value};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Answers by path: a queue of (status, JSON) per path, the last repeating.
type Routes = Arc<Mutex<Vec<(String, VecDeque<(u16, Value)>)>>>;

fn route(routes: &Routes, path: &str, status: u16, body: Value) {
    let mut r = routes.lock().unwrap();
    match r.iter_mut().find(|(p, _)| p == path) {
        Some((_, q)) => q.push_back((status, body)),
        None => r.push((path.to_owned(), VecDeque::from([(status, body)]))),
    }
}

/// Reads one request; returns its path and `client-request-id`.
async fn read_request<S: AsyncReadExt + Unpin>(s: &mut S) -> (String, String) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = s.read(&mut chunk).await.unwrap_or(0);
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf).to_string();
        if let Some(end) = text.find("\r\n\r\n") {
            let head = text[..end].to_ascii_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse::<usize>().unwrap());
            if n == 0 || buf.len() >= end + 4 + len {
                let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
                let path = path.split('?').next().unwrap().to_owned();
                let id = head
                    .lines()
                    .find_map(|l| l.strip_prefix("client-request-id:"))
                    .unwrap_or("")
                    .trim()
                    .to_owned();
                return (path, id);
            }
        }
        if n == 0 {
            return ("/".into(), String::new());
        }
    }
}

async fn answer<S: AsyncReadExt + AsyncWriteExt + Unpin>(mut s: S, routes: Routes) {
    let (path, id) = read_request(&mut s).await;
    let (status, body) = {
        let mut r = routes.lock().unwrap();
        match r.iter_mut().find(|(p, _)| *p == path) {
            Some((_, q)) if q.len() > 1 => q.pop_front().unwrap(),
            Some((_, q)) => q.front().cloned().unwrap(),
            None => (404, json!({})),
        }
    };
    let body = body.to_string();
    let head = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nclient-request-id: {id}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = s.write_all(head.as_bytes()).await;
    let _ = s.write_all(body.as_bytes()).await;
    let _ = s.shutdown().await;
}

async fn serve(routes: Routes, tls: Option<tokio_rustls::TlsAcceptor>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((s, _)) = listener.accept().await {
            let (routes, tls) = (routes.clone(), tls.clone());
            tokio::spawn(async move {
                match tls {
                    Some(acceptor) => {
                        if let Ok(t) = acceptor.accept(s).await {
                            answer(t, routes).await;
                        }
                    }
                    None => answer::<TcpStream>(s, routes).await,
                }
            });
        }
    });
    addr
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn id_token(key: &RsaKeyPair, claims: Value) -> String {
    let mut header = Map::new();
    header.insert("kid".into(), "k1".into());
    jwt::sign(key, RsaAlg::Rs256, header, claims.as_object().unwrap()).unwrap()
}

#[tokio::test]
async fn device_code_against_a_microsoft_style_authority_on_http_loopback() {
    let key = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
    let routes: Routes = Arc::default();
    let addr = serve(routes.clone(), None).await;
    let base = format!("http://{addr}/common");
    // Authority validation is on: a loopback Microsoft-style authority is
    // its own instance discovery, and it must vouch for the host.
    route(
        &routes,
        "/common/discovery/instance",
        200,
        json!({
            "tenant_discovery_endpoint": format!("{base}/v2.0/.well-known/openid-configuration"),
            "api-version": "1.1",
            "metadata": [{"preferred_network": addr.to_string(), "preferred_cache": addr.to_string(), "aliases": [addr.to_string()]}],
        }),
    );
    route(
        &routes,
        "/common/v2.0/.well-known/openid-configuration",
        200,
        json!({
            "issuer": format!("http://{addr}/{{tenantid}}/v2.0"),
            "authorization_endpoint": format!("{base}/oauth2/v2.0/authorize"),
            "token_endpoint": format!("{base}/oauth2/v2.0/token"),
            "device_authorization_endpoint": format!("{base}/oauth2/v2.0/devicecode"),
            "jwks_uri": format!("{base}/discovery/v2.0/keys"),
        }),
    );
    route(
        &routes,
        "/common/discovery/v2.0/keys",
        200,
        json!({"keys": [jwt::rsa_public_jwk(&key, Some("k1"))]}),
    );
    route(
        &routes,
        "/common/oauth2/v2.0/devicecode",
        200,
        json!({
            "device_code": "dc", "user_code": "UC", "verification_uri": format!("http://{addr}/device"),
            "expires_in": 900, "interval": 5, "message": "Enter UC"
        }),
    );
    route(
        &routes,
        "/common/oauth2/v2.0/token",
        400,
        json!({"error": "authorization_pending"}),
    );
    let claims = json!({"iss": format!("http://{addr}/tid-1/v2.0"), "aud": "client-1", "sub": "s", "tid": "tid-1",
        "preferred_username": "u@x", "iat": now(), "exp": now() + 3600});
    let client_info = jwt::b64url(br#"{"uid":"uid","utid":"tid-1"}"#);
    route(
        &routes,
        "/common/oauth2/v2.0/token",
        200,
        json!({
            "access_token": "at", "token_type": "Bearer", "expires_in": 3600, "refresh_token": "rt",
            "id_token": id_token(&key, claims), "client_info": client_info, "scope": "User.Read"
        }),
    );

    let time = ManualTime::starting_now();
    let options = AppOptions::default().with_manual_time(time.clone());
    let app = PublicClientApplication::new("client-1", Authority::parse(&base).unwrap(), options)
        .unwrap();
    let flow = app
        .initiate_device_flow(&["User.Read"], None)
        .await
        .unwrap();
    assert_eq!(flow.message, "Enter UC");
    let r = app
        .acquire_token_by_device_flow(&flow, &CancelHandle::new())
        .await
        .unwrap();
    assert_eq!(r.access_token.expose(), "at");
    let account = r.account.unwrap();
    assert_eq!(account.home_account_id, "uid.tid-1");
    // The cache's environment is the host name without the port, as msal writes it.
    assert_eq!(account.environment, addr.ip().to_string());
    assert_eq!(time.sleeps().len(), 1, "one pending answer, one wait");
}

#[tokio::test]
async fn oidc_provider_over_self_signed_https() {
    use tokio_rustls::rustls;
    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(cert.signing_key.serialize_der().into());
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.cert.der().clone()], key)
        .unwrap();
    let routes: Routes = Arc::default();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let addr = serve(routes.clone(), Some(acceptor)).await;
    let issuer = format!("https://{addr}/tenant");
    route(
        &routes,
        "/tenant/.well-known/openid-configuration",
        200,
        json!({
            "issuer": issuer, "authorization_endpoint": format!("{issuer}/auth"),
            "token_endpoint": format!("{issuer}/token"), "jwks_uri": format!("{issuer}/jwks"),
        }),
    );
    route(
        &routes,
        "/tenant/token",
        401,
        json!({"error": "invalid_client", "error_description": "client authentication failed"}),
    );

    let options = AppOptions::default().with_extra_root_certificate(cert.cert.pem());
    let app = ConfidentialClientApplication::new(
        "confidential",
        Authority::oidc(&issuer).unwrap(),
        ClientCredential::SecretBasic("wrong".into()),
        options,
    )
    .unwrap();
    let e = app
        .acquire_token_for_client(&["api:read"], None)
        .await
        .unwrap_err();
    assert_eq!(
        (e.kind, e.code.as_str(), e.http_status()),
        (ErrorKind::Service, "invalid_client", Some(401))
    );
    assert!(
        e.correlation_id.as_deref().is_some_and(|id| id.len() == 36),
        "{e:?}"
    );

    // Without the root, the same call is a TLS failure.
    let untrusted = ConfidentialClientApplication::new(
        "confidential",
        Authority::oidc(&issuer).unwrap(),
        ClientCredential::Secret("s".into()),
        AppOptions::default(),
    )
    .unwrap();
    let e = untrusted
        .acquire_token_for_client(&["api:read"], None)
        .await
        .unwrap_err();
    assert_eq!(
        (e.kind, e.code.as_str()),
        (ErrorKind::Network, "tls_failure")
    );
}
