//! The client-side throttle (MSAL.NET's three providers): after the token
//! endpoint said "stop" for a request, the same request from this app is
//! answered locally, without a request, until the wait is over. It protects
//! the identity provider from apps that retry in a loop, and the app from
//! having its client id throttled harder.
//!
//! | the answer | blocked for | apps |
//! |---|---|---|
//! | any error with `Retry-After` | that long, at most [`MAX_RETRY_AFTER`] | every app |
//! | HTTP 429 or 5xx without `Retry-After` | [`HTTP_STATUS_THROTTLE`] | public clients |
//! | interaction required, in silent acquisition ([`Flow::Silent`]) | [`UI_REQUIRED_THROTTLE`] | public clients |
//!
//! "The same request" is the same client id, token endpoint and scopes (in
//! any order or case), the same claims, and the same user secret where the
//! grant has one (refresh token, authorization code, username, on-behalf-of
//! assertion) — compared by their SHA-256, never stored. A blocked request
//! fails with [`ErrorKind::Throttled`] carrying the original failure's code,
//! status, headers, suberror, claims and correlation id, and the time still to
//! wait as `retry_after`. A successful interactive sign-in (authorization code
//! or device code) for the same client, endpoint and scopes lifts every block
//! on them: the user has just done what the service asked for.
//!
//! Device-code polls are neither blocked nor recorded: the polling loop has
//! its own pace, and a blocked poll would end a sign-in the user is doing.

use crate::error::{mitigation_for, Action, ErrorKind, Flow, IdFlowError};
use aws_lc_rs::digest::{Context, SHA256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

/// The longest `Retry-After` honoured (a larger one is capped to this).
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);
/// The block after a 429 or 5xx without `Retry-After` (public clients).
pub const HTTP_STATUS_THROTTLE: Duration = Duration::from_secs(60);
/// The block after an interaction-required answer to a silent refresh
/// (public clients): asking again silently cannot succeed.
pub const UI_REQUIRED_THROTTLE: Duration = Duration::from_secs(120);

/// The most blocks one app keeps (msal Python's throttle cache holds as
/// many): past it, expired blocks go first, then the one ending soonest.
pub const MAX_BLOCKS: usize = 1024;

/// The form parameters whose value identifies the user or the grant.
const SUBJECT_PARAMS: [&str; 5] = ["refresh_token", "code", "username", "assertion", "claims"];

/// Which request a block applies to.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ThrottleKey {
    /// Client id, token endpoint and normalized scopes: what a successful
    /// interactive sign-in clears.
    pub app_scopes: String,
    /// SHA-256 (hex) over the grant's user-identifying parameters; empty
    /// when there are none (client credentials).
    pub subject: String,
}

impl ThrottleKey {
    /// The key of a token request, from its form (before the client's
    /// credential is attached: a fresh client assertion per request must
    /// not make every request look new).
    pub fn for_token_request(token_url: &str, form: &[(String, String)]) -> Self {
        let value = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        // "client id \n token URL \n scopes", the URL and the scopes
        // lower-cased, the scopes sorted and de-duplicated as lower-case
        // text: built in one string (this runs for every token request).
        let scope = value("scope").unwrap_or("");
        let mut scopes: Vec<&str> = scope.split_whitespace().collect();
        scopes.sort_by(|a, b| {
            a.bytes()
                .map(|c| c.to_ascii_lowercase())
                .cmp(b.bytes().map(|c| c.to_ascii_lowercase()))
        });
        scopes.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
        let client_id = value("client_id").unwrap_or("");
        let url = token_url.trim_end_matches('/');
        let mut app_scopes = String::with_capacity(client_id.len() + url.len() + scope.len() + 2);
        app_scopes.push_str(client_id);
        app_scopes.push('\n');
        let folded_from = app_scopes.len();
        app_scopes.push_str(url);
        app_scopes.push('\n');
        for (i, s) in scopes.iter().enumerate() {
            if i > 0 {
                app_scopes.push(' ');
            }
            app_scopes.push_str(s);
        }
        app_scopes[folded_from..].make_ascii_lowercase();
        // The digest is started only for a request that has a subject (most
        // app-only requests have none).
        let mut hasher: Option<Context> = None;
        for name in SUBJECT_PARAMS {
            if let Some(v) = value(name) {
                let h = hasher.get_or_insert_with(|| Context::new(&SHA256));
                h.update(name.as_bytes());
                h.update(&[0]);
                h.update(v.as_bytes());
                h.update(&[0]);
            }
        }
        let subject = match hasher {
            Some(h) => h
                .finish()
                .as_ref()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
            None => String::new(),
        };
        ThrottleKey {
            app_scopes,
            subject,
        }
    }
}

