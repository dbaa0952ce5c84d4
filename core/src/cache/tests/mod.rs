//! Tests of the token cache: schema compatibility, matching, eviction,
//! accounts, persistence, crash safety. The fixtures below build token
//! answers, save and look them up, and give each storage test a file.

mod account_view;
mod accounts;
mod crash;
mod document_reader;
mod json_out;
mod load;
mod matching;
mod persistence;
mod safety;
mod schema;

use super::*;
use crate::error::{ErrorKind, LocalCode};
use crate::protocol::token::{Account, AuthenticationResult, TokenSource};
use crate::secret::{AccessToken, IdToken, RefreshToken};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const ENV: &str = "login.microsoftonline.com";
const CLIENT: &str = "client-a";
const TENANT: &str = "tenant-1";
const T0: u64 = 1_700_000_000;

fn at(s: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(s)
}

fn scopes(s: &[&str]) -> Vec<String> {
    s.iter().map(|x| (*x).to_owned()).collect()
}

fn account(uid: &str, username: &str) -> Account {
    Account {
        home_account_id: format!("{uid}.{TENANT}"),
        environment: ENV.into(),
        realm: TENANT.into(),
        username: username.into(),
        local_account_id: uid.into(),
    }
}

/// A token answer to save.
struct Answer {
    token: String,
    granted: Vec<String>,
    expires_in: u64,
    account: Option<Account>,
    rt: Option<&'static str>,
    family: Option<&'static str>,
}

impl Answer {
    /// An app token (client credentials), valid for an hour.
    fn app(token: &str, granted: &[&str]) -> Answer {
        Answer {
            token: token.into(),
            granted: scopes(granted),
            expires_in: 3600,
            account: None,
            rt: None,
            family: None,
        }
    }
    /// A user's tokens: access, refresh (`rt-secret`) and id token.
    fn user(token: &str, granted: &[&str], acct: &Account) -> Answer {
        Answer {
            account: Some(acct.clone()),
            rt: Some("rt-secret"),
            ..Answer::app(token, granted)
        }
    }
    /// This answer with an access token valid for `secs` seconds.
    fn expiring_in(mut self, secs: u64) -> Answer {
        self.expires_in = secs;
        self
    }
    /// This answer with another refresh token.
    fn with_rt(mut self, rt: &'static str) -> Answer {
        self.rt = Some(rt);
        self
    }
    /// This answer with the app in a family (FOCI).
    fn in_family(mut self, family: &'static str) -> Answer {
        self.family = Some(family);
        self
    }
    fn result(&self, now: u64) -> AuthenticationResult {
        AuthenticationResult {
            access_token: AccessToken::new(self.token.as_str()),
            token_type: "Bearer".into(),
            expires_on: at(now + self.expires_in),
            ext_expires_on: None,
            refresh_on: None,
            scopes: self.granted.clone(),
            refresh_token: self.rt.map(RefreshToken::new),
            id_token: self.account.as_ref().map(|_| IdToken::new("id-token-jwt")),
            id_token_claims: None,
            account: self.account.clone(),
            client_info: None,
            family_id: self.family.map(str::to_owned),
            correlation_id: "corr".into(),
            token_source: TokenSource::IdentityProvider,
            received_at: at(now),
        }
    }
}

fn save_as(cache: &TokenCache, client: &str, a: &Answer, requested: &[&str], now: u64) {
    let result = a.result(now);
    let requested = scopes(requested);
    cache.save(&SaveRequest {
        client_id: client,
        environment: ENV,
        realm: TENANT,
        requested_scopes: &requested,
        result: &result,
        account_source: a.account.as_ref().map(|_| "authorization_code"),
        authority_type: "MSSTS",
        now: at(now),
    });
}

fn save(cache: &TokenCache, a: &Answer, requested: &[&str]) {
    save_as(cache, CLIENT, a, requested, T0);
}

/// Saves an app token granted exactly the scopes it was asked for.
fn save_app(cache: &TokenCache, token: &str, scopes: &[&str]) {
    save(cache, &Answer::app(token, scopes), scopes);
}

/// The access token the cache answers for a query of [`CLIENT`] at `now`.
fn find(
    cache: &TokenCache,
    realm: &str,
    home: Option<&str>,
    want: &[&str],
    now: u64,
) -> Option<CachedAccessToken> {
    let want = scopes(want);
    let q = AccessTokenQuery {
        client_id: CLIENT,
        environment: ENV,
        realm,
        home_account_id: home,
        scopes: &want,
    };
    cache.access_token(&q, at(now))
}

/// The secret of the access token found in [`TENANT`].
fn lookup(cache: &TokenCache, home: Option<&str>, want: &[&str], now: u64) -> Option<String> {
    find(cache, TENANT, home, want, now).map(|t| t.secret.expose().to_owned())
}

