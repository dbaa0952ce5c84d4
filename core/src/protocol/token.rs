//! Token responses and the result a flow returns.
//!
//! A token response is read leniently where servers differ (`expires_in` as a
//! number or a string, `foci` as "1" or 1) and strictly where it matters (an
//! `access_token` must be a non-empty string). Tokens land in
//! [`crate::secret`] newtypes at once, so neither [`TokenResponse`] nor
//! [`AuthenticationResult`] can print one.

use crate::protocol::id_token::IdTokenClaims;
use crate::protocol::jwt::b64url_decode;
use crate::secret::{AccessToken, IdToken, RefreshToken};
use serde_json::{Map, Value};
use std::time::{Duration, SystemTime};

/// Lifetime assumed when a response has no usable `expires_in` (short on
/// purpose: an access token of unknown lifetime is refreshed early).
pub const DEFAULT_EXPIRES_IN: Duration = Duration::from_secs(600);

/// The longest lifetime taken from a token response's `expires_in`,
/// `ext_expires_in` and `refresh_in`: one year. The numbers come from the
/// network and may be anything up to `u64::MAX` (a float like `1e300` reads
/// as that too); added to a `SystemTime` unchecked they overflow. MSAL has no
/// bound of its own to copy: msal Python adds them to `time.time()` with
/// unbounded integers (AzureAD/microsoft-authentication-library-for-python,
/// `msal/token_cache.py`, `expires_on = now + expires_in`), so an absurd
/// lifetime there means a token kept practically forever. A year is far
/// beyond any lifetime the platform issues (access tokens live at most a
/// day, CAE tokens about 28 hours) and still ends.
pub const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(365 * 24 * 3600);

/// The end of a lifetime of `secs` seconds (from a token response) that
/// starts at `start`: at most [`MAX_TOKEN_LIFETIME`] later. Never panics: if
/// even the capped time is past what a `SystemTime` holds (a clock set to
/// the end of time), the lifetime ends at `start`, so the token is not
/// reused.
pub fn lifetime_end(start: SystemTime, secs: u64) -> SystemTime {
    let lifetime = Duration::from_secs(secs).min(MAX_TOKEN_LIFETIME);
    start.checked_add(lifetime).unwrap_or(start)
}

/// A successful token-endpoint answer.
#[derive(Clone)]
pub struct TokenResponse {
    pub access_token: AccessToken,
    /// `Bearer` unless the server says otherwise.
    pub token_type: String,
    pub expires_in: Option<u64>,
    pub ext_expires_in: Option<u64>,
    /// When to refresh proactively (seconds from now), if the server says.
    pub refresh_in: Option<u64>,
    /// Granted scopes, space-separated, as sent.
    pub scope: Option<String>,
    pub refresh_token: Option<RefreshToken>,
    pub id_token: Option<IdToken>,
    /// base64url JSON `{"uid","utid"}` (Microsoft, with `client_info=1`).
    pub client_info: Option<String>,
    /// Family of client ids sharing refresh tokens (`"1"`).
    pub foci: Option<String>,
    /// Every other member of the response (no tokens).
    pub extra: Map<String, Value>,
}

impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenResponse")
            .field("access_token", &self.access_token)
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "[redacted]"),
            )
            .field("id_token", &self.id_token.as_ref().map(|_| "[redacted]"))
            .field("foci", &self.foci)
            .field("extra_keys", &self.extra.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl TokenResponse {
    /// Reads the success body the classifier accepted. The error names the
    /// offending member, never a value. Takes the answer: its tokens move
    /// into the result and the rest becomes [`TokenResponse::extra`], with
    /// no copy of either.
    pub fn from_map(mut map: Map<String, Value>) -> Result<TokenResponse, String> {
        let access_token = take_token(&mut map, "access_token")?.ok_or("no `access_token`")?;
        let token_type = text(&map, "token_type")?.unwrap_or_else(|| "Bearer".to_owned());
        let expires_in = seconds(&map, "expires_in")?;
        let ext_expires_in = seconds(&map, "ext_expires_in")?;
        let refresh_in = seconds(&map, "refresh_in")?;
        let scope = text(&map, "scope")?;
        let refresh_token = take_token(&mut map, "refresh_token")?.map(RefreshToken::new);
        let id_token = take_token(&mut map, "id_token")?.map(IdToken::new);
        let client_info = text(&map, "client_info")?;
        let foci = match map.get("foci") {
            Some(Value::Number(n)) => Some(n.to_string()),
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            _ => None,
        };
        Ok(TokenResponse {
            access_token: AccessToken::new(access_token),
            token_type,
            expires_in,
            ext_expires_in,
            refresh_in,
            scope,
            refresh_token,
            id_token,
            client_info,
            foci,
            extra: map,
        })
    }

    /// The granted scopes, or `None` when the server did not list them.
    pub fn scopes(&self) -> Option<Vec<String>> {
        self.scope
            .as_deref()
            .map(|s| s.split_whitespace().map(str::to_owned).collect())
    }
}

/// A string member: absent, `null` and `""` are `None`; another type is an
/// error naming the member.
fn text(map: &Map<String, Value>, key: &str) -> Result<Option<String>, String> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("`{key}` is not a string")),
    }
}

/// A token member as [`text`] reads it, taken out of the answer: the token
/// moves into the result instead of being copied, and is never left in
/// [`TokenResponse::extra`] (whatever its type).
fn take_token(map: &mut Map<String, Value>, key: &str) -> Result<Option<String>, String> {
    match map.remove(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s).filter(|s| !s.is_empty())),
        Some(_) => Err(format!("`{key}` is not a string")),
    }
}

/// A lifetime in seconds, sent as a JSON number or a numeric string
/// (the v1 endpoint and some proxies send strings).
fn seconds(map: &Map<String, Value>, key: &str) -> Result<Option<u64>, String> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_u64()
            .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
            .map(Some)
            .ok_or_else(|| format!("`{key}` is not a non-negative number")),
        Some(Value::String(s)) => s
            .trim()
            .parse::<u64>()
            .map(Some)
            .map_err(|_| format!("`{key}` is not a number")),
        Some(_) => Err(format!("`{key}` is not a number")),
    }
}

/// The decoded `client_info`: the user's object id and home tenant id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientInfo {
    pub uid: String,
    pub utid: String,
}

impl ClientInfo {
    /// Decodes base64url JSON; `None` when malformed or incomplete.
    pub fn decode(raw: &str) -> Option<ClientInfo> {
        let bytes = b64url_decode(raw.trim())?;
        let v: Value = serde_json::from_slice(&bytes).ok()?;
        let field = |k: &str| {
            v.get(k)?
                .as_str()
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        Some(ClientInfo {
            uid: field("uid")?,
            utid: field("utid")?,
        })
    }

    /// `uid.utid`, the home account id of the Microsoft token cache.
    pub fn home_account_id(&self) -> String {
        format!("{}.{}", self.uid, self.utid)
    }
}

/// The signed-in user, as the token cache will key it.
#[derive(Clone, PartialEq, Eq)]
pub struct Account {
    /// `uid.utid` from `client_info` (Microsoft), else the id token's `sub`.
    pub home_account_id: String,
    /// The authority's host (the cache's `environment`).
    pub environment: String,
    /// The tenant the token was issued in (`tid`, else the authority's tenant).
    pub realm: String,
    /// `preferred_username`, else `upn`, else the ROPC username, else "".
    pub username: String,
    /// `oid`, else `sub`.
    pub local_account_id: String,
}

impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.borrowed().fmt(f)
    }
}

impl Account {
    /// This account's fields, borrowed.
    pub fn borrowed(&self) -> AccountRef<'_> {
        AccountRef {
            home_account_id: &self.home_account_id,
            environment: &self.environment,
            realm: &self.realm,
            username: &self.username,
            local_account_id: &self.local_account_id,
        }
    }
}

