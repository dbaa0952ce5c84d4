//! The token cache (first cut: public API with simple bodies; indexes follow).

use crate::error::{IdFlowError, LocalCode};
use crate::secret::{AccessToken, IdToken, RefreshToken};
use crate::token::{Account, AuthenticationResult};
use serde_json::{Map, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Limits of a [`TokenCache`].
#[derive(Clone, Debug, Default)]
pub struct CacheOptions {
    /// At most this many access tokens; `None` = unbounded.
    pub max_access_tokens: Option<usize>,
}

/// Everything one token answer writes into the cache.
#[derive(Debug)]
pub struct SaveRequest<'a> {
    pub client_id: &'a str,
    pub environment: &'a str,
    pub realm: &'a str,
    pub requested_scopes: &'a [String],
    pub result: &'a AuthenticationResult,
    pub account_source: Option<&'a str>,
    pub authority_type: &'a str,
    pub now: SystemTime,
}

/// Which access token a silent call wants.
#[derive(Clone, Copy, Debug)]
pub struct AccessTokenQuery<'a> {
    pub client_id: &'a str,
    pub environment: &'a str,
    pub realm: &'a str,
    pub home_account_id: Option<&'a str>,
    pub scopes: &'a [String],
}

/// An access token found in the cache.
#[derive(Clone, Debug)]
pub struct CachedAccessToken {
    pub secret: AccessToken,
    pub token_type: String,
    pub scopes: Vec<String>,
    pub expires_on: SystemTime,
    pub ext_expires_on: Option<SystemTime>,
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
    pub family_id: Option<&'a str>,
}

/// A refresh token found in the cache.
#[derive(Clone, Debug)]
pub struct CachedRefreshToken {
    pub secret: RefreshToken,
    pub family_id: Option<String>,
    pub client_id: String,
}

/// What the cache knows about a client app.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppMetadata {
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

/// Where a cache is persisted.
pub trait CacheStorage: Send + Sync + std::fmt::Debug {
    /// The last saved bytes, or None when nothing was saved yet.
    fn load(&self) -> Result<Option<Vec<u8>>, String>;
    /// Replaces the stored bytes atomically.
    fn save(&self, data: &[u8]) -> Result<(), String>;
}

/// The token cache. Clones share one store.
#[derive(Clone, Debug, Default)]
pub struct TokenCache {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    doc: RwLock<Map<String, Value>>,
    changed: AtomicBool,
    options: CacheOptions,
    storage: RwLock<Option<Arc<dyn CacheStorage>>>,
}

fn secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
fn at_secs(s: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(s)
}
fn norm(scopes: &[String]) -> Vec<String> {
    let mut v: Vec<String> = scopes
        .iter()
        .map(|s| s.to_lowercase())
        .filter(|s| !matches!(s.as_str(), "openid" | "profile" | "offline_access"))
        .collect();
    v.sort();
    v.dedup();
    v
}
fn s<'a>(e: &'a Value, k: &str) -> &'a str {
    e.get(k).and_then(Value::as_str).unwrap_or("")
}
fn ts(e: &Value, k: &str) -> Option<u64> {
    e.get(k)?.as_str()?.parse().ok()
}

