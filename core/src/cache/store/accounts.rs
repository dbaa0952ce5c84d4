//! Account records, by account (environment, home account id) and by
//! username.

use super::index::{field_is, Hashed, Id, IdList, Op};
use super::section::{Kind, Section};
use crate::cache::keys;
use crate::cache::schema::AcctEntry;

/// The account indexes.
#[derive(Default)]
pub(crate) struct AcctIndex {
    /// (environment, home) → account records (one per realm).
    home: Hashed<IdList>,
    /// (environment, username) → account records, case-folded: a username
    /// filter reads only the records of that username.
    user: Hashed<IdList>,
}

impl Kind for AcctEntry {
    type Index = AcctIndex;

    /// An account list reads the record's strings only.
    fn same_listing(&self, new: &Self) -> bool {
        self.same_strings(new)
    }

    const LISTED: bool = true;

    fn listing_home(&self) -> Option<&str> {
        Some(self.home_account_id().unwrap_or(""))
    }

    fn write_key(&self, out: &mut impl keys::KeySink) {
        keys::account_into(
            out,
            self.home_account_id().unwrap_or(""),
            self.environment().unwrap_or(""),
            self.realm().unwrap_or(""),
        );
    }

    fn update(idx: &mut AcctIndex, id: Id, e: &AcctEntry, op: Op) {
        let env = e.environment().unwrap_or("");
        idx.home
            .update(op, &[env, e.home_account_id().unwrap_or("")], id);
        idx.user.update(op, &[env, e.username().unwrap_or("")], id);
    }
}

impl Section<AcctEntry> {
    /// Account records of an account in an environment (every realm).
    pub fn of_home(&self, env: &str, home: &str) -> Vec<Id> {
        self.matching(&self.idx.home, env, home, AcctEntry::home_account_id)
    }

    /// Account records of a username (case-insensitive) in an environment.
    pub fn of_user(&self, env: &str, username: &str) -> Vec<Id> {
        self.matching(&self.idx.user, env, username, AcctEntry::username)
    }

    /// The records filed under (env, value) whose own fields say so.
    fn matching(
        &self,
        index: &Hashed<IdList>,
        env: &str,
        value: &str,
        field: fn(&AcctEntry) -> Option<&str>,
    ) -> Vec<Id> {
        self.checked(index.ids(&[env, value]), |e| {
            field_is(e.environment(), env) && field_is(field(e), value)
        })
        .map(|(id, _)| id)
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::schema::AcctFields;

    /// A record filed under another account's hash is left out by readers.
    #[test]
    fn readers_check_each_record_against_the_query() {
        let rec = |home, user| {
            AcctEntry::new(AcctFields {
                home_account_id: Some(home),
                environment: Some("login.example"),
                realm: Some("t"),
                username: Some(user),
                ..AcctFields::default()
            })
        };
        let mut s = Section::<AcctEntry>::default();
        let a = s.insert("a", rec("a.t", "Ann@x"));
        let b = s.insert("b", rec("b.t", "bob@x"));
        s.idx.home.update(Op::Add, &["login.example", "a.t"], b);
        s.idx.user.update(Op::Add, &["login.example", "ann@x"], b);
        assert_eq!(s.of_home("login.example", "A.T"), vec![a]);
        assert_eq!(s.of_user("LOGIN.example", "ann@X"), vec![a]);
        assert_eq!(s.of_user("login.example", "bob@x"), vec![b]);
    }
}
