//! Access tokens: the kind with the hit path.
//!
//! Indexes (see the store's module docs): the exact-set table, per
//! partition the posting lists and the resource lists, the expiry order, and
//! the tokens of each account.

use super::index::{
    field_is, set_add, set_del, with_folded, Hashed, Id, IdSet, Ids, Interner, Map, NumMap, Op,
};
use super::key_hash::KeyHasher;
use super::section::{Kind, Section};
use crate::cache::keys;
use crate::cache::schema::AtEntry;
use crate::cache::scopes::{
    fold, folded_eq, normalize, requested_is_covered, resource_of, set_key, DEFAULT_SUFFIX,
    OIDC_SCOPES,
};
use std::borrow::Cow;
use std::collections::BTreeSet;

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

/// Key of the exact-set index: the partition's hash and the sorted scope
/// numbers, inline for up to six scopes (no allocation, no pointer to follow
/// when probing). A hash match is only a candidate: the entry's own fields
/// decide (see [`Section::in_partition`]).
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

/// What the access-token indexes hold about one token (to unindex it).
struct AtIdx {
    part: u32,
    part_hash: u64,
    /// The granted scopes, as sorted scope numbers.
    granted: ScopeIds,
    /// The requested scopes, when they differ from the granted.
    requested: Option<ScopeIds>,
    /// The one resource all granted scopes lie on.
    resource: Option<u32>,
    expires_on: u64,
}

/// One partition's lists. A partition is known by its key's 64-bit hash
/// alone (no key stored: ≈ 120 bytes per signed-in user): two partitions
/// whose keys shared a hash would share these lists, so every token read
/// from them is checked against the query's partition ([`Section::in_partition`]).
#[derive(Default)]
struct Partition {
    hash: u64,
    postings: NumMap,
    by_resource: NumMap,
    count: u32,
}

/// The access-token indexes.
#[derive(Default)]
pub(crate) struct AtIndex {
    at_idx: Vec<Option<AtIdx>>,
    names: Interner,
    parts: Vec<Partition>,
    parts_free: Vec<u32>,
    /// Partitions by their key's hash.
    parts_by_key: hashbrown::HashTable<u32>,
    /// (partition hash, normalized scope set) → tokens: the hit path.
    exact: Map<ExactKey, IdSet>,
    hasher: KeyHasher,
    expiry: BTreeSet<(u64, Id)>,
    /// While a load adds its entries ([`Kind::loading`]): their expiry
    /// pairs, for `expiry` to be built from at once (sorted, then filled
    /// without a search per token: ≈ 7 % of a 100k-token load's indexing
    /// thread went to the searches). A pair whose token the load replaced
    /// is left here and dropped then.
    expiry_loading: Option<Vec<(u64, Id)>>,
    /// (environment, home) → the account's tokens (readers check each).
    at_home: Hashed<IdSet>,
}

/// The fields of an access token query, borrowed.
pub(crate) struct AtQuery<'a> {
    pub client_id: &'a str,
    pub environment: &'a str,
    pub realm: &'a str,
    pub home: &'a str,
    pub scopes: &'a [String],
}

/// Sorted scope numbers, inline up to [`INLINE_SCOPES`]: most tokens hold a
/// few scopes, and then indexing one allocates nothing for them and freeing
/// a large cache has one allocation fewer per token to free.
enum ScopeIds {
    Inline { len: u8, ids: [u32; INLINE_SCOPES] },
    Heap(Box<[u32]>),
}

const INLINE_SCOPES: usize = 4;

impl std::ops::Deref for ScopeIds {
    type Target = [u32];
    fn deref(&self) -> &[u32] {
        match self {
            ScopeIds::Inline { len, ids } => &ids[..usize::from(*len)],
            ScopeIds::Heap(ids) => ids,
        }
    }
}