impl TokenCache {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_options(o: CacheOptions) -> Self {
        TokenCache {
            inner: Arc::new(Inner {
                options: o,
                ..Inner::default()
            }),
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Map<String, Value>> {
        self.inner.doc.read().unwrap_or_else(|p| p.into_inner())
    }
    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Map<String, Value>> {
        self.inner.changed.store(true, Ordering::Release);
        self.inner.doc.write().unwrap_or_else(|p| p.into_inner())
    }

    pub fn serialize(&self) -> String {
        self.inner.changed.store(false, Ordering::Release);
        serde_json::to_string(&*self.read()).unwrap_or_default()
    }

    pub fn deserialize(&self, json: &str) -> Result<(), IdFlowError> {
        let doc: Map<String, Value> = serde_json::from_str(json).map_err(|e| {
            IdFlowError::local(LocalCode::InvalidParameter, format!("token cache: {e}"))
        })?;
        *self.write() = doc;
        self.inner.changed.store(false, Ordering::Release);
        Ok(())
    }

    pub fn has_state_changed(&self) -> bool {
        self.inner.changed.load(Ordering::Acquire)
    }

    pub fn set_state_changed(&self, changed: bool) {
        self.inner.changed.store(changed, Ordering::Release);
    }

    pub fn save(&self, r: &SaveRequest<'_>) {
        let res = r.result;
        let env = r.environment.to_lowercase();
        let home = res.account.as_ref().map(|a| a.home_account_id.clone());
        let mut granted: Vec<String> = res.scopes.clone();
        granted.sort();
        let target = granted.join(" ");
        let now = secs(r.now).to_string();
        let h = home.clone().unwrap_or_default();
        let mut doc = self.write();
        let mut put = |section: &str, key: String, v: Value| {
            if let Value::Object(m) = doc
                .entry(section.to_owned())
                .or_insert_with(|| Value::Object(Map::new()))
            {
                m.insert(key, v);
            }
        };
        let mut at = serde_json::json!({
            "credential_type": "AccessToken", "secret": res.access_token.expose(),
            "home_account_id": home, "environment": env, "client_id": r.client_id,
            "target": target, "realm": r.realm, "token_type": res.token_type,
            "cached_at": now, "expires_on": secs(res.expires_on).to_string(),
            "extended_expires_on": secs(res.ext_expires_on.unwrap_or(res.expires_on)).to_string(),
        });
        if let (Some(ro), Value::Object(m)) = (res.refresh_on, &mut at) {
            m.insert("refresh_on".into(), secs(ro).to_string().into());
        }
        put(
            "AccessToken",
            format!("{h}-{env}-AccessToken-{}-{}-{target}", r.client_id, r.realm).to_lowercase(),
            at,
        );
        if let Some(a) = &res.account {
            let mut acct = serde_json::json!({
                "home_account_id": a.home_account_id, "environment": env, "realm": r.realm,
                "local_account_id": a.local_account_id, "username": a.username,
                "authority_type": r.authority_type,
            });
            if let (Some(src), Value::Object(m)) = (r.account_source, &mut acct) {
                m.insert("account_source".into(), src.into());
            }
            put(
                "Account",
                format!("{h}-{env}-{}", r.realm).to_lowercase(),
                acct,
            );
        }
        if let Some(idt) = &res.id_token {
            put(
                "IdToken",
                format!("{h}-{env}-IdToken-{}-{}-", r.client_id, r.realm).to_lowercase(),
                serde_json::json!({"credential_type": "IdToken", "secret": idt.expose(),
                    "home_account_id": home, "environment": env, "realm": r.realm,
                    "client_id": r.client_id}),
            );
        }
        if let Some(rt) = &res.refresh_token {
            let mut e = serde_json::json!({"credential_type": "RefreshToken", "secret": rt.expose(),
                "home_account_id": home, "environment": env, "client_id": r.client_id,
                "target": target, "last_modification_time": now});
            if let (Some(f), Value::Object(m)) = (&res.family_id, &mut e) {
                m.insert("family_id".into(), f.clone().into());
            }
            put(
                "RefreshToken",
                format!("{h}-{env}-RefreshToken-{}--{target}", r.client_id).to_lowercase(),
                e,
            );
        }
        let mut md = serde_json::json!({"client_id": r.client_id, "environment": env});
        if let (Some(f), Value::Object(m)) = (&res.family_id, &mut md) {
            m.insert("family_id".into(), f.clone().into());
        }
        put(
            "AppMetadata",
            format!("appmetadata-{env}-{}", r.client_id),
            md,
        );
    }

    fn section(&self, name: &str) -> Vec<(String, Value)> {
        match self.read().get(name) {
            Some(Value::Object(m)) => m.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            _ => Vec::new(),
        }
    }

    pub fn access_token(
        &self,
        q: &AccessTokenQuery<'_>,
        now: SystemTime,
    ) -> Option<CachedAccessToken> {
        let want = norm(q.scopes);
        let env = q.environment.to_lowercase();
        let n = secs(now);
        let mut expired = Vec::new();
        let mut found = None;
        for (k, e) in self.section("AccessToken") {
            if !s(&e, "client_id").eq_ignore_ascii_case(q.client_id)
                || s(&e, "environment") != env
                || !s(&e, "realm").eq_ignore_ascii_case(q.realm)
                || !s(&e, "home_account_id").eq_ignore_ascii_case(q.home_account_id.unwrap_or(""))
            {
                continue;
            }
            let exp = ts(&e, "expires_on").unwrap_or(0);
            if exp <= n {
                expired.push(k);
                continue;
            }
            let have = norm(
                &s(&e, "target")
                    .split(' ')
                    .map(str::to_owned)
                    .collect::<Vec<_>>(),
            );
            if !want.iter().all(|w| have.contains(w)) {
                continue;
            }
            found = Some(CachedAccessToken {
                secret: AccessToken::new(s(&e, "secret")),
                token_type: s(&e, "token_type").to_owned(),
                scopes: s(&e, "target")
                    .split_whitespace()
                    .map(str::to_owned)
                    .collect(),
                expires_on: at_secs(exp),
                ext_expires_on: ts(&e, "extended_expires_on").map(at_secs),
                refresh_on: ts(&e, "refresh_on").map(at_secs),
                cached_at: at_secs(ts(&e, "cached_at").unwrap_or(0)),
                home_account_id: e
                    .get("home_account_id")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                realm: s(&e, "realm").to_owned(),
            });
        }
        if !expired.is_empty() {
            let mut doc = self.write();
            if let Some(Value::Object(m)) = doc.get_mut("AccessToken") {
                for k in expired {
                    m.remove(&k);
                }
            }
        }
        found
    }

    pub fn refresh_token(&self, q: &RefreshTokenQuery<'_>) -> Option<CachedRefreshToken> {
        let env = q.environment.to_lowercase();
        self.section("RefreshToken")
            .into_iter()
            .filter(|(_, e)| {
                s(e, "home_account_id").eq_ignore_ascii_case(q.home_account_id)
                    && s(e, "environment") == env
                    && match q.family_id {
                        Some(f) => s(e, "family_id") == f,
                        None => s(e, "client_id").eq_ignore_ascii_case(q.client_id),
                    }
            })
            .max_by_key(|(_, e)| ts(e, "last_modification_time").unwrap_or(0))
            .map(|(_, e)| CachedRefreshToken {
                secret: RefreshToken::new(s(&e, "secret")),
                family_id: e
                    .get("family_id")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                client_id: s(&e, "client_id").to_owned(),
            })
    }

    pub fn id_token(
        &self,
        home_account_id: &str,
        environment: &str,
        realm: &str,
        client_id: &str,
    ) -> Option<IdToken> {
        let key =
            format!("{home_account_id}-{environment}-IdToken-{client_id}-{realm}-").to_lowercase();
        match self.read().get("IdToken") {
            Some(Value::Object(m)) => m.get(&key).map(|e| IdToken::new(s(e, "secret"))),
            _ => None,
        }
    }

    pub fn app_metadata(&self, environment: &str, client_id: &str) -> Option<AppMetadata> {
        let key = format!("appmetadata-{}-{client_id}", environment.to_lowercase());
        match self.read().get("AppMetadata") {
            Some(Value::Object(m)) => m.get(&key).map(|e| AppMetadata {
                family_id: e
                    .get("family_id")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            }),
            _ => None,
        }
    }

    pub fn set_app_family(&self, environment: &str, client_id: &str, family_id: Option<&str>) {
        let env = environment.to_lowercase();
        let mut md = Map::new();
        md.insert("client_id".into(), client_id.into());
        md.insert("environment".into(), env.clone().into());
        if let Some(f) = family_id {
            md.insert("family_id".into(), f.into());
        }
        let mut doc = self.write();
        if let Value::Object(m) = doc
            .entry("AppMetadata".to_owned())
            .or_insert_with(|| Value::Object(Map::new()))
        {
            m.insert(format!("appmetadata-{env}-{client_id}"), Value::Object(md));
        }
    }

    pub fn accounts(
        &self,
        environment: &str,
        client_id: &str,
        username: Option<&str>,
    ) -> Vec<Account> {
        let env = environment.to_lowercase();
        let family = self.app_metadata(&env, client_id).and_then(|m| m.family_id);
        let rts = self.section("RefreshToken");
        let mut out: Vec<Account> = Vec::new();
        for (_, a) in self.section("Account") {
            let home = s(&a, "home_account_id");
            if s(&a, "environment") != env || out.iter().any(|o| o.home_account_id == home) {
                continue;
            }
            if let Some(u) = username {
                if !s(&a, "username").eq_ignore_ascii_case(u) {
                    continue;
                }
            }
            let usable = rts.iter().any(|(_, r)| {
                s(r, "home_account_id") == home
                    && s(r, "environment") == env
                    && (s(r, "client_id") == client_id
                        || family.as_deref().is_some_and(|f| s(r, "family_id") == f))
            });
            if usable {
                out.push(Account {
                    home_account_id: home.to_owned(),
                    environment: env.clone(),
                    realm: s(&a, "realm").to_owned(),
                    username: s(&a, "username").to_owned(),
                    local_account_id: s(&a, "local_account_id").to_owned(),
                });
            }
        }
        out
    }

    pub fn remove_account(&self, account: &Account, client_id: &str) {
        let env = account.environment.to_lowercase();
        let home = account.home_account_id.as_str();
        let mut doc = self.write();
        for section in ["AccessToken", "RefreshToken", "IdToken", "Account"] {
            if let Some(Value::Object(m)) = doc.get_mut(section) {
                m.retain(|_, e| {
                    !(s(e, "home_account_id") == home
                        && s(e, "environment") == env
                        && (section != "RefreshToken" || s(e, "client_id") == client_id))
                });
            }
        }
    }

    pub fn remove_refresh_token(&self, q: &RefreshTokenQuery<'_>, secret: &RefreshToken) {
        let mut doc = self.write();
        if let Some(Value::Object(m)) = doc.get_mut("RefreshToken") {
            m.retain(|_, e| {
                !(s(e, "home_account_id") == q.home_account_id && s(e, "secret") == secret.expose())
            });
        }
    }

    pub fn counts(&self) -> CacheCounts {
        let doc = self.read();
        let n = |k: &str| match doc.get(k) {
            Some(Value::Object(m)) => m.len(),
            _ => 0,
        };
        CacheCounts {
            access_tokens: n("AccessToken"),
            refresh_tokens: n("RefreshToken"),
            id_tokens: n("IdToken"),
            accounts: n("Account"),
            app_metadata: n("AppMetadata"),
        }
    }

    /// Attaches persistent storage and merges what it holds into the cache.
    pub fn attach_storage(&self, storage: Arc<dyn CacheStorage>) -> Result<(), IdFlowError> {
        *self
            .inner
            .storage
            .write()
            .unwrap_or_else(|p| p.into_inner()) = Some(storage);
        self.reload().map(|_| ())
    }

    /// Loads the stored state (replacing the in-memory one). Returns whether it loaded anything.
    pub fn reload(&self) -> Result<bool, IdFlowError> {
        let storage = self
            .inner
            .storage
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let Some(st) = storage else { return Ok(false) };
        let bytes = st
            .load()
            .map_err(|e| IdFlowError::local(LocalCode::InternalError, e))?;
        match bytes {
            Some(b) => {
                self.deserialize(&String::from_utf8_lossy(&b))?;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Writes the cache to the attached storage when it changed.
    pub fn persist(&self) -> Result<(), IdFlowError> {
        let storage = self
            .inner
            .storage
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let Some(st) = storage else { return Ok(()) };
        if !self.has_state_changed() {
            return Ok(());
        }
        st.save(self.serialize().as_bytes())
            .map_err(|e| IdFlowError::local(LocalCode::InternalError, e))
    }
}
