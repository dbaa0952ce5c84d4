//! The per-call cost of a silent cache hit in Rust, called directly: the
//! baseline of the Swift binding's figure (`bench/swift_hit.sh` runs both
//! and prints the ratio).
//!
//! `cargo run --release -p idflow-testing --example silent_hit_bench [USERS] [CACHE_OUT]`:
//! builds msal's cache JSON for USERS users (default 10,000; access, refresh
//! and id token and account each), writes it to CACHE_OUT when given (the
//! Swift benchmark loads the same file), loads it, and prints the median
//! per-call time in nanoseconds of
//!
//! - `rust_cached_token`: `PublicClientApplication::cached_token` (the
//!   synchronous lookup behind the bindings' prepared probes),
//! - `rust_acquire_token_silent`: `acquire_token_silent` awaited on a
//!   current-thread runtime (the full async call).

#![allow(clippy::expect_used)] // a benchmark that cannot run should stop loudly

use base64::Engine as _;
use idflow::{AppOptions, Authority, PublicClientApplication};
use std::time::Instant;

const HOST: &str = "login.microsoftonline.com";
const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT: &str = "5f3b8c1e-7d2a-4e6b-9c0d-1a2b3c4d5e10";
const SCOPE: &str = "https://graph.microsoft.com/User.Read";

fn uid(n: usize) -> String {
    format!("{n:08x}-0000-4000-8000-{n:012x}")
}

/// msal's cache JSON for `users` users, as `bench/jvm`'s `CacheJson` writes it.
fn cache_json(users: usize) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let secret = |kind: &str, n: usize| {
        let mut s = format!("{kind}.{n}.");
        while s.len() < 600 {
            s.push_str("eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9");
        }
        s
    };
    let (mut at, mut rt, mut idt, mut acc) = (vec![], vec![], vec![], vec![]);
    for n in 0..users {
        let home = format!("{}.{TENANT}", uid(n));
        let claims = serde_json::json!({
            "aud": CLIENT, "iss": format!("https://{HOST}/{TENANT}/v2.0"), "iat": now, "nbf": now,
            "exp": now + 3600, "name": format!("User {n}"), "oid": uid(n),
            "preferred_username": format!("user{n}@contoso.com"), "sub": format!("sub-{n}"),
            "tid": TENANT, "ver": "2.0",
        });
        let id_token = format!(
            "{}.{}.",
            b64(r#"{"alg":"none","typ":"JWT"}"#),
            b64(&claims.to_string())
        );
        let target = SCOPE.to_lowercase();
        at.push((
            format!("{home}-{HOST}-accesstoken-{CLIENT}-{TENANT}-{target}"),
            serde_json::json!({"credential_type": "AccessToken", "secret": secret("at", n),
                "home_account_id": home, "environment": HOST, "client_id": CLIENT, "target": SCOPE,
                "realm": TENANT, "token_type": "Bearer", "cached_at": now.to_string(),
                "expires_on": (now + 3600).to_string(), "extended_expires_on": (now + 7200).to_string()}),
        ));
        rt.push((
            format!("{home}-{HOST}-refreshtoken-{CLIENT}--"),
            serde_json::json!({"credential_type": "RefreshToken", "secret": secret("rt", n),
                "home_account_id": home, "environment": HOST, "client_id": CLIENT}),
        ));
        idt.push((
            format!("{home}-{HOST}-idtoken-{CLIENT}-{TENANT}-"),
            serde_json::json!({"credential_type": "IdToken", "secret": id_token,
                "home_account_id": home, "environment": HOST, "client_id": CLIENT, "realm": TENANT}),
        ));
        acc.push((
            format!("{home}-{HOST}-{TENANT}"),
            serde_json::json!({"home_account_id": home, "environment": HOST, "realm": TENANT,
                "local_account_id": uid(n), "username": format!("user{n}@contoso.com"),
                "name": format!("User {n}"), "authority_type": "MSSTS"}),
        ));
    }
    let section =
        |v: Vec<(String, serde_json::Value)>| serde_json::Value::Object(v.into_iter().collect());
    serde_json::json!({
        "AccessToken": section(at), "RefreshToken": section(rt), "IdToken": section(idt),
        "Account": section(acc), "AppMetadata": {},
    })
    .to_string()
}

/// The median nanoseconds per call of `f`, over `rounds` rounds of `per` calls.
fn median_ns(rounds: usize, per: usize, mut f: impl FnMut()) -> f64 {
    let mut v: Vec<f64> = (0..rounds)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..per {
                f();
            }
            start.elapsed().as_nanos() as f64 / per as f64
        })
        .collect();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let mut args = std::env::args().skip(1);
    let users: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(10_000);
    let json = cache_json(users);
    if let Some(path) = args.next() {
        std::fs::write(&path, &json).expect("write the cache file");
    }
    let app = PublicClientApplication::new(
        CLIENT,
        Authority::parse(&format!("https://{HOST}/{TENANT}")).expect("authority"),
        AppOptions::default(),
    )
    .expect("app");
    app.token_cache().deserialize(&json).expect("cache");
    let who = format!("user{}@contoso.com", users / 2);
    let account = app
        .get_accounts(Some(&who))
        .expect("accounts")
        .pop()
        .expect("the account");
    let scopes = [SCOPE];
    let sync = median_ns(51, 2_000, || {
        let hit = app.cached_token(&scopes, &account.home_account_id);
        assert!(matches!(hit, Ok(Some(_))), "a cache hit");
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let full = median_ns(51, 2_000, || {
        let hit = runtime.block_on(app.acquire_token_silent(&scopes, Some(&account), None, false));
        assert!(hit.is_ok(), "a cache hit");
    });
    println!("users {users}");
    println!("rust_cached_token {sync:.0}");
    println!("rust_acquire_token_silent {full:.0}");
}
