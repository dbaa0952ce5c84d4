//! Stateless flows for web apps and services: every started flow as plain
//! data that another process (the worker that receives the redirect, or the
//! one that polls a device code) can redeem with its own application object.
//!
//! The auth code flow's data has msal Python's keys (`state`,
//! `redirect_uri`, `scope`, `auth_uri`, `code_verifier`, `nonce`, `max_age`
//! when asked, `claims_challenge`): AzureAD/microsoft-authentication-library-for-python
//! `msal/oauth2cli/oauth2.py` (`Client.initiate_auth_code_flow` builds
//! `state`, `redirect_uri`, `scope`, `auth_uri`, `code_verifier`),
//! `msal/oauth2cli/oidc.py` (adds `nonce` and `max_age`) and
//! `msal/application.py` (adds `claims_challenge`). The device flow's data
//! has the keys msal returns: the server's answer (`device_code`,
//! `user_code`, `verification_uri`, `expires_in`, `interval`, `message`)
//! plus `expires_at` and `_correlation_id` (`msal/oauth2cli/oauth2.py`
//! `initiate_device_flow`, `msal/application.py` `initiate_device_flow`).
//! idflow adds `scope` (the scopes the flow redeems for) to the device flow.
//! One difference in meaning: msal sends the SHA-256 of its `nonce` in the
//! authorize URL, idflow sends the `nonce` itself (the id token must carry
//! that value either way).
//!
//! What is checked when a flow comes back (as msal does in
//! `oauth2.py` `obtain_token_by_auth_code_flow` and `oidc.py`): the
//! redirect's `state` equals the flow's (`state_mismatch` otherwise: the
//! redirect may be forged); the id token's `nonce` is the flow's; with
//! `max_age`, the id token's `auth_time` is no older than `max_age` plus two
//! minutes of clock skew.
//!
//! Replay protection is `super::redemption`'s: an application object
//! answers a given `state` once; a flow's data holds the PKCE verifier, so it
//! belongs in server-side storage, never in a cookie.

use super::auth_code::{append_query, authorize_params, AuthCodeFlow, AuthCodeOptions, Prompt};
use super::device_code::{DeviceFlow, MAX_POLL_INTERVAL};
pub use super::redemption::MAX_AGE_SKEW;
use super::{app_scopes, decorated, Context, Engine, RESERVED_SCOPES};
use crate::error::{Flow, IdFlowError, LocalCode};
use crate::protocol::pkce::Pkce;
use crate::protocol::token::AuthenticationResult;
use crate::secret::{AuthorizationCode, DeviceCode, FlowSecret, PkceVerifier};
use serde::{Deserialize, Serialize};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use url::Url;

/// An auth code flow as plain data, with msal Python's keys. It holds the
/// PKCE verifier and the nonce: keep it server-side. `Debug` shows neither
/// them nor `state`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthCodeFlowState {
    pub state: String,
    pub redirect_uri: String,
    /// The scopes as sent (with `openid`, `profile`, `offline_access`).
    pub scope: Vec<String>,
    pub auth_uri: String,
    pub code_verifier: String,
    pub nonce: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age: Option<u64>,
    #[serde(default)]
    pub claims_challenge: Option<String>,
}

impl std::fmt::Debug for AuthCodeFlowState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthCodeFlowState")
            .field("redirect_uri", &self.redirect_uri)
            .field("scope", &self.scope)
            .field("max_age", &self.max_age)
            .finish_non_exhaustive()
    }
}

fn invalid(message: impl Into<String>) -> IdFlowError {
    IdFlowError::local(LocalCode::InvalidParameter, message)
}

impl AuthCodeFlow {
    /// The flow as msal Python's dict.
    pub fn to_state(&self) -> AuthCodeFlowState {
        AuthCodeFlowState {
            state: self.state.expose().to_owned(),
            redirect_uri: self.redirect_uri.clone(),
            scope: self.decorated_scope(),
            auth_uri: self.auth_uri.to_string(),
            code_verifier: self.pkce.verifier.expose().to_owned(),
            nonce: self.nonce.expose().to_owned(),
            max_age: self.max_age,
            claims_challenge: self.claims_challenge.clone(),
        }
    }

    /// msal's `scope` key: the app's scopes and the reserved ones the
    /// authorize request asked for (an app's `exclude_scopes` left them out
    /// of `auth_uri`, and msal's dict holds its decorated scopes).
    fn decorated_scope(&self) -> Vec<String> {
        let asked: Option<String> = self
            .auth_uri
            .query_pairs()
            .find(|(k, _)| k == "scope")
            .map(|(_, v)| v.into_owned());
        decorated(&self.scopes)
            .split(' ')
            .filter(|s| {
                !RESERVED_SCOPES.contains(s)
                    || asked
                        .as_deref()
                        .is_none_or(|a| a.split(' ').any(|x| x == *s))
            })
            .map(str::to_owned)
            .collect()
    }

