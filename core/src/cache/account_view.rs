//! An account list kept up to date from the cache's changes instead of read
//! whole each time: what a language layer whose every string crossing costs
//! (Kotlin over JNA) holds between calls. Listing 100k accounts takes the
//! core ≈ 45 ms and crossing them as much again; after a sign-in the list
//! differs by one account, which is what [`TokenCache::update_accounts_view`]
//! reports.

use super::schema::AcctEntry;
use super::store::{AccountsMark, Store};
use super::{scopes, TokenCache};
use crate::protocol::token::AccountRef;

/// Past this many changed accounts the whole list is read again (each
/// change moves the rest of a list held in an array).
const MAX_CHANGES: usize = 1024;

/// The list [`TokenCache::for_each_account`] gave (without a username) for
/// one client, as a caller last received it: where the cache stood, and
/// each account's home account id (folded), in list order.
#[derive(Default)]
pub struct AccountsView {
    mark: Option<AccountsMark>,
    homes: Vec<Box<str>>,
}

/// The count only: home account ids identify people.
impl std::fmt::Debug for AccountsView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountsView")
            .field("accounts", &self.homes.len())
            .finish_non_exhaustive()
    }
}

/// One step that brings the caller's copy of the list up to date, applied
/// in order. The steps' indexes never decrease, so a caller can apply them
/// in one pass over its old list.
#[derive(Debug)]
pub enum ViewStep<'a> {
    /// Drop the old list: the accounts follow as insertions `0, 1, 2, …`.
    Reset,
    /// Remove the account at this index.
    Remove(usize),
    /// Insert this account at this index.
    Insert(usize, AccountRef<'a>),
}

impl AccountsView {
    /// The number of accounts in the list.
    pub fn len(&self) -> usize {
        self.homes.len()
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.homes.is_empty()
    }
}

/// What one client's account list reads from a store: its family (from its
/// app metadata; family `"1"` when it has none yet, which msal also tries
/// first), who holds its refresh tokens, and which record stands for each
/// home account.
pub(super) struct Lister<'a> {
    s: &'a Store,
    environment: &'a str,
    client_id: &'a str,
    family: Option<&'a str>,
}

impl<'a> Lister<'a> {
    pub(super) fn new(s: &'a Store, environment: &'a str, client_id: &'a str) -> Self {
        let family = match s.meta.of(environment, client_id) {
            Some(m) => m.family_id().filter(|f| !f.is_empty()),
            None => Some("1"),
        };
        Lister {
            s,
            environment,
            client_id,
            family,
        }
    }

    /// The accounts holding a refresh token of the client or its family
    /// (folded), sorted, each once.
    pub(super) fn homes(&self) -> Vec<std::borrow::Cow<'a, str>> {
        self.s
            .rt
            .homes(self.environment, self.client_id, self.family)
    }

    /// Whether `home` (folded) holds a refresh token of the client or family.
    pub(super) fn listed(&self, home: &str) -> bool {
        self.s
            .rt
            .home_has(self.environment, self.client_id, self.family, home)
    }

    /// The record standing for `home`: the home tenant's when there are
    /// several, else the first stored (the lowest slot: a record replaced by
    /// the same one keeps its slot, so the pick, like the accounts
    /// generation, stays).
    pub(super) fn pick(&self, home: &str) -> Option<&'a AcctEntry> {
        let utid = home.split_once('.').map(|(_, t)| t);
        let mut first = None;
        for id in self.s.acct.of_home(self.environment, home) {
            let Some(a) = self.s.acct.get(id) else {
                continue;
            };
            if utid.is_some_and(|t| scopes::folded_eq(a.realm().unwrap_or(""), t)) {
                return Some(a);
            }
            if first.is_none_or(|(at, _)| id < at) {
                first = Some((id, a));
            }
        }
        first.map(|(_, a)| a)
    }
}

/// The fields a list shows of a record.
pub(super) fn account_ref(rec: &AcctEntry) -> AccountRef<'_> {
    AccountRef {
        home_account_id: rec.home_account_id().unwrap_or_default(),
        environment: rec.environment().unwrap_or_default(),
        realm: rec.realm().unwrap_or_default(),
        username: rec.username().unwrap_or_default(),
        local_account_id: rec.local_account_id().unwrap_or_default(),
    }
}

impl TokenCache {
    /// Brings `view` — the account list of `client_id` in `environment` as
    /// the caller holds it, every account (no username filter) — up to
    /// date, handing `f` the steps that do the same to the caller's copy:
    /// none when nothing changed; the changed accounts only when the cache
    /// can tell which changed since the view was taken; else [`ViewStep::Reset`]
    /// and the whole list, as [`Self::for_each_account`] orders it. One read
    /// lock for it all; `f` runs under it and must not call into this cache.
    pub fn update_accounts_view(
        &self,
        environment: &str,
        client_id: &str,
        view: &mut AccountsView,
        mut f: impl FnMut(ViewStep<'_>),
    ) {
        let s = self.read();
        let mark = s.accounts_mark();
        let lister = Lister::new(&s, environment, client_id);
        let mut changed = Vec::new();
        let known = view.mark.as_ref().is_some_and(|old| {
            *old == mark
                || (s.account_changes_since(old, &mut changed) && changed.len() <= MAX_CHANGES)
        });
        view.mark = Some(mark);
        if !known {
            f(ViewStep::Reset);
            view.homes.clear();
            for home in lister.homes() {
                if let Some(rec) = lister.pick(&home) {
                    f(ViewStep::Insert(view.homes.len(), account_ref(rec)));
                    view.homes.push(home.into());
                }
            }
            return;
        }
        let mut changed: Vec<_> = changed.into_iter().map(scopes::fold).collect();
        changed.sort_unstable();
        changed.dedup();
        for home in changed {
            let at = view.homes.binary_search_by(|h| (**h).cmp(&*home));
            if let Ok(i) = at {
                view.homes.remove(i);
                f(ViewStep::Remove(i));
            }
            let rec = lister.listed(&home).then(|| lister.pick(&home)).flatten();
            if let Some(rec) = rec {
                let i = at.unwrap_or_else(|i| i);
                view.homes.insert(i, home.into());
                f(ViewStep::Insert(i, account_ref(rec)));
            }
        }
    }
}
