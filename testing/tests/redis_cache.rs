//! The partitioned token cache on a real `redis-server` (started by the
//! fixtures in `idflow_testing::redis`; `scripts/setup-redis.sh` installs
//! it): single flight across worker processes, a Redis killed mid-run,
//! concurrent writers of one partition, encryption at rest, Redis Cluster.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failed assertion in a test should panic

use idflow::{
    PartitionKey, PartitionOptions, PartitionStore, RedisOptions, RedisStore, TokenCache,
};
use idflow_emulator::Endpoint;
use idflow_testing::emulator::EmulatorEnv;
use idflow_testing::redis::{RedisCluster, RedisServer};
use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const WORKER: &str = env!("CARGO_BIN_EXE_redis_cache_worker");
const HOME: &str = "00000000-0000-0000-0000-0000000000aa.00000000-0000-0000-0000-0000000000bb";

fn spawn_worker(
    emu: &str,
    redis: &str,
    tenants: usize,
    rounds: usize,
    pause_ms: u64,
) -> std::process::Child {
    Command::new(WORKER)
        .args([
            emu,
            redis,
            &tenants.to_string(),
            &rounds.to_string(),
            &pause_ms.to_string(),
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap()
}

fn report(child: std::process::Child) -> serde_json::Value {
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "a worker failed");
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Token requests per tenant in the emulator's log.
fn per_tenant(env: &EmulatorEnv) -> HashMap<String, usize> {
    let mut m = HashMap::new();
    for r in env.token_requests() {
        *m.entry(r.tenant.unwrap_or_default()).or_insert(0) += 1;
    }
    m
}

fn store(url: &str, key: Option<Vec<u8>>) -> Arc<RedisStore> {
    Arc::new(
        RedisStore::new(
            &[url],
            RedisOptions {
                encryption_key: key,
                timeout: Duration::from_secs(2),
                ..RedisOptions::default()
            },
        )
        .unwrap(),
    )
}

fn partitioned(st: Arc<dyn PartitionStore>) -> TokenCache {
    let c = TokenCache::new();
    c.attach_partitioned(
        st,
        PartitionOptions {
            l1_ttl: Duration::ZERO,
            ..PartitionOptions::default()
        },
    );
    c
}

// 8 workers × 100 tenants (the issue asks 500: the emulator keeps the last
// 2,000 requests, and each app also fetches discovery; the property does
// not depend on the number).
const WORKERS: usize = 8;
const TENANTS: usize = 100;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_processes_send_one_token_request_per_tenant() {
    let redis = RedisServer::start();
    let env = EmulatorEnv::start().await;
    let url = env.emu.base_url().to_owned();
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| spawn_worker(&url, &redis.url(), TENANTS, 1, 0))
        .collect();
    let reports: Vec<_> =
        tokio::task::spawn_blocking(move || workers.into_iter().map(report).collect())
            .await
            .unwrap();
    for r in &reports {
        assert_eq!(r["ok"], TENANTS, "every call is served: {r}");
    }
    let counts = per_tenant(&env);
    assert_eq!(counts.len(), TENANTS, "every tenant asked once");
    assert!(
        counts.values().all(|&n| n == 1),
        "one request per tenant: {counts:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_and_restarted_mid_run_fails_no_call() {
    let mut redis = RedisServer::start();
    let env = EmulatorEnv::start().await;
    let url = env.emu.base_url().to_owned();
    let (workers, tenants, rounds) = (4, 50, 40);
    let children: Vec<_> = (0..workers)
        .map(|_| spawn_worker(&url, &redis.url(), tenants, rounds, 50))
        .collect();
    // Every tenant's token is in Redis: then the crash.
    let deadline = Instant::now() + Duration::from_secs(60);
    while env.token_requests().len() < tenants {
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    redis.kill();
    tokio::time::sleep(Duration::from_millis(500)).await;
    redis.restart();
    let reports: Vec<_> =
        tokio::task::spawn_blocking(move || children.into_iter().map(report).collect())
            .await
            .unwrap();
    for r in &reports {
        assert_eq!(r["ok"], tenants * rounds, "no call fails: {r}");
        assert_eq!(r["degraded"], false, "back on Redis after the restart: {r}");
    }
    assert_eq!(
        env.token_requests().len(),
        tenants,
        "the tokens outlived the crash"
    );
    // A new process finds every partition readable in the restarted Redis.
    let fresh = report(spawn_worker(&url, &redis.url(), tenants, 1, 0));
    assert_eq!(fresh["ok"], tenants);
    assert_eq!(
        env.token_requests().len(),
        tenants,
        "served from Redis after the restart"
    );
    let _ = Endpoint::Token;
}

/// One user's partition as msal's JSON: one refresh token of `client`, and the account.
fn user_doc(client: &str, secret: &str, username: &str) -> String {
    serde_json::json!({
        "RefreshToken": { format!("{HOME}-login.test-refreshtoken-{client}--"): {
            "credential_type": "RefreshToken", "secret": secret, "home_account_id": HOME,
            "environment": "login.test", "client_id": client
        }},
        "Account": { format!("{HOME}-login.test-utid"): {
            "home_account_id": HOME, "environment": "login.test", "realm": "utid",
            "local_account_id": "uid", "username": username, "authority_type": "MSSTS"
        }}
    })
    .to_string()
}

async fn write_many(cache: TokenCache, who: &'static str, n: usize) {
    let p = PartitionKey::user(HOME);
    for i in 0..n {
        cache
            .deserialize(&user_doc(
                &format!("client-{who}-{i}"),
                &format!("rt-{who}-{i}"),
                "alice@contoso.example",
            ))
            .unwrap();
        cache.after_access(&p).await;
        assert!(!cache.partition_store_degraded());
        assert!(
            !cache.has_state_changed(),
            "the write went through (no change left waiting)"
        );
    }
}

async fn stored_refresh_tokens(st: Arc<dyn PartitionStore>) -> (usize, usize) {
    let c = partitioned(st);
    c.before_access(&PartitionKey::user(HOME), true).await;
    let doc: serde_json::Value = serde_json::from_str(&c.serialize()).unwrap();
    let count = |s: &str| doc[s].as_object().map_or(0, |o| o.len());
    (count("RefreshToken"), count("Account"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_writing_one_user_partition_lose_nothing() {
    let redis = RedisServer::start();
    let n = 500; // × 2 instances = 1,000 writes
    let a = tokio::spawn(write_many(partitioned(store(&redis.url(), None)), "a", n));
    let b = tokio::spawn(write_many(partitioned(store(&redis.url(), None)), "b", n));
    a.await.unwrap();
    b.await.unwrap();
    assert_eq!(
        stored_refresh_tokens(store(&redis.url(), None)).await,
        (2 * n, 1)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encrypted_keyspace_holds_no_token_secret_or_username() {
    let redis = RedisServer::start();
    let env = EmulatorEnv::start().await;
    let key = vec![42u8; 32];
    let cache = partitioned(store(&redis.url(), Some(key.clone())));
    let app = env.confidential_app(
        EmulatorEnv::secret(),
        env.options().with_token_cache(cache.clone()),
    );
    let token = app
        .acquire_token_for_client(&["https://graph.microsoft.com/.default"], None)
        .await
        .unwrap();
    write_many(cache.clone(), "enc", 3).await;
    let dump = redis.dump();
    assert!(!dump.is_empty(), "the partitions are in Redis");
    let text = String::from_utf8_lossy(&dump);
    for needle in [
        token.access_token.expose(),
        "rt-enc-0",
        "alice@contoso.example",
        idflow_emulator::CONFIDENTIAL_CLIENT_SECRET,
        HOME,
        idflow_emulator::CONFIDENTIAL_CLIENT_ID,
    ] {
        assert!(!text.contains(needle), "found in clear in the keyspace");
    }
    // The right key reads it all back; another key reads nothing, without failing.
    assert_eq!(
        stored_refresh_tokens(store(&redis.url(), Some(key)))
            .await
            .0,
        3
    );
    assert_eq!(
        stored_refresh_tokens(store(&redis.url(), Some(vec![1u8; 32]))).await,
        (0, 0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_under_a_partition_key_is_dropped() {
    let redis = RedisServer::start();
    write_many(partitioned(store(&redis.url(), None)), "g", 1).await;
    let keys = redis.cli(&["--scan"]).unwrap();
    let key = keys.lines().next().unwrap();
    // A string where a hash belongs, then a hash of garbage.
    redis.cli(&["DEL", key]).unwrap();
    redis.cli(&["SET", key, "not a partition"]).unwrap();
    assert_eq!(
        stored_refresh_tokens(store(&redis.url(), None)).await,
        (0, 0)
    );
    redis
        .cli(&["HSET", key, "v", "x", "d", "{{{{ not json"])
        .unwrap();
    assert_eq!(
        stored_refresh_tokens(store(&redis.url(), None)).await,
        (0, 0)
    );
    // And the next write replaces it.
    write_many(partitioned(store(&redis.url(), None)), "h", 1).await;
    assert_eq!(
        stored_refresh_tokens(store(&redis.url(), None)).await,
        (1, 1)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_down_redis_never_fails_a_call() {
    let mut redis = RedisServer::start();
    let url = redis.url();
    redis.kill();
    let env = EmulatorEnv::start().await;
    let cache = partitioned(store(&url, None));
    let app = env.confidential_app(
        EmulatorEnv::secret(),
        env.options().with_token_cache(cache.clone()),
    );
    for _ in 0..3 {
        app.acquire_token_for_client(&["https://graph.microsoft.com/.default"], None)
            .await
            .unwrap();
    }
    assert!(cache.partition_store_degraded());
    assert_eq!(
        env.token_requests().len(),
        1,
        "the in-memory cache serves the rest"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_cluster_keeps_partitions_and_merges_writers() {
    let cluster = RedisCluster::start();
    let urls = cluster.urls();
    let st = || -> Arc<dyn PartitionStore> {
        Arc::new(
            RedisStore::new(
                &urls,
                RedisOptions {
                    cluster: true,
                    timeout: Duration::from_secs(2),
                    ..RedisOptions::default()
                },
            )
            .unwrap(),
        )
    };
    let a = tokio::spawn(write_many(partitioned(st()), "ca", 100));
    let b = tokio::spawn(write_many(partitioned(st()), "cb", 100));
    a.await.unwrap();
    b.await.unwrap();
    assert_eq!(stored_refresh_tokens(st()).await, (200, 1));
    // Client credentials through the cluster, with a lease per tenant.
    let env = EmulatorEnv::start().await;
    for _ in 0..2 {
        let cache = partitioned(st());
        for t in 0..20 {
            let authority = idflow::Authority::parse(&env.emu.authority(&format!("t{t}"))).unwrap();
            let app = idflow::ConfidentialClientApplication::new(
                idflow_emulator::CONFIDENTIAL_CLIENT_ID,
                authority,
                EmulatorEnv::secret(),
                env.options().with_token_cache(cache.clone()),
            )
            .unwrap();
            app.acquire_token_for_client(&["https://graph.microsoft.com/.default"], None)
                .await
                .unwrap();
        }
    }
    assert_eq!(
        env.token_requests().len(),
        20,
        "the second instance read the cluster"
    );
}
