//! Silent acquisition: the token cache first, then the refresh token, then
//! "interaction required" — and the write-through that fills the cache.
//!
//! The decisions follow msal-error-model.md §5.3, §4.3 and §2.3/§2.5:
//!
//! * An access token is usable while it expires more than
//!   [`EXPIRY_BUFFER`] from now (every MSAL uses five minutes).
//! * `force_refresh` and a claims request skip the access-token cache (a
//!   claims challenge needs a new token; client capabilities alone do not).
//! * Past its `refresh_on` a still-valid token is refreshed proactively; if
//!   that refresh fails in any way, the cached token is returned (it is
//!   still valid) — msal Python's and MSAL.NET's behaviour.
//! * Refresh tokens: the family (FOCI) token first when the app is in a
//!   family or its family is unknown, then the app's own; an
//!   `invalid_grant` + `client_mismatch` answer marks the app as outside
//!   the family and falls back to the app's own refresh token.
//! * A refresh token is deleted only on `invalid_grant` + `bad_token` (the
//!   server says that token is dead), as MSAL for iOS/macOS and MSAL.js do.
//!   Other `invalid_grant` answers (MFA, consent, password expiry) keep it:
//!   it can still serve other scopes or tenants, which is also why msal
//!   Python never deletes in silent flows.
//! * Nothing usable locally is `no_account` / `no_tokens_found`
//!   (interaction required, classification `AcquireTokenSilentFailed`);
//!   server errors of a silent refresh carry [`Flow::Silent`], so the
//!   classifier applies the silent-flow rules.
//!
//! A cache hit touches no network: the cache's `environment` and `realm`
//! come from the authority itself, and discovery runs only when a request
//! must go out. Concurrent calls that need the same refresh share one
//! request (see [`super::single_flight`]).

use super::grants::CLIENT_CREDENTIALS_GRANT;
use super::{app_scopes, split_scopes, Engine};
use crate::cache::{AccessTokenQuery, CachedAccessToken, RefreshTokenQuery, SaveRequest};
use crate::error::{Flow, IdFlowError, LocalCode};
use crate::protocol::discovery::ResolvedAuthority;
use crate::protocol::token::{Account, AuthenticationResult, TokenSource};
use std::time::{Duration, SystemTime};

/// An access token expiring sooner than this is treated as expired.
pub const EXPIRY_BUFFER: Duration = Duration::from_secs(5 * 60);

/// The FOCI family msal tries when the app's family is not yet known.
const DEFAULT_FAMILY: &str = "1";

/// What concurrent silent calls must share to share one refresh.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct FlightKey {
    pub(crate) home_account_id: Option<String>,
    /// [`crate::cache::scope_set_key`]: what the cache treats as one request.
    pub(crate) scopes: String,
    pub(crate) claims: Option<String>,
    pub(crate) force_refresh: bool,
}

pub(crate) type FlightResult = Result<AuthenticationResult, IdFlowError>;

