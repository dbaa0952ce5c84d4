//! The Python-only fast paths: msal Python's dicts built here as JSON in one
//! crossing, and prepared cache lookups ([`CachedTokenProbe`]) whose hit
//! crosses the boundary as one integer. Python pays more per FFI string than
//! a cache lookup costs; Swift and Kotlin use the typed exports instead.

use crate::cache::TokenCache;
use crate::clients::{ConfidentialClientApplication, PublicClientApplication};
use crate::convert::unix;
use crate::guard::guard;
use crate::types::AuthError;
use idflow::error::IdFlowError;
use std::sync::Arc;

#[uniffi::export]
impl TokenCache {
    /// `deserialize` from the JSON's UTF-8 bytes, read in place: a large
    /// cache is not copied on its way in. Bytes that are not UTF-8 are
    /// rejected like bad JSON.
    pub fn deserialize_utf8(&self, state: &[u8]) -> Result<(), AuthError> {
        guard(|| Ok(self.core().deserialize_utf8(state)?))
    }
}

#[uniffi::export]
impl ConfidentialClientApplication {
    /// The cached app-only token as msal Python's dict (JSON), or nothing
    /// when `acquire_token_for_client` would have to send a request. Never
    /// touches the network: one synchronous call for the common case.
    pub fn cached_token_for_client_json(
        &self,
        scopes: Vec<String>,
    ) -> Result<Option<String>, AuthError> {
        guard(|| hit_json(self.core().cached_token_for_client(&scopes)))
    }

    /// A prepared [`Self::cached_token_for_client_json`] for these scopes.
    pub fn client_probe(&self, scopes: Vec<String>) -> Arc<CachedTokenProbe> {
        let app = self.core().clone();
        CachedTokenProbe::new(Box::new(move || app.cached_token_for_client(&scopes)))
    }
}

/// The fast paths both kinds of app offer (uniffi objects cannot share an
/// impl, so one macro writes them onto each).
macro_rules! account_fast_paths {
    ($app:ty) => {
        #[uniffi::export]
        impl $app {
            /// The cached token `acquire_token_silent` would return, as msal
            /// Python's dict (JSON); nothing when it would need the network.
            pub fn cached_token_silent_json(
                &self,
                scopes: Vec<String>,
                home_account_id: String,
            ) -> Result<Option<String>, AuthError> {
                guard(|| hit_json(self.core().cached_token(&scopes, &home_account_id)))
            }

            /// A prepared [`Self::cached_token_silent_json`] for these scopes
            /// and account, for callers that repeat the same lookup.
            pub fn silent_probe(
                &self,
                scopes: Vec<String>,
                home_account_id: String,
            ) -> Arc<CachedTokenProbe> {
                let app = self.core().clone();
                CachedTokenProbe::new(Box::new(move || {
                    app.cached_token(&scopes, &home_account_id)
                }))
            }

            /// The values of msal Python's account dicts, six per account in
            /// the dicts' order (home_account_id, environment, username,
            /// authority_type, local_account_id, realm), joined by U+001F:
            /// Python builds the dicts from one `str.split`, faster than
            /// parsing the JSON of [`Self::get_accounts_json`]. Nothing when
            /// a value holds U+001F itself (then the JSON).
            pub fn get_accounts_fields(
                &self,
                username: Option<String>,
            ) -> Result<Option<String>, AuthError> {
                guard(|| {
                    let mut fields = AccountFields::default();
                    self.core()
                        .for_each_account(username.as_deref(), |a| fields.push(a))?;
                    Ok(fields.finish())
                })
            }

            /// What changed in the account list since `cursor` last
            /// answered (see `get_accounts_update`), as [`AccountFields`]
            /// values: `W` and every account's six values, or `S` and the
            /// steps — `-i` removes the account at index i, `+i` and six
            /// values insert one there — each token joined by U+001F.
            /// Nothing when a value holds U+001F (the cursor then starts
            /// over: read the list whole another way).
            pub fn get_accounts_steps(
                &self,
                cursor: Arc<crate::packed::AccountsCursor>,
            ) -> Result<Option<String>, AuthError> {
                guard(|| {
                    let mut steps = StepFields::default();
                    cursor.update(|view| {
                        let r = self
                            .core()
                            .update_accounts_view(view, |step| steps.push(step));
                        if steps.fields.unclean {
                            *view = idflow::AccountsView::default();
                        }
                        r
                    })?;
                    Ok(steps.finish())
                })
            }

            /// The accounts as msal Python's account dicts (a JSON list).
            pub fn get_accounts_json(&self, username: Option<String>) -> Result<String, AuthError> {
                guard(|| {
                    let mut json = AccountsJson::default();
                    self.core()
                        .for_each_account(username.as_deref(), |a| json.push(a))?;
                    Ok(json.finish())
                })
            }

            /// A number that changes whenever the cache may have changed (a
            /// changed cache file is re-read first): the account list read
            /// after it is still current while it stays the same.
            pub fn cache_generation(&self) -> Result<u64, AuthError> {
                guard(|| Ok(self.core().cache_generation()?))
            }

            /// A number that changes whenever the account list may have
            /// changed (a changed cache file is re-read first), and not at a
            /// token refresh: the list read after it is still current while
            /// it stays the same.
            pub fn accounts_generation(&self) -> Result<u64, AuthError> {
                guard(|| Ok(self.core().accounts_generation()?))
            }
        }
    };
}

