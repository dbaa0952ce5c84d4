//! The cache's entries and the indexes that make every lookup O(1) in the
//! number of cached tokens.
//!
//! Entries live in one slab per section (a slot id is stable while the entry
//! exists) with the document key beside them. Scope and resource names are
//! interned (folded, ref-counted) so the indexes hold small numbers. The
//! indexes:
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

use super::keys;
use super::schema::{AcctEntry, AtEntry, Document, IdtEntry, MetaEntry, RtEntry, SectionOut};
use super::schema::{ACCT, AT, IDT, META, RT};
use super::scopes::{
    fold, normalize, push_folded, requested_is_covered, resource_of, set_key, DEFAULT_SUFFIX,
    OIDC_SCOPES,
};
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use std::hash::BuildHasher;

pub(crate) type Id = u32;

/// The indexes' hash map: foldhash, seeded at random per process.
pub(crate) type Map<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// Separates the parts of an index key (cannot occur in hosts, ids or scopes).
const SEP: u8 = 0x1f;

/// The parts folded and joined, allocated (for keys that are stored).
fn ikey(parts: &[&str]) -> Box<str> {
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
/// ASCII and short (every lookup of the hot path): no allocation.
fn with_ikey<R>(parts: &[&str], f: impl FnOnce(&str) -> R) -> R {
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
fn with_folded<R>(s: &str, f: impl FnOnce(&str) -> R) -> R {
    if !s.bytes().any(|b| b.is_ascii_uppercase()) && s.is_ascii() {
        return f(s);
    }
    with_ikey(&[s], f)
}

/// The access-token partition of an entry. Bearer tokens without an extended
/// cache key have empty ext / scheme parts, the only partition a query reaches.
fn part_parts<'a>(
    client_id: &'a str,
    environment: &'a str,
    realm: &'a str,
    home: &'a str,
    ext: &'a str,
    scheme: &'a str,
) -> [&'a str; 6] {
    [client_id, environment, realm, home, ext, scheme]
}

fn scheme_of(token_type: Option<&str>) -> &str {
    match token_type {
        Some(t) if !t.eq_ignore_ascii_case("bearer") => t,
        _ => "",
    }
}

/// A set of slot ids, without a heap table for the common single member.
#[derive(Clone, Debug)]
enum IdSet {
    One(Id),
    Many(Map<Id, ()>),
}

/// Iterates an [`IdSet`] without boxing.
enum IdIter<'a> {
    One(std::iter::Once<Id>),
    Many(std::collections::hash_map::Keys<'a, Id, ()>),
}

impl Iterator for IdIter<'_> {
    type Item = Id;
    fn next(&mut self) -> Option<Id> {
        match self {
            IdIter::One(i) => i.next(),
            IdIter::Many(i) => i.next().copied(),
        }
    }
}

impl IdSet {
    fn insert(&mut self, id: Id) {
        match self {
            IdSet::One(x) if *x == id => {}
            IdSet::One(x) => {
                let mut m = Map::default();
                m.insert(*x, ());
                m.insert(id, ());
                *self = IdSet::Many(m);
            }
            IdSet::Many(s) => {
                s.insert(id, ());
            }
        }
    }
    /// Removes `id`; true when the set became empty.
    fn remove(&mut self, id: Id) -> bool {
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
    fn contains(&self, id: Id) -> bool {
        match self {
            IdSet::One(x) => *x == id,
            IdSet::Many(s) => s.contains_key(&id),
        }
    }
    fn len(&self) -> usize {
        match self {
            IdSet::One(_) => 1,
            IdSet::Many(s) => s.len(),
        }
    }
    fn iter(&self) -> IdIter<'_> {
        match self {
            IdSet::One(x) => IdIter::One(std::iter::once(*x)),
            IdSet::Many(s) => IdIter::Many(s.keys()),
        }
    }
}

fn set_add<K: std::hash::Hash + Eq>(map: &mut Map<K, IdSet>, key: K, id: Id) {
    match map.entry(key) {
        std::collections::hash_map::Entry::Occupied(mut o) => o.get_mut().insert(id),
        std::collections::hash_map::Entry::Vacant(v) => {
            v.insert(IdSet::One(id));
        }
    }
}

fn set_del<K, Q>(map: &mut Map<K, IdSet>, key: &Q, id: Id)
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
enum IdList {
    One(Id),
    Many(Vec<Id>),
}

