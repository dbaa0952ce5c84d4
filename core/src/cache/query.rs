//! msal Python's entry-level cache API: `TokenCache.search` and
//! `TokenCache.modify` (AzureAD/microsoft-authentication-library-for-python
//! `msal/token_cache.py`), with entries as msal's dicts (the same members
//! the serialized cache holds).
//!
//! What msal defines, and idflow keeps:
//!
//! * an entry matches when every member of the query equals the entry's
//!   (the query's `environment` is lower-cased first, as entries hold it),
//!   a member the entry lacks never matches (not even `None`), and every
//!   scope of `target` is among the entry's `target` (exact strings);
//! * an access token query naming `home_account_id`, `environment`,
//!   `client_id` and `realm` with a target first answers the entry stored
//!   under that very key (expired or not, as msal's O(1) path does), then the
//!   other matches;
//! * access tokens expired before `now` are never answered, and an access
//!   token search drops every such token from the cache (msal removes them
//!   as its walk meets them, and its walk meets them all);
//! * an access token with an `ext_cache_key` matches only a query naming one;
//! * `modify` replaces the entry stored under the old entry's key with the
//!   old entry updated by the new members, or removes it when there are none.
//!
//! What idflow does differently: msal walks the whole section for every
//! search. Here a query naming `environment` and `home_account_id` (every
//! per-account lookup msal itself makes) reads only that account's entries
//! through the store's per-account indexes; a username query reads the
//! username index, an app metadata query the (environment, client) index,
//! and a refresh token query with a client or family the owner indexes. The
//! candidates are then checked against msal's rule above, so an index only
//! ever narrows. Queries no index answers (no account named: app tokens,
//! or only an environment) walk the section as msal does. Expired tokens
//! are dropped through the expiry order (only the expired ones are touched).
//! A `modify` whose new members change the entry's key stores the result
//! under its new key (msal keeps it under the old one, which no lookup of
//! msal's own would then find).

use super::keys;
use super::schema::{AcctEntry, AtEntry, IdtEntry, MetaEntry, RtEntry};
use super::store::Store;
use super::{secs, TokenCache};
use crate::error::{IdFlowError, LocalCode};
use serde_json::{Map, Value};
use std::time::SystemTime;

/// One cache entry as msal's dict: member name → JSON value.
pub type CacheEntry = Map<String, Value>;

/// The sections of msal's cache, by msal's `CredentialType` names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CredentialType {
    AccessToken,
    RefreshToken,
    IdToken,
    Account,
    AppMetadata,
}

impl CredentialType {
    /// `"AccessToken"`, `"RefreshToken"`, `"IdToken"`, `"Account"`,
    /// `"AppMetadata"` (msal's `TokenCache.CredentialType` values); `None`
    /// for anything else.
    pub fn parse(name: &str) -> Option<CredentialType> {
        Some(match name {
            "AccessToken" => CredentialType::AccessToken,
            "RefreshToken" => CredentialType::RefreshToken,
            "IdToken" => CredentialType::IdToken,
            "Account" => CredentialType::Account,
            "AppMetadata" => CredentialType::AppMetadata,
            _ => return None,
        })
    }
}

/// A member as msal's key makers read it: the string, or `""` when absent
/// or null (`value or ""`).
fn member<'a>(m: &'a CacheEntry, k: &str) -> &'a str {
    m.get(k).and_then(Value::as_str).unwrap_or("")
}

/// The document key msal computes for an entry of this section.
fn key_of(ct: CredentialType, m: &CacheEntry) -> String {
    let s = |k| member(m, k);
    keys::written(|o| match ct {
        CredentialType::AccessToken => keys::access_token_into(
            o,
            s("home_account_id"),
            s("environment"),
            s("client_id"),
            s("realm"),
            s("target"),
            Some(s("ext_cache_key")),
        ),
        CredentialType::RefreshToken => keys::refresh_token_into(
            o,
            s("home_account_id"),
            s("environment"),
            s("client_id"),
            s("target"),
        ),
        CredentialType::IdToken => keys::id_token_into(
            o,
            s("home_account_id"),
            s("environment"),
            s("client_id"),
            s("realm"),
        ),
        CredentialType::Account => {
            keys::account_into(o, s("home_account_id"), s("environment"), s("realm"))
        }
        CredentialType::AppMetadata => keys::app_metadata_into(o, s("environment"), s("client_id")),
    })
}

