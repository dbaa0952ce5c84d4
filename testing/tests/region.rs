//! Client credentials through an Azure region, end to end against the
//! emulator over real HTTP on 127.0.0.1. The app authenticates against
//! `https://login.microsoftonline.com/<tenant>`; its HTTP client (reqwest,
//! wrapped) sends that host, the regional `*.login.microsoft.com` hosts and
//! the VM metadata address to the emulator, and records every URL the app
//! asked for: the regional endpoint is used when a region is named or
//! detected, and the global one, silently, when detection finds nothing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failed assertion in a test should panic

use idflow::error::HttpResponse;
use idflow::{
    AppOptions, Authority, AzureRegion, BoxFuture, ConfidentialClientApplication, HttpClient,
    HttpConfig, HttpRequest, Method, RegionEnvironment, ReqwestHttpClient, TransportError,
    IMDS_REGION_ENDPOINT,
};
use idflow_emulator::{Endpoint, CONFIDENTIAL_CLIENT_ID, DEFAULT_TENANT};
use idflow_testing::emulator::{header, EmulatorEnv as Env};
use std::sync::{Arc, Mutex};

const GRAPH_DEFAULT: &str = "https://graph.microsoft.com/.default";

/// reqwest with the Microsoft hosts (and IMDS) sent to `base`.
#[derive(Debug)]
struct ToEmulator {
    inner: ReqwestHttpClient,
    base: String,
    imds: String,
    asked: Mutex<Vec<(Method, String)>>,
}

impl ToEmulator {
    fn new(base: &str, imds: &str) -> Arc<Self> {
        Arc::new(ToEmulator {
            inner: ReqwestHttpClient::new(&HttpConfig::default()).unwrap(),
            base: base.trim_end_matches('/').to_owned(),
            imds: imds.to_owned(),
            asked: Mutex::new(Vec::new()),
        })
    }

    fn asked(&self, method: Method) -> Vec<String> {
        let asked = self.asked.lock().unwrap();
        asked
            .iter()
            .filter(|(m, _)| *m == method)
            .map(|(_, u)| u.clone())
            .collect()
    }
}

impl HttpClient for ToEmulator {
    fn send(
        &self,
        mut request: HttpRequest,
    ) -> BoxFuture<'_, Result<HttpResponse, TransportError>> {
        let url = request.url.to_string();
        self.asked
            .lock()
            .unwrap()
            .push((request.method, url.clone()));
        let host = request.url.host_str().unwrap_or("").to_owned();
        let to = if host == "169.254.169.254" {
            self.imds.clone()
        } else if host == "login.microsoftonline.com" || host.ends_with(".login.microsoft.com") {
            self.base.clone()
        } else {
            String::new()
        };
        if !to.is_empty() {
            let origin = format!("{}://{}", request.url.scheme(), host);
            request.url = url::Url::parse(&url.replacen(&origin, &to, 1)).unwrap();
        }
        self.inner.send(request)
    }
}

fn app(
    http: &Arc<ToEmulator>,
    region: Option<AzureRegion>,
    environment: RegionEnvironment,
) -> ConfidentialClientApplication {
    let options = AppOptions {
        azure_region: region,
        region_environment: environment,
        app_name: Some("region-e2e".into()),
        // Real time: the IMDS wait is a real 2 s bound here.
        ..AppOptions::default()
    }
    .with_http_client(http.clone());
    ConfidentialClientApplication::new(
        CONFIDENTIAL_CLIENT_ID,
        Authority::parse(&format!(
            "https://login.microsoftonline.com/{DEFAULT_TENANT}"
        ))
        .unwrap(),
        Env::secret(),
        options,
    )
    .unwrap()
}

fn token_url(host: &str) -> String {
    format!("https://{host}/{DEFAULT_TENANT}/oauth2/v2.0/token")
}

