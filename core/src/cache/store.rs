//! The cache's entries and the indexes that make every lookup O(1) in the
//! number of cached tokens.
//!
//! Entries live in one slab per section (a slot id is stable while the entry
//! exists) with the document key beside them. The indexes:
//!
//! * access tokens, by partition — (client id, environment, realm, home
//!   account id or none for app tokens, extended cache key, token type when
//!   not Bearer), all case-folded — and inside a partition:
//!   * normalized scope set → tokens (the granted set, and the set the app
//!     requested when that differs, so a repeat request is one hash lookup);
//!   * scope → tokens holding it (posting lists): a superset request walks
//!     only the shortest list of its scopes, and a scope with no list is a
//!     miss without walking anything;
//!   * resource → tokens whose granted scopes are all on that resource, for
//!     `<resource>/.default` requests;
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
    default_resource, fold, normalize, push_folded, requested_is_covered, resource_of, set_key,
};
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use serde_json::Value;
use std::collections::{BTreeSet, HashMap, HashSet};

pub(crate) type Id = u32;

/// Separates the parts of an index key (cannot occur in hosts, ids or scopes).
const SEP: char = '\u{1f}';

fn ikey(parts: &[&str]) -> Box<str> {
    let mut s = String::with_capacity(parts.iter().map(|p| p.len() + 1).sum());
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            s.push(SEP);
        }
        push_folded(&mut s, p);
    }
    s.into_boxed_str()
}

/// The access-token partition of a query or an entry. Bearer tokens and
/// tokens without an extended cache key share the empty scheme / ext parts,
/// which is the only partition a query reaches.
pub(crate) fn part_key(
    client_id: &str,
    environment: &str,
    realm: &str,
    home: &str,
    ext: &str,
    scheme: &str,
) -> Box<str> {
    ikey(&[client_id, environment, realm, home, ext, scheme])
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
    Many(HashSet<Id>),
}

impl IdSet {
    fn insert(&mut self, id: Id) {
        match self {
            IdSet::One(x) if *x == id => {}
            IdSet::One(x) => *self = IdSet::Many([*x, id].into_iter().collect()),
            IdSet::Many(s) => {
                s.insert(id);
            }
        }
    }
    /// Removes `id`; true when the set became empty.
    fn remove(&mut self, id: Id) -> bool {
        match self {
            IdSet::One(x) => *x == id,
            IdSet::Many(s) => {
                s.remove(&id);
                if s.len() == 1 {
                    if let Some(&x) = s.iter().next() {
                        *self = IdSet::One(x);
                    }
                }
                s_is_empty(self)
            }
        }
    }
    fn contains(&self, id: Id) -> bool {
        match self {
            IdSet::One(x) => *x == id,
            IdSet::Many(s) => s.contains(&id),
        }
    }
    fn len(&self) -> usize {
        match self {
            IdSet::One(_) => 1,
            IdSet::Many(s) => s.len(),
        }
    }
    fn iter(&self) -> Box<dyn Iterator<Item = Id> + '_> {
        match self {
            IdSet::One(x) => Box::new(std::iter::once(*x)),
            IdSet::Many(s) => Box::new(s.iter().copied()),
        }
    }
}

fn s_is_empty(s: &IdSet) -> bool {
    matches!(s, IdSet::Many(m) if m.is_empty())
}

fn set_add(map: &mut HashMap<Box<str>, IdSet>, key: &str, id: Id) {
    match map.get_mut(key) {
        Some(s) => s.insert(id),
        None => {
            map.insert(key.into(), IdSet::One(id));
        }
    }
}

fn set_del(map: &mut HashMap<Box<str>, IdSet>, key: &str, id: Id) {
    if let Some(s) = map.get_mut(key) {
        if s.remove(id) {
            map.remove(key);
        }
    }
}

fn list_add(map: &mut HashMap<Box<str>, Vec<Id>>, key: Box<str>, id: Id) {
    map.entry(key).or_default().push(id);
}

fn list_del(map: &mut HashMap<Box<str>, Vec<Id>>, key: &str, id: Id) {
    if let Some(v) = map.get_mut(key) {
        if let Some(i) = v.iter().position(|x| *x == id) {
            v.swap_remove(i);
        }
        if v.is_empty() {
            map.remove(key);
        }
    }
}

fn count_add(map: &mut HashMap<Box<str>, HashMap<Box<str>, u32>>, key: Box<str>, home: &str) {
    *map.entry(key)
        .or_default()
        .entry(fold(home).into())
        .or_insert(0) += 1;
}

