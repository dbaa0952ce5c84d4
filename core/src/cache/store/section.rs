//! The section type: one kind of entry in slots, plus that kind's indexes,
//! with put and remove written once for all five kinds.
//!
//! A kind (access token, refresh token, id token, account, app metadata)
//! says through [`Kind`] how its key is computed, which credential a
//! journaled removal must still find, and how an entry enters and leaves its
//! indexes; [`Section`] does the rest.

use super::index::{Id, Op};
use std::hash::BuildHasher;

/// One kind of entry of the schema, as the store keeps it.
pub(crate) trait Kind: Clone + Sized {
    /// The indexes this kind keeps beside its entries.
    type Index: Default;
    /// The document key, computed as msal computes it.
    fn key(&self) -> String;
    /// The credential the entry holds (accounts and app metadata hold
    /// none): a journaled removal applies to the stored copy only while it
    /// still holds this credential.
    fn credential(&self) -> Option<&str> {
        None
    }
    /// Adds entry `id` to the indexes, or removes it (just taken out of its
    /// slot) from them.
    fn update(idx: &mut Self::Index, id: Id, e: &Self, op: Op);
    /// Room for `n` entries in the indexes (loading a document).
    fn reserve(_idx: &mut Self::Index, _n: usize) {}
}

/// One section: its entries and its indexes.
pub(crate) struct Section<E: Kind> {
    pub(super) slots: Slots<E>,
    pub(super) idx: E::Index,
}

impl<E: Kind> Default for Section<E> {
    fn default() -> Self {
        Section {
            slots: Slots::default(),
            idx: E::Index::default(),
        }
    }
}

impl<E: Kind> Section<E> {
    pub(super) fn with_capacity(n: usize) -> Self {
        let mut idx = E::Index::default();
        E::reserve(&mut idx, n);
        Section {
            slots: Slots::with_capacity(n),
            idx,
        }
    }
    /// A section of a document's entries, in document order (a key given
    /// twice keeps its last entry, as a JSON object read into a map does).
    pub(super) fn load(entries: Vec<(String, E)>) -> Self {
        let mut s = Section::with_capacity(entries.len());
        s.extend(entries);
        s
    }
    /// Adds a document's entries that follow those already here.
    pub(super) fn extend(&mut self, entries: Vec<(String, E)>) {
        for (k, e) in entries {
            self.insert(k.into(), e);
        }
    }
    pub fn len(&self) -> usize {
        self.slots.len()
    }
    pub fn get(&self, id: Id) -> Option<&E> {
        self.slots.get(id)
    }
    pub fn id_of(&self, key: &str) -> Option<Id> {
        self.slots.id_of(key)
    }
    pub fn iter(&self) -> impl Iterator<Item = (Id, &str, &E)> {
        self.slots.iter()
    }
    /// Puts `e` under `key`, replacing (and unindexing) the entry there.
    pub(super) fn insert(&mut self, key: Box<str>, e: E) -> Id {
        if let Some(old) = self.slots.id_of(&key) {
            self.remove(old);
        }
        let id = self.slots.insert_new(key, e);
        if let Some(e) = self.slots.get(id) {
            E::update(&mut self.idx, id, e, Op::Add);
        }
        id
    }
    /// Takes entry `id` out, unindexed.
    pub(super) fn remove(&mut self, id: Id) -> Option<(Box<str>, E)> {
        let (key, e) = self.slots.take(id)?;
        E::update(&mut self.idx, id, &e, Op::Del);
        Some((key, e))
    }
}

/// One section's entries. The key is stored once, in the slot: the table
/// holds slot ids and finds them by the key's hash, comparing against the
/// slot's key (one allocation per key, not two). A slot id is stable while
/// the entry exists.
pub(super) struct Slots<E> {
    slots: Vec<Option<(Box<str>, E)>>,
    free: Vec<Id>,
    by_key: hashbrown::HashTable<Id>,
    hasher: foldhash::fast::RandomState,
}

impl<E> Default for Slots<E> {
    fn default() -> Self {
        Slots {
            slots: Vec::new(),
            free: Vec::new(),
            by_key: hashbrown::HashTable::new(),
            hasher: Default::default(),
        }
    }
}

/// The key of a slot (empty for a free slot, which the table never holds).
fn slot_key<E>(slots: &[Option<(Box<str>, E)>], id: Id) -> &str {
    match slots.get(id as usize) {
        Some(Some((k, _))) => k,
        _ => "",
    }
}

impl<E> Slots<E> {
    fn with_capacity(n: usize) -> Self {
        Slots {
            slots: Vec::with_capacity(n),
            free: Vec::new(),
            by_key: hashbrown::HashTable::with_capacity(n),
            hasher: Default::default(),
        }
    }
    fn len(&self) -> usize {
        self.by_key.len()
    }
    fn get(&self, id: Id) -> Option<&E> {
        self.slots.get(id as usize)?.as_ref().map(|(_, e)| e)
    }
    fn id_of(&self, key: &str) -> Option<Id> {
        let h = self.hasher.hash_one(key);
        self.by_key
            .find(h, |&id| slot_key(&self.slots, id) == key)
            .copied()
    }
    /// Inserts under a key that is not present.
    fn insert_new(&mut self, key: Box<str>, e: E) -> Id {
        let h = self.hasher.hash_one(&*key);
        let id = match self.free.pop() {
            Some(id) => {
                self.slots[id as usize] = Some((key, e));
                id
            }
            None => {
                self.slots.push(Some((key, e)));
                (self.slots.len() - 1) as Id
            }
        };
        let Slots {
            slots,
            by_key,
            hasher,
            ..
        } = self;
        by_key.insert_unique(h, id, |&i| hasher.hash_one(slot_key(slots, i)));
        id
    }
    fn take(&mut self, id: Id) -> Option<(Box<str>, E)> {
        let key = self.slots.get(id as usize)?.as_ref()?.0.as_ref();
        let h = self.hasher.hash_one(key);
        if let Ok(found) = self.by_key.find_entry(h, |&i| i == id) {
            found.remove();
        }
        let slot = self.slots.get_mut(id as usize)?.take()?;
        self.free.push(id);
        Some(slot)
    }
    fn iter(&self) -> impl Iterator<Item = (Id, &str, &E)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.as_ref().map(|(k, e)| (i as Id, &**k, e)))
    }
}