#[derive(Debug)]
struct Block {
    until: SystemTime,
    error: IdFlowError,
    /// An interaction-required block stops only silent acquisition.
    silent_only: bool,
}

/// One app's blocks (shared by its clones; each app has its own).
#[derive(Debug, Default)]
pub struct Throttle {
    blocks: Mutex<HashMap<ThrottleKey, Block>>,
}

impl Throttle {
    pub fn new() -> Self {
        Throttle::default()
    }

    fn with<T>(&self, f: impl FnOnce(&mut HashMap<ThrottleKey, Block>) -> T) -> T {
        // A poisoned lock means a panic elsewhere mid-update of a map of
        // plain values: still consistent.
        let mut guard = match self.blocks.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(&mut guard)
    }

    /// How long `error` blocks its request, if at all.
    pub fn duration_for(error: &IdFlowError, flow: Flow, public_client: bool) -> Option<Duration> {
        let status = error.http_status()?;
        if let Some(wait) = error.retry_after {
            return Some(wait.min(MAX_RETRY_AFTER)).filter(|d| !d.is_zero());
        }
        if !public_client {
            return None;
        }
        if status == 429 || (500..600).contains(&status) {
            return Some(HTTP_STATUS_THROTTLE);
        }
        if flow == Flow::Silent && error.kind == ErrorKind::InteractionRequired {
            return Some(UI_REQUIRED_THROTTLE);
        }
        None
    }

    /// Records a failure of the request `key` answered at `now`; a failure
    /// that does not throttle is ignored.
    pub fn record(
        &self,
        key: ThrottleKey,
        error: &IdFlowError,
        flow: Flow,
        public_client: bool,
        now: SystemTime,
    ) {
        if let Some(d) = Self::duration_for(error, flow, public_client) {
            self.record_for(key, error, d, now);
        }
    }

    /// Blocks the request `key` for `d` from `now` with `error`: for
    /// callers with their own rule for how long (managed identity blocks
    /// a 429 or 5xx for 5 s, as msal Python does).
    pub fn record_for(&self, key: ThrottleKey, error: &IdFlowError, d: Duration, now: SystemTime) {
        {
            tracing::debug!(
                target: "idflow::throttle",
                code = %error.code,
                block_secs = d.as_secs(),
                "blocking repeats of this request"
            );
            let block = Block {
                until: now + d,
                error: error.clone(),
                silent_only: error.retry_after.is_none()
                    && error.kind == ErrorKind::InteractionRequired,
            };
            self.with(|m| {
                if m.len() >= MAX_BLOCKS && !m.contains_key(&key) {
                    m.retain(|_, b| b.until > now);
                    if m.len() >= MAX_BLOCKS {
                        let soonest = m
                            .iter()
                            .min_by_key(|(_, b)| b.until)
                            .map(|(k, _)| k.clone());
                        if let Some(k) = soonest {
                            m.remove(&k);
                        }
                    }
                }
                m.insert(key, block);
            });
        }
    }

    /// The throttled error for a request `key` of `flow` at `now`, if it is
    /// still blocked.
    pub fn check(&self, key: &ThrottleKey, flow: Flow, now: SystemTime) -> Option<IdFlowError> {
        self.with(|m| {
            let block = m.get(key)?;
            let remaining = block.until.duration_since(now).ok();
            match remaining.filter(|d| !d.is_zero()) {
                Some(_) if block.silent_only && flow != Flow::Silent => None,
                Some(left) => Some(throttled(&block.error, left)),
                None => {
                    m.remove(key);
                    None
                }
            }
        })
    }

    /// Lifts every block on the client, endpoint and scopes of `key`.
    pub fn clear(&self, key: &ThrottleKey) {
        self.with(|m| m.retain(|k, _| k.app_scopes != key.app_scopes));
    }

    /// How many requests are blocked (expired blocks included until checked).
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.with(|m| m.len())
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The original failure, as a throttled one with `left` still to wait
/// (whole seconds, rounded up: waiting `retry_after` is always enough).
fn throttled(original: &IdFlowError, left: Duration) -> IdFlowError {
    let secs = left.as_secs() + u64::from(left.subsec_nanos() > 0);
    let mut e = original.clone();
    e.kind = ErrorKind::Throttled;
    e.retryable = true;
    e.retry_after = Some(Duration::from_secs(secs));
    e.action = if original.kind == ErrorKind::InteractionRequired {
        // Only a silent retry is blocked: the interactive sign-in the
        // original error asks for is what lifts the block.
        Action::AcquireInteractively
    } else {
        Action::RetryAfter
    };
    e.message = format!(
        "throttled locally for {secs} more s (no request sent) after: {}",
        original.message
    );
    e.mitigation = mitigation_for(&e);
    e
}

#[cfg(test)]
mod tests;
