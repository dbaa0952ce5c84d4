//! The index building blocks: keys folded and joined without allocating,
//! sets and lists of slot ids inline for the common single member, counts
//! per key, and interned scope names.

use super::super::scopes::{folded_eq, is_lower_ascii, push_folded};
use super::key_hash::KeyHasher;
use std::collections::HashMap;

pub(super) type Id = u32;

/// The indexes' hash map: foldhash, seeded at random per process.
pub(super) type Map<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// Separates the parts of an index key (cannot occur in hosts, ids or scopes).
const SEP: u8 = 0x1f;

/// The parts folded and joined, allocated (for keys that are stored).
pub(super) fn ikey(parts: &[&str]) -> Box<str> {
    let mut s = String::with_capacity(parts.iter().map(|p| p.len() + 1).sum());
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            s.push(char::from(SEP));
        }
        push_folded(&mut s, p);
    }
    s.into_boxed_str()
}

/// Runs `f` on the parts folded and joined, on the stack when the key is
/// ASCII and short: no allocation. For a key that is looked up as text (app
/// metadata, scope names); an index that keeps only a key's hash hashes the
/// parts without joining them ([`KeyHasher`]).
pub(super) fn with_ikey<R>(parts: &[&str], f: impl FnOnce(&str) -> R) -> R {
    let mut buf = [0u8; 512];
    let total: usize = parts.iter().map(|p| p.len() + 1).sum();
    if total <= buf.len() && parts.iter().all(|p| p.is_ascii()) {
        let mut n = 0;
        for (i, p) in parts.iter().enumerate() {
            if i > 0 {
                buf[n] = SEP;
                n += 1;
            }
            for b in p.bytes() {
                buf[n] = b.to_ascii_lowercase();
                n += 1;
            }
        }
        if let Ok(k) = std::str::from_utf8(&buf[..n]) {
            return f(k);
        }
    }
    f(&ikey(parts))
}

/// Runs `f` on `s` folded, on the stack when ASCII and short.
pub(super) fn with_folded<R>(s: &str, f: impl FnOnce(&str) -> R) -> R {
    if is_lower_ascii(s) {
        return f(s);
    }
    with_ikey(&[s], f)
}

/// Index key (the parts folded and joined) → a list or set of ids, held by
/// the key's hash alone: no key is stored, so an index costs a few bytes per
/// key where a stored key cost its length and an allocation (≈ 100 bytes per
/// account and index, several indexes per account). A 64-bit hash names a key
/// only very probably: every reader checks the entries' own fields against
/// its query (the sections' `of_*` readers do), so two keys that shared a
/// hash would share a list and nothing else.
pub(super) struct Hashed<V> {
    t: hashbrown::HashTable<(u64, V)>,
    hasher: KeyHasher,
}

impl<V> Default for Hashed<V> {
    fn default() -> Self {
        Hashed {
            t: hashbrown::HashTable::new(),
            hasher: Default::default(),
        }
    }
}

/// Ids under a key: a list (few per key, removal by a scan) or a set.
pub(super) trait Members {
    fn one(id: Id) -> Self;
    fn ids(&self) -> impl Iterator<Item = Id> + '_;
    fn add(&mut self, id: Id);
    /// Removes `id`; true when nothing is left.
    fn del(&mut self, id: Id) -> bool;
}

impl Members for IdList {
    fn one(id: Id) -> Self {
        IdList::One(id)
    }
    fn ids(&self) -> impl Iterator<Item = Id> + '_ {
        self.as_slice().iter().copied()
    }
    fn add(&mut self, id: Id) {
        self.push(id);
    }
    fn del(&mut self, id: Id) -> bool {
        self.remove(id)
    }
}

impl Members for IdSet {
    fn one(id: Id) -> Self {
        IdSet::One(id)
    }
    fn ids(&self) -> impl Iterator<Item = Id> + '_ {
        self.iter()
    }
    fn add(&mut self, id: Id) {
        self.insert(id);
    }
    fn del(&mut self, id: Id) -> bool {
        self.remove(id)
    }
}

