//! The partitioned token cache through uniffi: Redis built in, or any store
//! the app implements ([`PartitionedCacheStorage`]: a database table, a
//! key-value service). Converts and delegates; the core decides.

use crate::cache::TokenCache;
use crate::guard::guard;
use crate::types::{display_as_debug, AuthError};
use idflow::{IdFlowError, LocalCode};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How the cache uses Redis (see `idflow::RedisOptions` and
/// `idflow::PartitionOptions` for each member's meaning). Its string form
/// says whether there is an encryption key, never the key.
#[derive(Clone, uniffi::Record)]
#[uniffi::export(Debug, Display)]
pub struct RedisCacheOptions {
    /// Prepended to every Redis key.
    #[uniffi(default = "idflow:")]
    pub key_prefix: String,
    /// The bound on every Redis call, in milliseconds.
    #[uniffi(default = 250)]
    pub timeout_ms: u64,
    /// A 32-byte AES-256-GCM key: partitions are stored sealed with it.
    #[uniffi(default = None)]
    pub encryption_key: Option<Vec<u8>>,
    /// The URLs are Redis Cluster nodes.
    #[uniffi(default = false)]
    pub cluster: bool,
    /// How long a partition read from Redis is trusted in memory, in milliseconds.
    #[uniffi(default = 30000)]
    pub l1_ttl_ms: u64,
}

impl std::fmt::Debug for RedisCacheOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisCacheOptions")
            .field("key_prefix", &self.key_prefix)
            .field("timeout_ms", &self.timeout_ms)
            .field("encrypted", &self.encryption_key.is_some())
            .field("cluster", &self.cluster)
            .field("l1_ttl_ms", &self.l1_ttl_ms)
            .finish()
    }
}

/// A partition as your store holds it: the bytes and your version of them.
/// The bytes hold tokens: the string form shows their length only.
#[derive(Clone, uniffi::Record)]
#[uniffi::export(Debug, Display)]
pub struct PartitionData {
    pub data: Vec<u8>,
    pub version: Option<String>,
}

impl std::fmt::Debug for PartitionData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PartitionData")
            .field("data_len", &self.data.len())
            .field("version", &self.version)
            .finish()
    }
}

display_as_debug!(RedisCacheOptions, PartitionData);

/// A store of cache partitions the app implements. Each call names one
/// partition (MSAL.NET's suggested cache key). The bytes hold tokens: keep
/// them encrypted or access-controlled. Called off the async runtime.
#[uniffi::export(with_foreign)]
pub trait PartitionedCacheStorage: Send + Sync {
    /// The stored partition, or nothing.
    fn load(&self, partition: String) -> Result<Option<PartitionData>, AuthError>;
    /// Stores `data` when the stored version is still `expected_version`
    /// (nothing: no partition stored); returns false when another writer got
    /// there first. A store without versions saves and returns true.
    /// `expires_at_unix` is when the partition may be forgotten.
    fn save(
        &self,
        partition: String,
        data: Vec<u8>,
        expected_version: Option<String>,
        expires_at_unix: u64,
    ) -> Result<bool, AuthError>;
}

struct ForeignPartitions(Arc<dyn PartitionedCacheStorage>);

impl std::fmt::Debug for ForeignPartitions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ForeignPartitions")
    }
}

/// Runs a foreign call on tokio's blocking pool (a panic is a failure).
async fn off_runtime<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, AuthError> + Send + 'static,
) -> Result<T, String> {
    let run = move || {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
            .map_err(|_| "the app's partition store failed unexpectedly".to_owned())?
            .map_err(|e| e.info().message.clone())
    };
    match tokio::runtime::Handle::try_current() {
        Ok(h) => h
            .spawn_blocking(run)
            .await
            .map_err(|_| "the app's partition store failed unexpectedly".to_owned())?,
        Err(_) => run(),
    }
}

impl idflow::PartitionStore for ForeignPartitions {
    fn load<'a>(
        &'a self,
        partition: &'a str,
    ) -> idflow::BoxFuture<'a, Result<Option<idflow::StoredPartition>, String>> {
        let (store, partition) = (self.0.clone(), partition.to_owned());
        Box::pin(async move {
            let got = off_runtime(move || store.load(partition)).await?;
            Ok(got.map(|p| idflow::StoredPartition {
                data: p.data,
                version: p.version,
            }))
        })
    }

    fn save<'a>(
        &'a self,
        partition: &'a str,
        data: Vec<u8>,
        expected: Option<String>,
        expires_at: SystemTime,
    ) -> idflow::BoxFuture<'a, Result<bool, String>> {
        let (store, partition) = (self.0.clone(), partition.to_owned());
        let at = expires_at
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Box::pin(off_runtime(move || {
            store.save(partition, data, expected, at)
        }))
    }
}

fn invalid(message: String) -> AuthError {
    IdFlowError::local(LocalCode::InvalidParameter, message).into()
}

#[uniffi::export]
impl TokenCache {
    /// Keeps this cache in Redis, one entry per partition (a tenant's app
    /// tokens, a user's tokens), with this in-memory cache in front. Redis
    /// failures never fail a call. Throws `invalid_parameter` for a bad URL
    /// or a key that is not 32 bytes.
    pub fn attach_redis(
        &self,
        urls: Vec<String>,
        options: RedisCacheOptions,
    ) -> Result<(), AuthError> {
        guard(|| {
            let store = idflow::RedisStore::new(
                &urls,
                idflow::RedisOptions {
                    key_prefix: options.key_prefix,
                    timeout: Duration::from_millis(options.timeout_ms),
                    encryption_key: options.encryption_key,
                    cluster: options.cluster,
                    ..idflow::RedisOptions::default()
                },
            )
            .map_err(invalid)?;
            self.core().attach_partitioned(
                Arc::new(store),
                idflow::PartitionOptions {
                    l1_ttl: Duration::from_millis(options.l1_ttl_ms),
                    ..idflow::PartitionOptions::default()
                },
            );
            Ok(())
        })
    }

    /// Keeps this cache in the app's own partitioned store, with this
    /// in-memory cache in front for `l1_ttl_ms`.
    pub fn attach_partitioned_storage(
        &self,
        storage: Arc<dyn PartitionedCacheStorage>,
        l1_ttl_ms: u64,
    ) {
        self.core().attach_partitioned(
            Arc::new(ForeignPartitions(storage)),
            idflow::PartitionOptions {
                l1_ttl: Duration::from_millis(l1_ttl_ms),
                ..idflow::PartitionOptions::default()
            },
        );
    }

    /// Whether the attached partition store (Redis) is failing now.
    pub fn partition_store_degraded(&self) -> bool {
        self.core().partition_store_degraded()
    }
}