fn count_del(map: &mut HashMap<Box<str>, HashMap<Box<str>, u32>>, key: &str, home: &str) {
    if let Some(m) = map.get_mut(key) {
        let h = fold(home);
        if let Some(n) = m.get_mut(h.as_ref()) {
            *n -= 1;
            if *n == 0 {
                m.remove(h.as_ref());
            }
        }
        if m.is_empty() {
            map.remove(key);
        }
    }
}

/// One section's entries.
pub(crate) struct Section<E> {
    slots: Vec<Option<(Box<str>, E)>>,
    free: Vec<Id>,
    by_key: HashMap<Box<str>, Id>,
}

impl<E> Default for Section<E> {
    fn default() -> Self {
        Section {
            slots: Vec::new(),
            free: Vec::new(),
            by_key: HashMap::new(),
        }
    }
}

impl<E> Section<E> {
    fn with_capacity(n: usize) -> Self {
        Section {
            slots: Vec::with_capacity(n),
            free: Vec::new(),
            by_key: HashMap::with_capacity(n),
        }
    }
    pub fn len(&self) -> usize {
        self.by_key.len()
    }
    pub fn get(&self, id: Id) -> Option<&E> {
        self.slots.get(id as usize)?.as_ref().map(|(_, e)| e)
    }
    pub fn id_of(&self, key: &str) -> Option<Id> {
        self.by_key.get(key).copied()
    }
    /// Inserts under a key that is not present.
    fn insert_new(&mut self, key: Box<str>, e: E) -> Id {
        let id = match self.free.pop() {
            Some(id) => {
                self.slots[id as usize] = Some((key.clone(), e));
                id
            }
            None => {
                self.slots.push(Some((key.clone(), e)));
                (self.slots.len() - 1) as Id
            }
        };
        self.by_key.insert(key, id);
        id
    }
    fn take(&mut self, id: Id) -> Option<(Box<str>, E)> {
        let slot = self.slots.get_mut(id as usize)?.take()?;
        self.by_key.remove(&slot.0);
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
    granted_key: Box<str>,
    requested_key: Option<Box<str>>,
    scopes: Box<[Box<str>]>,
    resource: Option<Box<str>>,
    expires_on: u64,
}

#[derive(Default)]
struct Partition {
    key: Box<str>,
    by_set: HashMap<Box<str>, IdSet>,
    postings: HashMap<Box<str>, IdSet>,
    by_resource: HashMap<Box<str>, IdSet>,
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
    parts: Vec<Partition>,
    parts_free: Vec<u32>,
    parts_by_key: HashMap<Box<str>, u32>,
    expiry: BTreeSet<(u64, Id)>,
    at_home: HashMap<Box<str>, IdSet>,

    rt_owner: HashMap<Box<str>, Vec<Id>>,
    rt_family: HashMap<Box<str>, Vec<Id>>,
    rt_home: HashMap<Box<str>, Vec<Id>>,
    homes_client: HashMap<Box<str>, HashMap<Box<str>, u32>>,
    homes_family: HashMap<Box<str>, HashMap<Box<str>, u32>>,

    idt_home: HashMap<Box<str>, Vec<Id>>,
    acct_home: HashMap<Box<str>, Vec<Id>>,
    meta_by: HashMap<Box<str>, Id>,

    /// Changes since the last sync with storage; `None` while no storage is attached.
    pub journal: Option<HashMap<(Sec, Box<str>), Change>>,
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
            e.home_account_id.as_deref().unwrap_or(""),
            e.environment.as_deref().unwrap_or(""),
            e.client_id.as_deref().unwrap_or(""),
            e.realm.as_deref().unwrap_or(""),
            e.target.as_deref().unwrap_or(""),
            e.ext_cache_key.as_deref(),
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

