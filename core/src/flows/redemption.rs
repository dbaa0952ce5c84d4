//! What is checked when a started sign-in comes back, beyond its `state`:
//! that this application has not answered the same `state` before (replay),
//! and OIDC `max_age` against the id token's `auth_time`.
//!
//! Replay: an application object answers a given `state` once; the first
//! redirect that carries it with a code consumes it, a second one is a
//! `state_mismatch` and sends nothing. It remembers the last 4096 states (as
//! SHA-256 digests). Across processes the provider refuses a reused code
//! (`invalid_grant`), and the app should drop the flow from its session once
//! used, as msal's samples do. msal Python itself has no such memory: it
//! checks only that the redirect's state equals the flow's
//! (AzureAD/microsoft-authentication-library-for-python
//! `msal/oauth2cli/oauth2.py` `obtain_token_by_auth_code_flow`).

use crate::error::{Flow, IdFlowError, LocalCode};
use crate::protocol::token::AuthenticationResult;
use crate::secret::FlowSecret;
use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The clock skew allowed by the `max_age` check, as msal Python's
/// (`msal/oauth2cli/oidc.py` `obtain_token_by_auth_code_flow`: two minutes).
pub const MAX_AGE_SKEW: Duration = Duration::from_secs(120);

/// How many redeemed states an application remembers (oldest forgotten first).
const REMEMBERED_STATES: usize = 4096;

/// A state's SHA-256 (the value itself is not kept).
type StateDigest = [u8; 32];

/// The states an application has redeemed, and their order (oldest first).
#[derive(Debug, Default)]
pub(crate) struct RedeemedStates {
    inner: Mutex<(HashSet<StateDigest>, VecDeque<StateDigest>)>,
}

impl RedeemedStates {
    /// Records a flow's state as answered; `state_mismatch` when it
    /// already was (a replayed redirect).
    pub fn consume(&self, state: &FlowSecret, correlation_id: &str) -> Result<(), IdFlowError> {
        let digest =
            aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, state.expose().as_bytes());
        let mut key = [0u8; 32];
        key.copy_from_slice(digest.as_ref());
        let mut guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let (seen, order) = &mut *guard;
        if !seen.insert(key) {
            tracing::warn!(
                target: "idflow::auth_code",
                correlation_id = %correlation_id,
                "a redirect for an already redeemed state; refusing it"
            );
            return Err(IdFlowError::local(
                LocalCode::StateMismatch,
                "this sign-in was already completed: a redirect is redeemed once \
                 (it may be replayed); start a new sign-in",
            )
            .with_correlation_id(correlation_id.to_owned()));
        }
        order.push_back(key);
        if order.len() > REMEMBERED_STATES {
            if let Some(old) = order.pop_front() {
                seen.remove(&old);
            }
        }
        Ok(())
    }
}

/// OIDC Core §3.1.2.1 / msal Python (`msal/oauth2cli/oidc.py`
/// `obtain_token_by_auth_code_flow`): with `max_age` asked, an id token must
/// carry `auth_time`, and `now - skew` must not be past `auth_time + max_age`.
/// An answer without an id token is not checked (as msal). Failure is
/// `invalid_jwt` (msal raises `RuntimeError`); the tokens were cached.
pub(crate) fn check_max_age(
    max_age: Option<u64>,
    result: &AuthenticationResult,
    now: SystemTime,
) -> Result<(), IdFlowError> {
    let (Some(max_age), Some(claims)) = (max_age, result.id_token_claims.as_ref()) else {
        return Ok(());
    };
    let fail = |why: String| {
        Err(IdFlowError::local(LocalCode::InvalidIdToken, why)
            .with_flow(Flow::Token)
            .with_correlation_id(result.correlation_id.clone()))
    };
    let Some(auth_time) = claims.all.get("auth_time").and_then(|v| {
        v.as_u64()
            .or_else(|| v.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
    }) else {
        return fail("max_age was requested, but the id token has no auth_time".into());
    };
    let now = now
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    if now.saturating_sub(MAX_AGE_SKEW.as_secs()) > auth_time.saturating_add(max_age) {
        return fail(format!(
            "the user signed in at {auth_time}, more than max_age ({max_age} s) before now ({now}): \
             sign the user in again"
        ));
    }
    Ok(())
}