/// msal's `_is_matching`: the query a sub-dict of the entry (its
/// `environment` lower-cased), and every scope of `target` in the entry's.
fn matches(entry: &CacheEntry, query: &CacheEntry, target: &[&str]) -> bool {
    let members = query.iter().all(|(k, v)| {
        let lowered;
        let want = match v {
            Value::String(s) if k == "environment" => {
                lowered = Value::String(s.to_lowercase());
                &lowered
            }
            _ => v,
        };
        entry.get(k) == Some(want)
    });
    members && {
        let have: Vec<&str> = member(entry, "target").split_whitespace().collect();
        target.iter().all(|t| have.contains(t))
    }
}

/// An access token's `expires_on` as msal reads it (`int(...)`).
fn expires_on(entry: &CacheEntry) -> Option<i64> {
    match entry.get("expires_on")? {
        Value::String(s) => s.trim().parse().ok(),
        Value::Number(n) => n.as_i64(),
        _ => None,
    }
}

fn as_entry<E: serde::Serialize>(e: &E) -> Option<CacheEntry> {
    match serde_json::to_value(e) {
        Ok(Value::Object(m)) => Some(m),
        _ => None,
    }
}

fn from_entry<E: serde::de::DeserializeOwned>(m: CacheEntry) -> Result<E, IdFlowError> {
    serde_json::from_value(Value::Object(m)).map_err(|e| {
        IdFlowError::local(
            LocalCode::InvalidCacheFormat,
            format!(
                "a cache entry is not of the MSAL cache schema ({:?} error)",
                e.classify()
            ),
        )
    })
}

/// The entries an index names for this query (a superset of the matches),
/// or `None` when no index fits and the section must be walked.
fn candidates(s: &Store, ct: CredentialType, q: &CacheEntry) -> Option<Vec<u32>> {
    let text = |k: &str| q.get(k).and_then(Value::as_str).filter(|v| !v.is_empty());
    let env = text("environment")?;
    let home = text("home_account_id");
    match (ct, home) {
        (CredentialType::AccessToken, Some(h)) => Some(s.at.of_home(env, h)),
        (CredentialType::RefreshToken, Some(h)) => {
            Some(match (text("client_id"), text("family_id")) {
                (Some(c), _) => s.rt.of(h, env, c, None).to_vec(),
                (None, Some(f)) => s.rt.of(h, env, "", Some(f)).to_vec(),
                (None, None) => s.rt.of_home(env, h).to_vec(),
            })
        }
        (CredentialType::IdToken, Some(h)) => Some(s.idt.of_home(env, h).to_vec()),
        (CredentialType::Account, Some(h)) => Some(s.acct.of_home(env, h).to_vec()),
        (CredentialType::Account, None) => {
            text("username").map(|u| s.acct.of_user(env, u).to_vec())
        }
        (CredentialType::AppMetadata, _) => {
            let c = text("client_id")?;
            let found = s.meta.of(env, c);
            Some(
                found
                    .and_then(|m| {
                        let key = keys::written(|o| {
                            keys::app_metadata_into(
                                o,
                                m.environment().unwrap_or(""),
                                m.client_id().unwrap_or(""),
                            )
                        });
                        s.meta.id_of(&key)
                    })
                    .into_iter()
                    .collect(),
            )
        }
        _ => None,
    }
}