impl<V: Members> Hashed<V> {
    fn hash(&self, parts: &[&str]) -> u64 {
        self.hasher.hash(parts)
    }
    /// The ids filed under `parts` (and, very rarely, under another key of
    /// the same hash: readers pass them through `Section::checked`).
    pub(super) fn ids(&self, parts: &[&str]) -> impl Iterator<Item = Id> + '_ {
        let h = self.hash(parts);
        self.t
            .find(h, |(x, _)| *x == h)
            .into_iter()
            .flat_map(|(_, v)| v.ids())
    }
    /// Files `id` under `parts`, or takes it out.
    pub(super) fn update(&mut self, op: Op, parts: &[&str], id: Id) {
        let h = self.hash(parts);
        match op {
            Op::Add => match self.t.find_mut(h, |(x, _)| *x == h) {
                Some((_, v)) => v.add(id),
                None => {
                    self.t.insert_unique(h, (h, V::one(id)), |(x, _)| *x);
                }
            },
            Op::Del => {
                if let Ok(mut e) = self.t.find_entry(h, |(x, _)| *x == h) {
                    if e.get_mut().1.del(id) {
                        e.remove();
                    }
                }
            }
        }
    }
}

/// Whether an entry's field (absent: empty) is `want`, case-insensitively:
/// how readers check the entries an index hands them.
pub(super) fn field_is(v: Option<&str>, want: &str) -> bool {
    folded_eq(v.unwrap_or(""), want)
}

/// A set of slot ids, without a heap table for the common single member.
/// The table of a bigger set is boxed: a set is 16 bytes instead of 40 in
/// every index entry, nearly all of which hold one id: a loaded cache of
/// 100k app tokens keeps 97 MiB resident instead of 110, and loads ≈ 3 %
/// faster.
#[derive(Clone, Debug)]
pub(super) enum IdSet {
    One(Id),
    Many(Box<Map<Id, ()>>),
}

/// Iterates an [`IdSet`] without boxing.
pub(super) enum IdIter<'a> {
    One(std::iter::Once<Id>),
    Many(std::collections::hash_map::Keys<'a, Id, ()>),
}

impl Iterator for IdIter<'_> {
    type Item = Id;
    #[inline]
    fn next(&mut self) -> Option<Id> {
        match self {
            IdIter::One(i) => i.next(),
            IdIter::Many(i) => i.next().copied(),
        }
    }
}

impl IdSet {
    pub(super) fn insert(&mut self, id: Id) {
        match self {
            IdSet::One(x) if *x == id => {}
            IdSet::One(x) => {
                let mut m = Map::default();
                m.insert(*x, ());
                m.insert(id, ());
                *self = IdSet::Many(Box::new(m));
            }
            IdSet::Many(s) => {
                s.insert(id, ());
            }
        }
    }
    /// Removes `id`; true when the set became empty.
    pub(super) fn remove(&mut self, id: Id) -> bool {
        let single = match self {
            IdSet::One(x) => return *x == id,
            IdSet::Many(s) => {
                s.remove(&id);
                if s.len() == 1 {
                    s.keys().next().copied()
                } else {
                    return s.is_empty();
                }
            }
        };
        if let Some(x) = single {
            *self = IdSet::One(x);
        }
        false
    }
    #[inline]
    pub(super) fn contains(&self, id: Id) -> bool {
        match self {
            IdSet::One(x) => *x == id,
            IdSet::Many(s) => s.contains_key(&id),
        }
    }
    #[inline]
    pub(super) fn len(&self) -> usize {
        match self {
            IdSet::One(_) => 1,
            IdSet::Many(s) => s.len(),
        }
    }
    #[inline]
    pub(super) fn iter(&self) -> IdIter<'_> {
        match self {
            IdSet::One(x) => IdIter::One(std::iter::once(*x)),
            IdSet::Many(s) => IdIter::Many(s.keys()),
        }
    }
}

/// Number → ids: inline while it has at most one key, a short list while
/// it has few, a hash table beyond. A user's access-token partition holds
/// one or two tokens, mostly of one scope on one resource: a table or a
/// list per partition (two per partition, scopes and resources) costs the
/// cache's memory and an allocation to make and free in a load, and one key
/// inline neither.
pub(super) enum NumMap {
    One(Option<(u32, IdSet)>),
    Few(Vec<(u32, IdSet)>),
    Many(Map<u32, IdSet>),
}