    /// A flow from its data (made by [`Self::to_state`] in this or another
    /// process). Fails with `invalid_parameter` when a key is missing or
    /// malformed; the redirect is checked against it at redemption. The
    /// expected issuer is then the redeeming app's.
    pub fn from_state(data: AuthCodeFlowState) -> Result<AuthCodeFlow, IdFlowError> {
        if data.state.is_empty() {
            return Err(invalid("state missing from auth_code_flow"));
        }
        if data.nonce.is_empty() {
            return Err(invalid("nonce missing from auth_code_flow"));
        }
        // RFC 7636 §4.1: 43 to 128 unreserved characters.
        let v = &data.code_verifier;
        if !(43..=128).contains(&v.len())
            || !v
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-._~".contains(c))
        {
            return Err(invalid(
                "the auth_code_flow's code_verifier is missing or not an RFC 7636 verifier",
            ));
        }
        let auth_uri = Url::parse(&data.auth_uri)
            .map_err(|_| invalid("the auth_code_flow's auth_uri is not an absolute URL"))?;
        if Url::parse(&data.redirect_uri).is_err() {
            return Err(invalid(
                "the auth_code_flow's redirect_uri is not an absolute URL",
            ));
        }
        let param = |name: &str| {
            auth_uri
                .query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
        };
        let scopes: Vec<String> = data
            .scope
            .iter()
            .filter(|s| !RESERVED_SCOPES.iter().any(|r| r.eq_ignore_ascii_case(s)))
            .cloned()
            .collect();
        Ok(AuthCodeFlow {
            correlation_id: param("client-request-id")
                .unwrap_or_else(crate::net::http::new_correlation_id),
            prompt_none: param("prompt").as_deref() == Some(Prompt::None.as_str()),
            redirect_uri: data.redirect_uri,
            scopes,
            state: FlowSecret::new(data.state),
            nonce: FlowSecret::new(data.nonce),
            pkce: Pkce::from_verifier(PkceVerifier::new(data.code_verifier)),
            claims_challenge: data.claims_challenge,
            max_age: data.max_age,
            issuer: None,
            auth_uri,
        })
    }

    /// The flow's data as a JSON object (msal Python's keys).
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.to_state()).unwrap_or_default()
    }

    /// A flow from [`Self::to_json`]'s text; `invalid_parameter` for
    /// anything else. Unknown keys are ignored (msal reserves the rest of
    /// the dict for itself).
    pub fn from_json(json: &str) -> Result<AuthCodeFlow, IdFlowError> {
        let data: AuthCodeFlowState = parse(
            json,
            "auth_code_flow",
            &[
                "state",
                "redirect_uri",
                "auth_uri",
                "code_verifier",
                "nonce",
            ],
        )?;
        AuthCodeFlow::from_state(data)
    }
}

/// A flow's data from JSON: an object whose `strings` keys are strings
/// (the error names the first that is not), then the typed fields. Error
/// messages name keys, never values.
fn parse<T: serde::de::DeserializeOwned>(
    json: &str,
    what: &str,
    strings: &[&str],
) -> Result<T, IdFlowError> {
    let value: serde_json::Value =
        serde_json::from_str(json).map_err(|_| invalid(format!("the {what} is not JSON")))?;
    let Some(object) = value.as_object() else {
        return Err(invalid(format!("the {what} is not a JSON object")));
    };
    if let Some(key) = strings
        .iter()
        .find(|k| !object.get(**k).is_some_and(serde_json::Value::is_string))
    {
        return Err(invalid(format!(
            "{key} is missing from the {what} or is not a string"
        )));
    }
    // serde's message may quote the offending value: it is not passed on.
    serde_json::from_value(value).map_err(|_| {
        invalid(format!(
            "the {what} holds a value of the wrong type (numbers for max_age, expires_in, \
             interval and expires_at; a list of strings for scope)"
        ))
    })
}

/// A device flow as plain data, with msal Python's keys (`device_code`
/// included: it is what redeems the sign-in, so keep the data server-side).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceFlowState {
    pub device_code: String,
    pub user_code: String,
    pub verification_uri: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification_uri_complete: Option<String>,
    /// Seconds left when the data was made.
    pub expires_in: u64,
    pub interval: u64,
    pub message: String,
    /// Unix seconds (a float, as msal writes it) after which polling stops.
    pub expires_at: f64,
    #[serde(rename = "_correlation_id", default)]
    pub correlation_id: String,
    #[serde(default)]
    pub claims_challenge: Option<String>,
    /// The scopes the flow redeems for, as the app asked for them.
    #[serde(default)]
    pub scope: Vec<String>,
}

impl std::fmt::Debug for DeviceFlowState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceFlowState")
            .field("verification_uri", &self.verification_uri)
            .field("expires_at", &self.expires_at)
            .field("interval", &self.interval)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