/// Whether a typed string member can still equal the query's: a string
/// in the query must be the entry's string member exactly (`environment`
/// compared lower-cased, as msal lower-cases the query's; a member held
/// outside the typed fields is never a string, so it cannot match), and a
/// null in the query excludes entries holding a string there.
fn may_match(q: &CacheEntry, name: &str, have: Option<&str>) -> bool {
    match q.get(name) {
        Some(Value::String(want)) if name == "environment" => {
            have.is_some_and(|h| h == want.to_lowercase())
        }
        Some(Value::String(want)) => have == Some(want.as_str()),
        // A typed member is a string, never the null asked for (app tokens'
        // `"home_account_id": null`).
        Some(Value::Null) => have.is_none(),
        _ => true,
    }
}

/// The (slot, entry) pairs of one section: the candidates, or every entry.
/// Entries whose typed members already differ from the query's strings are
/// skipped before being turned into dicts (a walk then costs a comparison
/// per entry, not a conversion).
macro_rules! gather {
    ($sec:expr, $ty:ty, $ids:expr, $q:expr, [$($field:ident),*]) => {{
        let keep = |e: &$ty| true $(&& may_match($q, stringify!($field), e.$field()))*;
        match $ids {
            Some(ids) => ids
                .into_iter()
                .filter_map(|id| $sec.get(id).filter(|e| keep(e)).map(|e| (id, e)))
                .filter_map(|(id, e)| Some((id, as_entry(e)?)))
                .collect::<Vec<_>>(),
            None => $sec
                .iter()
                .filter(|(_, _, e)| keep(e))
                .filter_map(|(id, _, e)| Some((id, as_entry(e)?)))
                .collect::<Vec<_>>(),
        }
    }};
}

impl TokenCache {
    /// msal's `TokenCache.search(credential_type, target, query, now=now)`:
    /// the matching entries as msal's dicts (see the module docs for the
    /// rule and which indexes answer). An access token search drops the
    /// tokens expired before `now` from the cache.
    pub fn search_entries<S: AsRef<str>>(
        &self,
        ct: CredentialType,
        target: &[S],
        query: Option<&CacheEntry>,
        now: SystemTime,
    ) -> Vec<CacheEntry> {
        let now_s = i64::try_from(secs(now)).unwrap_or(i64::MAX);
        let mut target: Vec<&str> = target.iter().map(AsRef::as_ref).collect();
        target.sort_unstable();
        let empty = CacheEntry::new();
        let q = query.unwrap_or(&empty);
        let is_at = ct == CredentialType::AccessToken;
        let mut out = Vec::new();
        {
            let s = self.read();
            // msal's O(1) path: the entry under the query's own key comes first.
            let mut preferred = None;
            let named = ["home_account_id", "environment", "client_id", "realm"];
            if is_at
                && query.is_some()
                && !target.is_empty()
                && named.iter().all(|k| q.contains_key(*k))
            {
                let key = keys::written(|o| {
                    keys::access_token_into(
                        o,
                        member(q, "home_account_id"),
                        member(q, "environment"),
                        member(q, "client_id"),
                        member(q, "realm"),
                        &target.join(" "),
                        Some(member(q, "ext_cache_key")),
                    )
                });
                if let Some(id) = s.at.id_of(&key) {
                    if let Some(e) = s.at.get(id).and_then(as_entry) {
                        if matches(&e, q, &[]) {
                            preferred = Some(id);
                            out.push(e);
                        }
                    }
                }
            }
            let ids = candidates(&s, ct, q);
            let found = match ct {
                CredentialType::AccessToken => gather!(
                    s.at,
                    AtEntry,
                    ids,
                    q,
                    [
                        client_id,
                        environment,
                        realm,
                        home_account_id,
                        credential_type
                    ]
                ),
                CredentialType::RefreshToken => gather!(
                    s.rt,
                    RtEntry,
                    ids,
                    q,
                    [client_id, environment, home_account_id, family_id]
                ),
                CredentialType::IdToken => gather!(
                    s.idt,
                    IdtEntry,
                    ids,
                    q,
                    [client_id, environment, realm, home_account_id]
                ),
                CredentialType::Account => gather!(
                    s.acct,
                    AcctEntry,
                    ids,
                    q,
                    [environment, realm, home_account_id, username]
                ),
                CredentialType::AppMetadata => {
                    gather!(
                        s.meta,
                        MetaEntry,
                        ids,
                        q,
                        [client_id, environment, family_id]
                    )
                }
            };
            for (id, e) in found {
                if is_at && expires_on(&e).is_some_and(|t| t < now_s) {
                    continue;
                }
                if Some(id) == preferred || !matches(&e, q, &target) {
                    continue;
                }
                if is_at && e.contains_key("ext_cache_key") && !q.contains_key("ext_cache_key") {
                    continue;
                }
                out.push(e);
            }
        }
        if is_at {
            // Expired before `now` (msal's `<`): those up to `now - 1`.
            let before = u64::try_from(now_s.saturating_sub(1)).unwrap_or(0);
            if self.write().at.evict(before, None) > 0 {
                self.mark_changed();
            }
        }
        out
    }

