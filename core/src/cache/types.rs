//! The cache's public records: what a save writes, what a lookup asks and
//! finds, the bound, the counts.

use crate::protocol::token::AuthenticationResult;
use crate::secret::{AccessToken, RefreshToken};
use std::time::SystemTime;

/// Limits of a [`TokenCache`](super::TokenCache).
#[derive(Clone, Debug, Default)]
pub struct CacheOptions {
    /// At most this many access tokens (the soonest-expiring are evicted
    /// first); `None` = unbounded.
    pub max_access_tokens: Option<usize>,
}

/// Everything one token answer writes into the cache, in one call.
#[derive(Debug)]
pub struct SaveRequest<'a> {
    pub client_id: &'a str,
    /// The authority host as msal writes it (`host[:port]`); stored lower-cased.
    pub environment: &'a str,
    /// The tenant id (the id token's `tid`, or the authority's tenant).
    pub realm: &'a str,
    /// What the app asked for (indexed too, so a repeat request hits in O(1)).
    pub requested_scopes: &'a [String],
    /// Granted scopes, tokens, expiries, account, family id.
    pub result: &'a AuthenticationResult,
    /// The grant that created the account (`authorization_code`, `password`,
    /// the device-code URN ...), written as the account's `account_source`.
    pub account_source: Option<&'a str>,
    /// `MSSTS`, `ADFS` or `Other`, as msal writes it.
    pub authority_type: &'a str,
    pub now: SystemTime,
}

/// Which access token a silent call wants.
#[derive(Clone, Copy, Debug)]
pub struct AccessTokenQuery<'a> {
    pub client_id: &'a str,
    pub environment: &'a str,
    pub realm: &'a str,
    /// `None` = an app-only token (client credentials).
    pub home_account_id: Option<&'a str>,
    pub scopes: &'a [String],
}

/// An access token found in the cache.
#[derive(Clone, Debug)]
pub struct CachedAccessToken {
    pub secret: AccessToken,
    pub token_type: String,
    /// The granted scopes, as stored.
    pub scopes: Vec<String>,
    pub expires_on: SystemTime,
    pub ext_expires_on: Option<SystemTime>,
    /// When to refresh proactively, if the server said.
    pub refresh_on: Option<SystemTime>,
    pub cached_at: SystemTime,
    pub home_account_id: Option<String>,
    pub realm: String,
}

/// Which refresh token a silent call wants.
#[derive(Clone, Copy, Debug)]
pub struct RefreshTokenQuery<'a> {
    pub home_account_id: &'a str,
    pub environment: &'a str,
    pub client_id: &'a str,
    /// `Some("1")`: any refresh token of that family (FOCI); `None`: this client's own.
    pub family_id: Option<&'a str>,
}

/// A refresh token found in the cache.
#[derive(Clone, Debug)]
pub struct CachedRefreshToken {
    pub secret: RefreshToken,
    pub family_id: Option<String>,
    /// The client the token was issued to (another family member's, for a family query).
    pub client_id: String,
}

/// What the cache knows about a client app.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppMetadata {
    /// The FOCI family the server said the app belongs to.
    pub family_id: Option<String>,
}

/// Entries per section.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheCounts {
    pub access_tokens: usize,
    pub refresh_tokens: usize,
    pub id_tokens: usize,
    pub accounts: usize,
    pub app_metadata: usize,
}
