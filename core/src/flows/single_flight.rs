//! Request coalescing: while one caller fetches a value for a key, every
//! other caller asking for the same key waits for that one result instead of
//! sending its own request.
//!
//! A thousand threads that find the same token expired at the same moment
//! must cost the identity provider one request, not a thousand (that many
//! would also trip its throttling). The first caller runs the fetch; the
//! others await the same [`OnceCell`] and get a clone of its outcome, error
//! included. The key is removed when the fetch ends, so the next miss after
//! that starts a fresh fetch (callers re-check the cache inside the fetch,
//! so a late arrival usually finds the new token there).
//!
//! If the caller running the fetch is cancelled (its future dropped), the
//! cell stays empty and the next waiter runs its own fetch: nobody waits
//! forever on an abandoned request.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::OnceCell;

/// Coalesces concurrent fetches of the same key.
#[derive(Debug)]
pub(crate) struct SingleFlight<K, V> {
    /// The outcome is held in an `Arc` so that a caller who fetched alone
    /// takes it whole (see [`SingleFlight::run`]) instead of copying it.
    inflight: Mutex<HashMap<K, Arc<OnceCell<Arc<V>>>>>,
}

impl<K, V> Default for SingleFlight<K, V> {
    fn default() -> Self {
        SingleFlight {
            inflight: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: Eq + Hash + Clone, V: Clone> SingleFlight<K, V> {
    fn map(&self) -> MutexGuard<'_, HashMap<K, Arc<OnceCell<Arc<V>>>>> {
        // Entries are inserted and removed whole; a panic elsewhere cannot
        // leave the map inconsistent, so a poisoned lock is still usable.
        self.inflight.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `fetch` unless a fetch for `key` is already running, in which
    /// case waits for that one and returns a clone of its outcome. The
    /// common case, one caller alone, gets the outcome itself: a token
    /// result is a dozen strings, one of them kilobytes long.
    pub async fn run<F, Fut>(&self, key: K, fetch: F) -> V
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = V>,
    {
        let cell = self.map().entry(key.clone()).or_default().clone();
        let value = cell
            .get_or_init(|| async { Arc::new(fetch().await) })
            .await
            .clone();
        {
            let mut map = self.map();
            if map.get(&key).is_some_and(|c| Arc::ptr_eq(c, &cell)) {
                map.remove(&key);
            }
        }
        // Without waiters the cell was this caller's last handle on it:
        // dropping it leaves `value` the outcome's only owner.
        drop(cell);
        Arc::try_unwrap(value).unwrap_or_else(|shared| V::clone(&shared))
    }

    /// Fetches in flight (for tests).
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.map().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_callers_share_one_fetch_and_its_error() {
        let flight: Arc<SingleFlight<&'static str, Result<u32, String>>> = Arc::default();
        let runs = Arc::new(AtomicUsize::new(0));
        let gate = Arc::new(tokio::sync::Notify::new());
        let mut tasks = Vec::new();
        for _ in 0..200 {
            let (flight, runs, gate) = (flight.clone(), runs.clone(), gate.clone());
            tasks.push(tokio::spawn(async move {
                flight
                    .run("k", || async move {
                        runs.fetch_add(1, Ordering::SeqCst);
                        gate.notified().await;
                        Err::<u32, _>("boom".to_owned())
                    })
                    .await
            }));
        }
        // Let every task reach the cell before the one fetch completes.
        while flight.map().get("k").map_or(0, Arc::strong_count) < 201 {
            tokio::task::yield_now().await;
        }
        gate.notify_one();
        for t in tasks {
            assert_eq!(t.await.unwrap(), Err("boom".to_owned()));
        }
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert_eq!(flight.len(), 0, "the key is removed after the fetch");
        // The next call fetches again.
        let v = flight.run("k", || async { Ok(7) }).await;
        assert_eq!(v, Ok(7));
    }

    #[tokio::test]
    async fn a_cancelled_fetch_hands_over_to_the_next_caller() {
        let flight: Arc<SingleFlight<u8, u32>> = Arc::default();
        let first = {
            let flight = flight.clone();
            tokio::spawn(async move {
                flight
                    .run(1, || async {
                        std::future::pending::<()>().await;
                        1
                    })
                    .await
            })
        };
        tokio::task::yield_now().await;
        first.abort();
        let _ = first.await;
        assert_eq!(flight.run(1, || async { 2 }).await, 2);
    }

    /// An outcome that counts its copies.
    #[derive(Debug)]
    struct Counted(Arc<AtomicUsize>);

    impl Clone for Counted {
        fn clone(&self) -> Self {
            self.0.fetch_add(1, Ordering::SeqCst);
            Counted(self.0.clone())
        }
    }

    #[tokio::test]
    async fn a_caller_alone_gets_the_outcome_itself_and_waiters_get_copies() {
        let copies = Arc::new(AtomicUsize::new(0));
        let flight: SingleFlight<u8, Counted> = SingleFlight::default();
        let made = copies.clone();
        let _alone = flight.run(1, || async move { Counted(made) }).await;
        assert_eq!(copies.load(Ordering::SeqCst), 0, "one caller: no copy");

        // Two callers on one fetch: each gets a value, at most one of them
        // the original.
        let gate = Arc::new(tokio::sync::Notify::new());
        let (made, opened) = (copies.clone(), gate.clone());
        let leader = flight.run(2, || async move {
            opened.notified().await;
            Counted(made)
        });
        let waiter = async {
            tokio::task::yield_now().await;
            flight
                .run(2, || async { unreachable!("the leader fetches") })
                .await
        };
        let open = async {
            tokio::task::yield_now().await;
            tokio::task::yield_now().await;
            gate.notify_one();
        };
        let (a, b, ()) = tokio::join!(leader, waiter, open);
        assert!(Arc::ptr_eq(&a.0, &b.0));
        assert!(copies.load(Ordering::SeqCst) >= 1, "waiters share by copy");
        assert_eq!(flight.len(), 0);
    }
}