    /// msal's `TokenCache.modify(credential_type, old_entry, new_key_value_pairs)`:
    /// the entry under `old`'s key becomes `old` updated with `new`, or is
    /// removed when `new` is `None` or empty. Marks the cache changed (as
    /// msal's `SerializableTokenCache` does, whether or not an entry was
    /// there). Fails with `invalid_cache_format` only when the merged entry
    /// cannot be held (never for a removal).
    pub fn modify_entry(
        &self,
        ct: CredentialType,
        old: &CacheEntry,
        new: Option<&CacheEntry>,
    ) -> Result<(), IdFlowError> {
        let key = key_of(ct, old);
        let merged = new.filter(|n| !n.is_empty()).map(|n| {
            let mut m = old.clone();
            m.extend(n.iter().map(|(k, v)| (k.clone(), v.clone())));
            m
        });
        let same_key = merged.as_ref().is_some_and(|m| key_of(ct, m) == key);
        let mut s = self.write();
        macro_rules! apply {
            ($sec:ident, $ty:ty) => {{
                let entry: Option<$ty> = merged.map(from_entry).transpose()?;
                if !same_key {
                    if let Some(id) = s.$sec.id_of(&key) {
                        s.remove::<$ty>(id);
                    }
                }
                if let Some(e) = entry {
                    s.put(e);
                }
            }};
        }
        match ct {
            CredentialType::AccessToken => apply!(at, AtEntry),
            CredentialType::RefreshToken => apply!(rt, RtEntry),
            CredentialType::IdToken => apply!(idt, IdtEntry),
            CredentialType::Account => apply!(acct, AcctEntry),
            CredentialType::AppMetadata => apply!(meta, MetaEntry),
        }
        drop(s);
        self.mark_changed();
        Ok(())
    }