account_fast_paths!(PublicClientApplication);
account_fast_paths!(ConfidentialClientApplication);

/// msal Python's `authority_type` of an account in this realm.
fn authority_type(realm: &str) -> &'static str {
    if realm.eq_ignore_ascii_case("adfs") {
        "ADFS"
    } else {
        "MSSTS"
    }
}

/// The separator of [`AccountFields`]' values.
const UNIT: char = '\u{1f}';

/// The values of msal Python's account dicts, joined by [`UNIT`]; `None`
/// once a value holds it. No accounts: the empty text (an account's values
/// never are: its `authority_type` is never empty).
#[derive(Default)]
pub(crate) struct AccountFields {
    out: String,
    started: bool,
    unclean: bool,
}

impl AccountFields {
    pub(crate) fn push(&mut self, a: idflow::AccountRef<'_>) {
        let values = [
            a.home_account_id,
            a.environment,
            a.username,
            authority_type(a.realm),
            a.local_account_id,
            a.realm,
        ];
        for v in values {
            if self.unclean || v.contains(UNIT) {
                self.unclean = true;
                return;
            }
            if self.started {
                self.out.push(UNIT);
            }
            self.started = true;
            self.out.push_str(v);
        }
    }

    /// Values that follow `tag` (not a value itself: no separator after it).
    fn tagged(tag: char) -> Self {
        AccountFields {
            out: tag.to_string(),
            ..AccountFields::default()
        }
    }

    /// A value of the caller's own (a step's operation) among the accounts'.
    pub(crate) fn push_token(&mut self, token: &str) {
        if self.started {
            self.out.push(UNIT);
        }
        self.started = true;
        self.out.push_str(token);
    }

    pub(crate) fn finish(self) -> Option<String> {
        (!self.unclean).then_some(self.out)
    }
}

/// An account list's update as [`AccountFields`] values (see
/// `get_accounts_steps`).
pub(crate) struct StepFields {
    /// Its text begins with the tag, `S` or `W` (written first: a whole
    /// list's megabytes are not copied behind it afterwards).
    fields: AccountFields,
    whole: bool,
}

impl Default for StepFields {
    fn default() -> Self {
        StepFields {
            fields: AccountFields::tagged('S'),
            whole: false,
        }
    }
}

