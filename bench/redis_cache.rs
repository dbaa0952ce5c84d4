//! The partitioned token cache on a loopback Redis against the pattern msal
//! Python users build (one serialized cache blob per app in Redis, loaded
//! before and saved after every call), both in one run:
//!
//! * per call: an L1 hit (memory), an L2 hit (the partition read from
//!   Redis), a miss (Redis holds no such partition; the token request itself
//!   is not counted), at 10k and 100k partitions, and Redis memory per
//!   partition;
//! * the blob pattern at 1k and 10k tenants: a hit (GET + parse + lookup)
//!   and a write (also serialize + SET), with the bytes each moves.
//!
//! Run: `cargo run --release -p idflow-testing --example redis_cache_bench
//! [PARTITION_COUNTS...]` (starts its own redis-server).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a benchmark that cannot run stops

use idflow::{
    AccessTokenQuery, PartitionKey, PartitionOptions, PartitionStore, RedisOptions, RedisStore,
    TokenCache,
};
use idflow_testing::redis::RedisServer;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const CLIENT: &str = "11111111-2222-3333-4444-555555555555";
const ENV: &str = "login.microsoftonline.com";
const SCOPE: &str = "https://graph.microsoft.com/.default";

fn tenant(i: usize) -> String {
    format!("{:08x}-0000-4000-8000-{:012x}", i, i)
}

/// One app token of tenant `t` as msal's cache entry (key, JSON object).
fn at_entry(t: &str, exp: u64) -> (String, serde_json::Value) {
    let target = SCOPE;
    let key = format!("-{ENV}-accesstoken-{CLIENT}-{t}-{target}");
    let v = serde_json::json!({
        "credential_type": "AccessToken", "secret": format!("eyJ0eXAiOiJKV1Qi.{}.{}", "x".repeat(900), t),
        "home_account_id": "", "environment": ENV, "client_id": CLIENT, "realm": t,
        "target": target, "token_type": "Bearer",
        "cached_at": (exp - 3600).to_string(), "expires_on": exp.to_string(),
        "extended_expires_on": exp.to_string()
    });
    (key.to_lowercase(), v)
}

fn doc(entries: impl Iterator<Item = (String, serde_json::Value)>) -> Vec<u8> {
    let at: serde_json::Map<String, serde_json::Value> = entries.collect();
    serde_json::to_vec(&serde_json::json!({ "AccessToken": at })).unwrap()
}

fn lookup(cache: &TokenCache, t: &str) -> bool {
    let scopes = [SCOPE.to_owned()];
    let q = AccessTokenQuery {
        client_id: CLIENT,
        environment: ENV,
        realm: t,
        home_account_id: None,
        scopes: &scopes,
    };
    cache.access_token(&q, SystemTime::now()).is_some()
}

fn per_call(total: Duration, n: usize) -> String {
    format!("{:>8.1} µs", total.as_secs_f64() * 1e6 / n as f64)
}