impl IdList {
    fn as_slice(&self) -> &[Id] {
        match self {
            IdList::One(x) => std::slice::from_ref(x),
            IdList::Many(v) => v,
        }
    }
    fn push(&mut self, id: Id) {
        match self {
            IdList::One(x) => *self = IdList::Many(vec![*x, id]),
            IdList::Many(v) => v.push(id),
        }
    }
    /// Removes `id`; true when the list became empty.
    fn remove(&mut self, id: Id) -> bool {
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

fn list_add(map: &mut Map<Box<str>, IdList>, parts: &[&str], id: Id) {
    if let Some(v) = with_ikey(parts, |k| map.get_mut(k)) {
        v.push(id);
        return;
    }
    map.insert(ikey(parts), IdList::One(id));
}

fn list_del(map: &mut Map<Box<str>, IdList>, parts: &[&str], id: Id) {
    with_ikey(parts, |k| {
        if let Some(v) = map.get_mut(k) {
            if v.remove(id) {
                map.remove(k);
            }
        }
    });
}

fn list_get<'a>(map: &'a Map<Box<str>, IdList>, parts: &[&str]) -> &'a [Id] {
    with_ikey(parts, |k| map.get(k)).map_or(&[], IdList::as_slice)
}

fn count_add(map: &mut Map<Box<str>, Map<Box<str>, u32>>, parts: &[&str], home: &str) {
    let m = match with_ikey(parts, |k| map.contains_key(k)) {
        true => with_ikey(parts, |k| map.get_mut(k)),
        false => Some(map.entry(ikey(parts)).or_default()),
    };
    if let Some(m) = m {
        *m.entry(fold(home).into()).or_insert(0) += 1;
    }
}

fn count_del(map: &mut Map<Box<str>, Map<Box<str>, u32>>, parts: &[&str], home: &str) {
    with_ikey(parts, |k| {
        if let Some(m) = map.get_mut(k) {
            let h = fold(home);
            if let Some(n) = m.get_mut(h.as_ref()) {
                *n -= 1;
                if *n == 0 {
                    m.remove(h.as_ref());
                }
            }
            if m.is_empty() {
                map.remove(k);
            }
        }
    });
}

/// Scope and resource names, folded, each stored once and referred to by a
/// number (ref-counted, so names of evicted tokens go away).
#[derive(Default)]
struct Interner {
    ids: Map<Box<str>, u32>,
    names: Vec<Box<str>>,
    refs: Vec<u32>,
    free: Vec<u32>,
}