fn unix_secs(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

impl DeviceFlow {
    /// The flow as msal Python's dict, `expires_in` counted from `now`.
    pub fn to_state(&self, now: SystemTime) -> DeviceFlowState {
        DeviceFlowState {
            device_code: self.device_code.expose().to_owned(),
            user_code: self.user_code.clone(),
            verification_uri: self.verification_uri.clone(),
            verification_uri_complete: self.verification_uri_complete.clone(),
            expires_in: self
                .expires_at
                .duration_since(now)
                .map(|d| d.as_secs())
                .unwrap_or(0),
            interval: self.interval.as_secs(),
            message: self.message.clone(),
            expires_at: unix_secs(self.expires_at),
            correlation_id: self.correlation_id.clone(),
            claims_challenge: self.claims_challenge.clone(),
            scope: self.scopes.clone(),
        }
    }

    /// A flow from its data; `invalid_parameter` when the device code is
    /// missing. Scopes are checked as at the start (no reserved scope).
    pub fn from_state(data: DeviceFlowState) -> Result<DeviceFlow, IdFlowError> {
        if data.device_code.is_empty() {
            return Err(invalid("device_code missing from the device flow"));
        }
        let expires_at = if data.expires_at.is_finite() && data.expires_at > 0.0 {
            UNIX_EPOCH
                .checked_add(Duration::from_secs_f64(
                    data.expires_at.min(u32::MAX as f64),
                ))
                .unwrap_or(UNIX_EPOCH)
        } else {
            UNIX_EPOCH
        };
        Ok(DeviceFlow {
            user_code: data.user_code,
            verification_uri: data.verification_uri,
            verification_uri_complete: data.verification_uri_complete,
            message: data.message,
            expires_at,
            interval: Duration::from_secs(data.interval).min(MAX_POLL_INTERVAL),
            scopes: app_scopes(&data.scope)?,
            correlation_id: if data.correlation_id.is_empty() {
                crate::net::http::new_correlation_id()
            } else {
                data.correlation_id
            },
            device_code: DeviceCode::new(data.device_code),
            claims_challenge: data.claims_challenge,
        })
    }

    /// The flow's data as a JSON object (msal Python's keys).
    pub fn to_json(&self, now: SystemTime) -> String {
        serde_json::to_string(&self.to_state(now)).unwrap_or_default()
    }

    /// A flow from [`Self::to_json`]'s text; `invalid_parameter` otherwise.
    pub fn from_json(json: &str) -> Result<DeviceFlow, IdFlowError> {
        let data: DeviceFlowState = parse(
            json,
            "device flow",
            &["device_code", "user_code", "verification_uri", "message"],
        )?;
        DeviceFlow::from_state(data)
    }
}

/// The authorize URL of the older pattern (msal's
/// `get_authorization_request_url`): `state` and `nonce` only when given, no
/// PKCE unless `code_challenge` is given (S256).
pub(crate) async fn authorization_request_url<S: AsRef<str>>(
    engine: &Engine,
    scopes: &[S],
    redirect_uri: &str,
    options: &AuthCodeOptions,
    nonce: Option<&str>,
    code_challenge: Option<&str>,
) -> Result<Url, IdFlowError> {
    let scopes = app_scopes(scopes)?;
    let claims = engine.claims_param(options.claims.as_deref())?;
    if Url::parse(redirect_uri).is_err() {
        return Err(invalid("the redirect URI is not an absolute URL"));
    }
    let resolved = engine.resolve().await?;
    let mut url = resolved.endpoints.authorization.clone();
    let mut params = authorize_params(engine, &scopes, redirect_uri, options, claims);
    let optional = [
        ("state", options.state.clone()),
        ("nonce", nonce.map(str::to_owned)),
        ("code_challenge", code_challenge.map(str::to_owned)),
        (
            "code_challenge_method",
            code_challenge.map(|_| "S256".into()),
        ),
    ];
    params.extend(optional.into_iter().filter_map(|(k, v)| Some((k, v?))));
    append_query(&mut url, &params, &options.extra_query_parameters);
    Ok(url)
}

/// The second half of the older pattern (msal's
/// `acquire_token_by_authorization_code`): redeems `code` for `scopes`, with
/// the `redirect_uri` of the authorize request, its PKCE `code_verifier` when
/// one was used, and checks the id token's `nonce` when given.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn redeem_authorization_code<S: AsRef<str>>(
    engine: &Engine,
    code: &AuthorizationCode,
    scopes: &[S],
    redirect_uri: Option<&str>,
    nonce: Option<&str>,
    code_verifier: Option<&PkceVerifier>,
    claims: Option<&str>,
) -> Result<AuthenticationResult, IdFlowError> {
    if code.expose().is_empty() {
        return Err(invalid("the authorization code is empty"));
    }
    let scopes = app_scopes(scopes)?;
    let claims = engine.claims_param(claims)?;
    let resolved = engine.resolve().await?;
    let mut form = engine.base_form("authorization_code", true);
    form.push(("code".into(), code.expose().to_owned()));
    if let Some(r) = redirect_uri {
        form.push(("redirect_uri".into(), r.to_owned()));
    }
    if let Some(v) = code_verifier {
        form.push(("code_verifier".into(), v.expose().to_owned()));
    }
    form.push(("scope".into(), engine.decorate(&scopes)));
    if let Some(c) = claims {
        form.push(("claims".into(), c));
    }
    let ctx = Context {
        requested: &scopes,
        nonce,
        ..Context::default()
    };
    engine.redeem(&resolved, form, Flow::Token, ctx).await
}

#[cfg(test)]
mod tests;