#[tokio::test]
async fn a_named_region_is_used_and_the_cache_keeps_the_global_host() {
    let env = Env::start().await;
    let http = ToEmulator::new(env.emu.base_url(), "http://127.0.0.1:1");
    let app = app(
        &http,
        Some(AzureRegion::Named("westus2".into())),
        RegionEnvironment::empty(),
    );
    app.acquire_token_for_client(&[GRAPH_DEFAULT], None)
        .await
        .unwrap();
    assert_eq!(
        http.asked(Method::Post),
        vec![token_url("westus2.login.microsoft.com")]
    );
    assert!(
        http.asked(Method::Get).is_empty(),
        "no detection, no discovery"
    );
    let rec = env.last(Endpoint::Token);
    assert_eq!(header(&rec, "x-app-name"), Some("region-e2e"));
    let cache: serde_json::Value = serde_json::from_str(&app.token_cache().serialize()).unwrap();
    let at = cache["AccessToken"]
        .as_object()
        .unwrap()
        .values()
        .next()
        .unwrap();
    assert_eq!(at["environment"], "login.microsoftonline.com");
}

#[tokio::test]
async fn detection_without_an_answer_uses_the_global_endpoint() {
    let env = Env::start().await;
    // IMDS is the emulator (it serves no compute metadata: 404), then a closed port.
    for imds in [
        env.emu.base_url().to_owned(),
        "http://127.0.0.1:1".to_owned(),
    ] {
        let http = ToEmulator::new(env.emu.base_url(), &imds);
        let app = app(
            &http,
            Some(AzureRegion::AutoDetect),
            RegionEnvironment::empty(),
        );
        app.acquire_token_for_client(&[GRAPH_DEFAULT], None)
            .await
            .unwrap();
        assert_eq!(http.asked(Method::Get), vec![IMDS_REGION_ENDPOINT]);
        assert_eq!(
            http.asked(Method::Post),
            vec![token_url("login.microsoftonline.com")]
        );
    }
}

#[tokio::test]
async fn region_name_from_the_environment_is_used_without_imds() {
    let env = Env::start().await;
    let http = ToEmulator::new(env.emu.base_url(), "http://127.0.0.1:1");
    let environment = RegionEnvironment {
        region_name: Some("centralus".into()),
        ..RegionEnvironment::empty()
    };
    let app = app(&http, Some(AzureRegion::AutoDetect), environment);
    app.acquire_token_for_client(&[GRAPH_DEFAULT], None)
        .await
        .unwrap();
    assert!(http.asked(Method::Get).is_empty());
    assert_eq!(
        http.asked(Method::Post),
        vec![token_url("centralus.login.microsoft.com")]
    );
}

/// A stand-in for the VM metadata service on loopback: answers every
/// request with this compute document (one connection at a time).
async fn imds_answering(location: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let body = serde_json::json!({ "location": location, "name": "vm" }).to_string();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buf = [0u8; 4096];
            let _ = socket.read(&mut buf).await;
            let reply = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = socket.write_all(reply.as_bytes()).await;
        }
    });
    format!("http://{address}")
}

#[tokio::test]
async fn the_region_imds_names_is_used_and_asked_once() {
    let env = Env::start().await;
    let http = ToEmulator::new(env.emu.base_url(), &imds_answering("eastus2").await);
    let app = app(
        &http,
        Some(AzureRegion::AutoDetect),
        RegionEnvironment::empty(),
    );
    app.acquire_token_for_client(&[GRAPH_DEFAULT], None)
        .await
        .unwrap();
    // A claims request skips the cache: a second token request, no second detection.
    app.acquire_token_for_client(&[GRAPH_DEFAULT], Some(r#"{"access_token":{}}"#))
        .await
        .unwrap();
    assert_eq!(http.asked(Method::Get), vec![IMDS_REGION_ENDPOINT]);
    assert_eq!(
        http.asked(Method::Post),
        vec![token_url("eastus2.login.microsoft.com"); 2]
    );
}
