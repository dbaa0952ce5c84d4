//! Token cache benchmarks: hit, miss, accounts, serialize, deserialize at
//! 1, 1k, 100k and 1M cached access tokens.
//!
//! `cargo bench -p idflow --bench cache -- --warm-up-time 1 --measurement-time 2`
//!
//! The cache holds N app tokens (client credentials) spread over N/10
//! tenants, ten resources each, two scopes per token, a 64-character
//! secret; plus ten signed-in users (their access tokens, refresh tokens,
//! id tokens and accounts). Queries pick a random cached token each time, so
//! the larger caches are measured out of the CPU caches as they would be used.
//!
//! * `hit`: the exact scope set of a cached token;
//! * `hit_subset`: one of its two scopes (a walk of the shortest posting list);
//! * `miss`: a scope the tenant has no token for (what a call pays before
//!   going to the network);
//! * `accounts`: the ten accounts of the client;
//! * `serialize` / `deserialize`: the whole cache, up to 100k tokens (set
//!   `CACHE_BENCH_SERDE_1M=1` for 1M too). `deserialize` replaces a loaded
//!   cache of the same size each time (the replaced one is freed on a thread
//!   of its own while the next load runs, as back-to-back reloads would);
//!   `deserialize_fresh` loads into a new cache, as an app does at its start
//!   (the loaded cache is freed outside the timing). `serialize_into`
//!   writes into a new buffer of the hinted size, as the bindings do.
//!   `drop_loaded` frees a loaded cache on the calling thread: the work a
//!   replacing `deserialize` hands to its freeing thread, which back-to-back
//!   reloads share their cores with.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion};
use idflow::secret::{AccessToken, IdToken, RefreshToken};
use idflow::TokenSource;
use idflow::{AccessTokenQuery, Account, AuthenticationResult, SaveRequest, TokenCache};
use std::hint::black_box;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const ENV: &str = "login.microsoftonline.com";
const CLIENT: &str = "6731de76-14a6-49ae-97bc-6eba6914391e";
const PER_TENANT: usize = 10;
const SIZES: [usize; 4] = [1, 1_000, 100_000, 1_000_000];
const USERS: usize = 10;

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

fn tenant(t: usize) -> String {
    format!("{t:08x}-0000-4000-8000-000000000000")
}

fn token_scopes(j: usize) -> Vec<String> {
    vec![
        format!("api://resource-{j}/read"),
        format!("api://resource-{j}/write"),
    ]
}

fn secret(i: usize) -> String {
    format!("{i:016x}{}", "x".repeat(48))
}

fn result(secret: String, scopes: Vec<String>, account: Option<Account>) -> AuthenticationResult {
    let user = account.is_some();
    AuthenticationResult {
        access_token: AccessToken::new(secret),
        token_type: "Bearer".into(),
        expires_on: now() + Duration::from_secs(3600),
        ext_expires_on: None,
        refresh_on: None,
        scopes,
        refresh_token: user.then(|| RefreshToken::new("refresh-token")),
        id_token: user.then(|| IdToken::new("id.token.jwt")),
        id_token_claims: None,
        account,
        client_info: None,
        family_id: None,
        correlation_id: String::new(),
        token_source: TokenSource::IdentityProvider,
        received_at: now(),
    }
}

fn build(n: usize) -> TokenCache {
    let cache = TokenCache::new();
    for i in 0..n {
        let (t, j) = (i / PER_TENANT, i % PER_TENANT);
        let scopes = token_scopes(j);
        let r = result(secret(i), scopes.clone(), None);
        cache.save(&SaveRequest {
            client_id: CLIENT,
            environment: ENV,
            realm: &tenant(t),
            requested_scopes: &scopes,
            result: &r,
            account_source: None,
            authority_type: "MSSTS",
            now: now(),
        });
    }
    for u in 0..USERS {
        let scopes = vec!["User.Read".to_owned()];
        let account = Account {
            home_account_id: format!("user-{u}.{}", tenant(0)),
            environment: ENV.into(),
            realm: tenant(0),
            username: format!("user{u}@contoso.com"),
            local_account_id: format!("user-{u}"),
        };
        let r = result(secret(u), scopes.clone(), Some(account));
        cache.save(&SaveRequest {
            client_id: CLIENT,
            environment: ENV,
            realm: &tenant(0),
            requested_scopes: &scopes,
            result: &r,
            account_source: Some("authorization_code"),
            authority_type: "MSSTS",
            now: now(),
        });
    }
    cache
}

struct Query {
    realm: String,
    scopes: Vec<String>,
}

/// 4096 queries of random cached tokens (a fixed LCG: the same every run).
fn queries(n: usize, scopes_of: impl Fn(usize) -> Vec<String>) -> Vec<Query> {
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    (0..4096)
        .map(|_| {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let i = (x >> 33) as usize % n.max(1);
            Query {
                realm: tenant(i / PER_TENANT),
                scopes: scopes_of(i % PER_TENANT),
            }
        })
        .collect()
}