    /// msal's `ConfidentialClientApplication.remove_tokens_for_client`: the
    /// app-only access tokens of this client (`home_account_id` null) in
    /// these environments leave the cache; user tokens stay. Returns how
    /// many were removed.
    pub fn remove_app_tokens(
        &self,
        client_id: &str,
        environments: &[&str],
        now: SystemTime,
    ) -> usize {
        let mut n = 0;
        for env in environments {
            let mut q = CacheEntry::new();
            q.insert("client_id".into(), Value::String(client_id.into()));
            q.insert("environment".into(), Value::String((*env).into()));
            q.insert("home_account_id".into(), Value::Null);
            for at in self.search_entries::<&str>(CredentialType::AccessToken, &[], Some(&q), now) {
                if self
                    .modify_entry(CredentialType::AccessToken, &at, None)
                    .is_ok()
                {
                    n += 1;
                }
            }
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::time::{Duration, UNIX_EPOCH};

    fn obj(v: Value) -> CacheEntry {
        match v {
            Value::Object(m) => m,
            _ => unreachable!("test entries are objects"),
        }
    }

    fn at(home: Value, client: &str, target: &str, expires_on: u64) -> CacheEntry {
        obj(json!({
            "credential_type": "AccessToken", "secret": format!("at-{client}-{target}-{expires_on}"),
            "home_account_id": home, "environment": "login.example.com", "client_id": client,
            "realm": "t1", "target": target, "token_type": "Bearer",
            "cached_at": "100", "expires_on": expires_on.to_string(),
            "extended_expires_on": expires_on.to_string(),
        }))
    }

    fn at_time(s: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(s)
    }

    fn put(c: &TokenCache, ct: CredentialType, e: &CacheEntry) {
        c.modify_entry(ct, e, Some(e)).unwrap();
    }

    fn q(v: Value) -> CacheEntry {
        obj(v)
    }

    #[test]
    fn search_answers_msal_rule_through_the_account_index() {
        let c = TokenCache::new();
        let at_a = at(json!("u.t"), "c1", "a b", 5000);
        let at_b = at(json!("u.t"), "c1", "a", 5000);
        let at_other = at(json!("v.t"), "c1", "a b", 5000);
        let app = at(Value::Null, "c1", "a b", 5000);
        for e in [&at_a, &at_b, &at_other, &app] {
            put(&c, CredentialType::AccessToken, e);
        }
        let query = q(json!({"home_account_id": "u.t", "environment": "LOGIN.example.com"}));
        let found = c.search_entries(
            CredentialType::AccessToken,
            &["b"],
            Some(&query),
            at_time(1000),
        );
        assert_eq!(found, vec![at_a.clone()]);
        let found = c.search_entries::<&str>(
            CredentialType::AccessToken,
            &[],
            Some(&query),
            at_time(1000),
        );
        assert_eq!(found.len(), 2);
        // Scopes are compared as msal compares them: exact strings.
        let found = c.search_entries(
            CredentialType::AccessToken,
            &["B"],
            Some(&query),
            at_time(1000),
        );
        assert!(found.is_empty());
        // A null in the query matches only an entry holding that null.
        let apps = q(json!({"home_account_id": null, "client_id": "c1"}));
        let found =
            c.search_entries::<&str>(CredentialType::AccessToken, &[], Some(&apps), at_time(1000));
        assert_eq!(found, vec![app]);
        // A member the entries lack matches nothing.
        let absent = q(json!({"key_id": null}));
        assert!(c
            .search_entries::<&str>(
                CredentialType::AccessToken,
                &[],
                Some(&absent),
                at_time(1000)
            )
            .is_empty());
    }

    #[test]
    fn an_access_token_search_drops_every_token_expired_before_now() {
        let c = TokenCache::new();
        let old = at(json!("u.t"), "c1", "a", 999);
        let edge = at(json!("v.t"), "c1", "a", 1000);
        let fresh = at(json!("u.t"), "c1", "b", 5000);
        for e in [&old, &edge, &fresh] {
            put(&c, CredentialType::AccessToken, e);
        }
        c.set_state_changed(false);
        // A search naming another account still drops the expired token (msal walks them all).
        let query = q(json!({"home_account_id": "w.t", "environment": "login.example.com"}));
        assert!(c
            .search_entries::<&str>(
                CredentialType::AccessToken,
                &[],
                Some(&query),
                at_time(1000)
            )
            .is_empty());
        assert_eq!(
            c.counts().access_tokens,
            2,
            "expired at 999 < 1000 dropped, 1000 kept"
        );
        assert!(c.has_state_changed());
    }

    #[test]
    fn the_exact_key_comes_first_and_ext_cache_keys_stay_apart() {
        let c = TokenCache::new();
        let mut ext = at(Value::Null, "c1", "a", 5000);
        ext.insert("ext_cache_key".into(), json!("k1"));
        let plain = at(Value::Null, "c1", "a", 5000);
        put(&c, CredentialType::AccessToken, &ext);
        put(&c, CredentialType::AccessToken, &plain);
        assert_eq!(c.counts().access_tokens, 2, "atext keys differ");
        let query = q(
            json!({"home_account_id": null, "environment": "login.example.com",
                             "client_id": "c1", "realm": "t1"}),
        );
        let found = c.search_entries(
            CredentialType::AccessToken,
            &["a"],
            Some(&query),
            at_time(1000),
        );
        assert_eq!(found, vec![plain]);
        let mut with_ext = query.clone();
        with_ext.insert("ext_cache_key".into(), json!("k1"));
        let found = c.search_entries(
            CredentialType::AccessToken,
            &["a"],
            Some(&with_ext),
            at_time(1000),
        );
        assert_eq!(found, vec![ext]);
    }

    #[test]
    fn modify_updates_removes_and_indexes_follow() {
        let c = TokenCache::new();
        let rt = obj(json!({
            "credential_type": "RefreshToken", "secret": "rt1", "home_account_id": "u.t",
            "environment": "login.example.com", "client_id": "c1", "target": "a",
            "last_modification_time": "100",
        }));
        put(&c, CredentialType::RefreshToken, &rt);
        let update = q(json!({"secret": "rt2", "last_modification_time": "200"}));
        c.modify_entry(CredentialType::RefreshToken, &rt, Some(&update))
            .unwrap();
        let query = q(
            json!({"home_account_id": "u.t", "environment": "login.example.com",
                             "client_id": "c1"}),
        );
        let found =
            c.search_entries::<&str>(CredentialType::RefreshToken, &[], Some(&query), at_time(0));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0]["secret"], json!("rt2"));
        assert_eq!(found[0]["last_modification_time"], json!("200"));
        c.modify_entry(CredentialType::RefreshToken, &found[0], None)
            .unwrap();
        assert!(c
            .search_entries::<&str>(CredentialType::RefreshToken, &[], Some(&query), at_time(0))
            .is_empty());
        // Removing what is not there is no error (msal pops with a default).
        c.modify_entry(CredentialType::RefreshToken, &rt, None)
            .unwrap();
        assert_eq!(CredentialType::parse("Nope"), None);
    }

