//! The default client's proxy routing against real loopback sockets: with
//! msal's `proxies` map the request line reaches the proxy in absolute form
//! (the proxy forwards it), a `no_proxy` host goes straight to the server,
//! and a refusing proxy is the network failure the app must see. The
//! environment is never read here (`from_environment: false`): the rules for
//! `HTTPS_PROXY` / `NO_PROXY` are unit-tested in `net/proxy.rs` and driven
//! through a real forward proxy by the language suites.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failed assertion in a test should panic

use idflow::error::NetworkKind;
use idflow::{HttpClient, HttpConfig, HttpRequest, ProxyConfig, ReqwestHttpClient};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use url::Url;

/// A server that answers every request 200 and records its request lines.
async fn recorder() -> (SocketAddr, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let lines = Arc::new(Mutex::new(Vec::new()));
    let seen = lines.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && head.len() < 16 * 1024 {
                    if stream.read(&mut byte).await.unwrap_or(0) == 0 {
                        return;
                    }
                    head.push(byte[0]);
                }
                let text = String::from_utf8_lossy(&head).into_owned();
                seen.lock()
                    .unwrap()
                    .push(text.lines().next().unwrap_or("").to_owned());
                let _ = stream
                    .write_all(
                        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}",
                    )
                    .await;
            });
        }
    });
    (addr, lines)
}

fn client(proxies: &[(&str, String)]) -> ReqwestHttpClient {
    let config = HttpConfig {
        proxy: ProxyConfig {
            proxies: proxies
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect(),
            from_environment: false,
        },
        ..HttpConfig::default()
    };
    ReqwestHttpClient::new(&config).unwrap()
}

#[tokio::test]
async fn proxies_map_routes_through_the_proxy_and_no_proxy_bypasses_it() {
    let (server, at_server) = recorder().await;
    let (proxy, at_proxy) = recorder().await;
    let url = Url::parse(&format!("http://{server}/t/oauth2/v2.0/token")).unwrap();

    let through = client(&[("http", format!("http://{proxy}"))]);
    let answer = through.send(HttpRequest::get(url.clone())).await.unwrap();
    assert_eq!(answer.status, 200);
    assert_eq!(
        at_proxy.lock().unwrap().as_slice(),
        [format!("GET http://{server}/t/oauth2/v2.0/token HTTP/1.1")]
    );
    assert!(at_server.lock().unwrap().is_empty());

    let bypass = client(&[
        ("http", format!("http://{proxy}")),
        ("no_proxy", "127.0.0.1".to_owned()),
    ]);
    bypass.send(HttpRequest::get(url)).await.unwrap();
    assert_eq!(
        at_server.lock().unwrap().as_slice(),
        ["GET /t/oauth2/v2.0/token HTTP/1.1"]
    );
    assert_eq!(at_proxy.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_refusing_proxy_is_connection_refused() {
    let (server, at_server) = recorder().await;
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let url = Url::parse(&format!("http://{server}/t")).unwrap();
    let e = client(&[("all", format!("127.0.0.1:{port}"))])
        .send(HttpRequest::get(url))
        .await
        .unwrap_err();
    assert_eq!(e.kind, NetworkKind::ConnectionRefused, "{e:?}");
    assert!(at_server.lock().unwrap().is_empty());
}