/// A token's scope set as the indexes keep it, read from its target: each
/// scope folded (OIDC scopes left out) and interned, the numbers sorted and
/// de-duplicated; and with `resource`, the interned resource all of them lie
/// on, if one. No list of the names is made on the way (a load indexes
/// every token of the document through here).
fn intern_target(names: &mut Interner, target: &str, resource: bool) -> (ScopeIds, Option<u32>) {
    let mut inline = [0u32; INLINE_SCOPES];
    let mut len = 0;
    let mut heap: Vec<u32> = Vec::new();
    // The first scope (folded) and the length of its resource, while every
    // scope so far lies on that resource.
    let mut common: Option<(Cow<'_, str>, usize)> = None;
    let mut agree = resource;
    for scope in target.split_whitespace() {
        let folded = fold(scope);
        if OIDC_SCOPES.contains(&folded.as_ref()) {
            continue;
        }
        if agree {
            match (&common, resource_of(&folded)) {
                (None, Some(r)) => {
                    let n = r.len();
                    common = Some((folded.clone(), n));
                }
                (Some((first, n)), Some(r)) if first.get(..*n) == Some(r) => {}
                _ => agree = false,
            }
        }
        let id = names.intern(&folded);
        if heap.is_empty() && len < INLINE_SCOPES {
            inline[len] = id;
            len += 1;
        } else {
            if heap.is_empty() {
                heap.extend_from_slice(&inline[..len]);
            }
            heap.push(id);
        }
    }
    let resource = match common {
        Some((first, n)) if agree => first.get(..n).map(|r| names.intern(r)),
        _ => None,
    };
    if heap.is_empty() {
        let len = dedup_interned(names, &mut inline[..len]);
        return (
            ScopeIds::Inline {
                len: len as u8,
                ids: inline,
            },
            resource,
        );
    }
    let len = dedup_interned(names, &mut heap);
    heap.truncate(len);
    if len <= INLINE_SCOPES {
        inline[..len].copy_from_slice(&heap);
        return (
            ScopeIds::Inline {
                len: len as u8,
                ids: inline,
            },
            resource,
        );
    }
    (ScopeIds::Heap(heap.into_boxed_slice()), resource)
}

/// Sorts `ids` and moves each number once to the front, releasing the
/// reference a repeated scope took; the count of distinct numbers.
fn dedup_interned(names: &mut Interner, ids: &mut [u32]) -> usize {
    ids.sort_unstable();
    let mut kept = 0;
    for i in 0..ids.len() {
        if kept > 0 && ids[i] == ids[kept - 1] {
            names.release(ids[i]);
        } else {
            ids[kept] = ids[i];
            kept += 1;
        }
    }
    kept
}

impl Kind for AtEntry {
    type Index = AtIndex;

    fn write_key(&self, out: &mut impl keys::KeySink) {
        keys::access_token_into(
            out,
            self.home_account_id().unwrap_or(""),
            self.environment().unwrap_or(""),
            self.client_id().unwrap_or(""),
            self.realm().unwrap_or(""),
            self.target().unwrap_or(""),
            self.ext_cache_key(),
        );
    }

    fn credential(&self) -> Option<&str> {
        self.secret()
    }

    fn reserve(idx: &mut AtIndex, n: usize) {
        idx.at_idx.reserve(n);
    }

    fn loading(idx: &mut AtIndex) {
        // A section that already holds tokens keeps its order up to date.
        if idx.expiry.is_empty() {
            idx.expiry_loading = Some(Vec::new());
        }
    }

    fn loaded(idx: &mut AtIndex) {
        let Some(pairs) = idx.expiry_loading.take() else {
            return;
        };
        let at_idx = &idx.at_idx;
        let live = |&(exp, id): &(u64, Id)| {
            at_idx
                .get(id as usize)
                .and_then(Option::as_ref)
                .is_some_and(|t| t.expires_on == exp)
        };
        // Empty since `loading`: collected, the set is built from the
        // sorted pairs in one pass (extending it would search per pair).
        idx.expiry = pairs.into_iter().filter(live).collect();
    }

    fn update(idx: &mut AtIndex, id: Id, e: &AtEntry, op: Op) {
        match op {
            Op::Add => index(idx, id, e),
            Op::Del => unindex(idx, id, e),
        }
    }
}

/// Enters a token into the indexes (a token without an expiry is never
/// returned, so it is entered into none).
fn index(idx: &mut AtIndex, id: Id, e: &AtEntry) {
    if idx.at_idx.len() <= id as usize {
        idx.at_idx.resize_with(id as usize + 1, || None);
    }
    let Some(exp) = e.expires_on else { return };
    let parts = part_parts(
        e.client_id().unwrap_or(""),
        e.environment().unwrap_or(""),
        e.realm().unwrap_or(""),
        e.home_account_id().unwrap_or(""),
        e.ext_cache_key().unwrap_or(""),
        scheme_of(e.token_type()),
    );
    let part_hash = idx.hasher.hash(&parts);
    let found = part_of(idx, part_hash);
    let (granted, resource) = intern_target(&mut idx.names, e.target().unwrap_or(""), true);
    let requested = match e.idflow_requested_target() {
        Some(t) => {
            let (r, _) = intern_target(&mut idx.names, t, false);
            if *r == *granted {
                for &s in r.iter() {
                    idx.names.release(s);
                }
                None
            } else {
                Some(r)
            }
        }
        None => None,
    };
    let part = match found {
        Some(p) => p,
        None => {
            let p = Partition {
                hash: part_hash,
                ..Partition::default()
            };
            let i = match idx.parts_free.pop() {
                Some(i) => {
                    idx.parts[i as usize] = p;
                    i
                }
                None => {
                    idx.parts.push(p);
                    (idx.parts.len() - 1) as u32
                }
            };
            let AtIndex {
                parts_by_key,
                parts,
                ..
            } = idx;
            parts_by_key.insert_unique(part_hash, i, |&j| {
                parts.get(j as usize).map_or(0, |p| p.hash)
            });
            i
        }
    };
    set_add(&mut idx.exact, ExactKey::new(part_hash, &granted), id);
    if let Some(r) = &requested {
        set_add(&mut idx.exact, ExactKey::new(part_hash, r), id);
    }
    let p = &mut idx.parts[part as usize];
    p.count += 1;
    for &s in granted.iter() {
        p.postings.add(s, id);
    }
    if let Some(r) = resource {
        p.by_resource.add(r, id);
    }
    match &mut idx.expiry_loading {
        Some(pairs) => pairs.push((exp, id)),
        None => {
            idx.expiry.insert((exp, id));
        }
    }
    if let Some(h) = e.home_account_id().filter(|h| !h.is_empty()) {
        idx.at_home
            .update(Op::Add, &[e.environment().unwrap_or(""), h], id);
    }
    idx.at_idx[id as usize] = Some(AtIdx {
        part,
        part_hash,
        granted,
        requested,
        resource,
        expires_on: exp,
    });
}

/// The partition whose key has hash `h`.
fn part_of(idx: &AtIndex, h: u64) -> Option<u32> {
    idx.parts_by_key
        .find(h, |&i| {
            idx.parts.get(i as usize).is_some_and(|p| p.hash == h)
        })
        .copied()
}

/// Takes a token out of the indexes, by what [`AtIdx`] recorded of it.
fn unindex(idx: &mut AtIndex, id: Id, e: &AtEntry) {
    if let Some(t) = idx.at_idx.get_mut(id as usize).and_then(Option::take) {
        set_del(&mut idx.exact, &ExactKey::new(t.part_hash, &t.granted), id);
        if let Some(r) = &t.requested {
            set_del(&mut idx.exact, &ExactKey::new(t.part_hash, r), id);
        }
        let p = &mut idx.parts[t.part as usize];
        for &s in t.granted.iter() {
            p.postings.del(s, id);
        }
        if let Some(r) = t.resource {
            p.by_resource.del(r, id);
        }
        p.count -= 1;
        if p.count == 0 {
            *p = Partition::default();
            if let Ok(found) = idx.parts_by_key.find_entry(t.part_hash, |&j| j == t.part) {
                found.remove();
            }
            idx.parts_free.push(t.part);
        }
        idx.expiry.remove(&(t.expires_on, id));
        for &s in t
            .granted
            .iter()
            .chain(t.requested.iter().flat_map(|r| r.iter()))
        {
            idx.names.release(s);
        }
        if let Some(r) = t.resource {
            idx.names.release(r);
        }
    }
    if let Some(h) = e.home_account_id().filter(|h| !h.is_empty()) {
        let env = e.environment().unwrap_or("");
        idx.at_home.update(Op::Del, &[env, h], id);
    }
}

impl Section<AtEntry> {
    /// Whether an access token belongs to the query's partition (a Bearer
    /// token without an extended cache key, of this client, environment,
    /// realm and account), read from the entry itself.
    fn in_partition(&self, id: Id, q: &AtQuery<'_>) -> bool {
        let Some(e) = self.get(id) else {
            return false;
        };
        field_is(e.client_id(), q.client_id)
            && field_is(e.environment(), q.environment)
            && field_is(e.realm(), q.realm)
            && field_is(e.home_account_id(), q.home)
            && e.ext_cache_key().unwrap_or("").is_empty()
            && scheme_of(e.token_type()).is_empty()
    }

    fn best(&self, ids: impl Iterator<Item = Id>, now: u64, expired: &mut Vec<Id>) -> Option<Id> {
        let mut best: Option<(u64, Id)> = None;
        for id in ids {
            let exp = self.get(id).and_then(|e| e.expires_on).unwrap_or(0);
            if exp <= now {
                expired.push(id);
            } else if best.is_none_or(|(b, _)| exp > b) {
                best = Some((exp, id));
            }
        }
        best.map(|(_, id)| id)
    }

    /// The access token for a query (see [`crate::cache::TokenCache::access_token`]).
    /// Allocation-free for ASCII queries of up to eight scopes.
    pub fn find(&self, q: &AtQuery<'_>, now: u64, expired: &mut Vec<Id>) -> Option<Id> {
        let parts = part_parts(q.client_id, q.environment, q.realm, q.home, "", "");
        let part_hash = self.idx.hasher.hash(&parts);

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
                match self.idx.names.get(f) {
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
                Some(f0) => several |= !folded_eq(f0, s),
            }
        }
        // The one distinct scope of the request, if it has exactly one.
        let single = if several { None } else { first };
        let set = ids.normalized();
        if !unknown {
            if let Some(found) = self.idx.exact.get(&ExactKey::new(part_hash, set)) {
                let mine = found.iter().filter(|&id| self.in_partition(id, q));
                if let Some(id) = self.best(mine, now, expired) {
                    return Some(id);
                }
            }
        }
        let part = part_of(&self.idx, part_hash)?;
        let p = &self.idx.parts[part as usize];
        if count == 0 {
            // Only OIDC scopes asked for: no access token scope to match on.
            return None;
        }
        if let Some(scope) = single {
            let resource = with_folded(scope, |f| {
                f.strip_suffix(DEFAULT_SUFFIX)
                    .filter(|r| !r.is_empty())
                    .and_then(|r| self.idx.names.get(r))
            });
            if let Some(found) = resource.and_then(|r| p.by_resource.get(r)) {
                let mine = found.iter().filter(|&id| self.in_partition(id, q));
                if let Some(id) = self.best(mine, now, expired) {
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
            let l = p.postings.get(*s)?;
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
                .filter(|id| lists.iter().all(|l| l.contains(*id)))
                .filter(|&id| self.in_partition(id, q)),
            now,
            expired,
        )
    }

    /// Drops expired tokens (soonest first), then the soonest-expiring ones
    /// beyond `max`. Neither is journaled: both are this process's memory policy.
    pub fn evict(&mut self, now: u64, max: Option<usize>) -> usize {
        let mut n = 0;
        while let Some(&(exp, id)) = self.idx.expiry.first() {
            let over = max.is_some_and(|m| self.len() > m);
            if exp > now && !over {
                break;
            }
            self.remove(id);
            n += 1;
        }
        n
    }

    /// Removes the given access tokens if they are still expired at `now`.
    pub fn evict_expired(&mut self, ids: &[Id], now: u64) -> usize {
        let mut n = 0;
        for &id in ids {
            if self
                .idx
                .at_idx
                .get(id as usize)
                .and_then(Option::as_ref)
                .is_some_and(|i| i.expires_on <= now)
            {
                self.remove(id);
                n += 1;
            }
        }
        n
    }

    /// Access tokens of an account in an environment (every client, every realm).
    pub fn of_home(&self, env: &str, home: &str) -> Vec<Id> {
        self.checked(self.idx.at_home.ids(&[env, home]), |e| {
            field_is(e.environment(), env) && field_is(e.home_account_id(), home)
        })
        .map(|(id, _)| id)
        .collect()
    }
}

impl super::Store {
    /// Saves an access token; with the requested scopes beside the granted
    /// ones when the server granted them (a repeat request is then one probe).
    pub fn save_access_token(&mut self, e: AtEntry, requested: &[String]) {
        let granted = normalize(e.target().unwrap_or("").split_whitespace());
        let req = normalize(requested.iter().map(String::as_str));
        if !req.is_empty() && req != granted && requested_is_covered(&req, &granted) {
            let key = set_key(&req);
            let mut f = e.fields();
            f.idflow_requested_target = Some(&key);
            let e = e.with_fields(f);
            self.put(e);
            return;
        }
        self.put(e);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::schema::AtFields;

    fn at(home: &str, target: &str, secret: &str) -> AtEntry {
        let mut e = AtEntry::new(AtFields {
            credential_type: Some("AccessToken"),
            secret: Some(secret),
            home_account_id: Some(home),
            environment: Some("login.example"),
            client_id: Some("client"),
            realm: Some("t"),
            target: Some(target),
            ..AtFields::default()
        });
        e.expires_on = Some(2_000);
        e
    }

    /// Partitions are known by their key's hash: were two users' hashes the
    /// same, their tokens would share one partition's lists. A lookup must
    /// still hand out only a token of the query's own partition.
    #[test]
    fn a_shared_partition_never_hands_out_another_users_token() {
        let mut s = Section::<AtEntry>::default();
        let (a, _) = s.insert_own(at("a.t", "r/one r/two", "token-a"));
        let mut later = at("b.t", "r/one r/two", "token-b");
        later.expires_on = Some(2_500);
        let (b, _) = s.insert_own(later);
        // File b's token in a's partition, as a shared hash would.
        let pa = s.idx.at_idx[a as usize].as_ref().unwrap().part as usize;
        for &n in s.idx.at_idx[b as usize].as_ref().unwrap().granted.iter() {
            s.idx.parts[pa].postings.add(n, b);
        }
        if let Some(r) = s.idx.at_idx[b as usize].as_ref().unwrap().resource {
            s.idx.parts[pa].by_resource.add(r, b);
        }
        let q = |scopes: &[&str]| {
            let scopes: Vec<String> = scopes.iter().map(|x| (*x).to_owned()).collect();
            let q = AtQuery {
                client_id: "client",
                environment: "login.example",
                realm: "t",
                home: "a.t",
                scopes: &scopes,
            };
            s.find(&q, 1_000, &mut Vec::new())
        };
        // b expires later: without the check it would win every time.
        assert_eq!(q(&["r/one"]), Some(a));
        assert_eq!(q(&["r/.default"]), Some(a));
        assert_eq!(q(&["r/two", "r/one"]), Some(a));
    }

    /// Scope sets on both sides of the inline limit are found by their
    /// exact set (any order, any case), by a subset and by their resource's
    /// `.default`, and leave no trace in the indexes once removed.
    #[test]
    fn scope_sets_inline_and_on_the_heap_index_alike() {
        let mut s = Section::<AtEntry>::default();
        let q = |s: &Section<AtEntry>, scopes: &[String]| {
            let q = AtQuery {
                client_id: "client",
                environment: "login.example",
                realm: "t",
                home: "a.t",
                scopes,
            };
            s.find(&q, 1_000, &mut Vec::new())
        };
        for n in [1, INLINE_SCOPES, INLINE_SCOPES + 1, 2 * INLINE_SCOPES] {
            let scopes: Vec<String> = (0..n).map(|i| format!("r/s{i}")).collect();
            let (id, _) = s.insert_own(at("a.t", &scopes.join(" "), "token"));
            let kept = &s.idx.at_idx[id as usize].as_ref().unwrap().granted;
            assert_eq!(matches!(kept, ScopeIds::Inline { .. }), n <= INLINE_SCOPES);
            assert_eq!(kept.len(), n);
            assert!(kept.windows(2).all(|w| w[0] < w[1]), "sorted, {n} scopes");
            let shuffled: Vec<String> = scopes.iter().rev().map(|x| x.to_uppercase()).collect();
            assert_eq!(q(&s, &shuffled), Some(id), "exact set of {n}");
            assert_eq!(q(&s, &scopes[n - 1..]), Some(id), "subset of {n}");
            assert_eq!(q(&s, &["r/.default".to_owned()]), Some(id), "{n} scopes");
            s.remove(id).unwrap();
            assert_eq!(q(&s, &scopes), None, "removed, {n} scopes");
            assert!(s.idx.exact.is_empty() && s.idx.expiry.is_empty());
            for name in scopes.iter().map(String::as_str).chain(["r"]) {
                assert_eq!(s.idx.names.get(name), None, "{name} released, {n} scopes");
            }
        }
    }

    /// A load defers the expiry order to its end: the order it builds is
    /// the one inserting the same entries one by one keeps, without the
    /// pairs of the tokens the load itself replaced (a key given twice,
    /// the second time with another expiry).
    #[test]
    fn a_load_builds_the_expiry_order_inserts_keep() {
        let token = |home: &str, target: &str, exp: u64| {
            let mut e = at(home, target, "token");
            e.expires_on = Some(exp);
            (std::borrow::Cow::<str>::Owned(e.key()), e)
        };
        let entries = vec![
            token("a.t", "r/one", 3_000),
            token("b.t", "r/one", 1_000),
            token("c.t", "r/two", 2_000),
            // a's key again, expiring earlier than b's token.
            token("a.t", "r/one", 500),
            token("d.t", "r/one r/two", 2_500),
        ];
        let mut inserted = Section::<AtEntry>::default();
        for (k, e) in entries.clone() {
            inserted.insert(&k, e);
        }
        let loaded = Section::load(entries).loaded();
        let order = |s: &Section<AtEntry>| {
            s.idx
                .expiry
                .iter()
                .map(|&(exp, id)| {
                    (
                        exp,
                        s.get(id)
                            .and_then(AtEntry::home_account_id)
                            .map(str::to_owned),
                    )
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(order(&loaded), order(&inserted));
        assert_eq!(
            order(&loaded)
                .iter()
                .map(|(exp, _)| *exp)
                .collect::<Vec<_>>(),
            [500, 1_000, 2_000, 2_500]
        );
        assert!(loaded.idx.expiry_loading.is_none());
    }

    /// A scope given twice (in any case) is one scope of the set, which
    /// holds one reference to its name: once the token is removed, no name
    /// is left, whichever side of the inline limit the set falls on and
    /// whether the requested scopes were the granted ones or not.
    #[test]
    fn repeated_scopes_count_once_and_are_released() {
        let mut s = Section::<AtEntry>::default();
        let cases = [
            ("r/a R/A r/b openid", Some("r/b r/a"), 2, false),
            ("r/a r/b r/c r/d r/e R/E r/a", Some("R/A"), 5, true),
            ("r/a r/b r/c r/d R/D r/c", None, 4, false),
            ("r/a r/a", Some("x/y x/Y"), 1, true),
        ];
        for (target, requested, n, differs) in cases {
            let mut e = at("a.t", target, "token");
            if let Some(r) = requested {
                e = e.with_fields(AtFields {
                    idflow_requested_target: Some(r),
                    ..e.fields()
                });
            }
            let (id, _) = s.insert_own(e);
            let kept = s.idx.at_idx[id as usize].as_ref().unwrap();
            assert_eq!(kept.granted.len(), n, "{target}");
            assert!(kept.granted.windows(2).all(|w| w[0] < w[1]), "{target}");
            assert_eq!(kept.requested.is_some(), differs, "{target}");
            assert!(kept.resource.is_some(), "{target}");
            let inline = matches!(kept.granted, ScopeIds::Inline { .. });
            assert_eq!(inline, n <= INLINE_SCOPES, "{target}");
            s.remove(id).unwrap();
            for name in ["r", "r/a", "r/b", "r/c", "r/d", "r/e", "x", "x/y"] {
                assert_eq!(s.idx.names.get(name), None, "{name} after {target}");
            }
        }
    }
}