impl StepFields {
    pub(crate) fn push(&mut self, step: idflow::ViewStep<'_>) {
        use idflow::ViewStep;
        match step {
            ViewStep::Reset => {
                self.whole = true;
                self.fields = AccountFields::tagged('W');
            }
            ViewStep::Insert(_, a) if self.whole => self.fields.push(a),
            ViewStep::Insert(at, a) => {
                self.fields.push_token(&format!("+{at}"));
                self.fields.push(a);
            }
            ViewStep::Remove(at) => self.fields.push_token(&format!("-{at}")),
        }
    }

    pub(crate) fn finish(self) -> Option<String> {
        self.fields.finish()
    }
}

/// msal Python's account dicts (`get_accounts`), as one compact JSON list,
/// written straight into one buffer (no intermediate JSON values: this runs
/// once per account of a possibly large cache).
pub(crate) struct AccountsJson {
    out: Vec<u8>,
}

impl Default for AccountsJson {
    fn default() -> Self {
        AccountsJson { out: vec![b'['] }
    }
}

impl AccountsJson {
    pub(crate) fn push(&mut self, a: idflow::AccountRef<'_>) {
        fn field(out: &mut Vec<u8>, name: &str, value: &str) {
            out.extend_from_slice(name.as_bytes());
            // Writing a str into a Vec cannot fail.
            let _ = serde_json::to_writer(&mut *out, value);
        }
        let out = &mut self.out;
        if out.len() > 1 {
            out.push(b',');
        }
        field(out, "{\"home_account_id\":", a.home_account_id);
        field(out, ",\"environment\":", a.environment);
        field(out, ",\"username\":", a.username);
        field(out, ",\"authority_type\":", authority_type(a.realm));
        field(out, ",\"local_account_id\":", a.local_account_id);
        field(out, ",\"realm\":", a.realm);
        out.push(b'}');
    }

    pub(crate) fn finish(mut self) -> String {
        self.out.push(b']');
        String::from_utf8(self.out).unwrap_or_default()
    }
}

/// msal Python's dict for a cache hit, as JSON (the one-crossing hot path).
pub(crate) fn hit_json(
    hit: Result<Option<idflow::AuthenticationResult>, IdFlowError>,
) -> Result<Option<String>, AuthError> {
    match hit {
        Ok(Some(r)) => {
            let d = idflow::idioms::python_token_result(&r, std::time::SystemTime::now());
            Ok(Some(serde_json::Value::Object(d).to_string()))
        }
        Ok(None) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

type Lookup = dyn Fn() -> Result<Option<idflow::AuthenticationResult>, IdFlowError> + Send + Sync;

/// One prepared cache lookup (an account's or the app's token for fixed
/// scopes): the hot path of language layers whose every FFI string costs
/// more than the lookup itself (Python). [`CachedTokenProbe::probe`] takes
/// and returns only integers, so a hit crosses the boundary once with no
/// buffer; the caller keeps the token it got from
/// [`CachedTokenProbe::fetch_json`] and reuses it while `probe` says it is
/// still the cached one.
#[derive(uniffi::Object)]
pub struct CachedTokenProbe {
    pub(crate) lookup: Box<Lookup>,
    /// The token `fetch_json` (or `fetch`) last returned (its secret and expiry).
    last: std::sync::Mutex<Option<(idflow::secret::AccessToken, i64)>>,
}

impl std::fmt::Debug for CachedTokenProbe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CachedTokenProbe")
    }
}

/// `probe`: nothing usable is cached (the caller goes to the network path).
pub const PROBE_MISS: i64 = -1;
/// `probe`: a usable token is cached, but not the one `fetch_json` returned last.
pub const PROBE_CHANGED: i64 = -2;

impl CachedTokenProbe {
    pub(crate) fn new(lookup: Box<Lookup>) -> Arc<Self> {
        Arc::new(CachedTokenProbe {
            lookup,
            last: std::sync::Mutex::new(None),
        })
    }

