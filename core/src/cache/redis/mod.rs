//! Redis as the built-in [`PartitionStore`]: one Redis hash per partition
//! (`v`: its version, `d`: msal's cache JSON of the partition, sealed with
//! AES-256-GCM when the app gives a key), expiring at the latest expiry it
//! holds.
//!
//! * Keys are `<prefix>{<hash of the partition>}`: the braces are a Redis
//!   Cluster hash tag, so a partition and its leases live on one shard, and
//!   the key names no tenant, client or account (a SHA-256 prefix of the
//!   partition name).
//! * Writes are compare-and-set in one Lua script: the hash is replaced only
//!   while its version is still the one the writer read; the version is a
//!   fresh random value per write, so a partition that expired and was
//!   written again is never mistaken for the one read.
//! * Every call is bounded ([`RedisOptions::timeout`], 2 s by default); the connection is
//!   made on first use and re-made after a failure (a single server through
//!   redis' `ConnectionManager`, which reconnects by itself; a cluster
//!   through its cluster connection). A value of the wrong type under a key
//!   (garbage) is deleted and read as no partition.
//! * Leases (single flight across processes) are `SET NX PX` keys holding a
//!   random token, released by a script that deletes only its own token.

mod crypt;

use super::partition::{Lease, PartitionStore, StoredPartition};
use crate::net::http::BoxFuture;
use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::{RedisError, Script};
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::Mutex;

/// How [`RedisStore`] connects and stores.
#[derive(Clone)]
pub struct RedisOptions {
    /// Prepended to every key (several apps may share one Redis).
    pub key_prefix: String,
    /// The bound on every Redis call, connecting included: past it the call
    /// is a failure and the cache goes on without Redis. The default, two
    /// seconds, is the worst a stalled Redis adds to one Redis call of a
    /// sign-in, yet far above what a busy but healthy Redis takes: a call's
    /// time includes its wait behind the process's other calls on the one
    /// multiplexed connection, which grows with the calls in flight and
    /// with a starved CPU. A bound too tight turns a busy host into "Redis
    /// down", and then every instance asks the identity platform. Measured
    /// with 8 processes × 500 tenants on 2 shared cores (the Redis test):
    /// 250 ms sent 688 and 696 token requests instead of 500, 1 s 500 and
    /// 501, 2 s exactly 500 in each of 5 runs.
    pub timeout: Duration,
    /// A 32-byte AES-256-GCM key: partitions are stored sealed with it.
    pub encryption_key: Option<Vec<u8>>,
    /// The URLs are nodes of a Redis Cluster.
    pub cluster: bool,
    /// After a failed connection, how long calls fail at once before the
    /// next attempt (a down server costs each call nothing meanwhile).
    pub reconnect_after: Duration,
}

impl Default for RedisOptions {
    fn default() -> Self {
        RedisOptions {
            key_prefix: "idflow:".to_owned(),
            timeout: Duration::from_secs(2),
            encryption_key: None,
            cluster: false,
            reconnect_after: Duration::from_millis(500),
        }
    }
}

impl std::fmt::Debug for RedisOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisOptions")
            .field("key_prefix", &self.key_prefix)
            .field("timeout", &self.timeout)
            .field("encrypted", &self.encryption_key.is_some())
            .field("cluster", &self.cluster)
            .finish_non_exhaustive()
    }
}

#[derive(Clone)]
enum Conn {
    Single(ConnectionManager),
    Cluster(redis::cluster_async::ClusterConnection),
}

enum Client {
    Single(redis::Client),
    Cluster(redis::cluster::ClusterClient),
}

