//! The section type: one kind of entry in slots, plus that kind's indexes,
//! with put and remove written once for all five kinds.
//!
//! A kind (access token, refresh token, id token, account, app metadata)
//! says through [`Kind`] how its key is computed, which credential a
//! journaled removal must still find, and how an entry enters and leaves its
//! indexes; [`Section`] does the rest.

use super::index::{Id, Op};
use crate::cache::keys::{KeyLen, KeySink};
use std::borrow::Cow;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};

/// Where every section's change stamps come from: one counter for the
/// process, so no two changes of any two sections share a stamp, and two
/// sections with the same stamp are one section's content (or both never
/// changed, hence empty).
static STAMPS: AtomicU64 = AtomicU64::new(0);

fn next_stamp() -> u64 {
    STAMPS.fetch_add(1, Ordering::Relaxed) + 1
}

/// One kind of entry of the schema, as the store keeps it.
pub(crate) trait Kind: Clone + Sized {
    /// The indexes this kind keeps beside its entries.
    type Index: Default;
    /// Appends the document key, computed as msal computes it, to `out`
    /// (or counts it, into a [`KeyLen`]).
    fn write_key(&self, out: &mut impl KeySink);
    /// The document key's length, counted without writing it (see [`KeyLen`]).
    fn key_len(&self) -> usize {
        let mut n = KeyLen::default();
        self.write_key(&mut n);
        n.0
    }
    /// The document key, computed as msal computes it.
    fn key(&self) -> String {
        let mut out = String::new();
        self.write_key(&mut out);
        out
    }
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
    /// A load's entries are about to be added: an index that is faster
    /// built from all of them at once than entry by entry may defer that
    /// work until [`Kind::loaded`]. Nothing reads the section in between.
    fn loading(_idx: &mut Self::Index) {}
    /// The load's entries are all in: whatever [`Kind::loading`] deferred
    /// is built now.
    fn loaded(_idx: &mut Self::Index) {}
    /// Whether `new`, replacing `self` under the same key, leaves every
    /// account list as it was (then the section's stamp stays; see
    /// [`Section::stamp`]). Only the kinds an account list is read from
    /// answer anything but "maybe not".
    fn same_listing(&self, _new: &Self) -> bool {
        false
    }
    /// Whether an account list reads this kind (then the section logs which
    /// accounts its recent changes touched: see [`Section::changes_since`]).
    const LISTED: bool = false;
    /// The account (home account id) a change of this entry may list
    /// differently; `None`: any account (app metadata names the family every
    /// list of its client reads).
    fn listing_home(&self) -> Option<&str> {
        None
    }
}

/// How many changes a section of a listed kind remembers: a caller whose
/// list is older than that reads the whole list again.
const LOG_LEN: usize = 256;

/// The accounts a listed section's recent changes touched, each with its
/// stamp (`None`: every account).
#[derive(Default)]
struct ChangeLog {
    entries: std::collections::VecDeque<(u64, Option<Box<str>>)>,
    /// Every change with a stamp above this one is in `entries`.
    floor: u64,
}

/// One section: its entries and its indexes.
pub(crate) struct Section<E: Kind> {
    pub(super) slots: Slots<E>,
    pub(super) idx: E::Index,
    /// Where an inserted entry's own key is computed (one buffer reused).
    scratch: String,
    /// The stamp of the section's last change that may have changed an
    /// account list (0: never changed).
    stamp: u64,
    /// A number no other section has (from the stamps' counter): a list
    /// read from another section — one this section replaced — cannot be
    /// brought up to date from this one's log.
    birth: u64,
    log: ChangeLog,
}