fn used_memory(r: &RedisServer) -> u64 {
    let info = r.cli(&["INFO", "memory"]).unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix("used_memory:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

fn store(r: &RedisServer) -> Arc<RedisStore> {
    let o = RedisOptions {
        timeout: Duration::from_secs(5),
        ..RedisOptions::default()
    };
    Arc::new(RedisStore::new(&[r.url()], o).unwrap())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let counts: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().unwrap())
        .collect();
    let counts = if counts.is_empty() {
        vec![10_000, 100_000]
    } else {
        counts
    };
    let exp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3600;
    let samples = 2_000;

    println!("partitioned cache on loopback Redis (per call; {samples} calls sampled)");
    for &n in &counts {
        let redis = RedisServer::start_in_memory();
        let st = store(&redis);
        let before = used_memory(&redis);
        let mut stored_bytes = 0usize;
        for chunk in (0..n).collect::<Vec<_>>().chunks(256) {
            let mut set = tokio::task::JoinSet::new();
            for &i in chunk {
                let st = st.clone();
                let t = tenant(i);
                let data = doc(std::iter::once(at_entry(&t, exp)));
                stored_bytes += data.len();
                set.spawn(async move {
                    let key = PartitionKey::app(CLIENT, &t);
                    assert!(st
                        .save(
                            key.as_str(),
                            data,
                            None,
                            UNIX_EPOCH + Duration::from_secs(exp)
                        )
                        .await
                        .unwrap());
                });
            }
            while set.join_next().await.is_some() {}
        }
        let per_partition = (used_memory(&redis) - before) / n as u64;
        let picks: Vec<usize> = (0..samples).map(|k| (k * 7919) % n).collect();

        // L2 hit: every call reads its partition from Redis.
        let l2 = TokenCache::new();
        l2.attach_partitioned(
            st.clone(),
            PartitionOptions {
                l1_ttl: Duration::ZERO,
                ..PartitionOptions::default()
            },
        );
        let t0 = Instant::now();
        for &i in &picks {
            let t = tenant(i);
            l2.before_access(&PartitionKey::app(CLIENT, &t), false)
                .await;
            assert!(lookup(&l2, &t));
        }
        let l2_time = t0.elapsed();

        // L1 hit: the partitions were read within the L1 time to live.
        let l1 = TokenCache::new();
        l1.attach_partitioned(
            st.clone(),
            PartitionOptions {
                l1_ttl: Duration::from_secs(3600),
                ..PartitionOptions::default()
            },
        );
        for &i in &picks {
            l1.before_access(&PartitionKey::app(CLIENT, &tenant(i)), false)
                .await;
        }
        let t0 = Instant::now();
        for &i in &picks {
            let t = tenant(i);
            l1.before_access(&PartitionKey::app(CLIENT, &t), false)
                .await;
            assert!(lookup(&l1, &t));
        }
        let l1_time = t0.elapsed();

        // Miss: no such partition in Redis (the token request is not counted).
        let t0 = Instant::now();
        for &i in &picks {
            let t = tenant(n + i);
            l2.before_access(&PartitionKey::app(CLIENT, &t), false)
                .await;
            assert!(!lookup(&l2, &t));
        }
        let miss_time = t0.elapsed();
        println!(
            "  {n:>7} partitions: L1 hit {}  L2 hit {}  miss {}  | Redis memory {per_partition} B/partition, {} B read per L2 hit",
            per_call(l1_time, samples),
            per_call(l2_time, samples),
            per_call(miss_time, samples),
            stored_bytes / n,
        );
    }

    println!(
        "one blob per app in Redis, loaded and saved around every call (msal Python's pattern)"
    );
    for n in [1_000usize, 10_000] {
        let redis = RedisServer::start_in_memory();
        let st = store(&redis);
        let blob = doc((0..n).map(|i| at_entry(&tenant(i), exp)));
        let size = blob.len();
        st.save("blob", blob, None, UNIX_EPOCH + Duration::from_secs(exp))
            .await
            .unwrap();
        let calls = if n >= 10_000 { 20 } else { 100 };
        let cache = TokenCache::new();
        let (mut hit, mut write) = (Duration::ZERO, Duration::ZERO);
        for k in 0..calls {
            let t = tenant((k * 7919) % n);
            let t0 = Instant::now();
            let got = st.load("blob").await.unwrap().unwrap();
            cache
                .deserialize(std::str::from_utf8(&got.data).unwrap())
                .unwrap();
            assert!(lookup(&cache, &t));
            hit += t0.elapsed();
            let t0 = Instant::now();
            let got = st.load("blob").await.unwrap().unwrap();
            cache
                .deserialize(std::str::from_utf8(&got.data).unwrap())
                .unwrap();
            let out = cache.serialize().into_bytes();
            assert!(st
                .save(
                    "blob",
                    out,
                    got.version,
                    UNIX_EPOCH + Duration::from_secs(exp)
                )
                .await
                .unwrap());
            write += t0.elapsed();
        }
        println!(
            "  {n:>7} tenants: hit {}  write {}  | {size} B read per call, {} B moved per write",
            per_call(hit, calls),
            per_call(write, calls),
            2 * size,
        );
    }
}