    pub(crate) fn last(
        &self,
    ) -> std::sync::MutexGuard<'_, Option<(idflow::secret::AccessToken, i64)>> {
        self.last.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[uniffi::export]
impl CachedTokenProbe {
    /// The cached token's `expires_on` (Unix seconds) when it is the one
    /// `fetch_json` returned last and still usable; `-2` when another usable
    /// token is cached now (call `fetch_json`); `-1` when none is (or the
    /// lookup failed: the full call then reports why).
    pub fn probe(&self) -> i64 {
        let hit = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (self.lookup)())) {
            Ok(Ok(Some(hit))) => hit,
            _ => return PROBE_MISS,
        };
        let expires_on = unix(hit.expires_on);
        match &*self.last() {
            Some((secret, exp))
                if *exp == expires_on && secret.expose() == hit.access_token.expose() =>
            {
                expires_on
            }
            _ => PROBE_CHANGED,
        }
    }

    /// The cached token as msal Python's dict (JSON), remembered for
    /// `probe`; nothing when none is usable.
    pub fn fetch_json(&self) -> Result<Option<String>, AuthError> {
        guard(|| {
            let hit = (self.lookup)()?;
            let Some(hit) = hit else {
                *self.last() = None;
                return Ok(None);
            };
            *self.last() = Some((hit.access_token.clone(), unix(hit.expires_on)));
            hit_json(Ok(Some(hit)))
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::{AccountsJson, StepFields};
    use idflow::ViewStep;

    /// Steps as `S` and U+001F-joined tokens, a whole list as `W` and the
    /// values; a value holding U+001F gives nothing.
    #[test]
    fn steps_as_values() {
        let a = idflow::Account {
            home_account_id: "u.t".into(),
            environment: "e".into(),
            realm: "t".into(),
            username: "ann".into(),
            local_account_id: "u".into(),
        };
        let mut steps = StepFields::default();
        steps.push(ViewStep::Remove(4));
        steps.push(ViewStep::Insert(4, a.borrowed()));
        assert_eq!(
            steps.finish().unwrap(),
            "S-4\u{1f}+4\u{1f}u.t\u{1f}e\u{1f}ann\u{1f}MSSTS\u{1f}u\u{1f}t"
        );
        assert_eq!(StepFields::default().finish().unwrap(), "S");
        let mut whole = StepFields::default();
        whole.push(ViewStep::Reset);
        assert_eq!(whole.finish().unwrap(), "W");
        let mut whole = StepFields::default();
        whole.push(ViewStep::Reset);
        whole.push(ViewStep::Insert(0, a.borrowed()));
        assert_eq!(
            whole.finish().unwrap(),
            "Wu.t\u{1f}e\u{1f}ann\u{1f}MSSTS\u{1f}u\u{1f}t"
        );
        let odd = idflow::Account {
            username: "a\u{1f}b".into(),
            ..a
        };
        let mut unclean = StepFields::default();
        unclean.push(ViewStep::Insert(0, odd.borrowed()));
        assert_eq!(unclean.finish(), None);
    }

    fn accounts_json(accounts: &[idflow::Account]) -> String {
        let mut json = AccountsJson::default();
        for a in accounts {
            json.push(a.borrowed());
        }
        json.finish()
    }

    #[test]
    fn accounts_json_is_msal_account_dicts() {
        let a = |home: &str, realm: &str, user: &str| idflow::Account {
            home_account_id: home.into(),
            environment: "login.example".into(),
            realm: realm.into(),
            username: user.into(),
            local_account_id: "oid".into(),
        };
        assert_eq!(accounts_json(&[]), "[]");
        let text = accounts_json(&[a("u.t", "t", "Ann \"Q\" \u{e9}"), a("v.adfs", "ADFS", "b")]);
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            v,
            serde_json::json!([
                {"home_account_id": "u.t", "environment": "login.example",
                 "username": "Ann \"Q\" \u{e9}", "authority_type": "MSSTS",
                 "local_account_id": "oid", "realm": "t"},
                {"home_account_id": "v.adfs", "environment": "login.example",
                 "username": "b", "authority_type": "ADFS",
                 "local_account_id": "oid", "realm": "ADFS"},
            ])
        );
    }
}