/// The Redis partition store. Clones are not needed: share it in an `Arc`.
pub struct RedisStore {
    client: Client,
    options: RedisOptions,
    sealer: Option<crypt::Sealer>,
    conn: Mutex<Option<Conn>>,
    /// When the last connection attempt failed.
    failed_at: std::sync::Mutex<Option<Instant>>,
    save_script: Script,
    release_script: Script,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // URLs may carry a password: only the options are shown.
        f.debug_struct("RedisStore")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// Replaces the hash when its version is still ARGV[1] ('' for none).
const SAVE: &str = r"
local cur = redis.call('HGET', KEYS[1], 'v')
if cur == false then cur = '' end
if cur ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'v', ARGV[2], 'd', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
";

const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
";

fn text(e: &RedisError) -> String {
    // redis' errors name the command and the server's answer, never a value.
    format!(
        "{:?} {}: {}",
        e.kind(),
        e.code().unwrap_or(""),
        e.category()
    )
}

fn random_token() -> String {
    let mut b = [0u8; 16];
    let _ = aws_lc_rs::rand::fill(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn hashed(s: &str) -> String {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, s.as_bytes());
    d.as_ref()[..16]
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

impl RedisStore {
    /// A store on the Redis at `urls` (`redis://host:port/db`, or
    /// `rediss://` for TLS; several node URLs for a cluster). Connects on
    /// first use. An invalid URL or a key that is not 32 bytes is an error
    /// here, never later.
    pub fn new<S: AsRef<str>>(urls: &[S], options: RedisOptions) -> Result<Self, String> {
        let urls: Vec<&str> = urls.iter().map(AsRef::as_ref).collect();
        let client = if options.cluster {
            let c = redis::cluster::ClusterClient::builder(urls)
                .connection_timeout(options.timeout)
                .response_timeout(options.timeout)
                .retries(1)
                .build()
                .map_err(|e| format!("invalid Redis Cluster URLs ({})", text(&e)))?;
            Client::Cluster(c)
        } else {
            let [url] = urls.as_slice() else {
                return Err("one Redis URL is needed (several only with cluster)".into());
            };
            let c = redis::Client::open(*url)
                .map_err(|e| format!("invalid Redis URL ({})", text(&e)))?;
            Client::Single(c)
        };
        let sealer = match &options.encryption_key {
            None => None,
            Some(k) => Some(
                crypt::Sealer::new(k)
                    .ok_or("the cache encryption key must be 32 bytes (AES-256)")?,
            ),
        };
        Ok(RedisStore {
            client,
            sealer,
            options,
            conn: Mutex::new(None),
            failed_at: std::sync::Mutex::new(None),
            save_script: Script::new(SAVE),
            release_script: Script::new(RELEASE),
        })
    }

    fn data_key(&self, partition: &str) -> String {
        format!("{}{{{}}}", self.options.key_prefix, hashed(partition))
    }

    fn lease_key(&self, partition_and_scopes: &str) -> String {
        // The lease name starts with the partition: same hash tag, same shard.
        let (partition, rest) = partition_and_scopes
            .split_once('\u{1f}')
            .unwrap_or((partition_and_scopes, ""));
        format!(
            "{}{{{}}}:lease:{}",
            self.options.key_prefix,
            hashed(partition),
            hashed(rest)
        )
    }

    async fn connect(&self) -> Result<Conn, String> {
        let mut guard = self.conn.lock().await;
        if let Some(c) = guard.as_ref() {
            return Ok(c.clone());
        }
        {
            let failed = self.failed_at.lock().unwrap_or_else(|p| p.into_inner());
            if failed.is_some_and(|t| t.elapsed() < self.options.reconnect_after) {
                return Err("not connected (a recent attempt failed)".into());
            }
        }
        let t = self.options.timeout;
        let made = match &self.client {
            Client::Single(c) => {
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(t)
                    .set_response_timeout(t)
                    .set_number_of_retries(1)
                    .set_max_delay(t.as_millis().try_into().unwrap_or(u64::MAX));
                tokio::time::timeout(t, ConnectionManager::new_with_config(c.clone(), config))
                    .await
                    .map_err(|_| "connecting timed out".to_owned())
                    .and_then(|r| r.map(Conn::Single).map_err(|e| text(&e)))
            }
            Client::Cluster(c) => tokio::time::timeout(t, c.get_async_connection())
                .await
                .map_err(|_| "connecting timed out".to_owned())
                .and_then(|r| r.map(Conn::Cluster).map_err(|e| text(&e))),
        };
        match made {
            Ok(c) => {
                *self.failed_at.lock().unwrap_or_else(|p| p.into_inner()) = None;
                *guard = Some(c.clone());
                Ok(c)
            }
            Err(e) => {
                *self.failed_at.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
                Err(e)
            }
        }
    }

    /// Runs `f` on the connection within the timeout. A cluster connection
    /// that failed is dropped (re-made at the next call); the single-server
    /// manager reconnects by itself.
    async fn run<T, F>(&self, f: F) -> Result<T, String>
    where
        F: for<'c> FnOnce(&'c mut Conn) -> BoxFuture<'c, Result<T, RedisError>>,
    {
        let mut conn = self.connect().await?;
        let r = match tokio::time::timeout(self.options.timeout, f(&mut conn)).await {
            Ok(Ok(v)) => return Ok(v),
            Ok(Err(e)) => text(&e),
            Err(_) => "timed out".to_owned(),
        };
        if matches!(conn, Conn::Cluster(_)) {
            *self.conn.lock().await = None;
        }
        Err(r)
    }
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(
        &'a mut self,
        cmd: &'a redis::Cmd,
    ) -> redis::RedisFuture<'a, redis::Value> {
        match self {
            Conn::Single(c) => c.req_packed_command(cmd),
            Conn::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a redis::Pipeline,
        offset: usize,
        count: usize,
    ) -> redis::RedisFuture<'a, Vec<redis::Value>> {
        match self {
            Conn::Single(c) => c.req_packed_commands(cmd, offset, count),
            Conn::Cluster(c) => c.req_packed_commands(cmd, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Conn::Single(c) => c.get_db(),
            Conn::Cluster(c) => c.get_db(),
        }
    }
}

impl PartitionStore for RedisStore {
    fn load<'a>(
        &'a self,
        partition: &'a str,
    ) -> BoxFuture<'a, Result<Option<StoredPartition>, String>> {
        Box::pin(async move {
            let key = self.data_key(partition);
            let k = key.clone();
            let got: Result<(Option<String>, Option<Vec<u8>>), String> = self
                .run(move |c| {
                    Box::pin(async move {
                        redis::cmd("HMGET")
                            .arg(&k)
                            .arg("v")
                            .arg("d")
                            .query_async(c)
                            .await
                    })
                })
                .await;
            let (version, data) = match got {
                Ok(v) => v,
                Err(e) if e.contains("TypeError") || e.contains("WRONGTYPE") => {
                    // Not a partition: garbage under our key, dropped.
                    let k = key.clone();
                    self.run(move |c| {
                        Box::pin(
                            async move { redis::cmd("DEL").arg(&k).query_async::<i64>(c).await },
                        )
                    })
                    .await?;
                    return Ok(None);
                }
                Err(e) => return Err(e),
            };
            let (Some(version), Some(data)) = (version, data) else {
                return Ok(None);
            };
            let data = match &self.sealer {
                None => data,
                // Undecryptable (another key, tampered): read as empty, so
                // the next write replaces it (same version, compare-and-set).
                Some(s) => s.open(&key, &data).unwrap_or_default(),
            };
            Ok(Some(StoredPartition {
                data,
                version: Some(version),
            }))
        })
    }

