//! A 429 storm against one app: how many token requests reach the server
//! while it is asking clients to back off.
//!
//! `cargo bench -p idflow-testing --bench throttle_storm`
//! (`IDFLOW_STORM_CALLERS` sets the number of concurrent callers, default 100).
//!
//! The emulator answers every token request with HTTP 429, `Retry-After: 30`
//! (the `throttled_429` preset armed for every request). One app, real clock,
//! real sockets on 127.0.0.1. For each scenario: wave 1 is N concurrent
//! callers started together on a fresh app; wave 2 is N more concurrent
//! callers on the same app right after wave 1 returned (well inside the 30 s
//! window). Reported: token requests the server logged per wave, and how the
//! callers' errors split between the server's 429 (`service`) and the local
//! throttle (`throttled`).
//!
//! Scenarios:
//! - client credentials (`acquire_token_for_client`): the token cache's
//!   single-flight joins concurrent misses for the same scopes into one
//!   request, and the throttle answers whoever comes after it;
//! - refresh-token redemption (`acquire_token_by_refresh_token`, the same
//!   refresh token for every caller): no single-flight, so every wave-1 caller
//!   whose request left before the first 429 came back sends one; the
//!   throttle then blocks the rest.

#![allow(clippy::expect_used, clippy::panic, clippy::unwrap_used)] // a benchmark that cannot run should stop loudly

use idflow::secret::{ClientSecret, RefreshToken};
use idflow::{
    AppOptions, Authority, ClientCredential, ConfidentialClientApplication, ErrorKind, IdFlowError,
    PublicClientApplication,
};
use idflow_emulator::{
    Emulator, EmulatorHandle, Endpoint, PresetArm, CONFIDENTIAL_CLIENT_ID,
    CONFIDENTIAL_CLIENT_SECRET, DEFAULT_TENANT, PUBLIC_CLIENT_ID,
};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

const GRAPH_DEFAULT: &str = "https://graph.microsoft.com/.default";

struct Wave {
    requests: usize,
    service: usize,
    throttled: usize,
    other: usize,
    took: Duration,
}

fn token_requests(emu: &EmulatorHandle) -> usize {
    emu.admin()
        .requests(0)
        .iter()
        .filter(|r| r.endpoint == Endpoint::Token)
        .count()
}

async fn wave<F, Fut>(emu: &EmulatorHandle, callers: usize, call: F) -> Wave
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<(), IdFlowError>> + Send + 'static,
{
    let before = token_requests(emu);
    let barrier = Arc::new(tokio::sync::Barrier::new(callers));
    let started = Instant::now();
    let tasks: Vec<_> = (0..callers)
        .map(|_| {
            let fut = call();
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                fut.await
            })
        })
        .collect();
    let mut w = Wave {
        requests: 0,
        service: 0,
        throttled: 0,
        other: 0,
        took: Duration::ZERO,
    };
    for t in tasks {
        match t.await.expect("caller task") {
            Err(e) if e.kind == ErrorKind::Service && e.http_status() == Some(429) => {
                w.service += 1
            }
            Err(e) if e.kind == ErrorKind::Throttled => w.throttled += 1,
            _ => w.other += 1,
        }
    }
    w.took = started.elapsed();
    w.requests = token_requests(emu) - before;
    w
}

fn report(scenario: &str, n: usize, waves: &[Wave]) {
    for (i, w) in waves.iter().enumerate() {
        println!(
            "{scenario}: wave {} ({n} concurrent callers): {} token requests reached the server; \
             callers saw {} x 429 from the server, {} x throttled locally, {} other; {:.0} ms",
            i + 1,
            w.requests,
            w.service,
            w.throttled,
            w.other,
            w.took.as_secs_f64() * 1000.0
        );
    }
}

async fn storm_emulator() -> EmulatorHandle {
    let emu = Emulator::builder().port(0).start().await.expect("emulator");
    emu.admin()
        .arm_preset(
            "throttled_429",
            PresetArm {
                count: Some(serde_json::Value::Null),
                ..PresetArm::default()
            },
        )
        .expect("arm the storm");
    emu
}

fn main() {
    let callers: usize = std::env::var("IDFLOW_STORM_CALLERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        // Client credentials.
        let emu = storm_emulator().await;
        let authority = Authority::parse(&emu.authority(DEFAULT_TENANT)).unwrap();
        let app = ConfidentialClientApplication::new(
            CONFIDENTIAL_CLIENT_ID,
            authority.clone(),
            ClientCredential::Secret(ClientSecret::new(CONFIDENTIAL_CLIENT_SECRET)),
            AppOptions::default(),
        )
        .unwrap();
        app.resolve_authority().await.unwrap();
        let call = || {
            let app = app.clone();
            async move {
                app.acquire_token_for_client(&[GRAPH_DEFAULT], None)
                    .await
                    .map(|_| ())
            }
        };
        let w1 = wave(&emu, callers, call).await;
        let w2 = wave(&emu, callers, call).await;
        report("client credentials", callers, &[w1, w2]);
        emu.shutdown().await;

        // The same refresh token redeemed by every caller.
        let emu = storm_emulator().await;
        let authority = Authority::parse(&emu.authority(DEFAULT_TENANT)).unwrap();
        let app = PublicClientApplication::new(PUBLIC_CLIENT_ID, authority, AppOptions::default())
            .unwrap();
        app.resolve_authority().await.unwrap();
        let rt_value = RefreshToken::new("storm-refresh-token");
        let call = || {
            let app = app.clone();
            let rt_value = rt_value.clone();
            async move {
                app.acquire_token_by_refresh_token(&rt_value, &["User.Read"], None)
                    .await
                    .map(|_| ())
            }
        };
        let w1 = wave(&emu, callers, call).await;
        let w2 = wave(&emu, callers, call).await;
        report("refresh token", callers, &[w1, w2]);
        emu.shutdown().await;
    });
}
