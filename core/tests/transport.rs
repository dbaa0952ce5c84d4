//! The default HTTP client against real loopback sockets: every transport
//! failure maps to its `NetworkKind`, bodies are capped, redirects are not
//! followed, self-signed TLS works only when trusted, and the standard
//! headers reach the server. Everything stays on 127.0.0.1 and is bounded.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failed assertion in a test should panic

use idflow::error::{classify, Flow, NetworkKind, MAX_ERROR_BODY_BYTES};
use idflow::{HttpClient, HttpRequest};
use idflow::{HttpConfig, ReqwestHttpClient};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use url::Url;

fn client(timeout: Duration) -> ReqwestHttpClient {
    let config = HttpConfig {
        connect_timeout: Duration::from_secs(2),
        timeout,
        ..HttpConfig::default()
    };
    ReqwestHttpClient::new(&config).unwrap()
}

/// Serves each accepted connection with `handler` until the test ends.
async fn server<F, Fut>(handler: F) -> SocketAddr
where
    F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(handler(stream));
        }
    });
    addr
}

/// Reads a request head (and nothing more) and returns it.
async fn read_head(stream: &mut TcpStream) -> String {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") && buf.len() < 64 * 1024 {
        if stream.read(&mut byte).await.unwrap_or(0) == 0 {
            break;
        }
        buf.push(byte[0]);
    }
    String::from_utf8_lossy(&buf).into_owned()
}

fn get(addr: SocketAddr, scheme: &str) -> HttpRequest {
    HttpRequest::get(Url::parse(&format!("{scheme}://{addr}/x")).unwrap())
}

async fn failure(client: &ReqwestHttpClient, request: HttpRequest) -> NetworkKind {
    let started = std::time::Instant::now();
    let e = client.send(request).await.expect_err("a transport failure");
    assert!(started.elapsed() < Duration::from_secs(10), "bounded");
    assert!(!e.detail.is_empty());
    e.kind
}

#[tokio::test]
async fn closed_port_is_connection_refused() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let kind = failure(&client(Duration::from_secs(5)), get(addr, "http")).await;
    assert_eq!(kind, NetworkKind::ConnectionRefused);
    let e = idflow::TransportError::new(kind, "x").into_error();
    assert_eq!(e.code, "cannot_connect_to_host");
}

#[tokio::test]
async fn silent_server_is_a_timeout() {
    let addr = server(|mut s| async move {
        read_head(&mut s).await;
        tokio::time::sleep(Duration::from_secs(30)).await;
    })
    .await;
    let kind = failure(&client(Duration::from_millis(300)), get(addr, "http")).await;
    assert_eq!(kind, NetworkKind::Timeout);
}

#[tokio::test]
async fn reset_mid_body_is_connection_lost() {
    let addr = server(|mut s| async move {
        read_head(&mut s).await;
        let _ = s
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n{\"access_tok")
            .await;
        let _ = s.flush().await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        let _ = s.set_zero_linger();
        drop(s); // RST, not FIN
    })
    .await;
    let kind = failure(&client(Duration::from_secs(5)), get(addr, "http")).await;
    assert_eq!(kind, NetworkKind::ConnectionLost);
}

#[tokio::test]
async fn early_close_mid_body_is_connection_lost() {
    let addr = server(|mut s| async move {
        read_head(&mut s).await;
        let _ = s
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n{\"partial")
            .await;
        let _ = s.shutdown().await;
    })
    .await;
    let kind = failure(&client(Duration::from_secs(5)), get(addr, "http")).await;
    assert_eq!(kind, NetworkKind::ConnectionLost);
}

#[tokio::test]
async fn closed_before_any_answer_is_connection_lost() {
    let addr = server(|mut s| async move {
        read_head(&mut s).await;
        drop(s);
    })
    .await;
    let kind = failure(&client(Duration::from_secs(5)), get(addr, "http")).await;
    assert_eq!(kind, NetworkKind::ConnectionLost);
}

#[tokio::test]
async fn https_to_a_plain_http_server_is_tls() {
    let addr = server(|mut s| async move {
        let _ = s
            .write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            .await;
        tokio::time::sleep(Duration::from_millis(200)).await;
    })
    .await;
    let kind = failure(&client(Duration::from_secs(5)), get(addr, "https")).await;
    assert_eq!(kind, NetworkKind::Tls);
}

/// A TLS server with a fresh self-signed certificate for 127.0.0.1; returns
/// its address and the certificate's PEM.
async fn tls_server() -> (SocketAddr, String) {
    use tokio_rustls::rustls;
    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
    let pem = cert.cert.pem();
    let chain = vec![cert.cert.der().clone()];
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(cert.signing_key.serialize_der().into());
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let addr = server(move |s| {
        let acceptor = acceptor.clone();
        async move {
            let Ok(mut tls) = acceptor.accept(s).await else {
                return;
            };
            let mut buf = [0u8; 4096];
            let _ = tls.read(&mut buf).await;
            let body = b"{\"ok\":true}";
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = tls.write_all(head.as_bytes()).await;
            let _ = tls.write_all(body).await;
            let _ = tls.shutdown().await;
        }
    })
    .await;
    (addr, pem)
}

