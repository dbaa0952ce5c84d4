//! The journal: this store's changes not yet written to storage, and their
//! replay onto the stored state (the merge of
//! [`crate::cache::TokenCache::persist`]).

use super::index::Map;
use super::{Store, Stored};
use crate::cache::schema::{AcctEntry, AtEntry, IdtEntry, MetaEntry, RtEntry};

/// Which section a journal record is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Sec {
    At,
    Rt,
    Idt,
    Acct,
    Meta,
}

/// A change not yet written to storage.
#[derive(Clone)]
pub(crate) enum Change {
    Upsert,
    /// Removed; `secret` is the removed credential's, so the removal applies
    /// to the stored copy only when it is still that same credential.
    Delete {
        secret: Option<String>,
    },
}

/// The latest change per (section, key).
pub(crate) type Journal = Map<(Sec, Box<str>), Change>;

impl Store {
    pub(super) fn record(&mut self, sec: Sec, key: &str, change: Change) {
        if let Some(j) = &mut self.journal {
            j.insert((sec, key.into()), change);
        }
    }

    /// Applies this store's journal onto `base` (the stored state): upserts
    /// copy this store's current entry; deletions remove the stored entry
    /// when it still holds the credential that was removed here.
    pub fn replay_onto(&self, base: &mut Store) {
        let Some(j) = &self.journal else { return };
        for ((sec, key), change) in j {
            match sec {
                Sec::At => self.replay::<AtEntry>(base, key, change),
                Sec::Rt => self.replay::<RtEntry>(base, key, change),
                Sec::Idt => self.replay::<IdtEntry>(base, key, change),
                Sec::Acct => self.replay::<AcctEntry>(base, key, change),
                Sec::Meta => self.replay::<MetaEntry>(base, key, change),
            }
        }
    }

    fn replay<E: Stored>(&self, base: &mut Store, key: &str, change: &Change) {
        match change {
            Change::Upsert => {
                let mine = E::section(self);
                if let Some(e) = mine.id_of(key).and_then(|i| mine.get(i)) {
                    E::section_mut(base).insert(key, e.clone());
                }
            }
            Change::Delete { secret } => {
                let theirs = E::section_mut(base);
                if let Some(i) = theirs.id_of(key) {
                    if same(theirs.get(i).and_then(E::credential), secret) {
                        theirs.remove(i);
                    }
                }
            }
        }
    }

    /// Journals every entry as an upsert (attaching storage to a cache that
    /// already holds entries: they are written into the stored state).
    pub fn journal_everything(&mut self) {
        fn all<E: Stored>(j: &mut Journal, s: &Store) {
            for (_, k, _) in E::section(s).iter() {
                j.insert((E::SEC, k.into()), Change::Upsert);
            }
        }
        let mut j = self.journal.take().unwrap_or_default();
        all::<AtEntry>(&mut j, self);
        all::<RtEntry>(&mut j, self);
        all::<IdtEntry>(&mut j, self);
        all::<AcctEntry>(&mut j, self);
        all::<MetaEntry>(&mut j, self);
        self.journal = Some(j);
    }
}

/// Whether the stored credential is the one removed here (compared in
/// constant time: both are secrets).
fn same(stored: Option<&str>, removed: &Option<String>) -> bool {
    match (stored, removed.as_deref()) {
        (Some(a), Some(b)) => crate::secret::constant_time_eq(a, b),
        (None, None) => true,
        _ => false,
    }
}
