//! The one shape of every export: run the core call, turn its error into an
//! [`AuthError`] (through `From`, so `?` works on core errors), and catch a
//! panic as a classified `internal_error` so none crosses the FFI boundary.

use crate::types::AuthError;
use idflow::error::{IdFlowError, LocalCode};
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

/// Runs a synchronous export, turning a panic into a classified `internal_error`.
pub(crate) fn guard<T>(f: impl FnOnce() -> Result<T, AuthError>) -> Result<T, AuthError> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| Err(panicked()))
}

/// [`guard`] for an async export: a panic in any poll of `f` ends it with a
/// classified `internal_error` (the future is dropped, as after an error).
pub(crate) async fn guard_async<T, F>(f: F) -> Result<T, AuthError>
where
    F: Future<Output = Result<T, AuthError>>,
{
    CatchUnwind(Box::pin(f)).await
}

/// A guarded core call: `f`'s error becomes an [`AuthError`], its value goes
/// through `convert` (the FFI shape).
pub(crate) fn call<C, T>(
    f: impl FnOnce() -> Result<C, IdFlowError>,
    convert: impl FnOnce(C) -> T,
) -> Result<T, AuthError> {
    guard(|| Ok(convert(f()?)))
}

/// [`call`] for an async core call; `f` runs entirely inside the guard.
pub(crate) async fn call_async<C, T>(
    f: impl Future<Output = Result<C, IdFlowError>>,
    convert: impl FnOnce(C) -> T,
) -> Result<T, AuthError> {
    guard_async(async move { Ok(convert(f.await?)) }).await
}

pub(crate) fn panicked() -> AuthError {
    AuthError::from_core(&IdFlowError::local(
        LocalCode::InternalError,
        "idflow hit an internal error (a caught panic)",
    ))
}

/// Polls the inner future inside `catch_unwind`.
struct CatchUnwind<F>(Pin<Box<F>>);

impl<T, F: Future<Output = Result<T, AuthError>>> Future for CatchUnwind<F> {
    type Output = Result<T, AuthError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = &mut self.0;
        catch_unwind(AssertUnwindSafe(|| inner.as_mut().poll(cx)))
            .unwrap_or_else(|_| Poll::Ready(Err(panicked())))
    }
}
