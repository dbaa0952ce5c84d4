//! Reading: the lookups of a silent call (access token, refresh token, id
//! token, app metadata, accounts) and the counts.

use super::account_view::{account_ref, Lister};
use super::store::AtQuery;
use super::{counts_of, scopes, secs, time, TokenCache};
use super::{
    AccessTokenQuery, AppMetadata, CacheCounts, CachedAccessToken, CachedRefreshToken,
    RefreshTokenQuery,
};
use crate::protocol::token::{Account, AccountRef};
use crate::secret::{AccessToken, IdToken, RefreshToken};
use std::time::SystemTime;

impl TokenCache {
    /// The unexpired (`expires_on > now`) access token whose scopes cover
    /// the requested ones (see the module docs for the matching rules), the
    /// one expiring last when several do. Expired tokens met on the way are
    /// dropped. The caller applies its own expiry margin to the result.
    pub fn access_token(
        &self,
        q: &AccessTokenQuery<'_>,
        now: SystemTime,
    ) -> Option<CachedAccessToken> {
        let now_s = secs(now);
        let mut expired = Vec::new();
        let found = {
            let s = self.read();
            let query = AtQuery {
                client_id: q.client_id,
                environment: q.environment,
                realm: q.realm,
                home: q.home_account_id.unwrap_or(""),
                scopes: q.scopes,
            };
            s.at.find(&query, now_s, &mut expired)
                .and_then(|id| s.at.get(id))
                .map(|e| CachedAccessToken {
                    secret: AccessToken::new(e.secret().unwrap_or("")),
                    token_type: e
                        .token_type()
                        .map(str::to_owned)
                        .unwrap_or_else(|| "Bearer".into()),
                    scopes: e
                        .target()
                        .unwrap_or("")
                        .split_whitespace()
                        .map(str::to_owned)
                        .collect(),
                    expires_on: time(e.expires_on.unwrap_or(0)),
                    ext_expires_on: e.extended_expires_on.map(time),
                    refresh_on: e.refresh_on.map(time),
                    cached_at: time(e.cached_at.unwrap_or(0)),
                    home_account_id: e.home_account_id().map(str::to_owned),
                    realm: e.realm().map(str::to_owned).unwrap_or_default(),
                })
        };
        if !expired.is_empty() && self.write().at.evict_expired(&expired, now_s) > 0 {
            self.mark_changed();
        }
        found
    }

    /// The account's refresh token for this client (`family_id` None) or for
    /// a family (`Some("1")`): the newest by `last_modification_time`; scopes
    /// are ignored (the platform's refresh tokens are scope-independent).
    pub fn refresh_token(&self, q: &RefreshTokenQuery<'_>) -> Option<CachedRefreshToken> {
        let s = self.read();
        let ids =
            s.rt.of(q.home_account_id, q.environment, q.client_id, q.family_id);
        let e = s.rt.get(s.rt.newest(&ids)?)?;
        Some(CachedRefreshToken {
            secret: RefreshToken::new(e.secret().unwrap_or("")),
            family_id: e.family_id().map(str::to_owned).filter(|f| !f.is_empty()),
            client_id: e.client_id().map(str::to_owned).unwrap_or_default(),
        })
    }

    /// The id token saved for this account, environment, realm and client.
    pub fn id_token(
        &self,
        home_account_id: &str,
        environment: &str,
        realm: &str,
        client_id: &str,
    ) -> Option<IdToken> {
        let s = self.read();
        let eq = |a: Option<&str>, b: &str| scopes::fold(a.unwrap_or("")) == scopes::fold(b);
        s.idt
            .of_home(environment, home_account_id)
            .iter()
            .filter_map(|&id| s.idt.get(id))
            .find(|e| eq(e.realm(), realm) && eq(e.client_id(), client_id))
            .map(|e| IdToken::new(e.secret().unwrap_or("")))
    }

    /// The app's metadata (its FOCI family), if a token answer for it was saved.
    pub fn app_metadata(&self, environment: &str, client_id: &str) -> Option<AppMetadata> {
        self.read()
            .meta
            .of(environment, client_id)
            .map(|m| AppMetadata {
                family_id: m.family_id().map(str::to_owned).filter(|f| !f.is_empty()),
            })
    }

    /// Accounts holding a refresh token this client can use: its own, or one
    /// of its family (the family in its app metadata; when the app has no
    /// metadata yet, family `"1"`, which msal also tries first). One per home
    /// account (the record of the home tenant when there are several),
    /// ordered by home account id; `username` filters case-insensitively.
    /// Costs O(accounts of this client), never a walk over tokens.
    pub fn accounts(
        &self,
        environment: &str,
        client_id: &str,
        username: Option<&str>,
    ) -> Vec<Account> {
        let mut out = Vec::new();
        self.for_each_account(environment, client_id, username, |a| {
            out.push(a.to_account())
        });
        out
    }

    /// [`Self::accounts`], each handed to `f` borrowed, in the same order,
    /// instead of collected: nothing is allocated per account. `f` runs
    /// under the cache's read lock; it must not call back into this cache.
    pub fn for_each_account(
        &self,
        environment: &str,
        client_id: &str,
        username: Option<&str>,
        mut f: impl FnMut(AccountRef<'_>),
    ) {
        let s = self.read();
        let lister = Lister::new(&s, environment, client_id);
        let Some(wanted) = username else {
            let homes = lister.homes();
            homes
                .iter()
                .filter_map(|h| lister.pick(h))
                .for_each(|rec| f(account_ref(rec)));
            return;
        };
        // Only the records of that username, through its index.
        let mut homes: Vec<_> = s
            .acct
            .of_user(environment, wanted)
            .iter()
            .filter_map(|&id| s.acct.get(id))
            .map(|a| scopes::fold(a.home_account_id().unwrap_or("")))
            .collect();
        homes.sort_unstable();
        homes.dedup();
        homes
            .iter()
            .filter(|home| lister.listed(home))
            .filter_map(|home| lister.pick(home))
            .filter(|rec| scopes::folded_eq(rec.username().unwrap_or(""), wanted))
            .for_each(|rec| f(account_ref(rec)));
    }

    /// Entries per section.
    pub fn counts(&self) -> CacheCounts {
        counts_of(&self.read())
    }
}
