//! The store cut into partitions for partitioned storage
//! ([`crate::cache::PartitionStore`]): which partition an entry belongs to,
//! the journal split per partition, and a partition's stored entries taken
//! into this store.

use super::journal::{Change, Journal, Sec};
use super::{Store, Stored};
use crate::cache::schema::{AcctEntry, AtEntry, IdtEntry, MetaEntry, RtEntry};
use std::collections::HashMap;

/// The partition an entry belongs to, given the entry; `None` when the entry
/// names neither an account nor a client (app metadata), which then goes
/// with the partition of the call.
pub(crate) trait Partitioned {
    fn partition(&self) -> Option<String>;
}

fn user_or_app(home: Option<&str>, client: Option<&str>, realm: Option<&str>) -> Option<String> {
    match home.filter(|h| !h.is_empty()) {
        Some(h) => Some(crate::cache::partition_key::PartitionKey::user(h).into_string()),
        None => Some(
            crate::cache::partition_key::PartitionKey::app(
                client.unwrap_or(""),
                realm.unwrap_or(""),
            )
            .into_string(),
        ),
    }
}

impl Partitioned for AtEntry {
    fn partition(&self) -> Option<String> {
        user_or_app(self.home_account_id(), self.client_id(), self.realm())
    }
}
impl Partitioned for RtEntry {
    fn partition(&self) -> Option<String> {
        user_or_app(self.home_account_id(), self.client_id(), None)
    }
}
impl Partitioned for IdtEntry {
    fn partition(&self) -> Option<String> {
        user_or_app(self.home_account_id(), self.client_id(), self.realm())
    }
}
impl Partitioned for AcctEntry {
    fn partition(&self) -> Option<String> {
        user_or_app(self.home_account_id(), None, self.realm())
    }
}
impl Partitioned for MetaEntry {
    fn partition(&self) -> Option<String> {
        None
    }
}

impl Store {
    /// Takes this store's journal apart: one small store per partition,
    /// holding that partition's changed entries (copies) and its part of the
    /// journal, ready to be replayed onto the partition's stored state.
    /// Removals and app metadata go to `fallback` (the partition of the
    /// call: a removed entry cannot say where it lived).
    pub fn split_journal(&mut self, fallback: &str) -> HashMap<String, Store> {
        let Some(journal) = self.journal.replace(Journal::default()) else {
            return HashMap::new();
        };
        let mut out: HashMap<String, Store> = HashMap::new();
        for ((sec, key), change) in journal {
            match sec {
                Sec::At => self.route::<AtEntry>(&mut out, fallback, key, change),
                Sec::Rt => self.route::<RtEntry>(&mut out, fallback, key, change),
                Sec::Idt => self.route::<IdtEntry>(&mut out, fallback, key, change),
                Sec::Acct => self.route::<AcctEntry>(&mut out, fallback, key, change),
                Sec::Meta => self.route::<MetaEntry>(&mut out, fallback, key, change),
            }
        }
        out
    }

    fn route<E: Stored + Partitioned>(
        &self,
        out: &mut HashMap<String, Store>,
        fallback: &str,
        key: Box<str>,
        change: Change,
    ) {
        let mine = E::section(self);
        let entry = match change {
            Change::Upsert => mine.id_of(&key).and_then(|i| mine.get(i)).cloned(),
            Change::Delete { .. } => None,
        };
        let partition = entry
            .as_ref()
            .and_then(Partitioned::partition)
            .unwrap_or_else(|| fallback.to_owned());
        let part = out.entry(partition).or_insert_with(|| Store {
            journal: Some(Journal::default()),
            ..Store::default()
        });
        if let Some(e) = entry {
            E::section_mut(part).insert(&key, e);
        }
        part.record(E::SEC, &key, change);
    }

    /// Puts a split-off journal back (its write failed): a change made here
    /// since then wins over the one put back.
    pub fn restore_journal(&mut self, part: Store) {
        let Some(j) = part.journal else { return };
        let mine = self.journal.get_or_insert_with(Journal::default);
        for (k, change) in j {
            mine.entry(k).or_insert(change);
        }
    }

    /// Takes a partition's stored entries into this store. An entry with a
    /// change of this store not yet written keeps this store's version.
    pub fn absorb(&mut self, stored: Store) {
        fn take<E: Stored>(me: &mut Store, theirs: &Store) {
            for (_, key, e) in E::section(theirs).iter() {
                let pending = me
                    .journal
                    .as_ref()
                    .is_some_and(|j| j.contains_key(&(E::SEC, Box::<str>::from(&*key))));
                if !pending {
                    E::section_mut(me).insert(&key, e.clone());
                }
            }
        }
        take::<AtEntry>(self, &stored);
        take::<RtEntry>(self, &stored);
        take::<IdtEntry>(self, &stored);
        take::<AcctEntry>(self, &stored);
        take::<MetaEntry>(self, &stored);
    }

    /// The latest expiry this store holds (seconds since the epoch): the
    /// last access token's, and `refresh_lifetime` past `now` when it holds
    /// a refresh token (whose lifetime the server does not say).
    pub fn latest_expiry(&self, now: u64, refresh_lifetime: u64) -> u64 {
        let at = self
            .at
            .iter()
            .filter_map(|(_, _, e)| e.expires_on.max(e.extended_expires_on))
            .max()
            .unwrap_or(now);
        if self.rt.len() > 0 {
            at.max(now.saturating_add(refresh_lifetime))
        } else {
            at
        }
    }
}
