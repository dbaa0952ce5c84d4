//! Id tokens, by account (environment, home account id).

use super::index::{field_is, Hashed, Id, IdList, Op};
use super::section::{Kind, Section};
use crate::cache::keys;
use crate::cache::schema::IdtEntry;

/// The id-token index.
#[derive(Default)]
pub(crate) struct IdtIndex {
    /// (environment, home) → id tokens.
    /// (environment, home) → the account's id tokens.
    home: Hashed<IdList>,
}

impl Kind for IdtEntry {
    type Index = IdtIndex;

    fn write_key(&self, out: &mut impl keys::KeySink) {
        keys::id_token_into(
            out,
            self.home_account_id().unwrap_or(""),
            self.environment().unwrap_or(""),
            self.client_id().unwrap_or(""),
            self.realm().unwrap_or(""),
        );
    }

    fn credential(&self) -> Option<&str> {
        self.secret()
    }

    fn update(idx: &mut IdtIndex, id: Id, e: &IdtEntry, op: Op) {
        let parts = [
            e.environment().unwrap_or(""),
            e.home_account_id().unwrap_or(""),
        ];
        idx.home.update(op, &parts, id);
    }
}

impl Section<IdtEntry> {
    /// Id tokens of an account in an environment (every client, every realm).
    /// The account's id tokens in an environment.
    pub fn of_home(&self, env: &str, home: &str) -> Vec<Id> {
        self.checked(self.idx.home.ids(&[env, home]), |e| {
            field_is(e.environment(), env) && field_is(e.home_account_id(), home)
        })
        .map(|(id, _)| id)
        .collect()
    }
}
