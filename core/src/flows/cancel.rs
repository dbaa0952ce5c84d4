//! Cancelling a long-running flow from outside it.
//!
//! Foreign code cannot cancel a Rust future through uniffi, so device-code
//! polling and the loopback wait take a [`CancelHandle`]: create one, pass a
//! clone to the flow, call [`CancelHandle::cancel`] from anywhere (another
//! thread, a UI button). The flow stops at its next await point — during a
//! wait or an in-flight request — and returns `user_cancelled`.

use crate::error::{Flow, IdFlowError, LocalCode};
use std::sync::Arc;
use tokio::sync::watch;

/// A cheaply clonable cancel switch. All clones control the same flow(s);
/// once cancelled it stays cancelled, so use a new handle per attempt.
#[derive(Clone, Debug)]
pub struct CancelHandle {
    tx: Arc<watch::Sender<bool>>,
}

impl Default for CancelHandle {
    fn default() -> Self {
        CancelHandle::new()
    }
}

impl CancelHandle {
    pub fn new() -> Self {
        let (tx, _rx) = watch::channel(false);
        CancelHandle { tx: Arc::new(tx) }
    }

    /// Asks every flow holding this handle to stop. Idempotent.
    pub fn cancel(&self) {
        self.tx.send_replace(true);
    }

    pub fn is_cancelled(&self) -> bool {
        *self.tx.borrow()
    }

    /// Completes once [`cancel`](Self::cancel) has been called (at once if it
    /// already was).
    pub async fn cancelled(&self) {
        let mut rx = self.tx.subscribe();
        // The sender lives in `self`, so the channel cannot close while we
        // wait; an error would only mean it did, and then nothing can cancel.
        if rx.wait_for(|c| *c).await.is_err() {
            std::future::pending::<()>().await;
        }
    }

    /// The error a cancelled flow returns.
    pub fn error(flow: Flow, what: &str) -> IdFlowError {
        IdFlowError::local(LocalCode::UserCancelled, format!("{what} was cancelled"))
            .with_flow(flow)
    }
}

/// Runs `fut` unless `cancel` fires first.
pub(crate) async fn or_cancel<T>(
    cancel: &CancelHandle,
    flow: Flow,
    what: &str,
    fut: impl std::future::Future<Output = T>,
) -> Result<T, IdFlowError> {
    if cancel.is_cancelled() {
        return Err(CancelHandle::error(flow, what));
    }
    tokio::select! {
        biased;
        _ = cancel.cancelled() => Err(CancelHandle::error(flow, what)),
        v = fut => Ok(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn cancel_interrupts_a_pending_future() {
        let c = CancelHandle::new();
        let c2 = c.clone();
        let waiter = tokio::spawn(async move {
            or_cancel(
                &c2,
                Flow::DeviceCode,
                "polling",
                std::future::pending::<()>(),
            )
            .await
        });
        tokio::task::yield_now().await;
        c.cancel();
        let e = waiter.await.unwrap().unwrap_err();
        assert_eq!(e.code, "user_cancelled");
        assert_eq!(e.kind, crate::error::ErrorKind::Cancelled);
        assert!(c.is_cancelled());
        // Already cancelled: immediate.
        assert!(or_cancel(&c, Flow::Token, "x", async { 1 }).await.is_err());
    }
}