fn app_lookup(cache: &TokenCache, want: &[&str]) -> Option<String> {
    lookup(cache, None, want, T0 + 10)
}

/// The account's refresh token query for `client` (or its family).
fn rt_query<'a>(home: &'a str, client: &'a str, family: Option<&'a str>) -> RefreshTokenQuery<'a> {
    RefreshTokenQuery {
        home_account_id: home,
        environment: ENV,
        client_id: client,
        family_id: family,
    }
}

/// The secret of the refresh token a query finds.
fn rt_secret(cache: &TokenCache, q: &RefreshTokenQuery<'_>) -> Option<String> {
    cache.refresh_token(q).map(|r| r.secret.expose().to_owned())
}

/// A directory of one test's own for a cache file, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let d = std::env::temp_dir().join(format!("idflow-cache-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        TempDir(d)
    }
    fn cache_file(&self) -> PathBuf {
        self.0.join("cache.json")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A new cache with the file attached, as a process sharing the file holds it.
fn attached(path: &Path) -> TokenCache {
    let cache = TokenCache::new();
    cache
        .attach_storage(Arc::new(FileStorage::new(path)))
        .unwrap();
    cache
}

fn value(json: &str) -> Value {
    serde_json::from_str(json).unwrap()
}

/// A cache as msal Python writes it for one user sign-in and one app token,
/// built from the schema's description: string timestamps, `null` home
/// account id for the app token, lower-cased keys, a FOCI refresh token,
/// plus members and a section idflow does not know.
fn msal_document() -> Value {
    json!({
        "AccessToken": {
            "uid.utid-login.microsoftonline.com-accesstoken-client-a-utid-mail.read openid profile user.read": {
                "credential_type": "AccessToken",
                "secret": "user-at",
                "home_account_id": "uid.utid",
                "environment": "login.microsoftonline.com",
                "client_id": "client-a",
                "target": "Mail.Read openid profile User.Read",
                "realm": "utid",
                "token_type": "Bearer",
                "cached_at": "1700000000",
                "expires_on": "1700003600",
                "extended_expires_on": "1700007200",
                "refresh_on": "1700001800",
                "x_vendor_field": {"nested": [1, 2, 3]}
            },
            "-login.microsoftonline.com-accesstoken-client-a-tenant-1-api://res/.default": {
                "credential_type": "AccessToken",
                "secret": "app-at",
                "home_account_id": null,
                "environment": "login.microsoftonline.com",
                "client_id": "client-a",
                "target": "api://res/.default",
                "realm": "tenant-1",
                "token_type": "Bearer",
                "cached_at": "1700000000",
                "expires_on": "1700003600",
                "extended_expires_on": "1700003600"
            },
            "-login.microsoftonline.com-atext-client-a-tenant-1-api://res/.default-abc": {
                "credential_type": "AccessToken",
                "secret": "fmi-at",
                "home_account_id": null,
                "environment": "login.microsoftonline.com",
                "client_id": "client-a",
                "target": "api://res/.default",
                "realm": "tenant-1",
                "token_type": "Bearer",
                "cached_at": "1700000000",
                "expires_on": "1700009999",
                "extended_expires_on": "1700009999",
                "ext_cache_key": "abc"
            }
        },
        "RefreshToken": {
            "uid.utid-login.microsoftonline.com-refreshtoken-client-a--mail.read openid profile user.read": {
                "credential_type": "RefreshToken",
                "secret": "user-rt",
                "home_account_id": "uid.utid",
                "environment": "login.microsoftonline.com",
                "client_id": "client-a",
                "target": "Mail.Read openid profile User.Read",
                "last_modification_time": "1700000000",
                "family_id": "1"
            }
        },
        "IdToken": {
            "uid.utid-login.microsoftonline.com-idtoken-client-a-utid-": {
                "credential_type": "IdToken",
                "secret": "header.payload.sig",
                "home_account_id": "uid.utid",
                "environment": "login.microsoftonline.com",
                "realm": "utid",
                "client_id": "client-a"
            }
        },
        "Account": {
            "uid.utid-login.microsoftonline.com-utid": {
                "home_account_id": "uid.utid",
                "environment": "login.microsoftonline.com",
                "realm": "utid",
                "local_account_id": "oid-1",
                "username": "Alice@Contoso.com",
                "authority_type": "MSSTS",
                "account_source": "authorization_code",
                "given_name": "Alice"
            }
        },
        "AppMetadata": {
            "appmetadata-login.microsoftonline.com-client-a": {
                "client_id": "client-a",
                "environment": "login.microsoftonline.com",
                "family_id": "1"
            }
        },
        "x_future_section": {"anything": ["kept", 1, null]}
    })
}