impl Interner {
    fn get(&self, folded: &str) -> Option<u32> {
        self.ids.get(folded).copied()
    }
    fn intern(&mut self, folded: &str) -> u32 {
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
    fn release(&mut self, id: u32) {
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

/// Up to eight scope numbers on the stack, more on the heap.
struct Ids {
    inline: [u32; 8],
    len: usize,
    heap: Vec<u32>,
}

impl Ids {
    fn new() -> Ids {
        Ids {
            inline: [0; 8],
            len: 0,
            heap: Vec::new(),
        }
    }
    fn push(&mut self, id: u32) {
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
    fn as_mut_slice(&mut self) -> &mut [u32] {
        if self.heap.is_empty() {
            &mut self.inline[..self.len]
        } else {
            &mut self.heap
        }
    }
    /// Sorted and de-duplicated.
    fn normalized(&mut self) -> &[u32] {
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

/// Key of the exact-set index: the partition's hash and the sorted scope
/// numbers, inline for up to six scopes (no allocation, no pointer to follow
/// when probing). A hash match is only a candidate: the entry's own fields
/// decide (see [`Store::in_partition`]).
#[derive(Clone, PartialEq, Eq, Hash)]
enum ExactKey {
    Small { part: u64, len: u8, ids: [u32; 6] },
    Big { part: u64, ids: Box<[u32]> },
}

impl ExactKey {
    fn new(part: u64, set: &[u32]) -> ExactKey {
        if set.len() <= 6 {
            let mut ids = [0u32; 6];
            ids[..set.len()].copy_from_slice(set);
            ExactKey::Small {
                part,
                len: set.len() as u8,
                ids,
            }
        } else {
            ExactKey::Big {
                part,
                ids: set.into(),
            }
        }
    }
}

/// One section's entries. The key is stored once, in the slot: the table
/// holds slot ids and finds them by the key's hash, comparing against the
/// slot's key (one allocation per key, not two).
pub(crate) struct Section<E> {
    slots: Vec<Option<(Box<str>, E)>>,
    free: Vec<Id>,
    by_key: hashbrown::HashTable<Id>,
    hasher: foldhash::fast::RandomState,
}

impl<E> Default for Section<E> {
    fn default() -> Self {
        Section {
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

impl<E> Section<E> {
    fn with_capacity(n: usize) -> Self {
        Section {
            slots: Vec::with_capacity(n),
            free: Vec::new(),
            by_key: hashbrown::HashTable::with_capacity(n),
            hasher: Default::default(),
        }
    }
    pub fn len(&self) -> usize {
        self.by_key.len()
    }
    pub fn get(&self, id: Id) -> Option<&E> {
        self.slots.get(id as usize)?.as_ref().map(|(_, e)| e)
    }
    pub fn id_of(&self, key: &str) -> Option<Id> {
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
        let Section {
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
    pub fn iter(&self) -> impl Iterator<Item = (Id, &str, &E)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.as_ref().map(|(k, e)| (i as Id, &**k, e)))
    }
}

/// What the access-token indexes hold about one token (to unindex it).
struct AtIdx {
    part: u32,
    part_hash: u64,
    /// The granted scopes, as sorted scope numbers.
    granted: Box<[u32]>,
    /// The requested scopes, when they differ from the granted.
    requested: Option<Box<[u32]>>,
    /// The one resource all granted scopes lie on.
    resource: Option<u32>,
    expires_on: u64,
}

#[derive(Default)]
struct Partition {
    key: Box<str>,
    postings: Map<u32, IdSet>,
    by_resource: Map<u32, IdSet>,
    count: usize,
}

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

    at_idx: Vec<Option<AtIdx>>,
    names: Interner,
    parts: Vec<Partition>,
    parts_free: Vec<u32>,
    parts_by_key: Map<Box<str>, u32>,
    /// (partition hash, normalized scope set) → tokens: the hit path.
    exact: Map<ExactKey, IdSet>,
    hasher: foldhash::fast::RandomState,
    expiry: BTreeSet<(u64, Id)>,
    at_home: Map<Box<str>, IdSet>,

    rt_owner: Map<Box<str>, IdList>,
    rt_family: Map<Box<str>, IdList>,
    rt_home: Map<Box<str>, IdList>,
    homes_client: Map<Box<str>, Map<Box<str>, u32>>,
    homes_family: Map<Box<str>, Map<Box<str>, u32>>,

    idt_home: Map<Box<str>, IdList>,
    acct_home: Map<Box<str>, IdList>,
    /// (environment, username) → account records, case-folded: a username
    /// filter reads only the records of that username.
    acct_user: Map<Box<str>, IdList>,
    meta_by: Map<Box<str>, Id>,

    /// Changes since the last sync with storage; `None` while no storage is attached.
    pub journal: Option<Map<(Sec, Box<str>), Change>>,
}

/// The fields of an access token query, borrowed.
pub(crate) struct AtQuery<'a> {
    pub client_id: &'a str,
    pub environment: &'a str,
    pub realm: &'a str,
    pub home: &'a str,
    pub scopes: &'a [String],
}

impl Store {
    pub fn from_document(doc: Document) -> Store {
        let mut s = Store {
            at: Section::with_capacity(doc.at.len()),
            at_idx: Vec::with_capacity(doc.at.len()),
            expiry: BTreeSet::new(),
            other: doc.other,
            ..Store::default()
        };
        for (k, e) in doc.at {
            s.put_at_keyed(k.into(), e, false);
        }
        for (k, e) in doc.rt {
            s.put_rt_keyed(k.into(), e, false);
        }
        for (k, e) in doc.idt {
            s.put_idt_keyed(k.into(), e, false);
        }
        for (k, e) in doc.acct {
            s.put_acct_keyed(k.into(), e, false);
        }
        for (k, e) in doc.meta {
            s.put_meta_keyed(k.into(), e, false);
        }
        s
    }

    fn record(&mut self, sec: Sec, key: &str, change: Change) {
        if let Some(j) = &mut self.journal {
            j.insert((sec, key.into()), change);
        }
    }

    // ---- access tokens ----

    pub fn put_at(&mut self, e: AtEntry) {
        let key = keys::access_token(
            e.home_account_id().unwrap_or(""),
            e.environment().unwrap_or(""),
            e.client_id().unwrap_or(""),
            e.realm().unwrap_or(""),
            e.target().unwrap_or(""),
            e.ext_cache_key(),
        );
        self.put_at_keyed(key.into(), e, true);
    }

    fn put_at_keyed(&mut self, key: Box<str>, e: AtEntry, record: bool) {
        if let Some(old) = self.at.id_of(&key) {
            self.remove_at(old, false);
        }
        if record {
            self.record(Sec::At, &key, Change::Upsert);
        }
        let id = self.at.insert_new(key, e);
        self.index_at(id);
    }

    /// Folded (borrowed when already lower case), OIDC scopes left out,
    /// sorted, de-duplicated.
    fn folded_set(target: &str) -> Vec<std::borrow::Cow<'_, str>> {
        normalize(target.split_whitespace())
    }

    fn intern_set<S: AsRef<str>>(names: &mut Interner, set: &[S]) -> Box<[u32]> {
        let mut ids: Vec<u32> = set.iter().map(|s| names.intern(s.as_ref())).collect();
        ids.sort_unstable();
        ids.into_boxed_slice()
    }

    fn index_at(&mut self, id: Id) {
        if self.at_idx.len() <= id as usize {
            self.at_idx.resize_with(id as usize + 1, || None);
        }
        let Some(e) = self.at.get(id) else { return };
        let Some(exp) = e.expires_on else { return };
        let parts = part_parts(
            e.client_id().unwrap_or(""),
            e.environment().unwrap_or(""),
            e.realm().unwrap_or(""),
            e.home_account_id().unwrap_or(""),
            e.ext_cache_key().unwrap_or(""),
            scheme_of(e.token_type()),
        );
        let (found, part_hash) = with_ikey(&parts, |k| {
            (self.parts_by_key.get(k).copied(), self.hasher.hash_one(k))
        });
        let pk = match found {
            Some(_) => None,
            None => Some(ikey(&parts)),
        };
        let granted_names = Self::folded_set(e.target().unwrap_or(""));
        let requested_names = e
            .idflow_requested_target()
            .map(Self::folded_set)
            .filter(|r| *r != granted_names);
        let mut resource: Option<&str> = None;
        for s in &granted_names {
            match (resource_of(s), resource) {
                (Some(r), None) => resource = Some(r),
                (Some(r), Some(prev)) if r == prev => {}
                _ => {
                    resource = None;
                    break;
                }
            }
        }
        let home_parts = e
            .home_account_id()
            .filter(|h| !h.is_empty())
            .map(|h| ikey(&[e.environment().unwrap_or(""), h]));

        let granted = Self::intern_set(&mut self.names, &granted_names);
        let requested = requested_names.map(|r| Self::intern_set(&mut self.names, &r));
        let resource = resource.map(|r| self.names.intern(r));
        let part = match (found, pk) {
            (Some(p), _) => p,
            (None, pk) => {
                let key = pk.unwrap_or_default();
                let p = Partition {
                    key: key.clone(),
                    ..Partition::default()
                };
                let i = match self.parts_free.pop() {
                    Some(i) => {
                        self.parts[i as usize] = p;
                        i
                    }
                    None => {
                        self.parts.push(p);
                        (self.parts.len() - 1) as u32
                    }
                };
                self.parts_by_key.insert(key, i);
                i
            }
        };
        set_add(&mut self.exact, ExactKey::new(part_hash, &granted), id);
        if let Some(r) = &requested {
            set_add(&mut self.exact, ExactKey::new(part_hash, r), id);
        }
        let p = &mut self.parts[part as usize];
        p.count += 1;
        for &s in granted.iter() {
            set_add(&mut p.postings, s, id);
        }
        if let Some(r) = resource {
            set_add(&mut p.by_resource, r, id);
        }
        self.expiry.insert((exp, id));
        if let Some(h) = home_parts {
            set_add(&mut self.at_home, h, id);
        }
        self.at_idx[id as usize] = Some(AtIdx {
            part,
            part_hash,
            granted,
            requested,
            resource,
            expires_on: exp,
        });
    }

    /// Removes an access token; `record` journals the removal for storage.
    pub fn remove_at(&mut self, id: Id, record: bool) {
        if let Some(idx) = self.at_idx.get_mut(id as usize).and_then(Option::take) {
            set_del(
                &mut self.exact,
                &ExactKey::new(idx.part_hash, &idx.granted),
                id,
            );
            if let Some(r) = &idx.requested {
                set_del(&mut self.exact, &ExactKey::new(idx.part_hash, r), id);
            }
            let p = &mut self.parts[idx.part as usize];
            for s in idx.granted.iter() {
                set_del(&mut p.postings, s, id);
            }
            if let Some(r) = &idx.resource {
                set_del(&mut p.by_resource, r, id);
            }
            p.count -= 1;
            if p.count == 0 {
                let key = std::mem::take(&mut p.key);
                *p = Partition::default();
                self.parts_by_key.remove(&key);
                self.parts_free.push(idx.part);
            }
            self.expiry.remove(&(idx.expires_on, id));
            for &s in idx
                .granted
                .iter()
                .chain(idx.requested.iter().flat_map(|r| r.iter()))
            {
                self.names.release(s);
            }
            if let Some(r) = idx.resource {
                self.names.release(r);
            }
        }
        if let Some((key, e)) = self.at.take(id) {
            if let Some(h) = e.home_account_id().filter(|h| !h.is_empty()) {
                let env = e.environment().unwrap_or("");
                with_ikey(&[env, h], |k| set_del(&mut self.at_home, k, id));
            }
            if record {
                self.record(
                    Sec::At,
                    &key,
                    Change::Delete {
                        secret: e.secret().map(str::to_owned),
                    },
                );
            }
        }
    }

    /// Whether an access token belongs to the query's partition (a Bearer
    /// token without an extended cache key, of this client, environment,
    /// realm and account), read from the entry itself.
    fn in_partition(&self, id: Id, q: &AtQuery<'_>) -> bool {
        let Some(e) = self.at.get(id) else {
            return false;
        };
        let eq = |a: Option<&str>, b: &str| {
            let a = a.unwrap_or("");
            if a.is_ascii() && b.is_ascii() {
                a.eq_ignore_ascii_case(b)
            } else {
                fold(a) == fold(b)
            }
        };
        eq(e.client_id(), q.client_id)
            && eq(e.environment(), q.environment)
            && eq(e.realm(), q.realm)
            && eq(e.home_account_id(), q.home)
            && e.ext_cache_key().unwrap_or("").is_empty()
            && scheme_of(e.token_type()).is_empty()
    }

    fn best(&self, ids: impl Iterator<Item = Id>, now: u64, expired: &mut Vec<Id>) -> Option<Id> {
        let mut best: Option<(u64, Id)> = None;
        for id in ids {
            let exp = self.at.get(id).and_then(|e| e.expires_on).unwrap_or(0);
            if exp <= now {
                expired.push(id);
            } else if best.is_none_or(|(b, _)| exp > b) {
                best = Some((exp, id));
            }
        }
        best.map(|(_, id)| id)
    }

    /// The access token for a query (see [`super::TokenCache::access_token`]).
    /// Allocation-free for ASCII queries of up to eight scopes.
    pub fn find_at(&self, q: &AtQuery<'_>, now: u64, expired: &mut Vec<Id>) -> Option<Id> {
        let parts = part_parts(q.client_id, q.environment, q.realm, q.home, "", "");
        let part_hash = with_ikey(&parts, |k| self.hasher.hash_one(k));

        let mut ids = Ids::new();
        let mut unknown = false;
        let mut count = 0usize;
        let mut first: Option<&str> = None;
        let mut several = false;
        for s in q.scopes {
            if s.is_empty() {
                continue;
            }
            let oidc = with_folded(s, |f| {
                if OIDC_SCOPES.contains(&f) {
                    return true;
                }
                match self.names.get(f) {
                    Some(id) => ids.push(id),
                    None => unknown = true,
                }
                false
            });
            if oidc {
                continue;
            }
            count += 1;
            match first {
                None => first = Some(s),
                Some(f0) if f0.is_ascii() && s.is_ascii() => several |= !f0.eq_ignore_ascii_case(s),
                Some(f0) => several |= fold(f0) != fold(s),
            }
        }
        // The one distinct scope of the request, if it has exactly one.
        let single = if several { None } else { first };
        let set = ids.normalized();
        if !unknown {
            if let Some(found) = self.exact.get(&ExactKey::new(part_hash, set)) {
                let mine = found.iter().filter(|&id| self.in_partition(id, q));
                if let Some(id) = self.best(mine, now, expired) {
                    return Some(id);
                }
            }
        }
        let part = with_ikey(&parts, |k| self.parts_by_key.get(k).copied())?;
        let p = &self.parts[part as usize];
        if count == 0 {
            // Only OIDC scopes asked for: no access token scope to match on.
            return None;
        }
        if let Some(scope) = single {
            let resource = with_folded(scope, |f| {
                f.strip_suffix(DEFAULT_SUFFIX)
                    .filter(|r| !r.is_empty())
                    .and_then(|r| self.names.get(r))
            });
            if let Some(found) = resource.and_then(|r| p.by_resource.get(&r)) {
                if let Some(id) = self.best(found.iter(), now, expired) {
                    return Some(id);
                }
            }
        }
        if unknown {
            return None;
        }
        let mut lists: [Option<&IdSet>; 8] = [None; 8];
        let mut heap: Vec<&IdSet> = Vec::new();
        for (i, s) in set.iter().enumerate() {
            let l = p.postings.get(s)?;
            if set.len() <= lists.len() {
                lists[i] = Some(l);
            } else {
                heap.push(l);
            }
        }
        let all: Vec<&IdSet>;
        let lists: &[&IdSet] = if heap.is_empty() {
            all = lists.iter().flatten().copied().collect();
            &all
        } else {
            &heap
        };
        let shortest = lists.iter().min_by_key(|l| l.len())?;
        self.best(
            shortest
                .iter()
                .filter(|id| lists.iter().all(|l| l.contains(*id))),
            now,
            expired,
        )
    }

    /// Drops expired tokens (soonest first), then the soonest-expiring ones
    /// beyond `max`. Neither is journaled: both are this process's memory policy.
    pub fn evict(&mut self, now: u64, max: Option<usize>) -> usize {
        let mut n = 0;
        while let Some(&(exp, id)) = self.expiry.first() {
            let over = max.is_some_and(|m| self.at.len() > m);
            if exp > now && !over {
                break;
            }
            self.remove_at(id, false);
            n += 1;
        }
        n
    }

    /// Removes the given access tokens if they are still expired at `now`.
    pub fn evict_expired(&mut self, ids: &[Id], now: u64) -> usize {
        let mut n = 0;
        for &id in ids {
            if self
                .at_idx
                .get(id as usize)
                .and_then(Option::as_ref)
                .is_some_and(|i| i.expires_on <= now)
            {
                self.remove_at(id, false);
                n += 1;
            }
        }
        n
    }

    pub fn save_access_token(&mut self, e: AtEntry, requested: &[String]) {
        let granted = normalize(e.target().unwrap_or("").split_whitespace());
        let req = normalize(requested.iter().map(String::as_str));
        if !req.is_empty() && req != granted && requested_is_covered(&req, &granted) {
            let key = set_key(&req);
            let mut f = e.fields();
            f.idflow_requested_target = Some(&key);
            let e = e.with_fields(f);
            self.put_at(e);
            return;
        }
        self.put_at(e);
    }

    // ---- refresh tokens ----

    pub fn put_rt(&mut self, e: RtEntry) {
        let key = keys::refresh_token(
            e.home_account_id().unwrap_or(""),
            e.environment().unwrap_or(""),
            e.client_id().unwrap_or(""),
            e.target().unwrap_or(""),
        );
        self.put_rt_keyed(key.into(), e, true);
    }

    fn put_rt_keyed(&mut self, key: Box<str>, e: RtEntry, record: bool) {
        if let Some(old) = self.rt.id_of(&key) {
            self.remove_rt(old, false);
        }
        if record {
            self.record(Sec::Rt, &key, Change::Upsert);
        }
        let home = e.home_account_id().map(str::to_owned).unwrap_or_default();
        let env = e.environment().map(str::to_owned).unwrap_or_default();
        let client = e.client_id().map(str::to_owned).unwrap_or_default();
        let family = e.family_id().map(str::to_owned).filter(|f| !f.is_empty());
        let id = self.rt.insert_new(key, e);
        list_add(&mut self.rt_owner, &[&home, &env, &client], id);
        list_add(&mut self.rt_home, &[&env, &home], id);
        count_add(&mut self.homes_client, &[&env, &client], &home);
        if let Some(f) = family {
            list_add(&mut self.rt_family, &[&home, &env, &f], id);
            count_add(&mut self.homes_family, &[&env, &f], &home);
        }
    }

    pub fn remove_rt(&mut self, id: Id, record: bool) {
        let Some((key, e)) = self.rt.take(id) else {
            return;
        };
        let home = e.home_account_id().unwrap_or("");
        let env = e.environment().unwrap_or("");
        let client = e.client_id().unwrap_or("");
        list_del(&mut self.rt_owner, &[home, env, client], id);
        list_del(&mut self.rt_home, &[env, home], id);
        count_del(&mut self.homes_client, &[env, client], home);
        if let Some(f) = e.family_id().filter(|f| !f.is_empty()) {
            list_del(&mut self.rt_family, &[home, env, f], id);
            count_del(&mut self.homes_family, &[env, f], home);
        }
        if record {
            self.record(
                Sec::Rt,
                &key,
                Change::Delete {
                    secret: e.secret().map(str::to_owned),
                },
            );
        }
    }

    /// Refresh tokens of an account for a client (`family` None) or a family.
    pub fn rts_of(&self, home: &str, env: &str, client: &str, family: Option<&str>) -> &[Id] {
        match family {
            Some(f) => list_get(&self.rt_family, &[home, env, f]),
            None => list_get(&self.rt_owner, &[home, env, client]),
        }
    }

    /// The newest of `ids` by `last_modification_time`.
    pub fn newest_rt(&self, ids: &[Id]) -> Option<Id> {
        ids.iter()
            .copied()
            .filter_map(|id| Some((self.rt.get(id)?.last_modification_time.unwrap_or(0), id)))
            .max()
            .map(|(_, id)| id)
    }

    // ---- id tokens, accounts, app metadata ----

    pub fn put_idt(&mut self, e: IdtEntry) {
        let key = keys::id_token(
            e.home_account_id().unwrap_or(""),
            e.environment().unwrap_or(""),
            e.client_id().unwrap_or(""),
            e.realm().unwrap_or(""),
        );
        self.put_idt_keyed(key.into(), e, true);
    }

    fn put_idt_keyed(&mut self, key: Box<str>, e: IdtEntry, record: bool) {
        if let Some(old) = self.idt.id_of(&key) {
            self.remove_idt(old, false);
        }
        if record {
            self.record(Sec::Idt, &key, Change::Upsert);
        }
        let env = e.environment().map(str::to_owned).unwrap_or_default();
        let home = e.home_account_id().map(str::to_owned).unwrap_or_default();
        let id = self.idt.insert_new(key, e);
        list_add(&mut self.idt_home, &[&env, &home], id);
    }

    pub fn remove_idt(&mut self, id: Id, record: bool) {
        let Some((key, e)) = self.idt.take(id) else {
            return;
        };
        let parts = [
            e.environment().unwrap_or(""),
            e.home_account_id().unwrap_or(""),
        ];
        list_del(&mut self.idt_home, &parts, id);
        if record {
            self.record(
                Sec::Idt,
                &key,
                Change::Delete {
                    secret: e.secret().map(str::to_owned),
                },
            );
        }
    }

    pub fn idts_of(&self, env: &str, home: &str) -> &[Id] {
        list_get(&self.idt_home, &[env, home])
    }

    pub fn put_acct(&mut self, e: AcctEntry) {
        let key = keys::account(
            e.home_account_id().unwrap_or(""),
            e.environment().unwrap_or(""),
            e.realm().unwrap_or(""),
        );
        self.put_acct_keyed(key.into(), e, true);
    }

    fn put_acct_keyed(&mut self, key: Box<str>, e: AcctEntry, record: bool) {
        if let Some(old) = self.acct.id_of(&key) {
            self.remove_acct(old, false);
        }
        if record {
            self.record(Sec::Acct, &key, Change::Upsert);
        }
        let env = e.environment().map(str::to_owned).unwrap_or_default();
        let home = e.home_account_id().map(str::to_owned).unwrap_or_default();
        let user = e.username().map(str::to_owned).unwrap_or_default();
        let id = self.acct.insert_new(key, e);
        list_add(&mut self.acct_home, &[&env, &home], id);
        list_add(&mut self.acct_user, &[&env, &user], id);
    }

    pub fn remove_acct(&mut self, id: Id, record: bool) {
        let Some((key, e)) = self.acct.take(id) else {
            return;
        };
        let parts = [
            e.environment().unwrap_or(""),
            e.home_account_id().unwrap_or(""),
        ];
        list_del(&mut self.acct_home, &parts, id);
        let user = [parts[0], e.username().unwrap_or("")];
        list_del(&mut self.acct_user, &user, id);
        if record {
            self.record(Sec::Acct, &key, Change::Delete { secret: None });
        }
    }

    pub fn accts_of(&self, env: &str, home: &str) -> &[Id] {
        list_get(&self.acct_home, &[env, home])
    }

    /// Account records of a username (case-insensitive) in an environment.
    pub fn accts_of_user(&self, env: &str, username: &str) -> &[Id] {
        list_get(&self.acct_user, &[env, username])
    }

    /// Whether the account (folded home account id) holds a refresh token
    /// of the client, or of the family.
    pub fn home_has_rt(&self, env: &str, client: &str, family: Option<&str>, home: &str) -> bool {
        let has = |map: &Map<Box<str>, Map<Box<str>, u32>>, owner: &str| {
            with_ikey(&[env, owner], |k| map.get(k)).is_some_and(|m| m.contains_key(home))
        };
        has(&self.homes_client, client) || family.is_some_and(|f| has(&self.homes_family, f))
    }

    pub fn put_meta(&mut self, e: MetaEntry) {
        let key = keys::app_metadata(e.environment().unwrap_or(""), e.client_id().unwrap_or(""));
        self.put_meta_keyed(key.into(), e, true);
    }

    fn put_meta_keyed(&mut self, key: Box<str>, e: MetaEntry, record: bool) {
        if let Some(old) = self.meta.id_of(&key) {
            self.remove_meta(old, false);
        }
        if record {
            self.record(Sec::Meta, &key, Change::Upsert);
        }
        let mk = ikey(&[e.environment().unwrap_or(""), e.client_id().unwrap_or("")]);
        let id = self.meta.insert_new(key, e);
        self.meta_by.insert(mk, id);
    }

    fn remove_meta(&mut self, id: Id, record: bool) {
        let Some((key, e)) = self.meta.take(id) else {
            return;
        };
        let parts = [e.environment().unwrap_or(""), e.client_id().unwrap_or("")];
        with_ikey(&parts, |k| {
            if self.meta_by.get(k) == Some(&id) {
                self.meta_by.remove(k);
            }
        });
        if record {
            self.record(Sec::Meta, &key, Change::Delete { secret: None });
        }
    }

    pub fn meta_of(&self, env: &str, client: &str) -> Option<&MetaEntry> {
        self.meta
            .get(with_ikey(&[env, client], |k| self.meta_by.get(k).copied())?)
    }

    /// Home account ids (folded) holding a refresh token of the client, or of the family.
    pub fn homes_with_rt(&self, env: &str, client: &str, family: Option<&str>) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        if let Some(m) = with_ikey(&[env, client], |k| self.homes_client.get(k)) {
            out.extend(m.keys().map(|k| &**k));
        }
        if let Some(m) = family.and_then(|f| with_ikey(&[env, f], |k| self.homes_family.get(k))) {
            out.extend(m.keys().map(|k| &**k));
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Access tokens of an account in an environment (every client, every realm).
    pub fn ats_of_home(&self, env: &str, home: &str) -> Vec<Id> {
        with_ikey(&[env, home], |k| self.at_home.get(k))
            .map(|s| s.iter().collect())
            .unwrap_or_default()
    }

    pub fn rts_of_home(&self, env: &str, home: &str) -> &[Id] {
        list_get(&self.rt_home, &[env, home])
    }

    // ---- merging with storage ----

    /// Applies this store's journal onto `base` (the stored state): upserts
    /// copy this store's current entry; deletions remove the stored entry
    /// when it still holds the credential that was removed here.
    pub fn replay_onto(&self, base: &mut Store) {
        let Some(j) = &self.journal else { return };
        for ((sec, key), change) in j {
            match (sec, change) {
                (Sec::At, Change::Upsert) => {
                    if let Some(e) = self.at.id_of(key).and_then(|i| self.at.get(i)) {
                        base.put_at_keyed(key.clone(), e.clone(), false);
                    }
                }
                (Sec::Rt, Change::Upsert) => {
                    if let Some(e) = self.rt.id_of(key).and_then(|i| self.rt.get(i)) {
                        base.put_rt_keyed(key.clone(), e.clone(), false);
                    }
                }
                (Sec::Idt, Change::Upsert) => {
                    if let Some(e) = self.idt.id_of(key).and_then(|i| self.idt.get(i)) {
                        base.put_idt_keyed(key.clone(), e.clone(), false);
                    }
                }
                (Sec::Acct, Change::Upsert) => {
                    if let Some(e) = self.acct.id_of(key).and_then(|i| self.acct.get(i)) {
                        base.put_acct_keyed(key.clone(), e.clone(), false);
                    }
                }
                (Sec::Meta, Change::Upsert) => {
                    if let Some(e) = self.meta.id_of(key).and_then(|i| self.meta.get(i)) {
                        base.put_meta_keyed(key.clone(), e.clone(), false);
                    }
                }
                (Sec::At, Change::Delete { secret }) => {
                    if let Some(i) = base.at.id_of(key) {
                        if same(base.at.get(i).and_then(|e| e.secret()), secret) {
                            base.remove_at(i, false);
                        }
                    }
                }
                (Sec::Rt, Change::Delete { secret }) => {
                    if let Some(i) = base.rt.id_of(key) {
                        if same(base.rt.get(i).and_then(|e| e.secret()), secret) {
                            base.remove_rt(i, false);
                        }
                    }
                }
                (Sec::Idt, Change::Delete { secret }) => {
                    if let Some(i) = base.idt.id_of(key) {
                        if same(base.idt.get(i).and_then(|e| e.secret()), secret) {
                            base.remove_idt(i, false);
                        }
                    }
                }
                (Sec::Acct, Change::Delete { .. }) => {
                    if let Some(i) = base.acct.id_of(key) {
                        base.remove_acct(i, false);
                    }
                }
                (Sec::Meta, Change::Delete { .. }) => {
                    if let Some(i) = base.meta.id_of(key) {
                        base.remove_meta(i, false);
                    }
                }
            }
        }
    }

    /// Journals every entry as an upsert (attaching storage to a cache that
    /// already holds entries: they are written into the stored state).
    pub fn journal_everything(&mut self) {
        let mut j = self.journal.take().unwrap_or_default();
        for (_, k, _) in self.at.iter() {
            j.insert((Sec::At, k.into()), Change::Upsert);
        }
        for (_, k, _) in self.rt.iter() {
            j.insert((Sec::Rt, k.into()), Change::Upsert);
        }
        for (_, k, _) in self.idt.iter() {
            j.insert((Sec::Idt, k.into()), Change::Upsert);
        }
        for (_, k, _) in self.acct.iter() {
            j.insert((Sec::Acct, k.into()), Change::Upsert);
        }
        for (_, k, _) in self.meta.iter() {
            j.insert((Sec::Meta, k.into()), Change::Upsert);
        }
        self.journal = Some(j);
    }
}

fn same(stored: Option<&str>, removed: &Option<String>) -> bool {
    match (stored, removed.as_deref()) {
        (Some(a), Some(b)) => crate::secret::constant_time_eq(a, b),
        (None, None) => true,
        _ => false,
    }
}

impl Serialize for Store {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        fn out<'a, E: 'a>(
            s: &'a Section<E>,
        ) -> SectionOut<'a, E, impl Iterator<Item = (&'a str, &'a E)>> {
            SectionOut(
                std::cell::Cell::new(Some(s.iter().map(|(_, k, e)| (k, e)))),
                std::marker::PhantomData,
            )
        }
        let mut m = ser.serialize_map(Some(5 + self.other.len()))?;
        m.serialize_entry(AT, &out(&self.at))?;
        m.serialize_entry(RT, &out(&self.rt))?;
        m.serialize_entry(IDT, &out(&self.idt))?;
        m.serialize_entry(ACCT, &out(&self.acct))?;
        m.serialize_entry(META, &out(&self.meta))?;
        for (k, v) in &self.other {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}
