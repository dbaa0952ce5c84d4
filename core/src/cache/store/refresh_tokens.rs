//! Refresh tokens: by owner (account, environment, client), by family, by
//! account; and which accounts hold one of a client or of a family.

use super::index::{field_is, Hashed, Id, IdList, IdSet, Op};
use super::section::{Kind, Section};
use crate::cache::keys;
use crate::cache::schema::RtEntry;
use crate::cache::scopes::fold;
use std::borrow::Cow;

/// The refresh-token indexes (see [`super::index::Hashed`]: readers check
/// each entry's own fields).
#[derive(Default)]
pub(crate) struct RtIndex {
    /// (home, environment, client) → the account's tokens of that client.
    owner: Hashed<IdList>,
    /// (home, environment, family) → the account's family tokens.
    family: Hashed<IdList>,
    /// (environment, home) → the account's tokens.
    home: Hashed<IdList>,
    /// (environment, client) → every token of that client.
    of_client: Hashed<IdSet>,
    /// (environment, family) → every token of that family.
    of_family: Hashed<IdSet>,
}

impl Kind for RtEntry {
    type Index = RtIndex;

    /// An account list reads whose refresh tokens a client or family holds,
    /// not the tokens: a refresh replacing one with the next keeps it.
    fn same_listing(&self, new: &Self) -> bool {
        self.home_account_id() == new.home_account_id()
            && self.environment() == new.environment()
            && self.client_id() == new.client_id()
            && self.family_id() == new.family_id()
    }

    const LISTED: bool = true;

    fn listing_home(&self) -> Option<&str> {
        Some(self.home_account_id().unwrap_or(""))
    }

    fn write_key(&self, out: &mut impl keys::KeySink) {
        keys::refresh_token_into(
            out,
            self.home_account_id().unwrap_or(""),
            self.environment().unwrap_or(""),
            self.client_id().unwrap_or(""),
            self.target().unwrap_or(""),
        );
    }

    fn credential(&self) -> Option<&str> {
        self.secret()
    }

    fn update(idx: &mut RtIndex, id: Id, e: &RtEntry, op: Op) {
        let home = e.home_account_id().unwrap_or("");
        let env = e.environment().unwrap_or("");
        let client = e.client_id().unwrap_or("");
        idx.owner.update(op, &[home, env, client], id);
        idx.home.update(op, &[env, home], id);
        idx.of_client.update(op, &[env, client], id);
        if let Some(f) = e.family_id().filter(|f| !f.is_empty()) {
            idx.family.update(op, &[home, env, f], id);
            idx.of_family.update(op, &[env, f], id);
        }
    }
}

impl Section<RtEntry> {
    /// The account's tokens of a client, or of a family.
    pub fn of(&self, home: &str, env: &str, client: &str, family: Option<&str>) -> Vec<Id> {
        self.of_owner(home, env, client, family)
            .map(|(id, _)| id)
            .collect()
    }

    fn of_owner<'a>(
        &'a self,
        home: &'a str,
        env: &'a str,
        client: &'a str,
        family: Option<&'a str>,
    ) -> impl Iterator<Item = (Id, &'a RtEntry)> + 'a {
        let ids = match family {
            Some(f) => self.idx.family.ids(&[home, env, f]),
            None => self.idx.owner.ids(&[home, env, client]),
        };
        self.checked(ids, move |e| {
            field_is(e.home_account_id(), home)
                && field_is(e.environment(), env)
                && match family {
                    Some(f) => field_is(e.family_id(), f),
                    None => field_is(e.client_id(), client),
                }
        })
    }

    /// The account's tokens in an environment.
    pub fn of_home(&self, env: &str, home: &str) -> Vec<Id> {
        self.checked(self.idx.home.ids(&[env, home]), |e| {
            field_is(e.environment(), env) && field_is(e.home_account_id(), home)
        })
        .map(|(id, _)| id)
        .collect()
    }

    pub fn newest(&self, ids: &[Id]) -> Option<Id> {
        ids.iter()
            .copied()
            .filter_map(|id| Some((self.get(id)?.last_modification_time.unwrap_or(0), id)))
            .max()
            .map(|(_, id)| id)
    }

    /// Whether the account holds a token of the client or of its family.
    pub fn home_has(&self, env: &str, client: &str, family: Option<&str>, home: &str) -> bool {
        self.of_owner(home, env, client, None).next().is_some()
            || family.is_some_and(|f| self.of_owner(home, env, client, Some(f)).next().is_some())
    }

    /// The accounts (home account ids, folded) holding a token of the
    /// client or of its family, sorted, each once.
    pub fn homes(&self, env: &str, client: &str, family: Option<&str>) -> Vec<Cow<'_, str>> {
        // The ids in slot order first: the entries are then read in the
        // order they were stored (a loaded cache's, in memory order) instead
        // of the sets' hash order, a cache miss per token at 100k.
        let mut ids: Vec<Id> = self.idx.of_client.ids(&[env, client]).collect();
        ids.sort_unstable();
        let mut family_ids: Vec<Id> = family
            .map(|f| self.idx.of_family.ids(&[env, f]).collect())
            .unwrap_or_default();
        family_ids.sort_unstable();
        let of_client = self.checked(ids.into_iter(), |e| {
            field_is(e.environment(), env) && field_is(e.client_id(), client)
        });
        let of_family = family.into_iter().flat_map(|f| {
            self.checked(std::mem::take(&mut family_ids).into_iter(), move |e| {
                field_is(e.environment(), env) && field_is(e.family_id(), f)
            })
        });
        let mut out: Vec<Cow<'_, str>> = of_client
            .chain(of_family)
            .map(|(_, e)| fold(e.home_account_id().unwrap_or("")))
            .collect();
        sort_names(&mut out);
        out.dedup();
        out
    }
}