    fn save<'a>(
        &'a self,
        partition: &'a str,
        data: Vec<u8>,
        expected: Option<String>,
        expires_at: SystemTime,
    ) -> BoxFuture<'a, Result<bool, String>> {
        Box::pin(async move {
            let key = self.data_key(partition);
            let data = match &self.sealer {
                None => data,
                Some(s) => s.seal(&key, data)?,
            };
            let ttl_ms = expires_at
                .duration_since(SystemTime::now())
                .unwrap_or_default()
                .as_millis()
                .clamp(1_000, u128::from(u64::MAX));
            let ttl_ms = u64::try_from(ttl_ms).unwrap_or(u64::MAX);
            let script = self.save_script.clone();
            let saved: i64 = self
                .run(move |c| {
                    Box::pin(async move {
                        script
                            .key(&key)
                            .arg(expected.unwrap_or_default())
                            .arg(random_token())
                            .arg(data)
                            .arg(ttl_ms)
                            .invoke_async(c)
                            .await
                    })
                })
                .await?;
            Ok(saved == 1)
        })
    }

    fn acquire_lease<'a>(
        &'a self,
        name: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<Lease, String>> {
        Box::pin(async move {
            let key = self.lease_key(name);
            let token = random_token();
            let t = token.clone();
            let ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
            let set: Option<String> = self
                .run(move |c| {
                    Box::pin(async move {
                        redis::cmd("SET")
                            .arg(&key)
                            .arg(&t)
                            .arg("NX")
                            .arg("PX")
                            .arg(ms)
                            .query_async(c)
                            .await
                    })
                })
                .await?;
            Ok(if set.is_some() {
                Lease::Acquired(token)
            } else {
                Lease::Busy
            })
        })
    }

    fn release_lease<'a>(&'a self, name: &'a str, token: &'a str) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let key = self.lease_key(name);
            let script = self.release_script.clone();
            let token = token.to_owned();
            let _ = self
                .run(move |c| {
                    Box::pin(
                        async move { script.key(&key).arg(&token).invoke_async::<i64>(c).await },
                    )
                })
                .await;
        })
    }
}
