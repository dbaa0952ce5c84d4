//! Time to first token on a well-known Microsoft cloud: idflow versus a bare
//! HTTP request of the same call, against the emulator treated as a known
//! cloud (`AppOptions::loopback_as_known_cloud`), side by side in one run, as
//! medians and their ratio. The same app without the switch (instance
//! discovery and the OpenID configuration before the token) is measured
//! alongside: what the first token cost before.
//!
//! `cargo bench -p idflow-testing --bench first_token_known_cloud`. Set
//! `IDFLOW_BENCH_ROUNDS` to change the number of rounds (default 400).
//! Loopback only; nothing to install.
//!
//! The bare request is the same call on the wire: the same form and the
//! same standard headers (`client-request-id`, `x-client-sku`, …).
//!
//! - cold: a fresh app versus a fresh HTTP client (new connection each).
//!   Both are built from TLS settings made once: idflow shares its default
//!   transport's settings within the process, and a bare `Client::new()`
//!   would read and parse the system's root certificates each time (≈ 3 ms
//!   of CPU outside the timing, which still evicts the timed request's code
//!   and data from the CPU's caches and made the bare side look slower).
//! - warm: the same app / client again; the app's token cache is emptied
//!   before each call (outside the timing) so that it sends the request.

#![allow(clippy::expect_used, clippy::panic)] // a benchmark that cannot run should stop loudly

use idflow::secret::ClientSecret;
use idflow::{AppOptions, Authority, ClientCredential, ConfidentialClientApplication};
use idflow_emulator::{
    Emulator, CONFIDENTIAL_CLIENT_ID, CONFIDENTIAL_CLIENT_SECRET, DEFAULT_TENANT,
};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SCOPE: &str = "https://graph.microsoft.com/.default";

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// The same request idflow sends: its form and its standard headers (a
/// fresh correlation id each time), posted straight to the token endpoint.
async fn bare(client: &reqwest::Client, url: &str) -> Duration {
    let start = Instant::now();
    let mut request = client.post(url);
    let correlation_id = uuid::Uuid::new_v4().to_string();
    for (name, value) in [
        ("client-request-id", correlation_id.as_str()),
        ("return-client-request-id", "true"),
        ("x-ms-lib-capability", "retry-after, h429"),
        ("x-client-sku", "idflow.rust"), // idflow's default SKU
        ("x-client-ver", env!("CARGO_PKG_VERSION")),
        ("x-client-os", std::env::consts::OS),
    ] {
        request = request.header(name, value);
    }
    let resp = request
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", CONFIDENTIAL_CLIENT_ID),
            ("client_secret", CONFIDENTIAL_CLIENT_SECRET),
            ("scope", SCOPE),
        ])
        .send()
        .await
        .expect("bare request");
    let body: serde_json::Value = resp.json().await.expect("json");
    assert!(
        body.get("access_token").is_some(),
        "bare request got no token"
    );
    start.elapsed()
}

async fn with_idflow(app: &ConfidentialClientApplication) -> Duration {
    // Empty the cache first so that the call sends its request.
    app.token_cache().deserialize("").expect("empty cache");
    let start = Instant::now();
    let r = app
        .acquire_token_for_client(&[SCOPE], None)
        .await
        .expect("idflow token");
    assert!(!r.access_token.expose().is_empty());
    start.elapsed()
}

/// TLS settings as idflow's default transport makes them (the platform's
/// verifier over the system's roots, HTTP/1.1), made once for the run.
fn tls_settings() -> rustls::ClientConfig {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier =
        rustls_platform_verifier::Verifier::new(provider.clone()).expect("the system's roots");
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(rustls::ALL_VERSIONS)
        .expect("TLS versions")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    config
}

fn bare_client(tls: &rustls::ClientConfig) -> reqwest::Client {
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls.clone())
        .build()
        .expect("client")
}

fn app(authority: &str, known_cloud: bool) -> ConfidentialClientApplication {
    ConfidentialClientApplication::new(
        CONFIDENTIAL_CLIENT_ID,
        Authority::parse(authority).expect("authority"),
        ClientCredential::Secret(ClientSecret::new(CONFIDENTIAL_CLIENT_SECRET)),
        AppOptions {
            loopback_as_known_cloud: known_cloud,
            ..AppOptions::default()
        },
    )
    .expect("app")
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let rounds: usize = std::env::var("IDFLOW_BENCH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(400);
    let emu = Emulator::builder()
        .port(0)
        .start()
        .await
        .expect("the emulator starts on 127.0.0.1");
    let authority = emu.authority(DEFAULT_TENANT);
    let url = emu.token_endpoint(DEFAULT_TENANT);
    let tls = tls_settings();

    // Warm the emulator and the allocator before measuring.
    for _ in 0..10 {
        bare(&bare_client(&tls), &url).await;
        with_idflow(&app(&authority, true)).await;
        with_idflow(&app(&authority, false)).await;
    }

    let mut t: [Vec<Duration>; 6] = Default::default();
    for round in 0..rounds {
        // Interleave, and rotate which side goes first, so that drift in
        // the emulator or the machine's load affects every side alike.
        for side in 0..3 {
            match (side + round) % 3 {
                0 => {
                    let client = bare_client(&tls);
                    t[0].push(bare(&client, &url).await);
                    t[1].push(bare(&client, &url).await);
                }
                1 => {
                    let known = app(&authority, true);
                    t[2].push(with_idflow(&known).await);
                    t[3].push(with_idflow(&known).await);
                }
                _ => {
                    let discovering = app(&authority, false);
                    t[4].push(with_idflow(&discovering).await);
                    t[5].push(with_idflow(&discovering).await);
                }
            }
        }
        emu.admin().clear_requests();
    }
    let [cold_bare, warm_bare, cold_known, warm_known, cold_disc, warm_disc] =
        t.map(|v| median(v).as_secs_f64() * 1e3);
    println!(
        "time to first token, client credentials, emulator on 127.0.0.1 as a known cloud, \
         {rounds} rounds (medians)"
    );
    for (name, b, k, d) in [
        ("cold", cold_bare, cold_known, cold_disc),
        ("warm", warm_bare, warm_known, warm_disc),
    ] {
        println!(
            "{name:5} bare {b:>7.3} ms   idflow {k:>7.3} ms (ratio {:.3})   \
             with discovery {d:>7.3} ms (ratio {:.3})",
            k / b,
            d / b
        );
    }
}