/// An [`Account`]'s fields borrowed from the cache, for a caller that copies
/// them elsewhere at once (a binding writing every account into one buffer):
/// listing 100k accounts as [`Account`]s allocates, and then frees, half a
/// million strings.
#[derive(Clone, Copy)]
pub struct AccountRef<'a> {
    /// See [`Account::home_account_id`].
    pub home_account_id: &'a str,
    /// See [`Account::environment`].
    pub environment: &'a str,
    /// See [`Account::realm`].
    pub realm: &'a str,
    /// See [`Account::username`].
    pub username: &'a str,
    /// See [`Account::local_account_id`].
    pub local_account_id: &'a str,
}

impl std::fmt::Debug for AccountRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The username is personal data: logs get its presence, not its value.
        f.debug_struct("Account")
            .field("home_account_id", &self.home_account_id)
            .field("environment", &self.environment)
            .field("realm", &self.realm)
            .field(
                "username",
                &if self.username.is_empty() {
                    ""
                } else {
                    "[pii]"
                },
            )
            .finish()
    }
}

impl AccountRef<'_> {
    /// The account, owned.
    pub fn to_account(&self) -> Account {
        Account {
            home_account_id: self.home_account_id.to_owned(),
            environment: self.environment.to_owned(),
            realm: self.realm.to_owned(),
            username: self.username.to_owned(),
            local_account_id: self.local_account_id.to_owned(),
        }
    }
}

/// Where a result came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TokenSource {
    IdentityProvider,
    Cache,
}

/// What every successful flow returns.
#[derive(Clone)]
pub struct AuthenticationResult {
    pub access_token: AccessToken,
    pub token_type: String,
    pub expires_on: SystemTime,
    pub ext_expires_on: Option<SystemTime>,
    /// When to refresh proactively, if the server said.
    pub refresh_on: Option<SystemTime>,
    /// Granted scopes (the server's list, else the requested ones).
    pub scopes: Vec<String>,
    pub refresh_token: Option<RefreshToken>,
    pub id_token: Option<IdToken>,
    /// Validated claims of the id token, when one was returned.
    pub id_token_claims: Option<IdTokenClaims>,
    /// `None` for app-only tokens (client credentials).
    pub account: Option<Account>,
    pub client_info: Option<String>,
    /// FOCI family id (`"1"`), if the server said the client is in one.
    pub family_id: Option<String>,
    /// The correlation id of the token request (echoed by the server, else sent).
    pub correlation_id: String,
    pub token_source: TokenSource,
    /// When the answer arrived (the cache's `cached_at`).
    pub received_at: SystemTime,
}

impl AuthenticationResult {
    /// Seconds left until `expires_on`, from `now` (msal Python's `expires_in`).
    pub fn expires_in(&self, now: SystemTime) -> u64 {
        self.expires_on
            .duration_since(now)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    }
}