    #[test]
    fn remove_app_tokens_leaves_user_tokens_and_other_clients() {
        let c = TokenCache::new();
        put(
            &c,
            CredentialType::AccessToken,
            &at(Value::Null, "c1", "a", 5000),
        );
        put(
            &c,
            CredentialType::AccessToken,
            &at(Value::Null, "c1", "b", 5000),
        );
        put(
            &c,
            CredentialType::AccessToken,
            &at(Value::Null, "c2", "a", 5000),
        );
        put(
            &c,
            CredentialType::AccessToken,
            &at(json!("u.t"), "c1", "a", 5000),
        );
        let n = c.remove_app_tokens(
            "c1",
            &["login.example.com", "other.example.com"],
            at_time(1000),
        );
        assert_eq!(n, 2);
        assert_eq!(c.counts().access_tokens, 2);
    }

    #[test]
    fn accounts_and_app_metadata_through_their_indexes() {
        let c = TokenCache::new();
        let acct = obj(
            json!({"home_account_id": "u.t", "environment": "login.example.com",
                              "realm": "t1", "local_account_id": "u", "username": "Ann@Example.com",
                              "authority_type": "MSSTS"}),
        );
        put(&c, CredentialType::Account, &acct);
        let meta =
            obj(json!({"client_id": "c1", "environment": "login.example.com", "family_id": "1"}));
        put(&c, CredentialType::AppMetadata, &meta);
        let by_user = q(json!({"environment": "login.example.com", "username": "Ann@Example.com"}));
        assert_eq!(
            c.search_entries::<&str>(CredentialType::Account, &[], Some(&by_user), at_time(0)),
            vec![acct]
        );
        let other_case =
            q(json!({"environment": "login.example.com", "username": "ann@example.com"}));
        assert!(c
            .search_entries::<&str>(CredentialType::Account, &[], Some(&other_case), at_time(0))
            .is_empty());
        let app = q(json!({"environment": "login.example.com", "client_id": "c1"}));
        assert_eq!(
            c.search_entries::<&str>(CredentialType::AppMetadata, &[], Some(&app), at_time(0)),
            vec![meta]
        );
    }
}