/// The cache's `environment` for an authority: its host name, lower-case,
/// without a port (what msal writes, so caches are shared with msal apps).
pub fn environment_of(authority: &crate::protocol::authority::Authority) -> String {
    authority
        .url()
        .host_str()
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// The cache's `realm` once the token endpoint is known: its first path
/// segment (the tenant for Microsoft authorities), as msal derives it.
pub(crate) fn realm_of(resolved: &ResolvedAuthority) -> String {
    resolved
        .tenant
        .clone()
        .or_else(|| first_segment(resolved.endpoints.token.path()))
        .unwrap_or_default()
}

/// The cache's `realm` before discovery: the authority's tenant segment
/// (Microsoft), else the first segment of its path.
pub(crate) fn authority_realm(authority: &crate::protocol::authority::Authority) -> String {
    authority
        .tenant()
        .map(str::to_owned)
        .or_else(|| first_segment(authority.url().path()))
        .unwrap_or_default()
}

fn first_segment(path: &str) -> Option<String> {
    path.split('/').find(|s| !s.is_empty()).map(str::to_owned)
}

impl Engine {
    /// The realm to look access tokens up under before any network call: the
    /// one discovery established, else the authority's own tenant segment.
    pub(crate) fn lookup_realm(&self) -> &str {
        self.realm.get().unwrap_or(&self.authority_realm)
    }

    fn cached_access_token(
        &self,
        realm: &str,
        home_account_id: Option<&str>,
        scopes: &[String],
        now: SystemTime,
    ) -> Option<CachedAccessToken> {
        let q = AccessTokenQuery {
            client_id: &self.client_id,
            environment: &self.environment,
            realm,
            home_account_id,
            scopes,
        };
        let hit = self
            .cache
            .access_token(&q, now)
            .filter(|at| at.expires_on > now + EXPIRY_BUFFER);
        tracing::debug!(
            target: "idflow::cache",
            pii = crate::logging::pii_logging_enabled(),
            hit = hit.is_some(),
            app_token = home_account_id.is_none(),
            home_account_id = %crate::logging::Pii(home_account_id.unwrap_or("")),
            realm = %crate::logging::Pii(realm),
            scopes = ?scopes,
            "access token cache lookup"
        );
        hit
    }

    /// Saves a fresh token answer (write-through for every flow).
    pub(crate) fn save_result(
        &self,
        resolved: &ResolvedAuthority,
        requested: &[String],
        grant_type: Option<&str>,
        result: &AuthenticationResult,
    ) -> Result<(), IdFlowError> {
        if result.account.is_none() && grant_type != Some(CLIENT_CREDENTIALS_GRANT) {
            // A user's token whose answer names no account (no `client_info`,
            // no id token: an on-behalf-of answer, an imported refresh token's
            // answer) has no place in the cache: with no home account id it
            // would sit in the app partition, where `acquire_token_for_client`
            // finds app tokens. MSAL.NET never mixes the two: on-behalf-of
            // tokens are partitioned by the user assertion's hash, app tokens
            // by `<client>_<tenant>_AppTokenCache`
            // (AzureAD/microsoft-authentication-library-for-dotnet
            // `src/client/Microsoft.Identity.Client/Cache/SuggestedWebCacheKeyFactory.cs`).
            // msal Python files such an answer under `"home_account_id": null`
            // (AzureAD/microsoft-authentication-library-for-python
            // `msal/token_cache.py` `__parse_account`, whose only account-less
            // case is meant to be client credentials): the mix-up this avoids.
            // idflow has no assertion-keyed partition, so the caller gets its
            // token and nothing is written.
            tracing::debug!(
                target: "idflow::cache",
                grant_type = grant_type.unwrap_or(""),
                "the answer names no account: a user's token is not cached"
            );
            return Ok(());
        }
        let realm = realm_of(resolved);
        let account_source = grant_type.filter(|g| {
            matches!(
                *g,
                "authorization_code" | "password" | crate::flows::device_code::DEVICE_CODE_GRANT
            )
        });
        // msal writes MSSTS for every authority but ADFS, and lists only
        // MSSTS / ADFS accounts: anything else would hide them from msal apps.
        let authority_type = if realm.eq_ignore_ascii_case("adfs") {
            "ADFS"
        } else {
            "MSSTS"
        };
        self.cache.save(&SaveRequest {
            client_id: &self.client_id,
            environment: &self.environment,
            realm: &realm,
            requested_scopes: requested,
            result,
            account_source,
            authority_type,
            now: result.received_at,
        });
        self.cache.persist()
    }

    /// Client credentials with the cache: a valid app token is returned
    /// without a request; concurrent misses for the same scopes share one
    /// request. A claims request always goes to the server.
    pub async fn client_credentials_cached<S: AsRef<str>>(
        &self,
        scopes: &[S],
        claims: Option<&str>,
    ) -> Result<AuthenticationResult, IdFlowError> {
        let scopes = split_scopes(scopes);
        // With a partition store: this call reads and writes the app's
        // partition only (see `crate::cache::PartitionKey::app`). Without
        // one (most apps), no key is made.
        let partition = self
            .cache
            .partitions()
            .map(|_| crate::cache::PartitionKey::app(&self.client_id, self.lookup_realm()));
        if claims.is_some() {
            let r = self.client_credentials(&scopes, claims).await;
            if let Some(partition) = &partition {
                self.cache.after_access(partition).await;
            }
            return r;
        }
        if let Some(partition) = &partition {
            self.cache.before_access(partition, false).await;
        }
        if let Some(hit) = self.app_token_hit(&scopes)? {
            return Ok(hit);
        }
        let key = FlightKey {
            home_account_id: None,
            scopes: crate::cache::scope_set_key(&scopes),
            claims: None,
            force_refresh: false,
        };
        self.flights
            .run(key, || async {
                if let Some(hit) = self.app_token_hit(&scopes)? {
                    return Ok(hit);
                }
                if self.cache.partitions().is_none() {
                    return self.client_credentials(&scopes, None).await;
                }
                // Entries are filed under the realm discovery establishes:
                // the partition other processes will read.
                let resolved = self.resolve().await?;
                let partition =
                    crate::cache::PartitionKey::app(&self.client_id, &realm_of(&resolved));
                self.across_processes(
                    &self.cache,
                    &partition,
                    &crate::cache::scope_set_key(&scopes),
                    || self.app_token_hit(&scopes),
                    || self.client_credentials(&scopes, None),
                )
                .await
            })
            .await
    }

    fn app_token_hit(
        &self,
        scopes: &[String],
    ) -> Result<Option<AuthenticationResult>, IdFlowError> {
        self.cache.reload()?;
        let now = self.sender.clock.now();
        Ok(self
            .cached_access_token(self.lookup_realm(), None, scopes, now)
            .map(|at| cache_result(at, None)))
    }

    /// The cache-only half of a silent call: a valid cached token (not due
    /// for a proactive refresh) for the account's `home_account_id`, or `None`
    /// (also for an app-only token when `home_account_id` is `None`). Never
    /// touches the network; the language layers call it first so that a hit
    /// costs one synchronous call.
    pub fn cached_token<S: AsRef<str>>(
        &self,
        scopes: &[S],
        home_account_id: Option<&str>,
    ) -> Result<Option<AuthenticationResult>, IdFlowError> {
        let scopes = match home_account_id {
            Some(_) => app_scopes(scopes)?,
            None => split_scopes(scopes),
        };
        self.cache.reload()?;
        let now = self.sender.clock.now();
        Ok(self
            .cached_access_token(self.lookup_realm(), home_account_id, &scopes, now)
            .filter(|at| at.refresh_on.is_none_or(|r| r > now))
            .map(|at| cache_result(at, None)))
    }

    /// `acquire_token_silent`: see the module docs for every decision.
    pub async fn acquire_token_silent<S: AsRef<str>>(
        &self,
        scopes: &[S],
        account: Option<&Account>,
        claims: Option<&str>,
        force_refresh: bool,
    ) -> Result<AuthenticationResult, IdFlowError> {
        let Some(account) = account else {
            return Err(IdFlowError::local(
                LocalCode::NoAccount,
                "no account was passed: sign the user in interactively first, or pick one from \
                 get_accounts()",
            )
            .with_flow(Flow::Silent));
        };
        let scopes = app_scopes(scopes)?;
        if let Some(c) = claims {
            crate::protocol::claims::parse_claims(c)?;
        }
        let bypass = force_refresh || claims.is_some();
        let mut fallback = None;
        let partition = crate::cache::PartitionKey::user(&account.home_account_id);
        self.cache.before_access(&partition, false).await;
        if !bypass {
            self.cache.reload()?;
            let now = self.sender.clock.now();
            if let Some(at) = self.cached_access_token(
                self.lookup_realm(),
                Some(&account.home_account_id),
                &scopes,
                now,
            ) {
                if at.refresh_on.is_none_or(|r| r > now) {
                    return Ok(cache_result(at, Some(account)));
                }
                fallback = Some(at);
            }
        }
        let key = FlightKey {
            home_account_id: Some(account.home_account_id.clone()),
            scopes: crate::cache::scope_set_key(&scopes),
            claims: claims.map(str::to_owned),
            force_refresh,
        };
        let scopes_key = key.scopes.clone();
        let refreshed = self
            .flights
            .run(key, || async {
                if bypass || self.cache.partitions().is_none() {
                    return self
                        .refresh_silently(&scopes, account, claims, bypass)
                        .await;
                }
                // With a partition store, other processes may be refreshing
                // this account's token for these scopes right now: one
                // refresh for all of them (see `super::distributed`). A
                // forced refresh or a claims request wants its own answer.
                self.across_processes(
                    &self.cache,
                    &partition,
                    &scopes_key,
                    || self.fresh_user_token(&scopes, account),
                    || self.refresh_silently(&scopes, account, claims, bypass),
                )
                .await
            })
            .await;
        self.cache.after_access(&partition).await;
        match (refreshed, fallback) {
            (Ok(r), _) => Ok(r),
            // The proactive refresh failed; the cached token is still valid.
            (Err(_), Some(at)) => Ok(cache_result(at, Some(account))),
            (Err(e), None) => Err(e),
        }
    }

    /// A cached token of `account` for `scopes` that needs no refresh yet
    /// (what another process's refresh leaves in the partition).
    fn fresh_user_token(
        &self,
        scopes: &[String],
        account: &Account,
    ) -> Result<Option<AuthenticationResult>, IdFlowError> {
        self.cache.reload()?;
        let now = self.sender.clock.now();
        Ok(self
            .cached_access_token(
                self.lookup_realm(),
                Some(&account.home_account_id),
                scopes,
                now,
            )
            .filter(|at| at.refresh_on.is_none_or(|r| r > now))
            .map(|at| cache_result(at, Some(account))))
    }

    /// The part of a silent call that may need the network; runs once per
    /// flight key however many callers wait for it.
    async fn refresh_silently(
        &self,
        scopes: &[String],
        account: &Account,
        claims: Option<&str>,
        bypass: bool,
    ) -> Result<AuthenticationResult, IdFlowError> {
        let home = account.home_account_id.as_str();
        let fresh = |now: SystemTime| {
            self.cached_access_token(self.lookup_realm(), Some(home), scopes, now)
                .filter(|at| at.refresh_on.is_none_or(|r| r > now))
        };
        if !bypass {
            // Another flight may have just stored a fresh token.
            self.cache.reload()?;
            if let Some(at) = fresh(self.sender.clock.now()) {
                return Ok(cache_result(at, Some(account)));
            }
        }
        let environment = self.environment.as_str();
        let own = RefreshTokenQuery {
            home_account_id: home,
            environment,
            client_id: &self.client_id,
            family_id: None,
        };
        // Family: unknown metadata means "try family 1", as msal does.
        let family = match self.cache.app_metadata(environment, &self.client_id) {
            None => Some(DEFAULT_FAMILY.to_owned()),
            Some(md) => md.family_id,
        };
        let family_rt = family.as_deref().and_then(|f| {
            self.cache.refresh_token(&RefreshTokenQuery {
                family_id: Some(f),
                ..own
            })
        });
        let own_rt = self.cache.refresh_token(&own);
        if family_rt.is_none() && own_rt.is_none() {
            return Err(IdFlowError::local(
                LocalCode::NoTokensFound,
                "the cache holds no usable access token and no refresh token for this account: \
                 sign the user in interactively",
            )
            .with_flow(Flow::Silent));
        }
        if !bypass && self.realm.get().is_none() {
            // A request goes out anyway: discovery may name the tenant
            // differently (a domain resolves to its id), and a token saved
            // under that realm makes the request unnecessary.
            self.resolve().await?;
            if let Some(at) = fresh(self.sender.clock.now()) {
                return Ok(cache_result(at, Some(account)));
            }
        }
        let mut last_error = None;
        if let Some(frt) = &family_rt {
            let fq = RefreshTokenQuery {
                family_id: frt.family_id.as_deref().or(family.as_deref()),
                ..own
            };
            match self
                .refresh_token_for(&frt.secret, scopes, claims, Flow::Silent, Some(account))
                .await
            {
                Ok(r) => return Ok(r),
                Err(e) => {
                    if is_client_mismatch(&e) {
                        // Not in that family after all: remember it, so the
                        // next silent call goes straight to the app's token.
                        self.cache
                            .set_app_family(environment, &self.client_id, None);
                        self.cache.persist()?;
                    } else {
                        self.maybe_remove_rt(&e, &fq, &frt.secret)?;
                    }
                    last_error = Some(e);
                }
            }
        }
        match own_rt {
            Some(rt)
                if family_rt.as_ref().map(|f| f.secret.expose()) != Some(rt.secret.expose()) =>
            {
                let r = self
                    .refresh_token_for(&rt.secret, scopes, claims, Flow::Silent, Some(account))
                    .await;
                if let Err(e) = &r {
                    self.maybe_remove_rt(e, &own, &rt.secret)?;
                }
                r
            }
            _ => Err(last_error.unwrap_or_else(|| {
                IdFlowError::local(
                    LocalCode::NoTokensFound,
                    "no refresh token for this account",
                )
                .with_flow(Flow::Silent)
            })),
        }
    }

    /// msal-error-model.md §2.3: only `invalid_grant` + `bad_token` proves the
    /// refresh token dead.
    fn maybe_remove_rt(
        &self,
        e: &IdFlowError,
        q: &RefreshTokenQuery<'_>,
        secret: &crate::secret::RefreshToken,
    ) -> Result<(), IdFlowError> {
        if e.code == "invalid_grant" && e.suberror() == Some("bad_token") {
            self.cache.remove_refresh_token(q, secret);
            self.cache.persist()?;
        }
        Ok(())
    }

    /// Accounts this app can use silently, optionally only `username`'s.
    /// With a partition store: those of the partitions this process holds
    /// (see [`crate::cache::TokenCache::attach_partitioned`]).
    pub fn accounts(&self, username: Option<&str>) -> Result<Vec<Account>, IdFlowError> {
        self.cache.reload()?;
        self.cache.note_partial_accounts();
        Ok(self
            .cache
            .accounts(&self.environment, &self.client_id, username))
    }

    /// [`Self::accounts`], each handed to `f` borrowed instead of collected
    /// (see [`crate::cache::TokenCache::for_each_account`]).
    pub fn for_each_account(
        &self,
        username: Option<&str>,
        f: impl FnMut(crate::AccountRef<'_>),
    ) -> Result<(), IdFlowError> {
        self.cache.reload()?;
        self.cache.note_partial_accounts();
        self.cache
            .for_each_account(&self.environment, &self.client_id, username, f);
        Ok(())
    }

    /// Brings `view`, this app's account list as a caller holds it, up to
    /// date (see [`crate::cache::TokenCache::update_accounts_view`]).
    pub fn update_accounts_view(
        &self,
        view: &mut crate::AccountsView,
        f: impl FnMut(crate::ViewStep<'_>),
    ) -> Result<(), IdFlowError> {
        self.cache.reload()?;
        self.cache.note_partial_accounts();
        self.cache
            .update_accounts_view(&self.environment, &self.client_id, view, f);
        Ok(())
    }

    /// The account with this home account id, its partition read from an
    /// attached partition store first: how a web app serving many users
    /// finds the one it serves (it keeps the id, e.g. in its session).
    pub async fn account_by_id(
        &self,
        home_account_id: &str,
    ) -> Result<Option<Account>, IdFlowError> {
        let partition = crate::cache::PartitionKey::user(home_account_id);
        self.cache.before_access(&partition, false).await;
        self.cache.reload()?;
        Ok(self
            .cache
            .accounts(&self.environment, &self.client_id, None)
            .into_iter()
            .find(|a| a.home_account_id == home_account_id))
    }

    /// The cache's generation after re-reading attached storage when it
    /// changed (see [`crate::cache::TokenCache::generation`]).
    pub fn cache_generation(&self) -> Result<u64, IdFlowError> {
        self.cache.reload()?;
        Ok(self.cache.generation())
    }

    /// The cache's accounts generation after re-reading attached storage
    /// when it changed (see [`crate::cache::TokenCache::accounts_generation`]).
    pub fn accounts_generation(&self) -> Result<u64, IdFlowError> {
        self.cache.reload()?;
        Ok(self.cache.accounts_generation())
    }

    /// Forgets the account: its tokens for this app go with it.
    pub fn remove_account(&self, account: &Account) -> Result<(), IdFlowError> {
        self.cache.reload()?;
        self.cache.remove_account(account, &self.client_id);
        self.cache.persist()
    }
}

/// `invalid_grant` + `client_mismatch`: a family refresh token offered by an
/// app outside the family. AAD also names it in `error_additional_info`.
fn is_client_mismatch(e: &IdFlowError) -> bool {
    if e.code != "invalid_grant" {
        return false;
    }
    e.suberror() == Some("client_mismatch")
        || e.service
            .as_ref()
            .and_then(|s| s.body.as_ref())
            .and_then(|b| b.get("error_additional_info"))
            .and_then(|v| v.as_array())
            .is_some_and(|a| a.iter().any(|v| v.as_str() == Some("client_mismatch")))
}

/// A result served from the cache. No request was made, so there is no
/// correlation id (empty) and no refresh or id token in it.
pub(crate) fn cache_result(
    at: CachedAccessToken,
    account: Option<&Account>,
) -> AuthenticationResult {
    let unix = |t: SystemTime| {
        t.duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    };
    tracing::info!(
        target: "idflow::cache",
        expires_on = unix(at.expires_on),
        refresh_on = ?at.refresh_on.map(unix),
        "token served from the cache"
    );
    AuthenticationResult {
        access_token: at.secret,
        token_type: at.token_type,
        expires_on: at.expires_on,
        ext_expires_on: at.ext_expires_on,
        refresh_on: at.refresh_on,
        scopes: at.scopes,
        refresh_token: None,
        id_token: None,
        id_token_claims: None,
        account: account.cloned(),
        client_info: None,
        family_id: None,
        correlation_id: String::new(),
        token_source: TokenSource::Cache,
        received_at: at.cached_at,
    }
}
