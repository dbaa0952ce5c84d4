//! Partitioned access against an in-memory store with compare-and-set: what
//! goes to which partition, merges under contention, failures that keep the
//! changes for the next call, unreadable partitions dropped.

use super::partition::{PartitionKey, PartitionOptions, PartitionStore, StoredPartition};
use super::TokenCache;
use crate::net::http::BoxFuture;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

#[derive(Debug, Default)]
struct MemStore {
    map: Mutex<HashMap<String, (String, Vec<u8>)>>,
    down: AtomicBool,
    /// Saves to refuse as conflicts (another writer got there first).
    conflicts: AtomicUsize,
    counter: AtomicUsize,
    /// Saves of this partition wait for a permit (a slow store).
    gate: Mutex<Option<(String, Arc<tokio::sync::Semaphore>)>>,
    /// Saves waiting at the gate, so far.
    held: AtomicUsize,
}

impl PartitionStore for MemStore {
    fn load<'a>(&'a self, p: &'a str) -> BoxFuture<'a, Result<Option<StoredPartition>, String>> {
        Box::pin(async move {
            if self.down.load(Ordering::SeqCst) {
                return Err("down".into());
            }
            Ok(self
                .map
                .lock()
                .unwrap()
                .get(p)
                .map(|(v, d)| StoredPartition {
                    data: d.clone(),
                    version: Some(v.clone()),
                }))
        })
    }

    fn save<'a>(
        &'a self,
        p: &'a str,
        data: Vec<u8>,
        expected: Option<String>,
        _expires_at: SystemTime,
    ) -> BoxFuture<'a, Result<bool, String>> {
        Box::pin(async move {
            if self.down.load(Ordering::SeqCst) {
                return Err("down".into());
            }
            let gate = self.gate.lock().unwrap().clone();
            if let Some((_, permits)) = gate.filter(|(g, _)| g == p) {
                self.held.fetch_add(1, Ordering::SeqCst);
                let _permit = permits.acquire().await.unwrap();
            }
            if self
                .conflicts
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok()
            {
                return Ok(false);
            }
            let mut m = self.map.lock().unwrap();
            if m.get(p).map(|(v, _)| v.clone()) != expected {
                return Ok(false);
            }
            let v = self.counter.fetch_add(1, Ordering::SeqCst).to_string();
            m.insert(p.to_owned(), (v, data));
            Ok(true)
        })
    }
}

const HOME: &str = "uid.utid";

fn doc(home: &str, client: &str, rt: &str) -> String {
    serde_json::json!({
        "RefreshToken": { format!("{home}-login.test-refreshtoken-{client}--"): {
            "credential_type": "RefreshToken", "secret": rt, "home_account_id": home,
            "environment": "login.test", "client_id": client
        }},
        "AccessToken": { format!("-login.test-accesstoken-{client}-t1-s"): {
            "credential_type": "AccessToken", "secret": "app-at", "home_account_id": "",
            "environment": "login.test", "client_id": client, "realm": "t1", "target": "s",
            "expires_on": "9999999999", "cached_at": "1"
        }}
    })
    .to_string()
}

fn cache(store: &Arc<MemStore>) -> TokenCache {
    let c = TokenCache::new();
    c.attach_partitioned(
        store.clone(),
        PartitionOptions {
            l1_ttl: Duration::ZERO,
            ..PartitionOptions::default()
        },
    );
    c
}

fn stored(store: &MemStore, p: &PartitionKey) -> serde_json::Value {
    let m = store.map.lock().unwrap();
    serde_json::from_slice(
        &m.get(p.as_str())
            .map(|(_, d)| d.clone())
            .unwrap_or_default(),
    )
    .unwrap_or_default()
}

#[tokio::test]
async fn each_entry_goes_to_its_own_partition() {
    let store = Arc::new(MemStore::default());
    let c = cache(&store);
    c.deserialize(&doc(HOME, "c1", "rt-1")).unwrap();
    c.after_access(&PartitionKey::user(HOME)).await;
    let user = stored(&store, &PartitionKey::user(HOME));
    let app = stored(&store, &PartitionKey::app("c1", "t1"));
    assert_eq!(user["RefreshToken"].as_object().unwrap().len(), 1);
    assert!(user
        .get("AccessToken")
        .is_none_or(|a| a.as_object().unwrap().is_empty()));
    assert_eq!(app["AccessToken"].as_object().unwrap().len(), 1);
    assert!(app
        .get("RefreshToken")
        .is_none_or(|a| a.as_object().unwrap().is_empty()));
    // Another instance reads the user's partition alone.
    let other = cache(&store);
    other.before_access(&PartitionKey::user(HOME), false).await;
    assert_eq!(other.counts().refresh_tokens, 1);
    assert_eq!(other.counts().access_tokens, 0);
}