impl Default for NumMap {
    fn default() -> Self {
        NumMap::One(None)
    }
}

/// Keys a [`NumMap`] holds as a list, at most.
const FEW: usize = 8;

impl NumMap {
    #[inline]
    pub(super) fn get(&self, k: u32) -> Option<&IdSet> {
        match self {
            NumMap::One(Some((x, s))) if *x == k => Some(s),
            NumMap::One(_) => None,
            NumMap::Few(v) => v.iter().find(|(x, _)| *x == k).map(|(_, s)| s),
            NumMap::Many(m) => m.get(&k),
        }
    }
    pub(super) fn add(&mut self, k: u32, id: Id) {
        match self {
            NumMap::One(None) => *self = NumMap::One(Some((k, IdSet::One(id)))),
            NumMap::One(Some((x, s))) if *x == k => s.insert(id),
            NumMap::One(one) => {
                let mut v = Vec::with_capacity(2);
                v.extend(one.take());
                v.push((k, IdSet::One(id)));
                *self = NumMap::Few(v);
            }
            NumMap::Few(v) => {
                if let Some((_, s)) = v.iter_mut().find(|(x, _)| *x == k) {
                    s.insert(id);
                } else if v.len() < FEW {
                    v.push((k, IdSet::One(id)));
                } else {
                    let mut m: Map<u32, IdSet> = v.drain(..).collect();
                    m.insert(k, IdSet::One(id));
                    *self = NumMap::Many(m);
                }
            }
            NumMap::Many(m) => set_add(m, k, id),
        }
    }
    pub(super) fn del(&mut self, k: u32, id: Id) {
        match self {
            NumMap::One(one) => {
                if let Some((x, s)) = one {
                    if *x == k && s.remove(id) {
                        *one = None;
                    }
                }
            }
            NumMap::Few(v) => {
                if let Some(i) = v.iter().position(|(x, _)| *x == k) {
                    if v[i].1.remove(id) {
                        v.swap_remove(i);
                    }
                }
            }
            NumMap::Many(m) => set_del(m, &k, id),
        }
    }
}

/// Whether an entry enters or leaves the indexes: a kind lists its index
/// keys once, for both.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Add,
    Del,
}

pub(super) fn set_add<K: std::hash::Hash + Eq>(map: &mut Map<K, IdSet>, key: K, id: Id) {
    match map.entry(key) {
        std::collections::hash_map::Entry::Occupied(mut o) => o.get_mut().insert(id),
        std::collections::hash_map::Entry::Vacant(v) => {
            v.insert(IdSet::One(id));
        }
    }
}

pub(super) fn set_del<K, Q>(map: &mut Map<K, IdSet>, key: &Q, id: Id)
where
    K: std::borrow::Borrow<Q> + std::hash::Hash + Eq,
    Q: std::hash::Hash + Eq + ?Sized,
{
    if let Some(s) = map.get_mut(key) {
        if s.remove(id) {
            map.remove(key);
        }
    }
}

/// The ids under one index key, inline for the common single id (most
/// keys of the per-account indexes name one entry: no heap list for them).
#[derive(Clone, Debug)]
pub(super) enum IdList {
    One(Id),
    Many(Vec<Id>),
}

impl IdList {
    pub(super) fn as_slice(&self) -> &[Id] {
        match self {
            IdList::One(x) => std::slice::from_ref(x),
            IdList::Many(v) => v,
        }
    }
    pub(super) fn push(&mut self, id: Id) {
        match self {
            IdList::One(x) => *self = IdList::Many(vec![*x, id]),
            IdList::Many(v) => v.push(id),
        }
    }
    /// Removes `id`; true when the list became empty.
    pub(super) fn remove(&mut self, id: Id) -> bool {
        match self {
            IdList::One(x) => *x == id,
            IdList::Many(v) => {
                if let Some(i) = v.iter().position(|x| *x == id) {
                    v.swap_remove(i);
                }
                match v.as_slice() {
                    [] => true,
                    [x] => {
                        *self = IdList::One(*x);
                        false
                    }
                    _ => false,
                }
            }
        }
    }
}

