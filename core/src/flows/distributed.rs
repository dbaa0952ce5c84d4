//! Single flight across processes: when many instances miss the same
//! partition and scopes at once, one sends the request and the others read
//! its result from the partition store.
//!
//! Inside one process [`super::single_flight`] already joins concurrent
//! callers; this takes the same idea to every process sharing a
//! [`crate::cache::PartitionStore`]. The first process to miss takes a short
//! lease named after the partition and the scope set (Redis: `SET NX PX`),
//! fetches, stores the result and releases the lease. The others wait,
//! re-reading the partition after [`crate::cache::PartitionOptions::lease_poll`],
//! then after pauses doubling up to eight times that (through the app's
//! sleeper: tests do not really wait), and take the
//! stored token as soon as it is there. A holder that died leaves a lease
//! that expires after `lease_ttl`, and the next waiter takes it over; past
//! `lease_wait` a waiter sends its own request. A store that fails costs the
//! lease nothing: the call fetches on its own. MSAL has no equivalent.

use super::Engine;
use crate::cache::{Lease, PartitionKey, TokenCache};
use crate::error::IdFlowError;
use crate::protocol::token::AuthenticationResult;
use std::future::Future;

type Found = Result<Option<AuthenticationResult>, IdFlowError>;

impl Engine {
    /// Runs `fetch` under the partition's lease for `scopes_key` (see the
    /// module docs), returning `hit()`'s token instead when another process
    /// stored one meanwhile; writes the partition of `cache` (the app's
    /// cache, or its on-behalf-of tokens) afterwards.
    pub(crate) async fn across_processes<H, F, Fut>(
        &self,
        cache: &TokenCache,
        partition: &PartitionKey,
        scopes_key: &str,
        hit: H,
        fetch: F,
    ) -> Result<AuthenticationResult, IdFlowError>
    where
        H: Fn() -> Found,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<AuthenticationResult, IdFlowError>>,
    {
        // Boxed: the lease's state beside the fetch's would otherwise be part
        // of the future of every call that may come here, with a partition
        // store or without (see `TokenCache::after_access`).
        Box::pin(async move {
            let Some(opts) = cache.partitions().map(|p| p.options.clone()) else {
                return fetch().await;
            };
            let name = format!("{}\u{1f}{scopes_key}", partition.as_str());
            // The pause between two looks doubles up to 8 × `lease_poll`: a
            // thousand waiters polling at the shortest pause would load Redis
            // (and their own processes) more than the one request they avoid.
            let mut pause = opts.lease_poll;
            let longest = opts.lease_poll.saturating_mul(8);
            let mut waited = std::time::Duration::ZERO;
            loop {
                match cache.acquire_lease(&name).await {
                    Some(Lease::Acquired(token)) => {
                        // The previous holder may have stored it just now.
                        cache.before_access(partition, true).await;
                        let r = match hit() {
                            Ok(Some(h)) => Ok(h),
                            Ok(None) => fetch().await,
                            Err(e) => Err(e),
                        };
                        cache.after_access(partition).await;
                        cache.release_lease(&name, &token).await;
                        return r;
                    }
                    Some(Lease::Busy) if waited < opts.lease_wait => {
                        self.sender.sleeper.sleep(pause).await;
                        waited = waited.saturating_add(pause);
                        pause = pause.saturating_mul(2).min(longest);
                        cache.before_access(partition, true).await;
                        if let Some(h) = hit()? {
                            return Ok(h);
                        }
                    }
                    // Waited long enough, or the store fails: fetch directly.
                    _ => {
                        let r = fetch().await;
                        cache.after_access(partition).await;
                        return r;
                    }
                }
            }
        })
        .await
    }
}
