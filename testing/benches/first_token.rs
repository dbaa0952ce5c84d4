//! Time to first token against the local OpenID provider (node-oidc-provider),
//! idflow versus a bare HTTP request for the same token, side by side in one
//! run, as medians and their ratio.
//!
//! `cargo bench -p idflow-testing --bench first_token` (after
//! `bash scripts/setup-node.sh`). Set `IDFLOW_BENCH_ROUNDS` to change the
//! number of rounds (default 60). Loopback only.
//!
//! - cold: a fresh app (idflow: OIDC discovery + token request) versus a fresh
//!   HTTP client posting straight to the token endpoint (which a bare request
//!   knows in advance; idflow has to discover it).
//! - warm: the same app / client again (idflow's discovery is cached).

#![allow(clippy::expect_used, clippy::panic)] // a benchmark that cannot run should stop loudly

use idflow::secret::ClientSecret;
use idflow::{AppOptions, Authority, ClientCredential, ConfidentialClientApplication};
use idflow_testing::{OidcOptions, OidcProvider};
use std::time::{Duration, Instant};

const SCOPE: &str = "api://idflow-test/read";

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

async fn bare(client: &reqwest::Client, url: &str, id: &str, secret: &str) -> Duration {
    let start = Instant::now();
    let resp = client
        .post(url)
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("client_secret", secret),
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
    let start = Instant::now();
    let r = app
        .acquire_token_for_client(&[SCOPE], None)
        .await
        .expect("idflow token");
    assert!(!r.access_token.expose().is_empty());
    start.elapsed()
}

fn app(p: &OidcProvider, id: &str, secret: &str) -> ConfidentialClientApplication {
    ConfidentialClientApplication::new(
        id,
        Authority::oidc(p.issuer()).expect("issuer"),
        ClientCredential::Secret(ClientSecret::new(secret)),
        AppOptions::default(),
    )
    .expect("app")
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let rounds: usize = std::env::var("IDFLOW_BENCH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let p =
        OidcProvider::start(OidcOptions::default()).expect("provider (run scripts/setup-node.sh)");
    let info = p.secret_post().clone();
    let (id, secret) = (
        info.client_id.clone(),
        info.client_secret.clone().expect("secret"),
    );
    let url = p.token_url();

    // Warm the provider (JIT, key generation) before measuring.
    for _ in 0..5 {
        bare(&reqwest::Client::new(), &url, &id, &secret).await;
        with_idflow(&app(&p, &id, &secret)).await;
    }

    let (mut cold_bare, mut cold_idflow, mut warm_bare, mut warm_idflow) =
        (vec![], vec![], vec![], vec![]);
    for _ in 0..rounds {
        // Alternate so drift in the provider affects both sides alike.
        let client = reqwest::Client::new();
        cold_bare.push(bare(&client, &url, &id, &secret).await);
        warm_bare.push(bare(&client, &url, &id, &secret).await);
        let a = app(&p, &id, &secret);
        cold_idflow.push(with_idflow(&a).await);
        warm_idflow.push(with_idflow(&a).await);
    }
    let report = |name: &str, b: Vec<Duration>, i: Vec<Duration>| {
        let (b, i) = (median(b), median(i));
        println!(
            "{name:5} bare {:>8.2} ms   idflow {:>8.2} ms   ratio {:.2}",
            b.as_secs_f64() * 1e3,
            i.as_secs_f64() * 1e3,
            i.as_secs_f64() / b.as_secs_f64()
        );
    };
    println!("time to first token, client credentials, node-oidc-provider on 127.0.0.1, {rounds} rounds (medians)");
    report("cold", cold_bare, cold_idflow);
    report("warm", warm_bare, warm_idflow);
}