impl std::fmt::Debug for AuthenticationResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthenticationResult")
            .field("access_token", &self.access_token)
            .field("token_type", &self.token_type)
            .field("expires_on", &self.expires_on)
            .field("scopes", &self.scopes)
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "[redacted]"),
            )
            .field("id_token", &self.id_token.as_ref().map(|_| "[redacted]"))
            .field("id_token_claims", &self.id_token_claims)
            .field("account", &self.account)
            .field("family_id", &self.family_id)
            .field("correlation_id", &self.correlation_id)
            .field("token_source", &self.token_source)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn lifetimes_are_capped_and_never_overflow() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        assert_eq!(lifetime_end(t0, 3599), t0 + Duration::from_secs(3599));
        assert_eq!(lifetime_end(t0, u64::MAX), t0 + MAX_TOKEN_LIFETIME);
        let max_secs = MAX_TOKEN_LIFETIME.as_secs();
        assert_eq!(lifetime_end(t0, max_secs + 1), t0 + MAX_TOKEN_LIFETIME);
        // `1e300` and u64::MAX as text both read as u64::MAX, then are capped.
        let r = TokenResponse::from_map(map(json!({
            "access_token":"a","expires_in":1e300,"ext_expires_in":"18446744073709551615",
            "refresh_in":u64::MAX
        })))
        .unwrap();
        for secs in [r.expires_in, r.ext_expires_in, r.refresh_in] {
            assert_eq!(lifetime_end(t0, secs.unwrap()), t0 + MAX_TOKEN_LIFETIME);
        }
        // A clock at the end of representable time: the lifetime is empty.
        let mut end = t0;
        for shift in (0..63).rev() {
            while let Some(later) = end.checked_add(Duration::from_secs(1 << shift)) {
                end = later;
            }
        }
        assert_eq!(lifetime_end(end, u64::MAX), end);
    }

    #[test]
    fn expires_in_as_number_or_string() {
        let n =
            TokenResponse::from_map(map(json!({"access_token":"a","expires_in":3599}))).unwrap();
        let s = TokenResponse::from_map(map(
            json!({"access_token":"a","expires_in":"3599","ext_expires_in":" 7200 "}),
        ))
        .unwrap();
        assert_eq!(n.expires_in, Some(3599));
        assert_eq!(s.expires_in, Some(3599));
        assert_eq!(s.ext_expires_in, Some(7200));
        assert_eq!(n.token_type, "Bearer");
        assert!(
            TokenResponse::from_map(map(json!({"access_token":"a","expires_in":"soon"}))).is_err()
        );
        assert!(TokenResponse::from_map(map(json!({"access_token":"a","expires_in":-5}))).is_err());
        assert!(TokenResponse::from_map(map(json!({"access_token":7}))).is_err());
        assert!(TokenResponse::from_map(map(json!({"token_type":"Bearer"}))).is_err());
    }

    #[test]
    fn tokens_leave_the_answer_and_the_first_bad_member_is_named() {
        let t = TokenResponse::from_map(map(json!({
            "access_token":"a","refresh_token":"","id_token":null,"token_type":"Bearer","x":1
        })))
        .unwrap();
        assert!(t.refresh_token.is_none() && t.id_token.is_none());
        let kept: Vec<&String> = t.extra.keys().collect();
        assert_eq!(kept, ["token_type", "x"]);
        // Members are read in one order; the first that is wrong is named.
        let why = |v: Value| TokenResponse::from_map(map(v)).err().unwrap();
        assert_eq!(why(json!({"refresh_token":7})), "no `access_token`");
        assert_eq!(
            why(json!({"access_token":"a","refresh_token":7,"token_type":7})),
            "`token_type` is not a string"
        );
        assert_eq!(
            why(json!({"access_token":"a","refresh_token":7,"client_info":7})),
            "`refresh_token` is not a string"
        );
        assert_eq!(
            why(json!({"access_token":"a","id_token":[],"client_info":7})),
            "`id_token` is not a string"
        );
    }

    #[test]
    fn every_field_and_no_secret_in_debug() {
        let t = TokenResponse::from_map(map(json!({
            "access_token":"AT-SECRET","token_type":"pop","expires_in":60,"refresh_in":30,
            "scope":"User.Read  Mail.Read","refresh_token":"RT-SECRET","id_token":"IDT-SECRET",
            "client_info":"eyJ1aWQiOiJ1IiwidXRpZCI6InQifQ","foci":1,"x_custom":"kept"
        })))
        .unwrap();
        assert_eq!(t.token_type, "pop");
        assert_eq!(t.refresh_in, Some(30));
        assert_eq!(t.scopes().unwrap(), vec!["User.Read", "Mail.Read"]);
        assert_eq!(t.refresh_token.as_ref().unwrap().expose(), "RT-SECRET");
        assert_eq!(t.foci.as_deref(), Some("1"));
        assert_eq!(t.extra["x_custom"], "kept");
        assert!(!t.extra.contains_key("access_token"));
        let shown = format!("{t:?}");
        for secret in ["AT-SECRET", "RT-SECRET", "IDT-SECRET"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        let ci = ClientInfo::decode(t.client_info.as_deref().unwrap()).unwrap();
        assert_eq!(ci.home_account_id(), "u.t");
        assert!(ClientInfo::decode("not-json").is_none());
    }
}