    fn index_at(&mut self, id: Id) {
        if self.at_idx.len() <= id as usize {
            self.at_idx.resize_with(id as usize + 1, || None);
        }
        let Some(e) = self.at.get(id) else { return };
        let Some(exp) = e.expires_on else { return };
        let pk = part_key(
            e.client_id.as_deref().unwrap_or(""),
            e.environment.as_deref().unwrap_or(""),
            e.realm.as_deref().unwrap_or(""),
            e.home_account_id.as_deref().unwrap_or(""),
            e.ext_cache_key.as_deref().unwrap_or(""),
            scheme_of(e.token_type.as_deref()),
        );
        let granted = normalize(e.target.as_deref().unwrap_or("").split_whitespace());
        let granted_key: Box<str> = set_key(&granted).into();
        let requested_key: Option<Box<str>> = e
            .idflow_requested_target
            .as_deref()
            .map(|t| set_key(&normalize(t.split_whitespace())).into_boxed_str())
            .filter(|k| *k != granted_key);
        let mut resource: Option<&str> = None;
        for s in &granted {
            match (resource_of(s), resource) {
                (Some(r), None) => resource = Some(r),
                (Some(r), Some(prev)) if r == prev => {}
                _ => {
                    resource = None;
                    break;
                }
            }
        }
        let resource: Option<Box<str>> = resource.map(Into::into);
        let scopes: Box<[Box<str>]> = granted.iter().map(|s| Box::from(s.as_ref())).collect();
        let home_key = e
            .home_account_id
            .as_deref()
            .filter(|h| !h.is_empty())
            .map(|h| ikey(&[e.environment.as_deref().unwrap_or(""), h]));

        let part = match self.parts_by_key.get(&pk) {
            Some(&p) => p,
            None => {
                let p = Partition {
                    key: pk.clone(),
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
                self.parts_by_key.insert(pk, i);
                i
            }
        };
        let p = &mut self.parts[part as usize];
        p.count += 1;
        set_add(&mut p.by_set, &granted_key, id);
        if let Some(r) = &requested_key {
            set_add(&mut p.by_set, r, id);
        }
        for s in scopes.iter() {
            set_add(&mut p.postings, s, id);
        }
        if let Some(r) = &resource {
            set_add(&mut p.by_resource, r, id);
        }
        self.expiry.insert((exp, id));
        if let Some(h) = home_key {
            set_add(&mut self.at_home, &h, id);
        }
        self.at_idx[id as usize] = Some(AtIdx {
            part,
            granted_key,
            requested_key,
            scopes,
            resource,
            expires_on: exp,
        });
    }

    /// Removes an access token; `record` journals the removal for storage.
    pub fn remove_at(&mut self, id: Id, record: bool) {
        if let Some(idx) = self.at_idx.get_mut(id as usize).and_then(Option::take) {
            let p = &mut self.parts[idx.part as usize];
            set_del(&mut p.by_set, &idx.granted_key, id);
            if let Some(r) = &idx.requested_key {
                set_del(&mut p.by_set, r, id);
            }
            for s in idx.scopes.iter() {
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
        }
        if let Some((key, e)) = self.at.take(id) {
            if let Some(h) = e.home_account_id.as_deref().filter(|h| !h.is_empty()) {
                let hk = ikey(&[e.environment.as_deref().unwrap_or(""), h]);
                set_del(&mut self.at_home, &hk, id);
            }
            if record {
                self.record(Sec::At, &key, Change::Delete { secret: e.secret });
            }
        }
    }

    fn expires_on(&self, id: Id) -> u64 {
        self.at_idx
            .get(id as usize)
            .and_then(Option::as_ref)
            .map_or(0, |i| i.expires_on)
    }

    /// The latest-expiring unexpired token of `ids`; expired ones go to `expired`.
    fn best(&self, ids: impl Iterator<Item = Id>, now: u64, expired: &mut Vec<Id>) -> Option<Id> {
        let mut best: Option<(u64, Id)> = None;
        for id in ids {
            let exp = self.expires_on(id);
            if exp <= now {
                expired.push(id);
            } else if best.is_none_or(|(b, _)| exp > b) {
                best = Some((exp, id));
            }
        }
        best.map(|(_, id)| id)
    }

    /// The access token for a query (see [`super::TokenCache::access_token`]).
    pub fn find_at(&self, q: &AtQuery<'_>, now: u64, expired: &mut Vec<Id>) -> Option<Id> {
        let pk = part_key(q.client_id, q.environment, q.realm, q.home, "", "");
        let p = &self.parts[*self.parts_by_key.get(&pk)? as usize];
        let norm = normalize(q.scopes.iter().map(String::as_str));
        if let Some(ids) = p.by_set.get(set_key(&norm).as_str()) {
            if let Some(id) = self.best(ids.iter(), now, expired) {
                return Some(id);
            }
        }
        if norm.is_empty() {
            // Only OIDC scopes asked for: no access token scope to match on.
            return None;
        }
        if let Some(r) = default_resource(&norm) {
            if let Some(ids) = p.by_resource.get(r) {
                if let Some(id) = self.best(ids.iter(), now, expired) {
                    return Some(id);
                }
            }
        }
        let mut lists = Vec::with_capacity(norm.len());
        for s in &norm {
            lists.push(p.postings.get(s.as_ref())?);
        }
        lists.sort_by_key(|l| l.len());
        let (first, rest) = lists.split_first()?;
        self.best(
            first
                .iter()
                .filter(|id| rest.iter().all(|l| l.contains(*id))),
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

    pub fn save_access_token(&mut self, mut e: AtEntry, requested: &[String]) {
        let granted = normalize(e.target.as_deref().unwrap_or("").split_whitespace());
        let req = normalize(requested.iter().map(String::as_str));
        if !req.is_empty() && req != granted && requested_is_covered(&req, &granted) {
            e.idflow_requested_target = Some(set_key(&req));
        }
        self.put_at(e);
    }

    // ---- refresh tokens ----

    pub fn put_rt(&mut self, e: RtEntry) {
        let key = keys::refresh_token(
            e.home_account_id.as_deref().unwrap_or(""),
            e.environment.as_deref().unwrap_or(""),
            e.client_id.as_deref().unwrap_or(""),
            e.target.as_deref().unwrap_or(""),
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
        let home = e.home_account_id.clone().unwrap_or_default();
        let env = e.environment.clone().unwrap_or_default();
        let client = e.client_id.clone().unwrap_or_default();
        let family = e.family_id.clone().filter(|f| !f.is_empty());
        let id = self.rt.insert_new(key, e);
        list_add(&mut self.rt_owner, ikey(&[&home, &env, &client]), id);
        list_add(&mut self.rt_home, ikey(&[&env, &home]), id);
        count_add(&mut self.homes_client, ikey(&[&env, &client]), &home);
        if let Some(f) = family {
            list_add(&mut self.rt_family, ikey(&[&home, &env, &f]), id);
            count_add(&mut self.homes_family, ikey(&[&env, &f]), &home);
        }
    }

    pub fn remove_rt(&mut self, id: Id, record: bool) {
        let Some((key, e)) = self.rt.take(id) else {
            return;
        };
        let home = e.home_account_id.as_deref().unwrap_or("");
        let env = e.environment.as_deref().unwrap_or("");
        let client = e.client_id.as_deref().unwrap_or("");
        list_del(&mut self.rt_owner, &ikey(&[home, env, client]), id);
        list_del(&mut self.rt_home, &ikey(&[env, home]), id);
        count_del(&mut self.homes_client, &ikey(&[env, client]), home);
        if let Some(f) = e.family_id.as_deref().filter(|f| !f.is_empty()) {
            list_del(&mut self.rt_family, &ikey(&[home, env, f]), id);
            count_del(&mut self.homes_family, &ikey(&[env, f]), home);
        }
        if record {
            self.record(Sec::Rt, &key, Change::Delete { secret: e.secret });
        }
    }

    /// Refresh tokens of an account for a client (`family` None) or a family.
    pub fn rts_of(&self, home: &str, env: &str, client: &str, family: Option<&str>) -> &[Id] {
        let found = match family {
            Some(f) => self.rt_family.get(&ikey(&[home, env, f])),
            None => self.rt_owner.get(&ikey(&[home, env, client])),
        };
        found.map_or(&[], Vec::as_slice)
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
            e.home_account_id.as_deref().unwrap_or(""),
            e.environment.as_deref().unwrap_or(""),
            e.client_id.as_deref().unwrap_or(""),
            e.realm.as_deref().unwrap_or(""),
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
        let hk = ikey(&[
            e.environment.as_deref().unwrap_or(""),
            e.home_account_id.as_deref().unwrap_or(""),
        ]);
        let id = self.idt.insert_new(key, e);
        list_add(&mut self.idt_home, hk, id);
    }

    pub fn remove_idt(&mut self, id: Id, record: bool) {
        let Some((key, e)) = self.idt.take(id) else {
            return;
        };
        let hk = ikey(&[
            e.environment.as_deref().unwrap_or(""),
            e.home_account_id.as_deref().unwrap_or(""),
        ]);
        list_del(&mut self.idt_home, &hk, id);
        if record {
            self.record(Sec::Idt, &key, Change::Delete { secret: e.secret });
        }
    }

    pub fn idts_of(&self, env: &str, home: &str) -> &[Id] {
        self.idt_home
            .get(&ikey(&[env, home]))
            .map_or(&[], Vec::as_slice)
    }

    pub fn put_acct(&mut self, e: AcctEntry) {
        let key = keys::account(
            e.home_account_id.as_deref().unwrap_or(""),
            e.environment.as_deref().unwrap_or(""),
            e.realm.as_deref().unwrap_or(""),
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
        let hk = ikey(&[
            e.environment.as_deref().unwrap_or(""),
            e.home_account_id.as_deref().unwrap_or(""),
        ]);
        let id = self.acct.insert_new(key, e);
        list_add(&mut self.acct_home, hk, id);
    }

    pub fn remove_acct(&mut self, id: Id, record: bool) {
        let Some((key, e)) = self.acct.take(id) else {
            return;
        };
        let hk = ikey(&[
            e.environment.as_deref().unwrap_or(""),
            e.home_account_id.as_deref().unwrap_or(""),
        ]);
        list_del(&mut self.acct_home, &hk, id);
        if record {
            self.record(Sec::Acct, &key, Change::Delete { secret: None });
        }
    }

    pub fn accts_of(&self, env: &str, home: &str) -> &[Id] {
        self.acct_home
            .get(&ikey(&[env, home]))
            .map_or(&[], Vec::as_slice)
    }

    pub fn put_meta(&mut self, e: MetaEntry) {
        let key = keys::app_metadata(
            e.environment.as_deref().unwrap_or(""),
            e.client_id.as_deref().unwrap_or(""),
        );
        self.put_meta_keyed(key.into(), e, true);
    }

    fn put_meta_keyed(&mut self, key: Box<str>, e: MetaEntry, record: bool) {
        if let Some(old) = self.meta.id_of(&key) {
            self.remove_meta(old, false);
        }
        if record {
            self.record(Sec::Meta, &key, Change::Upsert);
        }
        let mk = ikey(&[
            e.environment.as_deref().unwrap_or(""),
            e.client_id.as_deref().unwrap_or(""),
        ]);
        let id = self.meta.insert_new(key, e);
        self.meta_by.insert(mk, id);
    }

    fn remove_meta(&mut self, id: Id, record: bool) {
        let Some((key, e)) = self.meta.take(id) else {
            return;
        };
        let mk = ikey(&[
            e.environment.as_deref().unwrap_or(""),
            e.client_id.as_deref().unwrap_or(""),
        ]);
        if self.meta_by.get(&mk) == Some(&id) {
            self.meta_by.remove(&mk);
        }
        if record {
            self.record(Sec::Meta, &key, Change::Delete { secret: None });
        }
    }

    pub fn meta_of(&self, env: &str, client: &str) -> Option<&MetaEntry> {
        self.meta.get(*self.meta_by.get(&ikey(&[env, client]))?)
    }

    /// Home account ids (folded) holding a refresh token of the client, or of the family.
    pub fn homes_with_rt(&self, env: &str, client: &str, family: Option<&str>) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        if let Some(m) = self.homes_client.get(&ikey(&[env, client])) {
            out.extend(m.keys().map(|k| &**k));
        }
        if let Some(m) = family.and_then(|f| self.homes_family.get(&ikey(&[env, f]))) {
            out.extend(m.keys().map(|k| &**k));
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Access tokens of an account in an environment (every client, every realm).
    pub fn ats_of_home(&self, env: &str, home: &str) -> Vec<Id> {
        self.at_home
            .get(&ikey(&[env, home]))
            .map(|s| s.iter().collect())
            .unwrap_or_default()
    }

    pub fn rts_of_home(&self, env: &str, home: &str) -> &[Id] {
        self.rt_home
            .get(&ikey(&[env, home]))
            .map_or(&[], Vec::as_slice)
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
                        if same(base.at.get(i).and_then(|e| e.secret.as_deref()), secret) {
                            base.remove_at(i, false);
                        }
                    }
                }
                (Sec::Rt, Change::Delete { secret }) => {
                    if let Some(i) = base.rt.id_of(key) {
                        if same(base.rt.get(i).and_then(|e| e.secret.as_deref()), secret) {
                            base.remove_rt(i, false);
                        }
                    }
                }
                (Sec::Idt, Change::Delete { secret }) => {
                    if let Some(i) = base.idt.id_of(key) {
                        if same(base.idt.get(i).and_then(|e| e.secret.as_deref()), secret) {
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