/// Scope and resource names, folded, each stored once and referred to by a
/// number (ref-counted, so names of evicted tokens go away).
#[derive(Default)]
pub(super) struct Interner {
    ids: Map<Box<str>, u32>,
    names: Vec<Box<str>>,
    refs: Vec<u32>,
    free: Vec<u32>,
}

impl Interner {
    #[inline]
    pub(super) fn get(&self, folded: &str) -> Option<u32> {
        self.ids.get(folded).copied()
    }
    pub(super) fn intern(&mut self, folded: &str) -> u32 {
        if let Some(&id) = self.ids.get(folded) {
            self.refs[id as usize] += 1;
            return id;
        }
        let name: Box<str> = folded.into();
        let id = match self.free.pop() {
            Some(id) => {
                self.names[id as usize] = name.clone();
                self.refs[id as usize] = 1;
                id
            }
            None => {
                self.names.push(name.clone());
                self.refs.push(1);
                (self.names.len() - 1) as u32
            }
        };
        self.ids.insert(name, id);
        id
    }
    pub(super) fn release(&mut self, id: u32) {
        let i = id as usize;
        if i >= self.refs.len() || self.refs[i] == 0 {
            return;
        }
        self.refs[i] -= 1;
        if self.refs[i] == 0 {
            let name = std::mem::take(&mut self.names[i]);
            self.ids.remove(&name);
            self.free.push(id);
        }
    }
}

/// Up to eight scope numbers on the stack, more on the heap. The small
/// helpers of the hit path are `#[inline]`: they live in another module than
/// the lookup that calls them.
pub(super) struct Ids {
    inline: [u32; 8],
    len: usize,
    heap: Vec<u32>,
}

impl Ids {
    #[inline]
    pub(super) fn new() -> Ids {
        Ids {
            inline: [0; 8],
            len: 0,
            heap: Vec::new(),
        }
    }
    #[inline]
    pub(super) fn push(&mut self, id: u32) {
        if self.heap.is_empty() && self.len < self.inline.len() {
            self.inline[self.len] = id;
            self.len += 1;
        } else {
            if self.heap.is_empty() {
                self.heap.extend_from_slice(&self.inline[..self.len]);
            }
            self.heap.push(id);
        }
    }
    #[inline]
    fn as_mut_slice(&mut self) -> &mut [u32] {
        if self.heap.is_empty() {
            &mut self.inline[..self.len]
        } else {
            &mut self.heap
        }
    }
    /// Sorted and de-duplicated.
    #[inline]
    pub(super) fn normalized(&mut self) -> &[u32] {
        let s = self.as_mut_slice();
        s.sort_unstable();
        let mut n = 0;
        for i in 0..s.len() {
            if i == 0 || s[i] != s[n - 1] {
                s[n] = s[i];
                n += 1;
            }
        }
        &self.as_mut_slice()[..n]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, BTreeSet};

    /// A `NumMap` moved through every form (one key inline, a list, a
    /// table, and back down as keys leave) answers as a plain map of sets.
    #[test]
    fn num_map_answers_as_a_map_of_sets_in_every_form() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        for round in 0..200 {
            // Few keys in most rounds (the inline and list forms), up to
            // twice the list's size in some (the table).
            let keys = if round % 4 == 0 { 2 * FEW as u64 } else { 3 };
            let mut map = NumMap::default();
            let mut model: BTreeMap<u32, BTreeSet<Id>> = BTreeMap::new();
            for _ in 0..60 {
                let (k, id) = (next(keys) as u32, next(4) as Id);
                if next(3) == 0 {
                    map.del(k, id);
                    if let Some(s) = model.get_mut(&k) {
                        s.remove(&id);
                        if s.is_empty() {
                            model.remove(&k);
                        }
                    }
                } else {
                    map.add(k, id);
                    model.entry(k).or_default().insert(id);
                }
                for k in 0..keys as u32 {
                    let got = map.get(k).map(|s| s.iter().collect::<BTreeSet<_>>());
                    assert_eq!(got.as_ref(), model.get(&k), "key {k} in round {round}");
                }
            }
        }
    }
}
