//! Id tokens, by account (environment, home account id).

use super::index::{list, list_get, Id, Lists, Op};
use super::section::{Kind, Section};
use crate::cache::keys;
use crate::cache::schema::IdtEntry;

/// The id-token index.
#[derive(Default)]
pub(crate) struct IdtIndex {
    /// (environment, home) → id tokens.
    home: Lists,
}

impl Kind for IdtEntry {
    type Index = IdtIndex;

    fn key(&self) -> String {
        keys::id_token(
            self.home_account_id().unwrap_or(""),
            self.environment().unwrap_or(""),
            self.client_id().unwrap_or(""),
            self.realm().unwrap_or(""),
        )
    }

    fn credential(&self) -> Option<&str> {
        self.secret()
    }

    fn update(idx: &mut IdtIndex, id: Id, e: &IdtEntry, op: Op) {
        let parts = [
            e.environment().unwrap_or(""),
            e.home_account_id().unwrap_or(""),
        ];
        list(op, &mut idx.home, &parts, id);
    }
}

impl Section<IdtEntry> {
    /// Id tokens of an account in an environment (every client, every realm).
    pub fn of_home(&self, env: &str, home: &str) -> &[Id] {
        list_get(&self.idx.home, &[env, home])
    }
}