fn run_lookups(
    c: &mut Criterion,
    name: &str,
    cache: &TokenCache,
    n: usize,
    qs: &[Query],
    hit: bool,
) {
    let mut group = c.benchmark_group(name);
    group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
        let mut i = 0usize;
        b.iter(|| {
            let q = &qs[i & 4095];
            i = i.wrapping_add(1);
            let found = cache.access_token(
                &AccessTokenQuery {
                    client_id: CLIENT,
                    environment: ENV,
                    realm: &q.realm,
                    home_account_id: None,
                    scopes: &q.scopes,
                },
                now(),
            );
            assert_eq!(found.is_some(), hit);
            black_box(found)
        });
    });
    group.finish();
}

fn lookups(c: &mut Criterion) {
    for n in SIZES {
        let cache = build(n);
        assert_eq!(cache.counts().access_tokens, n + USERS);
        run_lookups(c, "hit", &cache, n, &queries(n, token_scopes), true);
        let subset = |j: usize| vec![format!("api://resource-{j}/read")];
        run_lookups(c, "hit_subset", &cache, n, &queries(n, subset), true);
        let missing = |j: usize| vec![format!("api://resource-{j}/admin")];
        run_lookups(c, "miss", &cache, n, &queries(n, missing), false);

        // The floor on this machine: one std HashMap<String, String> lookup
        // of a random key plus a clone of the value, at the same size.
        let map: std::collections::HashMap<String, String> = (0..n.max(1))
            .map(|i| (format!("{}-{i}", tenant(i / PER_TENANT)), secret(i)))
            .collect();
        let keys: Vec<String> = queries(n, |_| Vec::new())
            .iter()
            .enumerate()
            .map(|(k, q)| format!("{}-{}", q.realm, (k * 7) % PER_TENANT.min(n.max(1))))
            .collect();
        let mut group = c.benchmark_group("baseline_hashmap");
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            let mut i = 0usize;
            b.iter(|| {
                let k = &keys[i & 4095];
                i = i.wrapping_add(1);
                black_box(map.get(k).cloned())
            });
        });
        group.finish();
        drop(map);

        let mut group = c.benchmark_group("accounts");
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| {
                let a = cache.accounts(ENV, CLIENT, None);
                assert_eq!(a.len(), USERS);
                black_box(a)
            });
        });
        group.finish();
    }
}

fn serde(c: &mut Criterion) {
    let big = std::env::var_os("CACHE_BENCH_SERDE_1M").is_some();
    for n in SIZES {
        if n > 100_000 && !big {
            continue;
        }
        let cache = build(n);
        let json = cache.serialize();
        let mut group = c.benchmark_group("serialize");
        if n >= 100_000 {
            group.sample_size(10);
        }
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| black_box(cache.serialize().len()));
        });
        group.finish();
        // What the Kotlin and Python bindings do: the document written into
        // fresh memory of the hinted size (its pages first touched by the
        // writer), by two threads for a big one.
        let mut group = c.benchmark_group("serialize_into");
        if n >= 100_000 {
            group.sample_size(10);
        }
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| {
                let mut buf = vec![0u8; cache.serialized_len_hint()];
                black_box(cache.serialize_into(&mut buf).unwrap().0)
            });
        });
        group.finish();
        let mut group = c.benchmark_group("deserialize");
        if n >= 100_000 {
            group.sample_size(10);
        }
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            let target = TokenCache::new();
            b.iter(|| {
                target.deserialize(&json).unwrap();
                black_box(target.counts().access_tokens)
            });
        });
        group.finish();
        let mut group = c.benchmark_group("deserialize_fresh");
        if n >= 100_000 {
            group.sample_size(10);
        }
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter_batched(
                TokenCache::new,
                |target| {
                    target.deserialize(&json).unwrap();
                    target
                },
                BatchSize::PerIteration,
            );
        });
        group.finish();
        // What a replacing load leaves behind (see the module's comment).
        let mut group = c.benchmark_group("drop_loaded");
        if n >= 100_000 {
            group.sample_size(10);
        }
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter_batched(
                || {
                    let t = TokenCache::new();
                    t.deserialize(&json).unwrap();
                    t
                },
                drop,
                BatchSize::PerIteration,
            );
        });
        group.finish();
        if n == 100_000 {
            // The floor: serde_json into an untyped Value, same text.
            let mut group = c.benchmark_group("baseline_serde_json_value");
            group.sample_size(10);
            group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
                b.iter(|| black_box(serde_json::from_str::<serde_json::Value>(&json).unwrap()));
            });
            group.finish();
        }
        eprintln!("cache of {n} tokens: {} bytes of JSON", json.len());
    }
}

criterion_group!(benches, lookups, serde);
criterion_main!(benches);