#[tokio::test]
async fn self_signed_tls_is_refused_unless_trusted() {
    let (addr, pem) = tls_server().await;
    let kind = failure(&client(Duration::from_secs(5)), get(addr, "https")).await;
    assert_eq!(kind, NetworkKind::Tls);

    let config = HttpConfig {
        extra_root_certificates: vec![pem.into_bytes()],
        ..HttpConfig::default()
    };
    let trusted = ReqwestHttpClient::new(&config).unwrap();
    let response = trusted.send(get(addr, "https")).await.unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(response.body, b"{\"ok\":true}");
}

#[derive(Debug)]
struct NoDns;

impl reqwest::dns::Resolve for NoDns {
    fn resolve(&self, _: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(async {
            let e: Box<dyn std::error::Error + Send + Sync> = "no such host".into();
            Err(e)
        })
    }
}

#[tokio::test]
async fn unresolvable_host_is_dns() {
    // A resolver that fails, so no query ever leaves the machine.
    let reqwest_client = reqwest::Client::builder()
        .dns_resolver(Arc::new(NoDns))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let client = ReqwestHttpClient::from_client(reqwest_client);
    let request = HttpRequest::get(Url::parse("https://login.invalid/common").unwrap());
    assert_eq!(failure(&client, request).await, NetworkKind::Dns);
}

#[tokio::test]
async fn oversized_bodies_stop_at_the_cap() {
    let addr = server(|mut s| async move {
        read_head(&mut s).await;
        let size = MAX_ERROR_BODY_BYTES * 4;
        let head = format!("HTTP/1.1 502 Bad Gateway\r\nContent-Length: {size}\r\n\r\n");
        let _ = s.write_all(head.as_bytes()).await;
        let chunk = vec![b'x'; 64 * 1024];
        for _ in 0..(size / chunk.len()) {
            if s.write_all(&chunk).await.is_err() {
                return; // the client stopped reading: expected
            }
        }
    })
    .await;
    let response = client(Duration::from_secs(5))
        .send(get(addr, "http"))
        .await
        .unwrap();
    assert_eq!(response.body.len(), MAX_ERROR_BODY_BYTES + 1);
    let e = classify(&response, Flow::Token).error.unwrap();
    assert_eq!(e.code, "service_not_available");
    assert!(e.message.contains("body over"), "{}", e.message);
}

#[tokio::test]
async fn redirects_are_returned_not_followed() {
    let addr = server(|mut s| async move {
        read_head(&mut s).await;
        let _ = s
            .write_all(b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:1/elsewhere\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            .await;
    })
    .await;
    let response = client(Duration::from_secs(5))
        .send(get(addr, "http"))
        .await
        .unwrap();
    assert_eq!(response.status, 302);
    assert_eq!(
        response.header("location"),
        Some("http://127.0.0.1:1/elsewhere")
    );
}

#[tokio::test]
async fn standard_headers_and_form_reach_the_server() {
    let (tx, rx) = tokio::sync::oneshot::channel::<String>();
    let tx = Arc::new(std::sync::Mutex::new(Some(tx)));
    let addr = server(move |mut s| {
        let tx = tx.clone();
        async move {
            let head = read_head(&mut s).await;
            let mut body = vec![0u8; 256];
            let n = s.read(&mut body).await.unwrap_or(0);
            let seen = format!("{head}{}", String::from_utf8_lossy(&body[..n]));
            if let Some(tx) = tx.lock().unwrap().take() {
                let _ = tx.send(seen);
            }
            let _ = s
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
                .await;
        }
    })
    .await;
    let time = idflow::ManualTime::starting_now();
    let sender = idflow::Sender {
        http: Arc::new(client(Duration::from_secs(5))),
        clock: Arc::new(time.clone()),
        sleeper: Arc::new(time),
        sku: "idflow.test".into(),
        version: "9.9".into(),
        retry: idflow::RetryPolicy::default(),
    };
    let url = Url::parse(&format!("http://{addr}/t/oauth2/v2.0/token")).unwrap();
    let form = vec![
        ("grant_type".to_owned(), "client_credentials".to_owned()),
        ("scope".to_owned(), "a b/.default".to_owned()),
    ];
    let exchange = sender
        .exchange(HttpRequest::post_form(url, form))
        .await
        .unwrap();
    let seen = rx.await.unwrap().to_ascii_lowercase();
    assert!(
        seen.starts_with("post /t/oauth2/v2.0/token http/1.1"),
        "{seen}"
    );
    for header in [
        format!("client-request-id: {}", exchange.correlation_id),
        "return-client-request-id: true".to_owned(),
        "x-ms-lib-capability: retry-after, h429".to_owned(),
        "x-client-sku: idflow.test".to_owned(),
        "x-client-ver: 9.9".to_owned(),
        "content-type: application/x-www-form-urlencoded".to_owned(),
    ] {
        assert!(seen.contains(&header), "{header} missing from {seen}");
    }
    assert!(
        seen.ends_with("grant_type=client_credentials&scope=a+b%2f.default"),
        "{seen}"
    );
}
