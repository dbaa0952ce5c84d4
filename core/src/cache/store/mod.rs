//! The cache's entries and the indexes that make every lookup O(1) in the
//! number of cached tokens.
//!
//! Entries live in one slab per section (a slot id is stable while the entry
//! exists) with the document key beside them, and each section keeps its
//! own indexes ([`Section`]: a kind says through [`Kind`] how its entries
//! enter and leave them, so putting and removing are written once, in
//! `section.rs`). Scope and resource names are interned (folded,
//! ref-counted) so the indexes hold small numbers. The indexes:
//!
//! * the hit path: (hash of the partition, normalized scope set) → tokens,
//!   one flat table probed without allocating. A partition is (client id,
//!   environment, realm, home account id or none for app tokens, extended
//!   cache key, token type when not Bearer), case-folded; the set is the
//!   granted one, and also the requested one when it differs, so a repeat
//!   request is one probe. A hash match is only a candidate: the entry's own
//!   fields must equal the query's, so a collision can never hand out
//!   another partition's token;
//! * per partition, scope → tokens holding it (posting lists): a superset
//!   request walks only the shortest list of its scopes, and a scope no token
//!   of the partition holds is a miss without walking anything;
//! * per partition, resource → tokens whose granted scopes all lie on it,
//!   for `<resource>/.default` requests;
//! * access tokens by expiry (soonest first): expired tokens are dropped at
//!   every save from the front of this order, and the bound evicts from it;
//! * refresh tokens by (home account, environment, client) and by (home
//!   account, environment, family);
//! * which accounts hold a refresh token of a client, and of a family;
//! * id tokens, accounts and access tokens by (environment, home account),
//!   so removing an account touches only its own entries.
//!
//! The indexes by account, username, client and family, and the partitions,
//! hold each key's 64-bit hash, not the key, and a document key that is the
//! one msal computes from its entry is not stored: a loaded cache then costs
//! little more memory than its JSON. A hash names a key only very probably,
//! so every reader checks the entries it is handed against its query.

mod access_tokens;
mod accounts;
mod app_metadata;
mod id_tokens;
mod index;
mod journal;
mod json_out;
mod key_hash;
mod load;
mod partition;
mod refresh_tokens;
mod section;
mod serialize;

use super::schema::{AcctEntry, AtEntry, IdtEntry, MetaEntry, RtEntry};
use serde_json::Value;

pub(crate) use access_tokens::AtQuery;
use index::Id;
use journal::{Change, Journal, Sec};
pub(crate) use json_out::Layout;
pub(crate) use load::AccountsMark;
#[cfg(test)]
pub(crate) use load::THREADED as LOAD_THREADED;
use section::{Kind, Section};

/// Entries and indexes; guarded by the cache's lock.
#[derive(Default)]
pub(crate) struct Store {
    pub at: Section<AtEntry>,
    pub rt: Section<RtEntry>,
    pub idt: Section<IdtEntry>,
    pub acct: Section<AcctEntry>,
    pub meta: Section<MetaEntry>,
    /// Top-level members that are not sections of the schema, kept as read.
    pub other: Vec<(String, Value)>,
    /// Changes since the last sync with storage; `None` while no storage is attached.
    pub journal: Option<Journal>,
}

/// Where a kind lives in the store, and its tag in the journal.
pub(crate) trait Stored: Kind {
    const SEC: Sec;
    fn section(s: &Store) -> &Section<Self>;
    fn section_mut(s: &mut Store) -> &mut Section<Self>;
}

macro_rules! stored {
    ($($kind:ty => $field:ident, $sec:ident;)*) => {$(
        impl Stored for $kind {
            const SEC: Sec = Sec::$sec;
            fn section(s: &Store) -> &Section<Self> {
                &s.$field
            }
            fn section_mut(s: &mut Store) -> &mut Section<Self> {
                &mut s.$field
            }
        }
    )*};
}

stored! {
    AtEntry => at, At;
    RtEntry => rt, Rt;
    IdtEntry => idt, Idt;
    AcctEntry => acct, Acct;
    MetaEntry => meta, Meta;
}

impl Store {
    /// Saves an entry under the key msal computes for it, replacing the
    /// entry there; journaled for storage.
    pub fn put<E: Stored>(&mut self, e: E) {
        let (_, key) = E::section_mut(self).insert_own(e);
        self.record(E::SEC, &key, Change::Upsert);
    }

    /// Removes an entry; journaled for storage (evictions, which are not,
    /// remove from the section itself).
    pub fn remove<E: Stored>(&mut self, id: Id) {
        if let Some((key, e)) = E::section_mut(self).remove(id) {
            let secret = e.credential().map(str::to_owned);
            self.record(E::SEC, &key, Change::Delete { secret });
        }
    }
}
