//! Device authorization grant (RFC 8628).
//!
//! `initiate` asks for a code and returns a [`DeviceFlow`] whose `message`
//! (or `user_code` + `verification_uri`) the app shows at once. `poll` then
//! asks the token endpoint until the user finishes: the classifier decides
//! each answer (`authorization_pending` → wait the interval, `slow_down` →
//! add five seconds, anything else stops); every wait goes through the
//! injected sleeper; the local expiry gives `code_expired`; the cancel handle
//! ends polling at once with `user_cancelled`.

use super::cancel::{or_cancel, CancelHandle};
use super::{app_scopes, Context, Engine};
use crate::error::{Flow, IdFlowError, LocalCode, Outcome};
use crate::net::http::HttpRequest;
use crate::protocol::token::AuthenticationResult;
use crate::secret::DeviceCode;
use serde_json::Value;
use std::time::{Duration, SystemTime};

/// Polling interval when the server names none (RFC 8628 §3.2). An
/// `interval` of 0 is a value named, not a missing one: the next poll goes at
/// once, as in msal Python (`msal/oauth2cli/oauth2.py`,
/// `obtain_token_by_device_flow`: `interval` one-second sleeps), MSAL for Java
/// (`AcquireTokenByDeviceCodeFlowSupplier`: `TimeUnit.SECONDS.sleep(interval)`)
/// and MSAL.NET (`DeviceCodeRequest`: `Task.Delay` of the interval); a server
/// that wants slower polling answers `slow_down`, which adds 5 s.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);
/// Lifetime of a device code when the server names none.
pub const DEFAULT_EXPIRES_IN: Duration = Duration::from_secs(900);
/// The longest device-code lifetime taken from the server: one day (the
/// platform's codes live 15 minutes). The server's `expires_in` and
/// `interval` may be any number; msal Python takes them as they are
/// (AzureAD/microsoft-authentication-library-for-python,
/// `msal/oauth2cli/oauth2.py`, `initiate_device_flow` and `_obtain_token_by_device_flow`,
/// with `slow_down` adding 5 s each time) because its integers cannot
/// overflow; here they are capped instead of overflowing.
pub const MAX_DEVICE_CODE_LIFETIME: Duration = Duration::from_secs(24 * 3600);
/// The longest polling interval, from the server or after `slow_down`s.
pub const MAX_POLL_INTERVAL: Duration = Duration::from_secs(300);
/// The grant type of a device-code poll.
pub const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// A started device flow: show `message` to the user, then poll with it.
#[derive(Clone)]
pub struct DeviceFlow {
    pub user_code: String,
    pub verification_uri: String,
    /// The URI with the code filled in, if the provider offers one (not the
    /// Microsoft identity platform).
    pub verification_uri_complete: Option<String>,
    /// The provider's instruction, or idflow's own when it sends none.
    pub message: String,
    /// After this instant polling stops with `code_expired`.
    pub expires_at: SystemTime,
    pub interval: Duration,
    /// The scopes as the app asked for them.
    pub scopes: Vec<String>,
    /// The correlation id of the device authorization request.
    pub correlation_id: String,
    pub(crate) device_code: DeviceCode,
    /// The app's claims request, as given: merged with the app's client
    /// capabilities, it is sent with the device authorization request and
    /// again with every poll.
    pub(crate) claims_challenge: Option<String>,
}

impl std::fmt::Debug for DeviceFlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceFlow")
            .field("user_code", &self.user_code)
            .field("verification_uri", &self.verification_uri)
            .field("expires_at", &self.expires_at)
            .field("interval", &self.interval)
            .field("scopes", &self.scopes)
            .field("device_code", &self.device_code)
            .finish()
    }
}

impl DeviceFlow {
    /// The device code (a secret: it is what the poll redeems).
    pub fn device_code(&self) -> &DeviceCode {
        &self.device_code
    }
}