impl<E: Kind> Default for Section<E> {
    fn default() -> Self {
        Section {
            slots: Slots::default(),
            idx: E::Index::default(),
            scratch: String::new(),
            stamp: 0,
            birth: next_stamp(),
            log: ChangeLog::default(),
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
            scratch: String::new(),
            stamp: 0,
            birth: next_stamp(),
            log: ChangeLog::default(),
        }
    }
    /// A section of a document's entries, in document order (a key given
    /// twice keeps its last entry, as a JSON object read into a map does).
    /// Unusable until [`Self::loaded`] (it may defer index work, see
    /// [`Kind::loading`]); more of the document may follow through
    /// [`Self::extend`].
    pub(super) fn load(entries: Vec<(Cow<'_, str>, E)>) -> Self {
        let mut s = Section::with_capacity(entries.len());
        E::loading(&mut s.idx);
        s.extend(entries);
        s
    }
    /// An empty section to load a document's entries into, through
    /// [`Self::extend`]; unusable until [`Self::loaded`].
    pub(super) fn loading() -> Self {
        let mut s = Section::default();
        E::loading(&mut s.idx);
        s
    }
    /// The section a load built ([`Self::load`], [`Self::loading`]), its
    /// deferred index work done.
    pub(super) fn loaded(mut self) -> Self {
        E::loaded(&mut self.idx);
        self
    }
    /// Adds a document's entries that follow those already here (one stamp
    /// for them all: a load's threads do not share a counter per entry).
    pub(super) fn extend(&mut self, entries: Vec<(Cow<'_, str>, E)>) {
        for (k, e) in entries {
            self.put(&k, e);
        }
        self.extended();
    }
    /// [`Self::extend`], told for each entry whether its key is the one
    /// computed from its fields ([`computed_keys`], found by the thread
    /// that read the entries; a missing answer keeps the key as given).
    pub(super) fn extend_known(&mut self, entries: Vec<(Cow<'_, str>, E)>, computed: &[bool]) {
        for (i, (k, e)) in entries.into_iter().enumerate() {
            let computed = computed.get(i).copied().unwrap_or(false);
            self.put_known(&k, computed, e);
        }
        self.extended();
    }
    /// One stamp for the entries a load just added.
    fn extended(&mut self) {
        self.stamp = next_stamp();
        // Not logged entry by entry: a list older than this reads anew.
        self.log.entries.clear();
        self.log.floor = self.stamp;
    }
    /// A number that moves at every change of this section that may change
    /// an account list (an entry added or removed, or replaced by one that
    /// [`Kind::same_listing`] does not call the same) and at no other. It
    /// comes from a counter of the process: a section that replaces another
    /// (a load) never takes over its number unless both are empty and
    /// unchanged.
    pub fn stamp(&self) -> u64 {
        self.stamp
    }
    /// This section's identity (see the field).
    pub fn birth(&self) -> u64 {
        self.birth
    }
    /// Appends to `out` the home account ids (as stored, not folded) of the
    /// changes after stamp `since` of this section, which a list read at
    /// `since` from this same section ([`Self::birth`]) must read again.
    /// `false` when the log cannot tell: it no longer reaches back to
    /// `since`, a load replaced the entries, or a change may list every
    /// account differently; the caller then reads the whole list.
    pub fn changes_since<'s>(&'s self, since: u64, out: &mut Vec<&'s str>) -> bool {
        if self.stamp <= since {
            return true;
        }
        if !E::LISTED || since < self.log.floor {
            return false;
        }
        for (stamp, home) in self.log.entries.iter().rev() {
            if *stamp <= since {
                break;
            }
            match home {
                Some(h) => out.push(h),
                None => return false,
            }
        }
        true
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
    pub fn iter(&self) -> impl Iterator<Item = (Id, Cow<'_, str>, &E)> {
        self.slots.iter()
    }
    /// The entries among `ids` that `keep` accepts. The hash-keyed indexes
    /// ([`super::index::Hashed`]) may hand a reader an entry filed under
    /// another key of the same hash: every reader passes its candidates
    /// through here with its query's fields.
    pub(super) fn checked<'s: 'q, 'q>(
        &'s self,
        ids: impl Iterator<Item = Id> + 'q,
        keep: impl Fn(&E) -> bool + 'q,
    ) -> impl Iterator<Item = (Id, &'s E)> + 'q {
        ids.filter_map(move |id| self.get(id).filter(|e| keep(e)).map(|e| (id, e)))
    }
    /// Calls `f` with the entries from the `from`-th up to (not including)
    /// the `to`-th, in order (a part of the document, see `json_out.rs`),
    /// each with its document key and whether that key is the computed one
    /// (written into one reused buffer: writing a document allocates no
    /// key) rather than a key kept as the document had it.
    pub fn for_each_keyed_in(&self, from: usize, to: usize, mut f: impl FnMut(&str, bool, &E)) {
        let mut buf = String::new();
        let entries = self.slots.slots.iter().flatten();
        for (kept, e) in entries.skip(from).take(to.saturating_sub(from)) {
            match kept {
                Some(k) => f(k, false, e),
                None => {
                    buf.clear();
                    e.write_key(&mut buf);
                    f(&buf, true, e);
                }
            }
        }
    }
    /// Each entry with the length of its key (counted, for a computed key:
    /// see [`Kind::key_len`]), in the order of [`Self::for_each_keyed_in`].
    pub fn key_lens(&self) -> impl Iterator<Item = (usize, &E)> {
        let entries = self.slots.slots.iter().flatten();
        entries.map(|(kept, e)| (kept.as_ref().map_or_else(|| e.key_len(), |k| k.len()), e))
    }
    /// Puts `e` under `key`, replacing (and unindexing) the entry there.
    pub(super) fn insert(&mut self, key: &str, e: E) -> Id {
        let (id, same) = self.put(key, e);
        self.touch(id, same);
        id
    }
    /// [`Self::insert`] without the stamp: whether the entry replaced lists
    /// the same as the new one.
    fn put(&mut self, key: &str, e: E) -> (Id, bool) {
        // The key's hash first: in a load the document's text and the
        // entry's fields are both out of this thread's caches, and hashing
        // the key before the fields are read lets the two misses overlap.
        let h = self.slots.hash(key);
        let computed = key_is_computed(key, &e, &mut self.scratch);
        self.put_hashed(h, key, computed, e)
    }
    /// [`Self::put`] of an entry whose key is known to be the computed one
    /// or not.
    fn put_known(&mut self, key: &str, computed: bool, e: E) -> (Id, bool) {
        self.put_hashed(self.slots.hash(key), key, computed, e)
    }
    /// Puts `e` under the key computed from it, which it returns.
    pub(super) fn insert_own(&mut self, e: E) -> (Id, Box<str>) {
        let key = e.key();
        let (id, same) = self.put_hashed(self.slots.hash(&key), &key, true, e);
        self.touch(id, same);
        (id, key.into_boxed_str())
    }
    /// Puts `e` under `key`, whose hash is `h` (`computed`: `key` is the
    /// one computed from `e`); whether the entry it replaced (if any) lists
    /// the same. A replaced entry of another account is logged here (the
    /// caller's [`Self::touch`] logs the new entry's).
    fn put_hashed(&mut self, h: u64, key: &str, computed: bool, e: E) -> (Id, bool) {
        let mut same = false;
        if let Some(old) = self.slots.find(h, key) {
            if let Some((_, was)) = self.take(old) {
                same = was.same_listing(&e);
                if !same && was.listing_home() != e.listing_home() {
                    self.changed(was.listing_home().map(Box::from));
                }
            }
        }
        let id = self.slots.insert_new(h, key, computed, e);
        if let Some(e) = self.slots.get(id) {
            E::update(&mut self.idx, id, e, Op::Add);
        }
        (id, same)
    }
    /// Records a change of entry `id` (unless `same`): see [`Self::changed`].
    fn touch(&mut self, id: Id, same: bool) {
        if !same {
            let home = self.slots.get(id).and_then(Kind::listing_home);
            self.changed(home.map(Box::from));
        }
    }
    /// Moves the stamp for a change that may list `home` differently
    /// (`None`: any account), and logs it for a listed kind.
    fn changed(&mut self, home: Option<Box<str>>) {
        self.stamp = next_stamp();
        if !E::LISTED {
            return;
        }
        if self.log.entries.len() == LOG_LEN {
            if let Some((oldest, _)) = self.log.entries.pop_front() {
                self.log.floor = oldest;
            }
        }
        self.log.entries.push_back((self.stamp, home));
    }
    /// Takes entry `id` out, unindexed.
    pub(super) fn remove(&mut self, id: Id) -> Option<(Box<str>, E)> {
        let taken = self.take(id)?;
        self.changed(taken.1.listing_home().map(Box::from));
        Some(taken)
    }
    fn take(&mut self, id: Id) -> Option<(Box<str>, E)> {
        let (key, e) = self.slots.take(id)?;
        E::update(&mut self.idx, id, &e, Op::Del);
        Some((key, e))
    }
}

/// Whether `key` is the document key computed from `e`'s fields (then the
/// section does not store it: see [`Slots`]); `buf` is scratch space.
fn key_is_computed<E: Kind>(key: &str, e: &E, buf: &mut String) -> bool {
    buf.clear();
    e.write_key(buf);
    buf == key
}

/// [`key_is_computed`] of each entry. A load may ask on the thread that
/// read the entries, while they are in its caches, and hand the answers
/// with them to the thread that indexes them (see `load.rs`).
pub(super) fn computed_keys<E: Kind>(entries: &[(Cow<'_, str>, E)]) -> Vec<bool> {
    let mut buf = String::new();
    entries
        .iter()
        .map(|(k, e)| key_is_computed(k, e, &mut buf))
        .collect()
}

/// One section's entries. An entry's document key is almost always the one
/// msal computes from its fields ([`Kind::key`]), and then it is not stored
/// at all (≈ 150 bytes and an allocation per entry, the biggest single cost
/// of a loaded cache's memory beyond the tokens themselves); a key that
/// differs (another library's document) is kept in the slot. The table
/// holds each slot id with its key's hash, so growing it reads no key. A
/// slot id is stable while the entry exists.
pub(super) struct Slots<E> {
    slots: Vec<Option<(Option<Box<str>>, E)>>,
    free: Vec<Id>,
    by_key: hashbrown::HashTable<(u64, Id)>,
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

/// The document key of a slot's entry: kept, or computed.
fn key_of<E: Kind>(slot: &(Option<Box<str>>, E)) -> Cow<'_, str> {
    match &slot.0 {
        Some(k) => Cow::Borrowed(k),
        None => Cow::Owned(slot.1.key()),
    }
}

impl<E: Kind> Slots<E> {
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
    fn hash(&self, key: &str) -> u64 {
        self.hasher.hash_one(key)
    }
    fn id_of(&self, key: &str) -> Option<Id> {
        self.find(self.hash(key), key)
    }
    /// The slot of `key`, whose hash is `h`.
    fn find(&self, h: u64, key: &str) -> Option<Id> {
        let slots = &self.slots;
        self.by_key
            .find(h, |&(x, id)| {
                x == h
                    && slots
                        .get(id as usize)
                        .and_then(Option::as_ref)
                        .is_some_and(|s| key_of(s) == key)
            })
            .map(|&(_, id)| id)
    }
    /// Inserts under a key that is not present, whose hash is `h`;
    /// `computed`: the key is the entry's own ([`Kind::key`]), not stored.
    fn insert_new(&mut self, h: u64, key: &str, computed: bool, e: E) -> Id {
        let kept = (!computed).then(|| Box::from(key));
        let id = match self.free.pop() {
            Some(id) => {
                self.slots[id as usize] = Some((kept, e));
                id
            }
            None => {
                self.slots.push(Some((kept, e)));
                (self.slots.len() - 1) as Id
            }
        };
        self.by_key.insert_unique(h, (h, id), |&(x, _)| x);
        id
    }
    fn take(&mut self, id: Id) -> Option<(Box<str>, E)> {
        let slot = self.slots.get_mut(id as usize)?.take()?;
        let key = key_of(&slot).into_owned();
        let h = self.hash(&key);
        if let Ok(found) = self.by_key.find_entry(h, |&(_, i)| i == id) {
            found.remove();
        }
        self.free.push(id);
        Some((key.into_boxed_str(), slot.1))
    }
    fn iter(&self) -> impl Iterator<Item = (Id, Cow<'_, str>, &E)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.as_ref().map(|s| (i as Id, key_of(s), &s.1)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::schema::{MetaEntry, MetaFields};

    fn meta(client: &str) -> MetaEntry {
        MetaEntry::new(MetaFields {
            client_id: Some(client),
            environment: Some("login.example"),
            family_id: None,
        })
    }

    /// A key that is the entry's own is not stored but still found, listed
    /// and handed back; another document's key is kept as it came.
    #[test]
    fn keys_computed_or_kept() {
        let mut s = Section::<MetaEntry>::default();
        let (own, key) = s.insert_own(meta("c1"));
        assert_eq!(&*key, "appmetadata-login.example-c1");
        let odd = s.insert("Another Library's Key", meta("c2"));
        assert_eq!(s.id_of("appmetadata-login.example-c1"), Some(own));
        assert_eq!(s.id_of("Another Library's Key"), Some(odd));
        assert_eq!(s.id_of("appmetadata-login.example-c2"), None);
        let mut keys: Vec<String> = s.iter().map(|(_, k, _)| k.into_owned()).collect();
        keys.sort();
        assert_eq!(
            keys,
            ["Another Library's Key", "appmetadata-login.example-c1"]
        );
        // Saving again under the same key replaces the entry.
        let again = s.insert("Another Library's Key", meta("c3"));
        assert_eq!(s.len(), 2);
        let (k, e) = s.remove(again).unwrap();
        assert_eq!(&*k, "Another Library's Key");
        assert_eq!(e.client_id(), Some("c3"));
        let (k, _) = s.remove(own).unwrap();
        assert_eq!(&*k, "appmetadata-login.example-c1");
        assert_eq!(s.len(), 0);
        assert_eq!(s.id_of("appmetadata-login.example-c1"), None);
    }
}