#[tokio::test]
async fn a_conflict_is_merged_and_retried() {
    let store = Arc::new(MemStore::default());
    let (a, b) = (cache(&store), cache(&store));
    a.deserialize(&doc(HOME, "ca", "rt-a")).unwrap();
    b.deserialize(&doc(HOME, "cb", "rt-b")).unwrap();
    a.after_access(&PartitionKey::user(HOME)).await;
    store.conflicts.store(3, Ordering::SeqCst);
    b.after_access(&PartitionKey::user(HOME)).await;
    let user = stored(&store, &PartitionKey::user(HOME));
    assert_eq!(
        user["RefreshToken"].as_object().unwrap().len(),
        2,
        "both kept"
    );
}

#[tokio::test]
async fn a_failing_store_keeps_the_changes_for_the_next_call() {
    let store = Arc::new(MemStore::default());
    let c = cache(&store);
    store.down.store(true, Ordering::SeqCst);
    c.deserialize(&doc(HOME, "c1", "rt-1")).unwrap();
    c.after_access(&PartitionKey::user(HOME)).await;
    c.before_access(&PartitionKey::user(HOME), true).await;
    assert!(c.partition_store_degraded());
    assert_eq!(c.counts().refresh_tokens, 1, "memory still serves");
    store.down.store(false, Ordering::SeqCst);
    c.after_access(&PartitionKey::user(HOME)).await;
    assert!(!c.partition_store_degraded());
    assert_eq!(
        stored(&store, &PartitionKey::user(HOME))["RefreshToken"]
            .as_object()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn an_unreadable_partition_is_dropped_and_replaced() {
    let store = Arc::new(MemStore::default());
    let key = PartitionKey::user(HOME);
    store.map.lock().unwrap().insert(
        key.as_str().to_owned(),
        ("v0".into(), b"\xff{not json".to_vec()),
    );
    let c = cache(&store);
    c.before_access(&key, false).await;
    assert_eq!(c.counts().refresh_tokens, 0);
    c.deserialize(&doc(HOME, "c1", "rt-1")).unwrap();
    c.after_access(&key).await;
    assert_eq!(
        stored(&store, &key)["RefreshToken"]
            .as_object()
            .unwrap()
            .len(),
        1
    );
}

/// The journal goes whole to whichever call ends first, so a call can find
/// its changes taken by another call whose write of them is still under
/// way. It must not return before that write lands: a lease holder would let
/// the next process read the partition without the token it fetched, and
/// that process would fetch again (one request more across processes).
#[tokio::test]
async fn a_call_returns_once_its_changes_are_stored_whichever_call_writes_them() {
    let store = Arc::new(MemStore::default());
    let c = cache(&store);
    let app = PartitionKey::app("c1", "t1");
    let permits = Arc::new(tokio::sync::Semaphore::new(0));
    *store.gate.lock().unwrap() = Some((app.as_str().to_owned(), permits.clone()));
    // Changes in two partitions: the user's refresh token and the app token.
    c.deserialize(&doc(HOME, "c1", "rt-1")).unwrap();
    // The user's call ends first and writes both; the app partition's save waits.
    let other = tokio::spawn({
        let c = c.clone();
        async move { c.after_access(&PartitionKey::user(HOME)).await }
    });
    while store.held.load(Ordering::SeqCst) == 0 {
        tokio::task::yield_now().await;
    }
    let mine = tokio::spawn({
        let c = c.clone();
        let app = app.clone();
        async move { c.after_access(&app).await }
    });
    // One thread: every other task runs between two of these turns.
    for _ in 0..100 {
        tokio::task::yield_now().await;
    }
    assert!(
        !mine.is_finished(),
        "the app token's call waits for the write of its partition"
    );
    assert!(stored(&store, &app).get("AccessToken").is_none());
    permits.add_permits(1);
    mine.await.unwrap();
    assert_eq!(
        stored(&store, &app)["AccessToken"]
            .as_object()
            .unwrap()
            .len(),
        1,
        "stored when the call returns"
    );
    other.await.unwrap();
}

#[test]
fn keys_are_msal_dotnet_suggested_keys() {
    assert_eq!(PartitionKey::app("c", "t").as_str(), "c_t_AppTokenCache");
    assert_eq!(PartitionKey::user(HOME).as_str(), HOME);
    let obo = PartitionKey::on_behalf_of(&crate::secret::UserAssertion::new("eyJ.assertion"));
    assert_eq!(obo.as_str().len(), 43, "SHA-256, base64url without padding");
    assert!(!obo.as_str().contains("assertion"));
}
