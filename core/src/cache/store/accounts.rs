//! Account records, by account (environment, home account id) and by
//! username.

use super::index::{list, list_get, Id, Lists, Op};
use super::section::{Kind, Section};
use crate::cache::keys;
use crate::cache::schema::AcctEntry;

/// The account indexes.
#[derive(Default)]
pub(crate) struct AcctIndex {
    /// (environment, home) → account records (one per realm).
    home: Lists,
    /// (environment, username) → account records, case-folded: a username
    /// filter reads only the records of that username.
    user: Lists,
}

impl Kind for AcctEntry {
    type Index = AcctIndex;

    fn key(&self) -> String {
        keys::account(
            self.home_account_id().unwrap_or(""),
            self.environment().unwrap_or(""),
            self.realm().unwrap_or(""),
        )
    }

    fn update(idx: &mut AcctIndex, id: Id, e: &AcctEntry, op: Op) {
        let env = e.environment().unwrap_or("");
        list(
            op,
            &mut idx.home,
            &[env, e.home_account_id().unwrap_or("")],
            id,
        );
        list(op, &mut idx.user, &[env, e.username().unwrap_or("")], id);
    }
}

impl Section<AcctEntry> {
    /// Account records of an account in an environment (every realm).
    pub fn of_home(&self, env: &str, home: &str) -> &[Id] {
        list_get(&self.idx.home, &[env, home])
    }

    /// Account records of a username (case-insensitive) in an environment.
    pub fn of_user(&self, env: &str, username: &str) -> &[Id] {
        list_get(&self.idx.user, &[env, username])
    }
}
