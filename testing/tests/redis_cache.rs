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

/// The tests that start worker processes run one at a time: each loads the
/// two cores with up to 8 processes, and two at once would test the
/// machine's load rather than the single flight (a Redis call past its
/// bound is a direct request, by design).
static PROCESSES: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
const HOME: &str = "00000000-0000-0000-0000-0000000000aa.00000000-0000-0000-0000-0000000000bb";

fn spawn_worker(
    emu: &str,
    redis: &str,
    tenants: usize,
    rounds: usize,
    pause_ms: u64,
) -> std::process::Child {
    spawn_worker_with(emu, redis, tenants, rounds, pause_ms, &[])
}

/// [`spawn_worker`] with the worker's optional arguments after the pause.
fn spawn_worker_with(
    emu: &str,
    redis: &str,
    tenants: usize,
    rounds: usize,
    pause_ms: u64,
    more: &[&str],
) -> std::process::Child {
    Command::new(WORKER)
        .args([
            emu,
            redis,
            &tenants.to_string(),
            &rounds.to_string(),
            &pause_ms.to_string(),
        ])
        .args(more)
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

// 8 workers × 500 tenants, all starting at once: 4,000 apps, 4,000
// discovery requests and exactly 500 token requests (the emulator's log
// keeps 20,000 records).
const WORKERS: usize = 8;
const TENANTS: usize = 500;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_processes_send_one_token_request_per_tenant() {
    let _one_at_a_time = PROCESSES.lock().await;
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
    assert_eq!(
        env.token_requests().len(),
        TENANTS,
        "exactly one token request per tenant"
    );
    assert_eq!(counts.len(), TENANTS, "every tenant asked once");
    assert!(
        counts.values().all(|&n| n == 1),
        "one request per tenant: {counts:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_and_restarted_mid_run_fails_no_call() {
    let _one_at_a_time = PROCESSES.lock().await;
    let mut redis = RedisServer::start();
    let env = EmulatorEnv::start().await;
    let url = env.emu.base_url().to_owned();
    let (workers, tenants, rounds) = (WORKERS, TENANTS, 6);
    let ready = tempfile::tempdir().unwrap();
    let ready_arg = ready.path().to_str().unwrap().to_owned();
    let mut children: Vec<_> = (0..workers)
        .map(|_| spawn_worker_with(&url, &redis.url(), tenants, rounds, 200, &[&ready_arg]))
        .collect();
    // Every worker has done its first round (so every tenant's token is in
    // Redis and in each process): then the crash. A fixed wait after the
    // first token of each tenant was not enough on a loaded machine: a worker
    // still on its first round had a tenant to fetch when Redis went away,
    // and fetched it from the network (one request more).
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::fs::read_dir(ready.path()).unwrap().count() < workers {
        assert!(
            Instant::now() < deadline,
            "every worker finished its first round"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let before_kill = env.requests().last().map_or(0, |r| r.seq);
    redis.kill();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before_restart = env.requests().last().map_or(0, |r| r.seq);
    redis.restart();
    assert!(
        children
            .iter_mut()
            .all(|c| matches!(c.try_wait(), Ok(None))),
        "every worker was still calling through the crash and the restart"
    );
    let reports: Vec<_> =
        tokio::task::spawn_blocking(move || children.into_iter().map(report).collect())
            .await
            .unwrap();
    for r in &reports {
        assert_eq!(r["ok"], tenants * rounds, "no call fails: {r}");
        assert_eq!(r["degraded"], false, "back on Redis after the restart: {r}");
    }
    // On a failure, which tenant was asked again, and when: before the
    // crash (the lease), while Redis was down, or after its restart.
    let mut asked: HashMap<String, Vec<u64>> = HashMap::new();
    for r in env.token_requests() {
        asked
            .entry(r.tenant.unwrap_or_default())
            .or_default()
            .push(r.seq);
    }
    asked.retain(|_, seqs| seqs.len() > 1);
    assert_eq!(
        env.token_requests().len(),
        tenants,
        "the tokens outlived the crash; asked more than once (request numbers; the last \
         before the kill {before_kill}, before the restart {before_restart}): {asked:?}"
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

const USER_WORKER: &str = env!("CARGO_BIN_EXE_redis_user_worker");

fn spawn_user_worker(
    emu: &str,
    redis: &str,
    home: &str,
    scope: &str,
    calls: usize,
    lease_ttl_ms: Option<u64>,
) -> std::process::Child {
    let mut cmd = Command::new(USER_WORKER);
    cmd.args([emu, redis, home, scope, &calls.to_string()]);
    if let Some(ms) = lease_ttl_ms {
        cmd.arg(ms.to_string());
    }
    cmd.stdout(Stdio::piped()).spawn().unwrap()
}

/// Signs the default user in (username and password) with a cache on
/// `redis`, on the real clock as the worker processes are: the user's
/// partition is in Redis afterwards. Returns the home account id.
async fn sign_in_on_redis(env: &EmulatorEnv, redis: &RedisServer) -> String {
    let cache = partitioned(store(&redis.url(), None));
    let app = idflow::PublicClientApplication::new(
        idflow_emulator::PUBLIC_CLIENT_ID,
        env.authority(),
        idflow::AppOptions::default().with_token_cache(cache),
    )
    .unwrap();
    let r = app
        .acquire_token_by_username_password(
            idflow_emulator::DEFAULT_USERNAME,
            &idflow::secret::Password::new(idflow_emulator::DEFAULT_PASSWORD),
            &["User.Read"],
            None,
        )
        .await
        .unwrap();
    r.account.unwrap().home_account_id
}

fn refresh_requests(env: &EmulatorEnv) -> usize {
    env.token_requests()
        .iter()
        .filter(|r| r.grant_type.as_deref() == Some("refresh_token"))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_processes_refresh_a_user_token_once() {
    let _one_at_a_time = PROCESSES.lock().await;
    let redis = RedisServer::start();
    let env = EmulatorEnv::start().await;
    let home = sign_in_on_redis(&env, &redis).await;
    // A fresh instance lists nothing (the store is not enumerated) but finds
    // the account by its id.
    let cache = partitioned(store(&redis.url(), None));
    let app = idflow::PublicClientApplication::new(
        idflow_emulator::PUBLIC_CLIENT_ID,
        env.authority(),
        idflow::AppOptions::default().with_token_cache(cache),
    )
    .unwrap();
    assert!(app.get_accounts(None).unwrap().is_empty());
    let found = app.get_account(&home).await.unwrap().unwrap();
    assert_eq!(found.username, idflow_emulator::DEFAULT_USERNAME);
    assert!(app.get_account("nobody.nowhere").await.unwrap().is_none());

    let url = env.emu.base_url().to_owned();
    // Mail.Read was never asked for: every call needs the refresh token.
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| spawn_user_worker(&url, &redis.url(), &home, "Mail.Read", 4, None))
        .collect();
    let reports: Vec<_> =
        tokio::task::spawn_blocking(move || workers.into_iter().map(report).collect())
            .await
            .unwrap();
    for r in &reports {
        assert_eq!(r["ok"], 4, "every call is served: {r}");
        assert_eq!(r["degraded"], false, "{r}");
    }
    assert_eq!(
        refresh_requests(&env),
        1,
        "one refresh for {WORKERS} processes × 4 calls"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_lease_holder_only_delays_the_refresh() {
    let _one_at_a_time = PROCESSES.lock().await;
    let redis = RedisServer::start();
    let env = EmulatorEnv::start().await;
    let home = sign_in_on_redis(&env, &redis).await;
    // A process took the lease for this partition and scope set, then died:
    // its lease lives on for its time to live.
    let st = store(&redis.url(), None);
    let lease = format!("{home}\u{1f}mail.read");
    let held = st
        .acquire_lease(&lease, Duration::from_secs(4))
        .await
        .unwrap();
    assert!(matches!(held, idflow::Lease::Acquired(_)));
    let url = env.emu.base_url().to_owned();
    let workers: Vec<_> = (0..4)
        .map(|_| spawn_user_worker(&url, &redis.url(), &home, "Mail.Read", 2, Some(4_000)))
        .collect();
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(
        refresh_requests(&env),
        0,
        "the workers wait for the lease holder"
    );
    let reports: Vec<_> =
        tokio::task::spawn_blocking(move || workers.into_iter().map(report).collect())
            .await
            .unwrap();
    for r in &reports {
        assert_eq!(r["ok"], 2, "every call is served: {r}");
    }
    assert_eq!(
        refresh_requests(&env),
        1,
        "after the dead holder's lease expired, one worker refreshed for all"
    );
}

/// A user's token for the confidential client's API: the incoming
/// assertion of an on-behalf-of call.
async fn assertion_for_the_api(env: &EmulatorEnv) -> idflow::secret::UserAssertion {
    let api_scope = format!(
        "api://{}/access_as_user",
        idflow_emulator::CONFIDENTIAL_CLIENT_ID
    );
    let user = env
        .public()
        .acquire_token_by_username_password(
            idflow_emulator::DEFAULT_USERNAME,
            &idflow::secret::Password::new(idflow_emulator::DEFAULT_PASSWORD),
            &[api_scope.as_str()],
            None,
        )
        .await
        .unwrap();
    idflow::secret::UserAssertion::new(user.access_token.expose())
}

fn obo_requests(env: &EmulatorEnv) -> usize {
    env.token_requests()
        .iter()
        .filter(|r| r.grant_type.as_deref() == Some("urn:ietf:params:oauth:grant-type:jwt-bearer"))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_behalf_of_tokens_are_cached_by_the_assertion_in_memory_and_in_redis() {
    use idflow::TokenSource;
    const GRAPH: &str = "https://graph.microsoft.com/User.Read";
    let redis = RedisServer::start();
    let env = EmulatorEnv::start().await;
    let assertion = assertion_for_the_api(&env).await;
    let keys_before = redis.cli(&["DBSIZE"]).unwrap();
    let api = |cache: TokenCache| {
        env.confidential_app(EmulatorEnv::secret(), env.options().with_token_cache(cache))
    };
    let first_instance = api(partitioned(store(&redis.url(), None)));
    let first = first_instance
        .acquire_token_on_behalf_of(&assertion, &[GRAPH], None)
        .await
        .unwrap();
    assert_eq!(first.token_source, TokenSource::IdentityProvider);
    assert_eq!(obo_requests(&env), 1);
    assert_ne!(redis.cli(&["DBSIZE"]).unwrap(), keys_before);

    // The same instance: from memory.
    let again = first_instance
        .acquire_token_on_behalf_of(&assertion, &[GRAPH], None)
        .await
        .unwrap();
    assert_eq!(again.token_source, TokenSource::Cache);
    assert_eq!(again.access_token.expose(), first.access_token.expose());
    // Another instance: from Redis, under the assertion's hash.
    let second_instance = api(partitioned(store(&redis.url(), None)));
    let other = second_instance
        .acquire_token_on_behalf_of(&assertion, &[GRAPH], None)
        .await
        .unwrap();
    assert_eq!(other.token_source, TokenSource::Cache);
    assert_eq!(other.access_token.expose(), first.access_token.expose());
    assert_eq!(obo_requests(&env), 1, "no request for the cached token");
    let obo_partition = PartitionKey::on_behalf_of(&assertion);
    let stored = store(&redis.url(), None)
        .load(obo_partition.as_str())
        .await
        .unwrap()
        .expect("the partition of the assertion's hash is in Redis");
    let doc: serde_json::Value = serde_json::from_slice(&stored.data).unwrap();
    let entries = doc["AccessToken"].as_object().unwrap();
    assert_eq!(entries.len(), 1);
    assert!(entries
        .values()
        .all(|e| e["home_account_id"] == obo_partition.as_str()));
    assert_eq!(second_instance.token_cache().on_behalf_of_token_count(), 1);
    // Not an account of the app's: the user's account is listed as before.
    assert!(second_instance
        .get_accounts(None)
        .unwrap()
        .iter()
        .all(|a| a.home_account_id.contains('.')));

    // Another assertion (the user called again with a new token) or other
    // scopes: a request each; a claims request always.
    let newer = assertion_for_the_api(&env).await;
    assert_ne!(newer.expose(), assertion.expose());
    let n = second_instance
        .acquire_token_on_behalf_of(&newer, &[GRAPH], None)
        .await
        .unwrap();
    assert_eq!(n.token_source, TokenSource::IdentityProvider);
    second_instance
        .acquire_token_on_behalf_of(&assertion, &["https://graph.microsoft.com/Mail.Read"], None)
        .await
        .unwrap();
    assert_eq!(obo_requests(&env), 3);

    // Without any store: in memory.
    let plain = api(TokenCache::new());
    for _ in 0..3 {
        plain
            .acquire_token_on_behalf_of(&newer, &[GRAPH], None)
            .await
            .unwrap();
    }
    assert_eq!(obo_requests(&env), 4);
}