/// Sorts names as `sort_unstable` does, comparing each pair's first eight
/// bytes held beside the names before reading the names themselves: 100k
/// names spread over memory cost a cache miss per comparison otherwise.
fn sort_names(names: &mut Vec<Cow<'_, str>>) {
    let prefix = |s: &str| {
        let mut b = [0u8; 8];
        let n = s.len().min(8);
        b[..n].copy_from_slice(&s.as_bytes()[..n]);
        // Zero-padded and big-endian: a shorter name that is a prefix of a
        // longer one comes first, as in byte order; equal prefixes (or a
        // name with a zero byte) fall back to the whole names.
        u64::from_be_bytes(b)
    };
    let mut keyed: Vec<(u64, Cow<'_, str>)> = names.drain(..).map(|s| (prefix(&s), s)).collect();
    keyed.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
    names.extend(keyed.into_iter().map(|(_, s)| s));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::schema::RtFields;

    fn rt(home: &str, client: &str, family: Option<&str>) -> RtEntry {
        RtEntry::new(RtFields {
            credential_type: Some("RefreshToken"),
            secret: Some("rt"),
            home_account_id: Some(home),
            environment: Some("login.example"),
            client_id: Some(client),
            family_id: family,
            ..RtFields::default()
        })
    }

    /// The indexes hold hashes, not keys: a list may hold a token of another
    /// key whose hash is the same. Readers must leave it out.
    #[test]
    fn readers_check_each_entry_against_the_query() {
        let mut s = Section::<RtEntry>::default();
        let a = s.insert("a", rt("A.t", "client", Some("1")));
        let b = s.insert("b", rt("B.t", "other", Some("2")));
        // File b under a's keys, as a shared hash would.
        let env = "login.example";
        s.idx.owner.update(Op::Add, &["a.t", env, "client"], b);
        s.idx.family.update(Op::Add, &["a.t", env, "1"], b);
        s.idx.home.update(Op::Add, &[env, "a.t"], b);
        s.idx.of_client.update(Op::Add, &[env, "client"], b);
        s.idx.of_family.update(Op::Add, &[env, "1"], b);
        assert_eq!(s.of("a.T", env, "CLIENT", None), vec![a]);
        assert_eq!(s.of("a.t", env, "client", Some("1")), vec![a]);
        assert_eq!(s.of_home(env, "A.T"), vec![a]);
        assert_eq!(s.homes(env, "client", Some("1")), vec!["a.t"]);
        assert!(!s.home_has(env, "client", Some("1"), "b.t"));
        assert!(s.home_has(env, "other", None, "b.t"));
    }

    /// The names' order is byte order whatever their prefixes: shorter than
    /// eight bytes, a prefix of another, equal first eight bytes, zero bytes,
    /// non-ASCII.
    #[test]
    fn names_sort_in_byte_order() {
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let alphabet = ["a", "b", "\0", "\u{e9}", "0", "uid.", "\u{7530}"];
        for _ in 0..200 {
            let mut names: Vec<Cow<'_, str>> = (0..(next() % 40))
                .map(|_| {
                    let len = next() % 14;
                    let s: String = (0..len)
                        .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                        .collect();
                    Cow::Owned(s)
                })
                .collect();
            let mut want = names.clone();
            want.sort_unstable();
            sort_names(&mut names);
            assert_eq!(names, want);
        }
    }
}
