//! A worker process of the distributed-cache tests for user tokens: silent
//! calls for one account whose partition another process wrote to Redis,
//! several at once, and a line of JSON with what happened. Usage:
//! `redis_user_worker EMULATOR_URL REDIS_URL HOME_ACCOUNT_ID SCOPE CALLS [LEASE_TTL_MS]`
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test tool: a bad argument should stop it

use idflow::{
    Account, AppOptions, Authority, PartitionOptions, PublicClientApplication, RedisOptions,
    RedisStore, TokenCache, TokenSource,
};
use idflow_emulator::{DEFAULT_TENANT, PUBLIC_CLIENT_ID};
use std::sync::Arc;
use std::time::Duration;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (emulator, redis, home, scope) = (&args[1], &args[2], &args[3], args[4].clone());
    let calls: usize = args[5].parse().unwrap();
    let mut partition_options = PartitionOptions {
        l1_ttl: Duration::ZERO,
        lease_wait: Duration::from_secs(30),
        ..PartitionOptions::default()
    };
    if let Some(ms) = args.get(6) {
        partition_options.lease_ttl = Duration::from_millis(ms.parse().unwrap());
    }
    // Wide bound, as in redis_cache_worker: a Redis call past it would send
    // its own request by design, and these runs count requests exactly.
    let store = RedisStore::new(
        &[redis],
        RedisOptions {
            timeout: Duration::from_secs(10),
            ..RedisOptions::default()
        },
    )
    .unwrap();
    let cache = TokenCache::new();
    cache.attach_partitioned(Arc::new(store), partition_options);
    let authority = Authority::parse(&format!("{emulator}/{DEFAULT_TENANT}")).unwrap();
    let app = Arc::new(
        PublicClientApplication::new(
            PUBLIC_CLIENT_ID,
            authority,
            AppOptions::default().with_token_cache(cache.clone()),
        )
        .unwrap(),
    );
    // The account as a web app finds it: by the id it kept, from the store.
    let account: Account = app
        .get_account(home)
        .await
        .unwrap()
        .expect("the account is in Redis");
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..calls {
        let (app, account, scope) = (app.clone(), account.clone(), scope.clone());
        set.spawn(async move {
            app.acquire_token_silent(&[scope.as_str()], Some(&account), None, false)
                .await
        });
    }
    let (mut ok, mut refreshed, mut failed) = (0usize, 0usize, Vec::new());
    while let Some(r) = set.join_next().await {
        match r.unwrap() {
            Ok(t) => {
                ok += 1;
                if t.token_source == TokenSource::IdentityProvider {
                    refreshed += 1;
                }
            }
            Err(e) => failed.push(e.code.clone()),
        }
    }
    println!(
        "{}",
        serde_json::json!({
            "ok": ok,
            "refreshed": refreshed,
            "failed": failed,
            "degraded": cache.partition_store_degraded(),
        })
    );
}