/// Starts a device flow for `scopes` (reserved scopes refused).
pub(crate) async fn initiate<S: AsRef<str>>(
    engine: &Engine,
    scopes: &[S],
    claims: Option<&str>,
) -> Result<DeviceFlow, IdFlowError> {
    let scopes = app_scopes(scopes)?;
    let claims_challenge = claims.map(str::to_owned);
    let claims = engine.claims_param(claims)?;
    let resolved = engine.resolve().await?;
    let Some(endpoint) = resolved.endpoints.device_authorization.clone() else {
        return Err(IdFlowError::local(
            LocalCode::InvalidAuthority,
            format!(
                "{} publishes no device_authorization_endpoint: this provider does not offer the device code flow",
                engine.authority.as_str()
            ),
        ));
    };
    let mut form = vec![
        ("client_id".to_owned(), engine.client_id.clone()),
        ("scope".to_owned(), engine.decorate(&scopes)),
    ];
    if let Some(c) = &claims {
        form.push(("claims".to_owned(), c.clone()));
    }
    let exchange = engine
        .sender
        .exchange(engine.with_app_headers(HttpRequest::post_form(endpoint, form)))
        .await?;
    let ok = (200..300).contains(&exchange.response.status);
    let body: Option<serde_json::Map<String, Value>> =
        serde_json::from_slice(&exchange.response.body).ok();
    let text = |k: &str| -> Option<String> {
        body.as_ref()?
            .get(k)?
            .as_str()
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let secs = |k: &str| -> Option<u64> {
        let v = body.as_ref()?.get(k)?;
        v.as_u64().or_else(|| v.as_str()?.trim().parse().ok())
    };
    let device_code = text("device_code");
    let user_code = text("user_code");
    let uri = text("verification_uri").or_else(|| text("verification_url"));
    let (Some(device_code), Some(user_code), Some(verification_uri), true) =
        (device_code, user_code, uri, ok && text("error").is_none())
    else {
        let mut e = exchange.failure(Flow::Token);
        e.message = format!("device authorization: {}", e.message);
        return Err(e);
    };
    let message = text("message").unwrap_or_else(|| {
        format!(
            "To sign in, open {verification_uri} in a web browser and enter the code {user_code}."
        )
    });
    let now = engine.sender.clock.now();
    // Neither code is logged: the device code redeems the sign-in, and the
    // user code is for the user's eyes.
    tracing::info!(
        target: "idflow::device_code",
        correlation_id = %exchange.correlation_id(),
        expires_in = ?secs("expires_in"),
        interval = ?secs("interval"),
        "device code issued; waiting for the user"
    );
    Ok(DeviceFlow {
        // Without room for even the capped lifetime the code expires at once.
        expires_at: now
            .checked_add(
                secs("expires_in")
                    .map(Duration::from_secs)
                    .unwrap_or(DEFAULT_EXPIRES_IN)
                    .min(MAX_DEVICE_CODE_LIFETIME),
            )
            .unwrap_or(now),
        interval: secs("interval")
            .map(Duration::from_secs)
            .unwrap_or(DEFAULT_INTERVAL)
            .min(MAX_POLL_INTERVAL),
        verification_uri_complete: text("verification_uri_complete"),
        correlation_id: exchange.correlation_id(),
        device_code: DeviceCode::new(device_code),
        user_code,
        verification_uri,
        message,
        scopes,
        claims_challenge,
    })
}

/// Polls until the user finishes, the code expires, a terminal error comes
/// back, or `cancel` fires.
pub(crate) async fn poll(
    engine: &Engine,
    flow: &DeviceFlow,
    cancel: &CancelHandle,
) -> Result<AuthenticationResult, IdFlowError> {
    poll_until(engine, flow, cancel, false).await
}

/// One token request for the device code, for a caller that runs its own
/// polling loop (msal Python's `exit_condition`): the token, or the
/// server's answer as an error, `authorization_pending` or `slow_down`
/// while the user has not finished. The server, not the flow's
/// `expires_at`, says when the code expired (`expired_token`), as in msal
/// Python's loop with an `exit_condition` of the app's.
pub(crate) async fn poll_once(
    engine: &Engine,
    flow: &DeviceFlow,
    cancel: &CancelHandle,
) -> Result<AuthenticationResult, IdFlowError> {
    poll_until(engine, flow, cancel, true).await
}

async fn poll_until(
    engine: &Engine,
    flow: &DeviceFlow,
    cancel: &CancelHandle,
    once: bool,
) -> Result<AuthenticationResult, IdFlowError> {
    const WHAT: &str = "device code polling";
    let resolved = or_cancel(cancel, Flow::DeviceCode, WHAT, engine.resolve()).await??;
    let clock = engine.sender.clock.clone();
    let sleeper = engine.sender.sleeper.clone();
    let mut interval = flow.interval;
    let claims = engine.claims_param(flow.claims_challenge.as_deref())?;
    loop {
        if !once && clock.now() >= flow.expires_at {
            tracing::warn!(
                target: "idflow::device_code",
                correlation_id = %flow.correlation_id,
                "device code expired before the user finished"
            );
            return Err(IdFlowError::local(
                LocalCode::CodeExpired,
                "the device code expired before the user finished signing in",
            )
            .with_flow(Flow::DeviceCode)
            .with_correlation_id(flow.correlation_id.clone()));
        }
        let mut form = engine.base_form(DEVICE_CODE_GRANT, true);
        form.push(("device_code".into(), flow.device_code.expose().to_owned()));
        if let Some(c) = &claims {
            form.push(("claims".into(), c.clone()));
        }
        let (classified, exchange) = or_cancel(
            cancel,
            Flow::DeviceCode,
            WHAT,
            engine.post_token(&resolved, form, Flow::DeviceCode),
        )
        .await??;
        if classified.outcome != Outcome::Pending || once {
            let ctx = Context {
                requested: &flow.scopes,
                grant_type: Some(DEVICE_CODE_GRANT),
                ..Context::default()
            };
            let result = engine
                .finish(&resolved, classified, &exchange, Flow::DeviceCode, ctx)
                .await;
            if result.is_ok() {
                engine.lift_throttle(&resolved, &engine.decorate(&flow.scopes));
            }
            return result;
        }
        if let Some(next) = classified.polling.and_then(|p| p.next_interval(interval)) {
            interval = next.min(MAX_POLL_INTERVAL);
        }
        tracing::debug!(
            target: "idflow::device_code",
            polling = ?classified.polling,
            interval_secs = interval.as_secs(),
            correlation_id = %exchange.correlation_id,
            "user has not finished; polling again"
        );
        // Never sleep past the expiry: wake then and report code_expired.
        let remaining = flow
            .expires_at
            .duration_since(clock.now())
            .unwrap_or_default();
        or_cancel(
            cancel,
            Flow::DeviceCode,
            WHAT,
            sleeper.sleep(interval.min(remaining)),
        )
        .await?;
    }
}

#[cfg(test)]
mod tests;
